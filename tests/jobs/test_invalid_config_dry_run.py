"""A `.github/smolbot.yml` that says `dry_run: true` but has an invalid setting (a typo) keeps
dry-run: the last good config (or the defaults) stands in for it in dry-run, audited, and the
config-error issue is not opened while it does (as for a valid dry-run config). It used to be
taken for no file at all: labels were written and the config-error issue opened, although the
maintainer asked in that very file that nothing be written. Through the worker's routing, the
real store and the GitHub adapter over HTTP against the fake GitHub."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.github import GitHubApp
from bot.jobs.dispatch import dispatch
from bot.jobs.repo_config import CONFIG_ERROR_TITLE, load_repo_config, preview_repo_config
from bot.jobs.runtime import Runtime
from bot.store import open_store
from tests.e2e.harness import issue_payload
from tests.fake_github.plugin import make_settings

REPO = "octo/app"
TYPO = "triage:\n  treshold: 0.7\n"


def _world(fake_github: Any, tmp_path: Path) -> tuple[Any, Runtime]:
    state = fake_github.state
    state.add_installation(1, [REPO])
    for name in ("bug", "enhancement", "question", "needs-triage"):
        state.add_label(REPO, name)
    settings = make_settings(fake_github, tmp_path)
    rt = Runtime(settings, open_store(settings.db_path))
    rt.store.upsert_installation(1, "octo")
    rt.store.add_repositories(1, [{"full_name": REPO, "id": 1}])
    rt.__dict__["models"] = None
    rt.__dict__["github"] = GitHubApp(settings, clock=state.now)
    return state, rt


def _opened(state: Any, rt: Runtime, delivery_id: str) -> int:
    n: int = state.add_issue(REPO, "Crash on save", "It crashes when I click save.").number
    payload = issue_payload(REPO, n, "Crash on save", "It crashes when I click save.")
    row = {"id": delivery_id, "event": "issues", "installation_id": 1, "repo": REPO, "number": n}
    dispatch(rt, row, payload)
    return n


@pytest.mark.parametrize("last_good", [None, "dry_run: false\n"])
def test_dry_run_true_in_an_invalid_file_writes_nothing(
    fake_github: Any, tmp_path: Path, last_good: str | None
) -> None:
    state, rt = _world(fake_github, tmp_path)
    if last_good is not None:  # read once while valid: the config that stands in for it
        state.put_file(REPO, ".github/smolbot.yml", last_good)
        host = rt.github.repo(1, REPO)
        assert not load_repo_config(rt.store, host, REPO, bot_login="x").dry_run
    state.put_file(REPO, ".github/smolbot.yml", f"dry_run: true\n{TYPO}")

    for i in range(2):
        _opened(state, rt, f"d-{i}")

    assert [(w.method, w.path) for w in state.writes()] == []
    rows = [(r["action"], r["outcome"], r["reason"]) for r in rt.store.audit_rows(limit=500)]
    (why,) = [reason for action, _, reason in rows if action == "config"]  # audited once
    assert "treshold" in why and "dry_run: true" in why
    assert [o for a, o, _ in rows if a == "config_error_issue"] == ["dry-run"]
    cfg, note = preview_repo_config(rt.store, rt.github.repo(1, REPO), REPO)
    assert cfg.dry_run and note is not None and "dry_run: true" in note


def test_the_config_error_issue_is_opened_once_the_invalid_file_no_longer_asks_for_dry_run(
    fake_github: Any, tmp_path: Path
) -> None:
    state, rt = _world(fake_github, tmp_path)
    state.put_file(REPO, ".github/smolbot.yml", f"dry_run: true\n{TYPO}")
    _opened(state, rt, "d-1")
    state.put_file(REPO, ".github/smolbot.yml", TYPO)  # dry-run taken off, the typo left

    n = _opened(state, rt, "d-2")

    assert [i.title for i in state.repos[REPO].issues.values()].count(CONFIG_ERROR_TITLE) == 1
    assert state.issue(REPO, n).labels  # triaged for real
