"""A config an earlier release accepted and stored as the last good one, refused by today's
rules (an empty label, a key given twice): the jobs keep working, the file is reported as
invalid, and the defaults stand in (in dry-run when that text asked for it)."""

from __future__ import annotations

from typing import Any

from bot.jobs.repo_config import cached_config, read_file
from tests.commands.conftest import CONFIG, REPO, error_issues, repo_writes
from tests.commands.test_repo_config_file import _load, _opened

EMPTY_LABEL = "triage:\n  enabled: false\nexempt_labels: ['']\n"
TWICE_DRY = "dry_run: true\ntriage:\n  enabled: false\ndry_run: true\n"


def _stored_as_good(state: Any, ctx: Any, text: str, *, cached: bool) -> None:
    """What the earlier release left: `text` as the last good config, and (cached) the file
    itself in the ETag cache, so that GitHub answers 304 for it."""
    if cached:
        state.put_file(REPO, CONFIG, text)
        read_file(ctx.store, ctx.github.repo(1, REPO), REPO, CONFIG)
    row = {"repo": REPO, "good_text": text, "error": None, "updated_at": 0.0}
    ctx.store.db.table("repo_configs").upsert(row, pk="repo")


def test_an_unchanged_file_an_earlier_release_accepted_is_reported_not_a_crash(
    world: Any,
) -> None:
    state, ctx = world
    _stored_as_good(state, ctx, EMPTY_LABEL, cached=True)
    _opened(state, ctx, "d1")  # the file unchanged: GitHub answers 304
    (report,) = error_issues(state)
    assert "exempt_labels.0" in report.body and "cannot be empty" in report.body
    _opened(state, ctx, "d2", "Add dark mode")  # reported once
    assert len(error_issues(state)) == 1


def test_a_stored_good_text_that_no_longer_reads_gives_the_defaults(world: Any) -> None:
    state, ctx = world
    _stored_as_good(state, ctx, EMPTY_LABEL, cached=False)
    state.put_file(REPO, CONFIG, "triage:\n  enabled: nope\n")  # a new invalid file
    cfg = _load(state, ctx)
    assert cfg.triage.enabled and not cfg.dry_run  # the defaults, not the old `enabled: false`
    assert cached_config(ctx.store, REPO).triage.enabled
    reasons = [r["reason"] for r in ctx.store.audit_rows(limit=100) if r["action"] == "config"]
    assert any("no longer" in r and "defaults" in r for r in reasons), reasons


def test_a_stored_good_text_that_asked_for_dry_run_keeps_it(world: Any) -> None:
    state, ctx = world
    _stored_as_good(state, ctx, TWICE_DRY, cached=False)
    state.put_file(REPO, CONFIG, "triage:\n  enabled: nope\n")
    assert _load(state, ctx).dry_run
    assert cached_config(ctx.store, REPO).dry_run
    assert repo_writes(state) == []


def test_an_unchanged_file_with_a_key_twice_that_asked_for_dry_run_writes_nothing(
    world: Any,
) -> None:
    state, ctx = world
    _stored_as_good(state, ctx, TWICE_DRY, cached=True)
    n = _opened(state, ctx, "d1")
    assert repo_writes(state) == [] and state.issue(REPO, n).labels == []
    rows = [(r["action"], r["outcome"]) for r in ctx.store.audit_rows(limit=100)]
    assert ("config_error_issue", "dry-run") in rows
