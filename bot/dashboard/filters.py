"""The audit log's filters and pages: what each query parameter takes, and the page links."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from bot.core.numbers import STORE_DIGITS, whole_number
from bot.dashboard import queries
from bot.dashboard.auth import User
from bot.store import Store

BAD_ISSUE = (
    f"The issue filter takes an issue number, such as 224: digits 0-9 only, at most {STORE_DIGITS}."
)
BAD_BEFORE = (
    "`before` takes the id of an audit row, as the Older link gives it: digits 0-9 only, at most"
    f" {STORE_DIGITS}. Drop it to see the newest rows."
)


class BadFilter(ValueError):
    """An audit filter value that cannot match; the message says what the filter takes."""


def issue_number(issue: str) -> int | None:
    """The issue filter's number (None: no filter), or BadFilter. isdigit() alone took "²"
    (int() refused it) and numbers of any length (SQLite refused past 64 bits): a 500 each."""
    return _digits(issue, BAD_ISSUE)


def before_id(before: str) -> int | None:
    """The audit row id a page starts below (None: the newest rows), or BadFilter."""
    return _digits(before, BAD_BEFORE)


def _digits(value: str, error: str) -> int | None:
    text = value.strip()
    if not text:
        return None
    number = whole_number(text)
    if number is None:
        raise BadFilter(error)
    return number


def audit_rows(
    store: Store, user: User, repo: str, number: int | None, outcome: str, before: int | None
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of the audit log, and the `before` of the next (older) page, if there is one."""
    visible = (
        None if user.all_repos else {r["full_name"] for r in queries.visible_repos(store, user)}
    )
    page = queries.AUDIT_LIMIT
    rows = queries.audit(
        store, visible, repo or None, number, outcome or None, before=before, limit=page + 1
    )
    return rows[:page], (int(rows[page - 1]["id"]) if len(rows) > page else None)


def audit_url(filters: dict[str, str], before: int | None = None) -> str:
    """The audit page with these filters (the empty ones left out), from `before` when given."""
    query = urlencode(
        {k: v for k, v in filters.items() if v} | ({"before": before} if before else {})
    )
    return f"/audit?{query}" if query else "/audit"
