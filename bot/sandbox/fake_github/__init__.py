"""A fake GitHub REST API served over HTTP on loopback: for `smolbot demo` and the tests.

In-memory state, real HTTP, so PyGithub's own request path is exercised end to end.
"""

from bot.sandbox.fake_github.model import Comment, Issue, Label, Repo
from bot.sandbox.fake_github.server import FakeGitHubServer, start_fake_github
from bot.sandbox.fake_github.state import FakeGitHub, Logged

__all__ = [
    "Comment",
    "FakeGitHub",
    "FakeGitHubServer",
    "Issue",
    "Label",
    "Logged",
    "Repo",
    "start_fake_github",
]
