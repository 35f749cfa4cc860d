"""What the dashboard reads from the store: repositories, digests, the audit log, model statistics."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.core.config import ConfigError
from bot.core.digest import local_day
from bot.dashboard.auth import User
from bot.jobs.digest import week_slot
from bot.jobs.repo_config import cached_config
from bot.llm.stats import ESCALATED_SQL
from bot.store import Store

AUDIT_LIMIT = 200
OUTCOME_ROWS = 10_000  # the audit filter offers the outcomes of the newest this many rows
MODEL_DAYS = 30  # the models page: the last 30 days (UTC), today's included
TOP_ROWS = 100  # the overview's top issues in all: each repository's best, of the best ones
REPOS_PAGE = 200  # the overview's repositories table: rows a page
FIRST_DIGESTS_LIMIT = 20  # repositories without a digest listed with their first one's slot


def visible_repos(store: Store, user: User) -> list[dict[str, Any]]:
    rows = store.repositories()
    return [r for r in rows if user.all_repos or r["installation_id"] in user.installations]


def installations(store: Store, user: User) -> list[dict[str, Any]]:
    rows = store.installations()
    return [r for r in rows if user.all_repos or r["id"] in user.installations]


def latest_digests(store: Store, user: User, limit: int = 20) -> list[dict[str, Any]]:
    """The newest `limit` digests of the repositories the user may see, newest first."""
    mine, args = _mine(user, "digests")
    if mine is None:
        return []
    sql = (
        "select repo, week, number, posted_at, title, json from digests"
        f" where {mine} order by posted_at desc limit ?"
    )
    return _parsed(store.rows(sql, [*args, limit]))


def newest_digests(store: Store, user: User, limit: int | None = None) -> list[dict[str, Any]]:
    """Each repository's newest digest (of those the user may see), best first: by its best top
    issue's score (`best_score`; one without any last), newest first among equals; with `limit`,
    that many (the overview's top issues come from these: the 20 latest digests of all left out
    the repositories whose digest was older). The newest is of the latest week, as the weekly job
    finds it (bot.jobs.digest.last_week_posted): the primary key's index has it, an index has its
    best score and posted_at, and only the rows returned are read in full (a window over every
    digest's row, markdown and JSON, took seconds at 100,000; parsing each repository's JSON, 2 s
    at 10,000)."""
    mine, args = _mine(user, "n")
    if mine is None:
        return []
    # `>=` is `=` (newest.week is the greatest), but SQLite would take `=` to the primary key's
    # index and read each newest row, past its markdown and JSON, for the two columns at its end
    best = (
        "select n.repo, n.week from digests as n join"
        " (select repo, max(week) as week from digests group by repo) as newest"
        f" on n.repo = newest.repo and n.week >= newest.week where {mine}"
        " order by n.best_score is null, n.best_score desc, n.posted_at desc"
    )
    if limit is not None:
        best, args = f"{best} limit ?", [*args, limit]
    sql = (
        "select d.repo, d.week, d.number, d.posted_at, d.title, d.best_score, d.json"
        f" from digests as d join ({best}) as best on d.repo = best.repo and d.week = best.week"
    )
    return sorted(_parsed(store.rows(sql, args)), key=_best_first)


def _best_first(d: dict[str, Any]) -> tuple[bool, float, float]:
    score = d.get("best_score")
    return score is None, -float(score or 0), -float(d["posted_at"] or 0)


def newest_weeks(store: Store, user: User) -> dict[str, str]:
    """Each repository's newest digest week, by repository, of those the user may see: from the
    primary key's index, no row read."""
    mine, args = _mine(user, "newest")
    if mine is None:
        return {}
    sql = (
        "select newest.repo, newest.week from"
        f" (select repo, max(week) as week from digests group by repo) as newest where {mine}"
    )
    return {str(r["repo"]): str(r["week"]) for r in store.rows(sql, args)}


