"""Every audit row of an action a model decided on carries that model's record, and a skipped one
keeps the decision's reason: a retriage's removal of a maintainer's kind label had no model record
(its dry run did), and `labels already present` / `already commented` lost both the reason and the
record of the answer behind them."""

from __future__ import annotations

import json
from typing import Any

from bot.core.actions import AddLabels, Comment, RemoveLabel
from bot.jobs.perform import Performer, Target
from bot.store import Store
from tests.triage.fakes import FakeRepoHost

REPO = "octo/app"
MODEL = {"task": "triage", "backend": "classifier", "confidence": 0.52, "note": "x"}


def performer(store: Store, host: FakeRepoHost, number: int, dry_run: bool = False) -> Performer:
    return Performer(host, store, Target(REPO, number, "triage", "d1", dry_run))


def rows(store: Store, number: int, action: str) -> list[dict[str, Any]]:
    got = [r for r in store.audit_rows(REPO, number, limit=50) if r["action"] == action]
    return [{**r, "detail": json.loads(r["detail"] or "{}")} for r in got]


def test_a_removed_label_carries_the_model_record(store: Store) -> None:
    host = FakeRepoHost(repo=REPO)
    n = host.add("Crash", "It crashes.", labels=["question"]).number
    outcome = performer(store, host, n).perform(
        [RemoveLabel("question", "retriaged as bug")], model=MODEL
    )
    assert outcome == ["done"] and host.issues[n].labels == []
    (row,) = rows(store, n, "remove_label")
    assert row["reason"] == "retriaged as bug" and row["detail"]["model"] == MODEL
    dry = host.add("Crash", "It crashes.", labels=["question"]).number
    performer(store, host, dry, dry_run=True).perform(
        [RemoveLabel("question", "retriaged as bug")], model=MODEL
    )
    assert rows(store, dry, "remove_label")[0]["detail"]["model"] == MODEL  # as its dry run


def test_a_skipped_action_keeps_its_reason_and_model_record(store: Store) -> None:
    host = FakeRepoHost(repo=REPO)
    n = host.add("Crash", "It crashes.", labels=["needs-triage"]).number
    why = "cautious path: unsure (best guess bug at 0.52, not acted on)"
    perf = performer(store, host, n)
    comment = Comment("Thanks!", "triage:first-response", "first response")
    assert perf.perform([comment], model=MODEL) == ["done"]
    actions = [AddLabels(("needs-triage",), why), RemoveLabel("bug", "triaged as question")]
    outcomes = performer(store, host, n).perform([*actions, comment], model=MODEL)
    assert outcomes == ["skipped", "skipped", "skipped"]
    (added,) = rows(store, n, "add_labels")
    assert added["reason"] == f"labels already present ({why})"
    (removed,) = rows(store, n, "remove_label")
    assert removed["reason"] == "label not present (triaged as question)"
    skipped = [r for r in rows(store, n, "comment") if r["outcome"] == "skipped"]
    assert [r["reason"] for r in skipped] == ["already commented (first response)"]
    assert all(r["detail"]["model"] == MODEL for r in [added, removed, *skipped])
