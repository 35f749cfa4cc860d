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
    number: int, body: str, author: str, cid: int = 5, action: str = "created"
) -> dict[str, Any]:
    return {
        "action": action,
        "issue": {"number": number},
        "comment": {"id": cid, "body": body, "user": {"login": author, "type": "User"}},
        "repository": {"full_name": REPO},
        "installation": {"id": 1},
        "sender": {"login": author, "type": "User"},
    }


def error_issues(state: FakeGitHub) -> list[Any]:
    return [i for i in state.repos[REPO].issues.values() if i.title == CONFIG_ERROR_TITLE]


def repo_writes(state: FakeGitHub) -> list[str]:
    """Every write the bot sent to the repository (refused ones too)."""
    return [
        f"{e.method} {e.path}"
        for e in state.requests()
        if e.method in ("POST", "PATCH", "DELETE") and e.path.startswith("/repos/")
    ]
