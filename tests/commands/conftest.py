"""One repository on the fake GitHub (over HTTP), the real store and GitHub adapter, no model
layer: for `/smolbot` comment commands and .github/smolbot.yml as the jobs read it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.github import GitHubApp
from bot.jobs.context import JobContext
from bot.jobs.repo_config import CONFIG_ERROR_TITLE
from bot.sandbox.fake_github.server import FakeGitHubServer
from bot.sandbox.fake_github.state import FakeGitHub
from bot.store import open_store
from tests.fake_github.plugin import make_settings

REPO = "octo/app"
CONFIG = ".github/smolbot.yml"


@pytest.fixture
def world(fake_github: FakeGitHubServer, tmp_path: Path) -> Iterator[tuple[FakeGitHub, JobContext]]:
    """octo/app with the usual labels, `maint` a maintainer; a context without models."""
    state = fake_github.state
    state.add_installation(1, [REPO])
    for name in ("bug", "enhancement", "question", "duplicate"):
        state.add_label(REPO, name)
    state.set_permission(REPO, "maint", "maintain")
    settings = make_settings(fake_github, tmp_path, thresholds={})
    store, github = open_store(settings.db_path), GitHubApp(settings)
    yield state, JobContext(settings, store, github, None)
    github.close()  # its connection pools: the fake server's sockets are not held till exit
    store.close()


def issue_payload(state: FakeGitHub, number: int, action: str = "opened") -> dict[str, Any]:
    i = state.issue(REPO, number)
    issue = {"number": number, "title": i.title, "body": i.body, "state": i.state}
    return {
        "action": action,
        "issue": {**issue, "user": {"login": i.user}},
        "repository": {"full_name": REPO},
        "installation": {"id": 1},
        "sender": {"login": i.user, "type": "User"},
    }


def comment_payload(
    number: int,
    body: str,
    author: str,
    cid: int | None = None,
    action: str = "created",
    *,
    on: FakeGitHub | None = None,
) -> dict[str, Any]:
    """An issue_comment delivery. `on`: the comment is posted there first, the delivery's id
    its id, as GitHub has every comment it delivers (a command is read again from GitHub before
    it runs: one deleted since does not run). Without it, comment `cid` (5) is the delivery's
    alone, as one deleted before its delivery was handled."""
    if on is not None and cid is None:
        cid = on.add_comment(REPO, number, body, user=author).id
    user = {"login": author, "type": "User"}
    comment = {"id": 5 if cid is None else cid, "body": body, "user": user}
    return {
        "action": action,
        "issue": {"number": number},
        "comment": comment,
        "repository": {"full_name": REPO},
        "installation": {"id": 1},
        "sender": {"login": author, "type": "User"},
    }


def bot_comments(state: FakeGitHub, number: int) -> list[str]:
    """The bodies of the comments the bot posted on the issue, oldest first."""
    return [c.body for c in state.comments(REPO, number) if c.user_type == "Bot"]


def error_issues(state: FakeGitHub) -> list[Any]:
    return [i for i in state.repos[REPO].issues.values() if i.title == CONFIG_ERROR_TITLE]


def repo_writes(state: FakeGitHub) -> list[str]:
    """Every write the bot sent to the repository (refused ones too)."""
    return [
        f"{e.method} {e.path}"
        for e in state.requests()
        if e.method in ("POST", "PATCH", "DELETE") and e.path.startswith("/repos/")
    ]
