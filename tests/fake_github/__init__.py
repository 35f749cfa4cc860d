"""A fake GitHub REST API served over HTTP on loopback, for tests that exercise PyGithub for real."""

from tests.fake_github.model import Comment, Issue, Label, Repo
from tests.fake_github.server import FakeGitHubServer, start_fake_github
from tests.fake_github.state import FakeGitHub, Logged

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