def _mine(user: User, digests: str) -> tuple[str | None, list[Any]]:
    """A condition on the `digests` row's repository: one the user may see (None: they see
    none). It names no repository: PostgreSQL takes at most 65,535 parameters, and the token
    user sees every one (a digest of a repository no longer installed is left out)."""
    if not user.all_repos and not user.installations:
        return None, []
    theirs = f"select 1 from repositories as r where r.full_name = {digests}.repo"
    if user.all_repos:
        return f"exists ({theirs})", []
    marks = ",".join("?" * len(user.installations))
    return f"exists ({theirs} and r.installation_id in ({marks}))", sorted(user.installations)


def _parsed(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    out = list(rows)
    for row in out:
        row["data"] = json.loads(row.pop("json") or "{}")
    return out


def first_digests(
    store: Store,
    repos: list[dict[str, Any]],
    suspended: AbstractSet[int],
    now: datetime,
    limit: int = FIRST_DIGESTS_LIMIT,
    have: AbstractSet[str] | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """The repositories with no digest stored yet (at most `limit`, and how many more), each
    with when the weekly job posts its first one: from the digest config the store last read
    (its weekday, hour and time zone), the defaults before any. No GitHub call. `have`: the
    repositories with a digest, when the caller read them already (newest_weeks)."""
    if have is None:
        have = {str(r["repo"]) for r in store.rows("select distinct repo from digests")}
    waiting = [r for r in repos if r["full_name"] not in have]
    out = []
    for row in waiting[:limit]:
        repo = str(row["full_name"])
        due_at, note = None, ""
        try:
            cfg = cached_config(store, repo).digest
        except ConfigError:  # a stored file this version no longer reads: the job says more
            cfg = None
        if row["installation_id"] in suspended:
            note = "no digest while its installation is suspended"
        elif row.get("archived"):
            note = "no digest while it is archived"
        elif cfg is None:
            note = "its stored .github/smolbot.yml is no longer valid: see the audit log"
        elif not cfg.enabled:
            note = "no digest: digest.enabled is false in .github/smolbot.yml"
        else:
            slot = week_slot(now, cfg)
            at = f"{slot:%a %Y-%m-%d %H:%M} {cfg.timezone}"
            if cfg.timezone != "UTC":
                at += f" ({slot.astimezone(UTC):%H:%M} UTC)"
            if now >= slot:
                note = (
                    f"first digest due now (this week's slot was {at}): the hourly check posts it"
                )
            else:
                note = f"first digest due {at}"
            due_at = slot.astimezone(UTC).isoformat()
        out.append({"repo": repo, "due_at": due_at, "note": note})
    return out, len(waiting) - len(out)


def digest(store: Store, repo: str, week: str) -> dict[str, Any] | None:
    sql = "select repo, week, number, posted_at, title, markdown, json from digests where repo = ? and week = ?"
    row = next(store.rows(sql, [repo, week]), None)
    if row:
        row["data"] = json.loads(row.pop("json") or "{}")
    return row


def current_top(
    digests: list[dict[str, Any]], rows: int = TOP_ROWS, repositories: int | None = None
) -> list[dict[str, Any]]:
    """Top issues of each repository's newest digest (newest_digests, best first), with their
    summary and waiting state, `rows` in all: each repository's best by score, an equal share of
    `rows` each (at least one) among the `repositories` with a digest (default: those given), so
    past `rows` repositories those whose best issue scores highest. The last one shown of a
    repository says how many more its digest lists (`more`). `as_of`: the day the waiting days
    were counted to, the end of the digest's week, in the repository's time zone. An issue's
    `url` is kept only when it is a web address (http or https): the page links it."""
    newest: dict[str, dict[str, Any]] = {}
    for d in digests:
        newest.setdefault(d["repo"], d)  # two of the same posted_at: the first
    each = max(1, rows // max(len(newest), repositories or 0)) if newest else 0
    out: list[dict[str, Any]] = []
    for repo, d in newest.items():
        if len(out) + each > rows:
            break
        top = d["data"].get("top", [])
        best = sorted(top, key=lambda i: -float(i.get("score") or 0))[:each]
        as_of = _as_of(d)
        out += [
            dict(item, url=web_url(item.get("url")), repo=repo, week=d["week"], as_of=as_of)
            for item in best
        ]
        if len(top) > len(best):
            out[-1]["more"] = len(top) - len(best)
    return out


_WEB = re.compile(r"https?://\S", re.I)


def web_url(url: object) -> str:
    """The address when it is a web one (http:// or https://, from its first character), else "":
    a `javascript:` or `data:` address stored in a digest is never a live link on the page."""
    return url if isinstance(url, str) and _WEB.match(url) else ""


def _as_of(d: dict[str, Any]) -> str:
    """The date the digest's week ended, in the repository's time zone (a digest stored before it
    kept its zone: UTC), else the day it was posted (UTC)."""
    until, tz = d["data"].get("until"), d["data"].get("timezone") or "UTC"
    try:
        return local_day(str(until), str(tz)) if until else f"{_utc(d['posted_at']):%Y-%m-%d}"
    except (ValueError, KeyError):  # not a stamp, or no such zone (ZoneInfoNotFoundError)
        return str(until)[:10]


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(float(ts), UTC)


def audit(
    store: Store,
    visible: AbstractSet[str] | None,
    repo: str | None = None,
    number: int | None = None,
    outcome: str | None = None,
    *,
    before: int | None = None,
    limit: int = AUDIT_LIMIT,
) -> list[dict[str, Any]]:
    """Newest first, filtered by repo, issue and outcome; at most `limit` rows, of ids under
    `before` when given (the next page starts below the last id of this one). `visible`: the
    repositories the user may see (None: every one, so no list of them goes into the query; a
    list was checked against itself, 9.4 s at 40,000 repositories)."""
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
    for clause, value in (("number = ?", number), ("outcome = ?", outcome), ("id < ?", before)):
        if value not in (None, ""):
            clauses.append(clause)
            args.append(value)
    where = f" where {' and '.join(clauses)}" if clauses else ""
    return list(store.rows(f"select * from audit{where} order by id desc limit ?", [*args, limit]))


def outcomes(store: Store, current: str = "", rows: int = OUTCOME_ROWS) -> list[str]:
    """The audit filter's outcomes: those the bot wrote (parked, started, queued, ... not only
    done and skipped) in the newest `rows` rows, and the filter's current value even with no row
    of it. The newest only: every row took 70 ms at 200,000 (no index has the outcome), each
    time the page is shown; an older outcome is still filtered by a link with ?outcome=."""
    sql = (
        "select distinct outcome from"
        " (select outcome from audit order by id desc limit ?) as recent"
    )
    have = {r["outcome"] for r in store.rows(sql, [rows])}
    return sorted(str(o) for o in have | {current} if o)


def model_days(store: Store, now: datetime, days: int = MODEL_DAYS) -> list[dict[str, Any]]:
    """Per UTC day of the last `days` (today's included), the days with model calls: calls, mean
    latency, cache hit rate and escalation share (empty without the table). The share is of
    answers escalated as `smolbot stats` and /metrics count them (bot.llm.stats)."""
    if "model_calls" not in store.db.table_names():
        return []
    sql = (
        "select date(at, 'unixepoch') as day, count(*) as calls,"
        " avg(latency_ms) as latency_ms, avg(cache_hit) as cache_rate,"
        f" avg({ESCALATED_SQL}) as escalation_share from model_calls"
        " where at >= ? and coalesce(final, 1) = 1 group by day order by day"
    )
    return list(store.rows(sql, [window(now, days)[0].timestamp()]))


def window(now: datetime, days: int = MODEL_DAYS) -> list[datetime]:
    """The starts (midnight UTC) of the last `days` days, oldest first, today's last."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return [today - timedelta(days=n) for n in reversed(range(days))]
