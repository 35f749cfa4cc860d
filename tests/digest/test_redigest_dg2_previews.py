"""A dry-run preview stored before 698818f kept the pinned issue's number, so its week counted
as posted; the migration clears it (on SQLite and PostgreSQL)."""

from __future__ import annotations

from bot.store import Store
from bot.store.migrations import m190_digest_old_previews


def _digest(store: Store, repo: str, week: str, number: int | None) -> None:
    row = {"repo": repo, "week": week, "number": number, "posted_at": 1.0, "title": "t"}
    store.db.table("digests").upsert(row | {"markdown": "", "json": "{}"}, pk=("repo", "week"))


def _audit(store: Store, repo: str, outcome: str, week: str) -> None:
    store.audit("digest", outcome, "weekly digest", number=9, task="digest", repo=repo,
                detail={"week": week})  # fmt: skip


def test_a_preview_stored_with_the_pinned_number_is_no_longer_a_posted_week(
    any_store: Store,
) -> None:
    s = any_store
    _digest(s, "o/r", "2026-w47", 9)  # previewed only (before 698818f): cleared
    _audit(s, "o/r", "dry-run", "2026-w47")
    _digest(s, "o/r", "2026-w48", 9)  # previewed, then posted: kept
    _audit(s, "o/r", "dry-run", "2026-w48")
    _audit(s, "o/r", "done", "2026-w48")
    _digest(s, "o/r", "2026-w49", 12)  # posted: kept
    _audit(s, "o/r", "done", "2026-w49")
    _digest(s, "o/x", "2026-w47", 9)  # another repository's week, posted: kept
    _audit(s, "o/x", "done", "2026-w47")
    _digest(s, "o/r", "2026-w50", None)  # a preview since the fix: stays as it is
    _audit(s, "o/r", "dry-run", "2026-w50")
    m190_digest_old_previews(s.db)
    rows = s.rows("select repo, week, number from digests order by repo, week", [])
    assert [(r["repo"], r["week"], r["number"]) for r in rows] == [
        ("o/r", "2026-w47", None),
        ("o/r", "2026-w48", 9),
        ("o/r", "2026-w49", 12),
        ("o/r", "2026-w50", None),
        ("o/x", "2026-w47", 9),
    ]


def test_a_preview_stored_before_the_fix_is_posted_once_dry_run_is_off(settings, store) -> None:
    """The store as 4fae22f's dry-run left it, then the upgrade (the migration), then dry-run
    off: the week is posted (the pinned issue edited)."""
    from datetime import timedelta

    from bot.core.config import parse_config
    from bot.core.digest import week_slot
    from bot.jobs.context import JobContext
    from bot.jobs.digest import build_digest, run_due_digests, save_digest
    from tests.digest.sample_data import BOT, NOW, REPO, data, issue
    from tests.digest.test_digest_lines_and_windows import _EditableConfig, _OneRepoGitHub

    cfg_text = "dry_run: true\ndigest:\n  pinned_issue: 9\n"
    slot = week_slot(NOW, parse_config("").digest)
    host = _EditableConfig(data([issue(1, "Bug", "ann", NOW - timedelta(days=2)),
                                 issue(9, "Weekly digest", "mona", NOW - timedelta(days=90))],
                                now=NOW, config=cfg_text))  # fmt: skip
    store.upsert_installation(1, "o")
    store.add_repositories(1, [{"full_name": REPO, "id": 1}])
    d = build_digest(host, store, REPO, parse_config(cfg_text), slot, bot_login=BOT)
    _audit(store, REPO, "dry-run", d.week)
    save_digest(store, d, 9, slot + timedelta(minutes=5))
    m190_digest_old_previews(store.db)  # the upgrade
    host.data["config"] = "digest:\n  pinned_issue: 9\n"  # dry-run off
    ctx = JobContext(
        settings, store, github=_OneRepoGitHub(host), now=lambda: slot + timedelta(hours=2)
    )
    assert [r.number for r in run_due_digests(ctx)] == [9]
