"""Leaving dry-run with a typo: the last good .github/smolbot.yml says `dry_run: true`, the
maintainer pushes `dry_run: false` with an invalid setting. The last good config still stands
in (dry-run for everything the bot does), but the config-error issue is written: it is about the
bot itself and the file asks for writes. It used to be only audited, in dry-run, so the bot
stayed silent in dry-run with nothing on GitHub saying why. Through the worker's routing, the
real store and the GitHub adapter over HTTP against the fake GitHub."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.jobs.repo_config import CONFIG_ERROR_TITLE, DRY_RUN_STANDS, preview_repo_config
from tests.jobs.test_invalid_config_dry_run import TYPO, _opened, _world

CONFIG = ".github/smolbot.yml"
REPO = "octo/app"


def _error_issues(state: Any) -> list[Any]:
    return [i for i in state.repos[REPO].issues.values() if i.title == CONFIG_ERROR_TITLE]


@pytest.mark.parametrize(
    "invalid",
    [f"dry_run: false\n{TYPO}", "dry_run: no\ntriage: [unclosed\n"],
    ids=["a typo", "not YAML"],
)
def test_the_issue_is_written_when_the_invalid_file_says_dry_run_false(
    fake_github: Any, tmp_path: Path, invalid: str
) -> None:
    state, rt = _world(fake_github, tmp_path)
    state.put_file(REPO, CONFIG, "dry_run: true\n")
    _opened(state, rt, "d-0")
    state.put_file(REPO, CONFIG, invalid)

    numbers = [_opened(state, rt, f"d-{i}") for i in (1, 2)]

    (issue,) = _error_issues(state)  # opened once
    assert DRY_RUN_STANDS in issue.body
    # the only write: everything else is still in dry-run, as the last good config says
    assert [(w.method, w.path) for w in state.writes()] == [("POST", f"/repos/{REPO}/issues")]
    assert all(state.issue(REPO, n).labels == [] for n in numbers)
    cfg, note = preview_repo_config(rt.store, rt.github.repo(1, REPO), REPO)
    assert cfg.dry_run and note is not None and DRY_RUN_STANDS in note

    state.put_file(REPO, CONFIG, "dry_run: false\n")  # fixed: dry-run is off, the issue closed
    n = _opened(state, rt, "d-3")
    assert state.issue(REPO, n).labels and [i.state for i in _error_issues(state)] == ["closed"]


def test_an_invalid_file_that_does_not_say_dry_run_false_is_only_audited(
    fake_github: Any, tmp_path: Path
) -> None:
    state, rt = _world(fake_github, tmp_path)
    state.put_file(REPO, CONFIG, "dry_run: true\n")
    _opened(state, rt, "d-0")
    state.put_file(REPO, CONFIG, TYPO)  # dry_run left out: the last good one's stands

    _opened(state, rt, "d-1")

    assert state.writes() == [] and _error_issues(state) == []
    audited = [(r["action"], r["outcome"]) for r in rt.store.audit_rows(limit=200)]
    assert ("config_error_issue", "dry-run") in audited
