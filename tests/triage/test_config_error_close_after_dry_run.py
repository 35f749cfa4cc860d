"""The config-error issue of a file fixed with `dry_run: true` in the same fix is closed once
dry-run is off. The close in dry-run is only audited (dry-run writes nothing, the config-error
issue included, as the README says); it used to clear the recorded error all the same, so when
dry-run was taken off nothing was left to close the issue: it stayed open for good, saying the
file is invalid. The real store and the fake RepoHost."""

from __future__ import annotations

import pytest

from bot.jobs.repo_config import CONFIG_ERROR_TITLE, CONFIG_PATH, load_repo_config
from bot.ports import Unavailable
from bot.store import Store
from tests.triage.fakes import FakeRepoHost

REPO = "octo/app"
TYPO = "triage:\n  treshold: 0.7\n"
FIXED = "triage:\n  threshold: 0.7\n"


def _load(store: Store, host: FakeRepoHost) -> bool:
    return load_repo_config(store, host, REPO, bot_login=host.bot).dry_run


def _error_issue(host: FakeRepoHost) -> int:
    (number,) = [n for n, i in host.issues.items() if i.title == CONFIG_ERROR_TITLE]
    return number


def _close_audits(store: Store) -> list[str]:
    rows = store.audit_rows(REPO, limit=500)
    return [r["outcome"] for r in rows if r["action"] == "close" and r["task"] == "repo_config"]


@pytest.fixture
def host() -> FakeRepoHost:
    return FakeRepoHost(repo=REPO)


def test_an_issue_fixed_in_dry_run_is_closed_once_dry_run_is_off(
    store: Store, host: FakeRepoHost
) -> None:
    host.files[CONFIG_PATH] = TYPO
    _load(store, host)
    number = _error_issue(host)

    host.files[CONFIG_PATH] = f"dry_run: true\n{FIXED}"  # fixed, trying dry-run first
    for _ in range(3):
        assert _load(store, host)
    assert host.issues[number].state == "open"  # dry-run writes nothing
    assert _close_audits(store) == ["dry-run"]  # audited once, not at every read

    host.files[CONFIG_PATH] = FIXED  # dry-run off
    assert not _load(store, host)
    assert host.issues[number].state == "closed"
    assert [w for k, w in host.writes if k == "close"] == [(number, "completed")]
    for _ in range(2):  # closed once
        _load(store, host)
    assert [k for k, _ in host.writes].count("close") == 1
    assert _close_audits(store).count("done") == 1


def test_an_issue_fixed_in_dry_run_is_closed_when_the_file_is_then_removed(
    store: Store, host: FakeRepoHost
) -> None:
    host.files[CONFIG_PATH] = TYPO
    _load(store, host)
    number = _error_issue(host)
    host.files[CONFIG_PATH] = f"dry_run: true\n{FIXED}"
    _load(store, host)
    del host.files[CONFIG_PATH]

    assert not _load(store, host)

    assert host.issues[number].state == "closed"


def test_broken_again_after_a_fix_in_dry_run_the_issue_stays_and_the_next_fix_closes_it(
    store: Store, host: FakeRepoHost
) -> None:
    host.files[CONFIG_PATH] = TYPO
    _load(store, host)
    number = _error_issue(host)
    host.files[CONFIG_PATH] = f"dry_run: true\n{FIXED}"
    _load(store, host)
    host.files[CONFIG_PATH] = TYPO  # the typo back: the last good config (dry-run) stands in

    assert _load(store, host)

    assert host.issues[number].state == "open" and _error_issue(host) == number
    assert [k for k, _ in host.writes] == ["create_issue"]  # no second issue
    host.files[CONFIG_PATH] = FIXED
    _load(store, host)
    assert host.issues[number].state == "closed"


def test_a_close_github_failed_after_dry_run_is_made_by_the_next_read(
    store: Store, host: FakeRepoHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    host.files[CONFIG_PATH] = TYPO
    _load(store, host)
    number = _error_issue(host)
    host.files[CONFIG_PATH] = f"dry_run: true\n{FIXED}"
    _load(store, host)
    host.files[CONFIG_PATH] = FIXED

    def away(n: int, state_reason: str) -> None:
        raise Unavailable("GitHub answered 502; retry later")

    with monkeypatch.context() as m:
        m.setattr(host, "close", away)
        with pytest.raises(Unavailable):
            _load(store, host)
    assert host.issues[number].state == "open"

    _load(store, host)

    assert host.issues[number].state == "closed"


def test_fixed_in_dry_run_with_no_issue_ever_opened_leaves_nothing_pending(
    store: Store, host: FakeRepoHost
) -> None:
    host.files[CONFIG_PATH] = f"dry_run: true\n{TYPO}"  # reported in dry-run: no issue
    _load(store, host)
    host.files[CONFIG_PATH] = f"dry_run: true\n{FIXED}"
    _load(store, host)
    host.files[CONFIG_PATH] = FIXED

    _load(store, host)

    assert host.issues == {} and host.writes == []
    (row,) = store.db.query("select error from repo_configs where repo = ?", [REPO])
    assert row["error"] is None
