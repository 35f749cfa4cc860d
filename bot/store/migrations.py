"""Schema of the SQLite store, as sqlite-utils migrations applied at process start."""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("smolbot")


@migrations()
def m001_core(db: Database) -> None:
    db.table("deliveries").create(
        {
            "id": str,
            "event": str,
            "action": str,
            "installation_id": int,
            "repo": str,
            "number": int,
            "status": str,  # received -> queued -> running -> done | ignored | dead
            "attempts": int,
            "received_at": float,
            "updated_at": float,
            "error": str,
            "payload": str,
        },
        pk="id",
        not_null={"event", "status", "received_at"},
        defaults={"status": "received", "attempts": 0},
    )
    db.table("deliveries").create_index(["status", "updated_at"])
    db.table("installations").create(
        {"id": int, "account": str, "account_type": str, "suspended": int, "updated_at": float},
        pk="id",
    )
    db.table("repositories").create(
        {"full_name": str, "id": int, "installation_id": int, "private": int, "added_at": float},
        pk="full_name",
    )
    db.table("repositories").create_index(["installation_id"])
    db.table("issues").create(
        {
            "repo": str,
            "number": int,
            "title": str,
            "body": str,
            "state": str,
            "author": str,
            "labels": str,  # JSON list
            "kind": str,
            "created_at": str,
            "updated_at": str,
            "closed_at": str,
            "seen_at": float,
        },
        pk=("repo", "number"),
    )
    db.table("audit").create(
        {
            "id": int,
            "at": float,
            "task": str,
            "delivery_id": str,
            "repo": str,
            "number": int,
            "action": str,
            "outcome": str,  # done | skipped | dry-run | failed
            "reason": str,
            "detail": str,  # JSON
        },
        pk="id",
    )
    db.table("audit").create_index(["repo", "number"])
    db.table("audit").create_index(["at"])
    db.table("dead_letters").create(
        {
            "id": int,
            "at": float,
            "task": str,
            "args": str,  # JSON
            "error": str,
            "replayed_at": float,
        },
        pk="id",
    )
