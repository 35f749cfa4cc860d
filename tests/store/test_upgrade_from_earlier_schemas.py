"""A store an earlier smolbot wrote to opens after the upgrade: an earlier version's writes
(sqlite-utils' upserts, alter=True) may have made a column or a table before the migration that
makes it existed, so every migration makes only what is missing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.store import open_store
from bot.store.migrations import migrations


def _issue(n: int, updated: str, title: str) -> dict[str, Any]:
    return {"number": n, "title": title, "state": "open", "updated_at": updated, "labels": []}


def test_a_store_whose_summaries_got_seen_updated_at_before_its_migration_still_opens(
    store_url: str,
) -> None:
    """59662b4 (lifecycle + summarize jobs) wrote summaries.seen_updated_at through sqlite-utils'
    upsert(alter=True), which adds the column, before m030_lifecycle_summary_seen existed."""
    s = open_store(store_url, migrate=False)
    migrations.apply(s.db, stop_before="m030_lifecycle_summary_seen")  # the 59662b4 schema
    s.upsert_issue("o/r", _issue(1, "2026-11-20T00:00:00Z", "kept"))
    row = {
        "repo": "o/r",
        "number": 1,
        "content_hash": "h",
        "how": "model",
        "updated_at": 1.0,
        "seen_updated_at": "2026-11-20T00:00:00Z",
    }  # as bot/jobs/summarize.py at 59662b4 did
    s.db.table("summaries").upsert(row, pk=("repo", "number"), alter=True)
    s.db.conn.commit()
    s.close()
    upgraded = open_store(store_url)
    assert migrations.pending(upgraded.db) == []
    assert upgraded.issue("o/r", 1)["title"] == "kept"  # type: ignore[index]
    summary = next(upgraded.db.table("summaries").rows_where("repo = ?", ["o/r"]))
    assert summary["seen_updated_at"] == "2026-11-20T00:00:00Z"


def test_a_store_whose_digests_table_came_before_its_migration_still_opens(tmp_path: Path) -> None:
    """8d6c480 (the digest job) upserted into `digests`, which sqlite-utils then creates, one
    commit before m040_digest created the table: upgrading keeps the table and its rows."""
    path = tmp_path / "s.db"
    s = open_store(path, migrate=False)
    migrations.apply(s.db, stop_before="m040_digest")
    row = {
        "repo": "o/r",
        "week": "2026-w47",
        "number": 5,
        "posted_at": 1.0,
        "title": "t",
        "markdown": "m",
        "json": "{}",
    }  # as bot/jobs/digest.py at 8d6c480 did
    s.db.table("digests").upsert(row, pk=("repo", "week"))
    s.close()
    upgraded = open_store(path)
    assert migrations.pending(upgraded.db) == []
    assert [r["number"] for r in upgraded.db.table("digests").rows_where()] == [5]


def test_each_migration_runs_again_over_the_schema_it_made(store_url: str) -> None:
    """Every migration, run once more over a store that already holds its changes (as an
    earlier version's automatic column and table adds may have made them), changes nothing and
    does not fail."""
    s = open_store(store_url)
    for migration in migrations._migrations:
        with s.db.atomic():
            migration.fn(s.db)
    assert migrations.pending(s.db) == []
