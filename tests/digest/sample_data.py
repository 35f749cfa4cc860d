"""Issues, comments and sample repositories for the digest tests written from the review."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

REPO = "o/r"
BOT = "smolbot[bot]"
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def z(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def issue(n: int, title: str, author: str, at: datetime, **kw: Any) -> dict[str, Any]:
    labels = kw.pop("labels", [])
    return {
        "id": 7_000_000 + n,
        "number": n,
        "title": title,
        "body": kw.pop("body", "Something is wrong."),
        "user": {"login": author, "type": "User"},
        "author_association": kw.pop("assoc", "NONE"),
        "state": kw.pop("state", "open"),
        "labels": [{"name": lb} for lb in labels],
        "assignees": [],
        "comments": kw.pop("comments", 0),
        "created_at": z(at),
        "updated_at": z(kw.pop("updated", at)),
        "closed_at": kw.pop("closed_at", None),
        "html_url": f"https://github.com/{REPO}/issues/{n}",
        "reactions": {"total_count": kw.pop("reactions", 0)},
    }


def comment(
    cid: int, author: str, body: str, at: datetime, assoc: str = "NONE", kind: str = "User"
) -> dict[str, Any]:
    return {
        "id": cid,
        "user": {"login": author, "type": kind},
        "author_association": assoc,
        "body": body,
        "created_at": z(at),
        "html_url": f"https://github.com/{REPO}/issues/1#issuecomment-{cid}",
    }


def data(
    issues: list[dict[str, Any]],
    comments: dict[str, list[Any]] | None = None,
    events: dict[str, list[Any]] | None = None,
    config: str = "",
    collaborators: list[dict[str, str]] | None = None,
    now: datetime = NOW,
) -> dict[str, Any]:
    return {
        "now": z(now),
        "repository": {"full_name": REPO, "html_url": f"https://github.com/{REPO}"},
        "bot_login": BOT,
        "collaborators": collaborators or [],
        "labels": [],
        "config": config,
        "issues": issues,
        "comments": comments or {},
        "events": events or {},
    }
