"""The fake GitHub lives in bot.sandbox.fake_github (the demo uses it); tests import it from here."""

from bot.sandbox.fake_github import (
    Comment,
    FakeGitHub,
    FakeGitHubServer,
    Issue,
    Label,
    Logged,
    Repo,
    start_fake_github,
)

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
