"""The run's write budget gives back only what GitHub did not take: an action GitHub failed
(and those after it) is refunded, one GitHub took whose audit then failed is not (it was
written, and the cap must hold)."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from bot.core.actions import Close, Comment
from bot.jobs.lifecycle import Budget, _perform
from bot.jobs.perform import Performer, Target
from bot.ports import Unavailable
from bot.store import Store
from tests.lifecycle.fakes import FakeGitHub, day


class AuditFails(Store):
    """The real store whose audit fails (a locked database) on the n-th row."""

    def __init__(self, path: Any, at: int) -> None:
        super().__init__(path)
        self.rows, self.at = 0, at

    def audit(self, *args: Any, **kw: Any) -> None:  # type: ignore[override]
        self.rows += 1
        if self.rows == self.at:
            raise sqlite3.OperationalError("database is locked")
        super().audit(*args, **kw)


def _world() -> Any:
    gh = FakeGitHub(lambda: day(30))
    repo = gh.add_repo("o/r")
    repo.add_issue(7, "alice", day(0))
    return repo


def test_a_write_whose_audit_failed_stays_spent(tmp_path) -> None:  # type: ignore[no-untyped-def]
    repo = _world()
    budget = Budget(installation_left=5, repo_left=2)
    actions = budget.admit([Comment("@alice ping", "lifecycle:ping:x", "waiting")])
    store = AuditFails(tmp_path / "s.db", at=1)
    with pytest.raises(sqlite3.OperationalError):
        _perform(Performer(repo, store, Target("o/r", 7, "lifecycle")), actions, budget)
    assert [w[0] for w in repo.writes] == ["comment"]  # GitHub took it
    assert (budget.repo_left, budget.installation_left) == (1, 4)


def test_what_github_failed_is_given_back(tmp_path) -> None:  # type: ignore[no-untyped-def]
    repo = _world()

    def down(number: int, body: str) -> int:
        raise Unavailable("502 Bad Gateway (fake)")

    repo.create_comment = down  # type: ignore[method-assign]
    budget = Budget(installation_left=5, repo_left=3)
    actions = budget.admit([Comment("closing note", "lifecycle:close:x", "stale"), Close("stale")])
    with pytest.raises(Unavailable):
        _perform(
            Performer(repo, Store(tmp_path / "s.db"), Target("o/r", 7, "lifecycle")),
            actions,
            budget,
        )
    assert repo.writes == []
    assert (budget.repo_left, budget.installation_left) == (3, 5)
