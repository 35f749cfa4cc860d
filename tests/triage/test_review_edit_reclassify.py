"""An edit asks the classifier again only when the answer can change something: the issue has no
kind label, its title or body changed, and no person took a kind label off it (their triage is not
undone on an edit; `/smolbot retriage` asks again). Over HTTP against the fake GitHub, with the
real store and model layer: the layer's call records say whether the classifier was asked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.github import GitHubApp
from bot.jobs.context import JobContext
from bot.jobs.triage import handle_issue_event
from bot.llm import get_model_layer
from bot.store import open_store
from tests.fake_github.plugin import make_settings
from tests.triage.conftest import THRESHOLDS
from tests.triage.examples import labeled
from tests.triage.test_review_first_responder import payload

REPO = "octo/app"
BUG = (
    "App crashes with an exception when I click save button",
    "It crashes with an exception every time I click save, this is broken.",
)
# a repository without issue templates: the default needs, none of which this body lacks
FULL = (
    "Version 2.3.1.\n\nSteps to reproduce:\n1. open\n2. click save\n\n"
    "Expected it to save, but instead it crashes:\n```\nTypeError: boom\n```"
)
VAGUE = ("hmm", "see title")


@pytest.fixture
def world(fake_github, tmp_path: Path):  # type: ignore[no-untyped-def]
    state = fake_github.state
    state.add_installation(1, [REPO])
    for name in ("bug", "enhancement", "question", "documentation"):
        state.add_label(REPO, name)
    state.set_permission(REPO, "maint", "maintain")
    settings = make_settings(fake_github, tmp_path, thresholds=THRESHOLDS)
    store = open_store(settings.db_path)
    layer = get_model_layer(settings, store)
    for text, label in labeled():
        layer.learn(REPO, text, label, "backfill")
    layer.classifier(force=True)
    yield state, JobContext(settings, store, GitHubApp(settings), layer)
    store.close()


def triage_calls(ctx: JobContext) -> list[dict[str, Any]]:
    return [r for r in ctx.models.records.calls() if r["task"] == "triage"]  # type: ignore[union-attr]


def edited(state, n: int, **changes: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """An `issues.edited` delivery as GitHub sends it: `changes` holds the old value of each
    field the edit changed."""
    out = payload(state, n, "edited")
    out["changes"] = {k: {"from": v} for k, v in changes.items()}
    return out


def skips(ctx: JobContext, n: int) -> list[str]:
    return [
        r["reason"] for r in ctx.store.audit_rows(REPO, n, limit=100) if r["outcome"] == "skipped"
    ]


def test_an_edit_after_a_person_took_the_kind_off_asks_no_model(world):
    state, ctx = world
    n = state.add_issue(REPO, BUG[0], FULL).number
    handle_issue_event(ctx, "d1", payload(state, n))
    assert state.issue(REPO, n).labels == ["bug"]
    asked = len(triage_calls(ctx))
    assert asked >= 1
    state.issue(REPO, n).labels.remove("bug")  # a maintainer finds `bug` wrong
    state.add_event(REPO, n, "unlabeled", "maint", label="bug")
    old = state.issue(REPO, n).body
    state.issue(REPO, n).body = old + "\n\nIt also happens on 2.3.2."
    writes = len(state.writes())
    handle_issue_event(ctx, "d2", edited(state, n, body=old))
    assert len(triage_calls(ctx)) == asked  # the classifier was not asked again
    assert state.issue(REPO, n).labels == [] and len(state.writes()) == writes
    assert any("'bug' was taken off by maint" in r for r in skips(ctx, n))


def test_an_edit_that_changed_neither_title_nor_body_asks_no_model(world):
    state, ctx = world
    n = state.add_issue(REPO, *VAGUE).number
    handle_issue_event(ctx, "d1", payload(state, n))
    assert state.issue(REPO, n).labels == ["needs-triage"]  # unsure: untriaged
    asked, reads = len(triage_calls(ctx)), len(state.requests("GET"))
    out = edited(state, n)  # e.g. a label-only or type-only change: no title, no body
    handle_issue_event(ctx, "d2", out)
    assert len(triage_calls(ctx)) == asked
    assert len(state.requests("GET")) == reads  # decided from the delivery alone
    assert any("neither its title nor its body changed" in r for r in skips(ctx, n))


def test_a_text_edit_of_an_untriaged_issue_still_asks_the_model(world):
    state, ctx = world
    n = state.add_issue(REPO, *VAGUE).number
    handle_issue_event(ctx, "d1", payload(state, n))
    asked = len(triage_calls(ctx))
    state.issue(REPO, n).title, state.issue(REPO, n).body = BUG[0], FULL
    handle_issue_event(ctx, "d2", edited(state, n, title=VAGUE[0], body=VAGUE[1]))
    assert len(triage_calls(ctx)) == asked + 1
    assert state.issue(REPO, n).labels == ["bug"]


def test_an_edit_after_a_person_took_needs_triage_off_still_asks_the_model(world):
    """needs-triage taken off is a person's look, not a kind: a sure answer can still add one."""
    state, ctx = world
    n = state.add_issue(REPO, *VAGUE).number
    handle_issue_event(ctx, "d1", payload(state, n))
    state.issue(REPO, n).labels.remove("needs-triage")
    state.add_event(REPO, n, "unlabeled", "maint", label="needs-triage")
    asked = len(triage_calls(ctx))
    state.issue(REPO, n).title, state.issue(REPO, n).body = BUG[0], FULL
    handle_issue_event(ctx, "d2", edited(state, n, title=VAGUE[0]))
    assert len(triage_calls(ctx)) == asked + 1
    assert state.issue(REPO, n).labels == ["bug"]
