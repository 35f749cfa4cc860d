"""What the dashboard reads from the store: repositories, digests, the audit log, model statistics."""

from __future__ import annotations

import json
from collections.abc import Set as AbstractSet
from typing import Any

from bot.dashboard.auth import User
from bot.store import Store

AUDIT_LIMIT = 200


def visible_repos(store: Store, user: User) -> list[dict[str, Any]]:
    rows = store.repositories()
    return [r for r in rows if user.all_repos or r["installation_id"] in user.installations]


def installations(store: Store, user: User) -> list[dict[str, Any]]:
    rows = store.installations()
    return [r for r in rows if user.all_repos or r["id"] in user.installations]


def latest_digests(store: Store, repos: list[str], limit: int = 20) -> list[dict[str, Any]]:
    if not repos:
        return []
    marks = ",".join("?" * len(repos))
    sql = (
        "select repo, week, number, posted_at, title, json from digests"
        f" where repo in ({marks}) order by posted_at desc limit ?"
    )
    rows = list(store.rows(sql, [*repos, limit]))
    for row in rows:
        row["data"] = json.loads(row.pop("json") or "{}")
    return rows


def digest(store: Store, repo: str, week: str) -> dict[str, Any] | None:
    sql = "select repo, week, number, posted_at, title, markdown, json from digests where repo = ? and week = ?"
    row = next(store.rows(sql, [repo, week]), None)
    if row:
        row["data"] = json.loads(row.pop("json") or "{}")
    return row


def current_top(digests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Top issues of each repository's newest digest, with their summary and waiting state."""
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for d in digests:
        if d["repo"] in seen:
            continue
        seen.add(d["repo"])
        out += [dict(item, repo=d["repo"]) for item in d["data"].get("top", [])]
    return out


def audit(
    store: Store,
    visible: AbstractSet[str] | None,
    repo: str | None = None,
    number: int | None = None,
    outcome: str | None = None,
) -> list[dict[str, Any]]:
    """Newest first, filtered by repo, issue and outcome. `visible`: the repositories the user
    may see (None: every one, so no list of them goes into the query; a list was checked
    against itself, 9.4 s at 40,000 repositories)."""
    clauses: list[str] = []
    args: list[Any] = []
    if repo:
        if visible is not None and repo not in visible:
            return []
        clauses.append("repo = ?")
        args.append(repo)
    elif visible is not None:
        if not visible:
            return []
        clauses.append(f"repo in ({','.join('?' * len(visible))})")
        args += visible
    for column, value in (("number", number), ("outcome", outcome)):
        if value not in (None, ""):
            clauses.append(f"{column} = ?")
            args.append(value)
    where = f" where {' and '.join(clauses)}" if clauses else ""
    return list(
        store.rows(f"select * from audit{where} order by id desc limit {AUDIT_LIMIT}", args)
    )


def model_days(store: Store, days: int = 30) -> list[dict[str, Any]]:
    """Per day: calls, mean latency, cache hit rate and escalation share (empty without the table)."""
    if "model_calls" not in store.db.table_names():
        return []
    sql = (
        "select date(at, 'unixepoch') as day, count(*) as calls,"
        " avg(latency_ms) as latency_ms, avg(cache_hit) as cache_rate,"
        " avg(escalated) as escalation_share from model_calls"
        " where coalesce(final, 1) = 1 group by day order by day desc limit ?"
    )
    return list(reversed(list(store.rows(sql, [days]))))
