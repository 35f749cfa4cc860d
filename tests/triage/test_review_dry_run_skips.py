"""A dry run previews what a live run would do now: what a live run skips (labels already there,
a label already gone, a comment already made, an upsert whose body is unchanged) is audited
`skipped` as live, with the same reason; only a write a live run would make is a `dry-run` row.
And a dry run writes nothing to GitHub. By the Performer on a fake host, and through the real
triage and command jobs (fake GitHub over HTTP, the real adapter)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.core.actions import Action, AddLabels, Close, Comment, RemoveLabel, UpsertComment
from bot.core.markers import with_marker
from bot.jobs.commands import handle_comment_event
from bot.jobs.context import JobContext
from bot.jobs.perform import Performer, Target
from bot.jobs.triage import handle_issue_event
from bot.ports import CommentData
from bot.sandbox.fake_github.state import FakeGitHub
from bot.store import Store, open_store
from tests.commands.conftest import CONFIG, REPO, comment_payload, issue_payload, repo_writes
from tests.commands.conftest import world as world  # the fixture
from tests.triage.fakes import FakeRepoHost

BOT = "smolbot[bot]"


def _host() -> FakeRepoHost:
    host = FakeRepoHost(repo_labels=["bug", "needs-triage", "question"])
    n = host.add("Crash", "it crashes", labels=["bug"]).number
    host.notes[n] = [
        CommentData(1, BOT, with_marker("asked once", "triage:ask"), "2026-01-03T00:00:00Z"),
        CommentData(2, BOT, with_marker("same text", "triage:status"), "2026-01-03T00:00:00Z"),
        CommentData(3, BOT, with_marker("old text", "triage:dupes"), "2026-01-03T00:00:00Z"),
    ]
    return host


ACTIONS: list[Action] = [
    AddLabels(("BUG",), "kind bug"),  # there (GitHub ignores case)
    RemoveLabel("needs-triage", "triaged"),  # not there
    Comment("asked again", "triage:ask", "bug report lacks: version"),  # made already
    UpsertComment("same text", "triage:status", "status"),  # unchanged
    UpsertComment("new text", "triage:dupes", "similar to #1"),  # changed: a write
    AddLabels(("bug", "question"), "kind question too"),  # one missing: a write
    RemoveLabel("question", "not a question after all"),  # there once the one before ran
    Comment("first words", "triage:first", "first response"),  # none yet: a write
    Close("duplicate of #1", "duplicate"),  # a write (a live run closes as asked)
]


def _run(store: Store, dry_run: bool) -> tuple[FakeRepoHost, list[str], list[tuple[str, ...]]]:
    host = _host()
    target = Target(REPO, 1, "triage", f"d-{dry_run}", dry_run, BOT)
    outcomes = Performer(host, store, target).perform(ACTIONS)
    rows = [
        (r["action"], r["outcome"], r["reason"])
        for r in store.audit_rows(REPO, 1)
        if r["delivery_id"] == f"d-{dry_run}"
    ]
    return host, outcomes, rows


@pytest.fixture
def a_store(tmp_path: Path) -> Any:
    s = open_store(tmp_path / "smolbot.db")
    yield s
    s.close()


def test_a_dry_run_skips_what_a_live_run_skips_and_previews_only_the_writes(
    a_store: Store,
) -> None:
    live_host, live, live_rows = _run(a_store, dry_run=False)
    dry_host, dry, dry_rows = _run(a_store, dry_run=True)
    assert live == [
        "skipped",
        "skipped",
        "skipped",
        "skipped",
        "done",
        "done",
        "done",
        "done",
        "done",
    ]
    assert dry == ["dry-run" if o == "done" else o for o in live]
    assert dry_rows == [(a, "dry-run" if o == "done" else o, why) for a, o, why in live_rows]
    assert ("add_labels", "skipped", "labels already present (kind bug)") in dry_rows
    assert ("remove_label", "skipped", "label not present (triaged)") in dry_rows
    assert ("comment", "skipped", "already commented (bug report lacks: version)") in dry_rows
    assert ("upsert_comment", "skipped", "comment unchanged (status)") in dry_rows
    assert live_host.writes  # the live run wrote; the dry run read only
    assert dry_host.writes == []
    assert dry_host.issues[1].labels == ["bug"] and dry_host.issues[1].state == "open"


def test_a_dry_run_of_an_issue_already_labeled_is_audited_as_the_live_run(
    world: tuple[FakeGitHub, JobContext],
) -> None:
    state, ctx = world
    live = state.add_issue(REPO, "Something odd", "hello", labels=["needs-triage"]).number
    handle_issue_event(ctx, "d-live", issue_payload(state, live))
    state.put_file(REPO, CONFIG, "dry_run: true\n")
    dry = state.add_issue(REPO, "Toaster sings", "at noon", labels=["needs-triage"]).number
    before = len(repo_writes(state))
    handle_issue_event(ctx, "d-dry", issue_payload(state, dry))
    assert repo_writes(state)[before:] == []

    def rows(n: int) -> list[tuple[str, str, str]]:
        return [(r["action"], r["outcome"], r["reason"]) for r in ctx.store.audit_rows(REPO, n)]

    assert rows(dry) == rows(live)
    assert any(
        r[:2] == ("add_labels", "skipped") and r[2].startswith("labels already present")
        for r in rows(dry)
    ), rows(dry)
    assert state.issue(REPO, dry).labels == ["needs-triage"]


def test_a_dry_run_duplicate_command_on_an_issue_labeled_already_skips_the_label(
    world: tuple[FakeGitHub, JobContext],
) -> None:
    state, ctx = world
    state.put_file(REPO, CONFIG, "dry_run: true\n")
    original = state.add_issue(REPO, "Crash A").number
    n = state.add_issue(REPO, "Crash B", labels=["duplicate"]).number
    payload = comment_payload(n, f"/smolbot duplicate #{original}", "maint", on=state)
    before = len(repo_writes(state))
    handle_comment_event(ctx, "c1", payload)
    assert repo_writes(state)[before:] == []
    outcomes = {
        r["action"]: r["outcome"]
        for r in ctx.store.audit_rows(REPO, n)
        if r["action"] in ("add_labels", "comment", "close")
    }
    assert outcomes == {"add_labels": "skipped", "comment": "dry-run", "close": "dry-run"}
    assert state.issue(REPO, n).state == "open"
