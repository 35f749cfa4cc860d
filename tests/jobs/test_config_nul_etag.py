"""A .github/smolbot.yml holding a NUL character is read in full at every job, not kept by its
ETag: PostgreSQL stores U+0000 as U+FFFD, so the copy a 304 answered from was a different file,
valid where GitHub's is not (the bot applied it, closed its config-error issue and kept it as
the last good config), on PostgreSQL only. Both stores now agree: the file stays invalid. Over
HTTP against the fake GitHub, with the real GitHub adapter and each real store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.github import GitHubApp
from bot.jobs.repo_config import CONFIG_ERROR_TITLE, load_repo_config
from bot.ports import RepoHost
from bot.sandbox.fake_github.server import FakeGitHubServer
from bot.sandbox.fake_github.state import FakeGitHub
from bot.store import Store, open_store
from tests.fake_github.plugin import make_settings

REPO = "octo/app"
CONFIG = ".github/smolbot.yml"
BOT = "smolbot[bot]"


@pytest.fixture
def world(
    fake_github: FakeGitHubServer, tmp_path: Path, store_url: str
) -> Iterator[tuple[FakeGitHub, Store, RepoHost]]:
    """octo/app on the fake GitHub, a store of each kind, the repository as the adapter reads it."""
    state = fake_github.state
    state.add_installation(1, [REPO])
    store, github = open_store(store_url), GitHubApp(make_settings(fake_github, tmp_path))
    yield state, store, github.repo(1, REPO)
    github.close()
    store.close()


def statuses(state: FakeGitHub, path: str = CONFIG) -> list[int]:
    return [e.status for e in state.requests("GET", f"/contents/{path}")]


def error_issues(state: FakeGitHub) -> list[Any]:
    return [i for i in state.repos[REPO].issues.values() if i.title == CONFIG_ERROR_TITLE]


def test_a_file_with_a_nul_stays_invalid_at_every_read(world: Any) -> None:
    state, store, host = world
    state.put_file(REPO, CONFIG, b"triage:\n  enabled: false\n# note\x00\n")

    for _ in range(3):
        cfg = load_repo_config(store, host, REPO, bot_login=BOT)
        assert not cfg.from_file and cfg.triage.enabled  # the defaults stand in

    assert statuses(state) == [200, 200, 200]  # read in full each time, as undecodable bytes are
    assert [i.state for i in error_issues(state)] == ["open"]


def test_the_file_fixed_is_cached_again(world: Any) -> None:
    state, store, host = world
    state.put_file(REPO, CONFIG, b"triage:\n  enabled: false\n# note\x00\n")
    load_repo_config(store, host, REPO, bot_login=BOT)
    state.put_file(REPO, CONFIG, b"triage:\n  enabled: false\n# note\n")

    for _ in range(2):
        assert not load_repo_config(store, host, REPO, bot_login=BOT).triage.enabled

    assert statuses(state) == [200, 200, 304]
    assert [i.state for i in error_issues(state)] == ["closed"]
