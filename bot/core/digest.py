"""The weekly digest as a value: counts, top issues, waiting issues, bot activity; rendered and due."""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.config import DigestConfig
from bot.core.markers import marker, markers_in, quiet
from bot.core.ranking import Ranked, Thread, Waiting, rank, waiting_state
from bot.ports import IssueData

TITLE = "Weekly digest for {repo}, {week}"
SUPERSEDED = (
    "Superseded by #{number}, this week's digest: smolbot closes each week's digest when it posts"
    " the next (`digest.pinned_issue` in `.github/smolbot.yml` keeps one issue instead)."
)
STALE_WORDS = ("stale", "no answer", "no response", "inactive")


@dataclass(frozen=True)
class AuditEntry:
    """One audit-log row, reduced: what the bot did (or decided not to) and why."""

    at: datetime
    action: str
    outcome: str
    reason: str = ""
    task: str = ""
    number: int | None = None


@dataclass(frozen=True)
class ModelCall:
    at: datetime
    task: str
    escalated: bool = False
    cache_hit: bool = False
    latency_ms: float = 0.0


@dataclass
class TopIssue:
    number: int
    title: str
    url: str
    score: float
    why: list[str]
    line: str  # one-line summary: the model's, checked, or the title
    waiting_on: str | None = None
    waiting_days: int = 0


GITHUB_BODY_MAX = 65_536  # characters GitHub takes in an issue's or a comment's body (else 422)


@dataclass
class Digest:
    repo: str
    week: str  # "2026-w48": the hidden marker's key
    since: str
    until: str
    counts: dict[str, float | int | None]
    top: list[TopIssue]
    waiting: list[TopIssue]  # the longest waits, at most `top` of them
    bot: dict[str, int] = field(default_factory=dict)
    waiting_total: int = 0  # issues waiting on a maintainer, listed or not
    not_read: int = 0  # open issues with comments not read: who they wait on is not known
    timezone: str = "UTC"  # the repository's (digest.timezone): the dates it says are its own

    @property
    def waiting_more(self) -> int:
        """Waiting on a maintainer but not listed."""
        return max(0, self.waiting_total - len(self.waiting))

    @property
    def marker_name(self) -> str:
        return digest_marker(self.week)

    @property
    def title(self) -> str:
        return TITLE.format(repo=self.repo, week=self.week.upper())


def week_id(at: datetime, tz: str = "UTC") -> str:
    """The ISO week of `at` in the repository's time zone, e.g. "2026-w48"."""
    year, week, _ = at.astimezone(ZoneInfo(tz)).isocalendar()
    return f"{year}-w{week:02d}"


def digest_marker(week: str) -> str:
    return f"digest:{week}"


def week_slot(now: datetime, cfg: DigestConfig) -> datetime:
    """The slot (weekday, hour) of the local week of `now`, in the repository's time zone."""
    local = now.astimezone(ZoneInfo(cfg.timezone))
    day = local - timedelta(days=local.weekday())
    monday = day.replace(hour=0, minute=0, second=0, microsecond=0)
    return monday + timedelta(days=cfg.weekday, hours=cfg.hour)


def due_slot(now: datetime, cfg: DigestConfig, last_week: str | None = None) -> datetime | None:
    """The slot whose digest is due at `now`, or None.

    That is the latest slot at or before `now` (this week's once passed, else last week's: an
    hourly run that comes late, past the end of the slot's week, still posts that week's), unless
    a digest of its week or a later one was posted (`last_week`, the newest week stored). With no
    digest stored yet, the first one waits for this week's slot, as the dashboard says."""
    if not cfg.enabled:
        return None
    slot = week_slot(now, cfg)
    if now.astimezone(ZoneInfo(cfg.timezone)) < slot:  # same zone: compared on the wall clock
        if last_week is None:
            return None
        slot -= timedelta(days=7)
    if last_week is not None and last_week >= week_id(slot, cfg.timezone):  # "2026-w48" sorts
        return None
    return slot


def superseded(issue: IssueData, week: str, bot_login: str, keep: AbstractSet[int]) -> bool:
    """Whether an earlier week's digest issue is one to close now that a newer one is posted: open,
    opened by the bot and carrying the hidden marker of that week, so never someone else's issue
    (nor one the bot opened for anything else); never one of `keep` (this week's, the pinned)."""
    return (
        issue.state == "open"
        and issue.author == bot_login
        and digest_marker(week) in markers_in(issue.body)
        and issue.number not in keep
    )


def due(now: datetime, cfg: DigestConfig, last_week: str | None = None) -> bool:
    """True once a slot (weekday, hour, time zone) has passed whose week has no digest yet."""
    return due_slot(now, cfg, last_week) is not None


def _in(at: datetime | None, since: datetime, until: datetime) -> bool:
    return at is not None and since <= at < until


def first_response_hours(t: Thread) -> float | None:
    """Hours from opening to the first maintainer comment (None: none yet, or unknown)."""
    for c in t.comments or ():
        if c.maintainer and not c.bot and c.author != t.author:
            return (c.at - t.created_at).total_seconds() / 3600
    return None


def _lifecycle(e: AuditEntry) -> bool:
    text = f"{e.task} {e.reason}".lower()
    return e.outcome == "done" and ("lifecycle" in e.task or any(w in text for w in STALE_WORDS))


def lifecycle_counts(rows: Iterable[AuditEntry]) -> tuple[int, int]:
    """(stale closes, re-pings) done by the lifecycle job; a close's own comment is no re-ping."""
    done = [e for e in rows if _lifecycle(e)]
    closes = {(e.number, e.reason) for e in done if e.action == "close"}
    pings = [
        e
        for e in done
        if e.action in ("comment", "upsert_comment") and (e.number, e.reason) not in closes
    ]
    return len(closes), len(pings)


def counts(
    threads: Iterable[Thread],
    audit: Iterable[AuditEntry],
    calls: Iterable[ModelCall],
    since: datetime,
    until: datetime,
    log_window: tuple[datetime, datetime] | None = None,
) -> dict[str, float | int | None]:
    """Issue counts in [since, until); audit and model counts in log_window (default the same)."""
    log_since, log_until = log_window or (since, until)
    issues = [t for t in threads if not t.is_pr]
    opened = [t for t in issues if _in(t.created_at, since, until)]
    hours = [h for t in opened if (h := first_response_hours(t)) is not None]
    rows = [e for e in audit if _in(e.at, log_since, log_until)]
    week_calls = [c for c in calls if _in(c.at, log_since, log_until)]
    stale_closed, re_pinged = lifecycle_counts(rows)
    return {
        "opened": len(opened),
        "closed": sum(_in(t.closed_at, since, until) for t in issues),
        "stale_closed": stale_closed,
        "re_pinged": re_pinged,
        "escalations": sum(c.escalated for c in week_calls),
        "model_calls": len(week_calls),
        "first_response_median_h": round(median(hours), 1) if hours else None,
        "first_responses": len(hours),
        "open_total": sum(t.state == "open" for t in issues),
    }


def bot_activity(audit: Iterable[AuditEntry], since: datetime, until: datetime) -> dict[str, int]:
    """ "action outcome" -> count, for rows in the window (e.g. "add_labels done": 4)."""
    tally = Counter(f"{e.action} {e.outcome}" for e in audit if _in(e.at, since, until))
    return dict(sorted(tally.items()))


def _top(r: Ranked, lines: Mapping[int, str], until: datetime) -> TopIssue:
    t = r.thread
    w = r.waiting
    return TopIssue(
        number=t.number,
        title=t.title,
        url=t.url,
        score=r.score,
        why=list(r.why),
        line=lines.get(t.number, t.title),
        waiting_on=w.on if w else None,
        waiting_days=w.days(until) if w else 0,
    )


def assemble(
    repo: str,
    threads: Iterable[Thread],
    since: datetime,
    until: datetime,
    cfg: DigestConfig,
    audit: Iterable[AuditEntry] = (),
    calls: Iterable[ModelCall] = (),
    lines: Mapping[int, str] | None = None,
    needs_info_label: str = "needs-info",
    log_window: tuple[datetime, datetime] | None = None,
    *,
    week: str | None = None,
    waits: Mapping[int, Waiting | None] | None = None,
) -> Digest:
    """The digest for [since, until). lines: checked one-line summaries by issue number.

    log_window: the audit log's and model calls' window when their clock differs (sample data).
    week: the week it is for (the slot's, when the weekly run came late); default until's week.
    waits: who each issue waits on as the lifecycle decides it (see `rank`).
    """
    all_threads, rows = list(threads), list(audit)
    log_since, log_until = log_window or (since, until)
    ranked = rank(all_threads, since, until, cfg.weights, needs_info_label, (cfg.label,), waits)
    top = [_top(r, lines or {}, until) for r in ranked[: cfg.top]]
    waiting = [_top(r, lines or {}, until) for r in ranked if _on_maintainer(r)]
    waiting.sort(key=lambda i: (-i.waiting_days, i.number))
    known = waits or {}
    not_read = [
        t
        for t in all_threads
        if t.state == "open" and not t.is_pr and t.comments is None and t.number not in known
    ]
    return Digest(
        repo=repo,
        week=week or week_id(until, cfg.timezone),
        since=since.isoformat(),
        until=until.isoformat(),
        counts=counts(all_threads, rows, calls, since, until, (log_since, log_until)),
        top=top,
        waiting=waiting[: cfg.top],
        bot=bot_activity(rows, log_since, log_until),
        waiting_total=len(waiting),
        not_read=len(not_read),
        timezone=cfg.timezone,
    )


def _on_maintainer(r: Ranked) -> bool:
    return r.waiting is not None and r.waiting.on == "maintainer"


def waiting_on(t: Thread, needs_info_label: str = "needs-info") -> str | None:
    w = waiting_state(t, needs_info_label)
    return w.on if w else None


# --- rendering ---------------------------------------------------------------------------
COUNT_NAMES = {
    "opened": "opened",
    "closed": "closed",
    "stale_closed": "closed as stale by the bot",
    "re_pinged": "re-pinged by the bot",
    "escalations": "model escalations",
    "first_response_median_h": "median first response (hours)",
}


_MARKDOWN = re.compile(r"([\\`*_\[\]~$>|(=])")  # `(` and `=`: no `](x` nor `src=x` left
# GitHub's autolinks (bare http(s)://, www.) and other repositories' references (owner/repo#5,
# which put a backlink on that issue each week), broken by a zero-width space
_AUTOLINKS = re.compile(r"(?i)(:)(//)|(www)(\.)|(/[A-Za-z0-9][\w.-]*#)(\d)")


def plain(title: str) -> str:
    """Someone's issue title as plain text in the bot's Markdown: no link, image, emphasis, code,
    HTML or math of theirs in a digest the bot wrote (GitHub shows `[a](b)` as "[a](b)"), none of
    their URLs autolinked (`bot.core.checks.links` finds none), no other repository's issue
    referenced; its @-mentions never ping. `&` and `<` as entities, so no HTML (nor a marker) is
    left at all. One line: its line breaks are spaces (no heading, rule or list of theirs)."""
    text = " ".join(title.split())
    text = _AUTOLINKS.sub(lambda m: "\u200b".join(g for g in m.groups() if g), text)
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    return quiet(_MARKDOWN.sub(r"\\\1", text))


def _waits(i: TopIssue) -> str:
    return f"waiting on {'a maintainer' if i.waiting_on == 'maintainer' else 'the author'}"


def local_day(stamp: str, tz: str = "UTC") -> str:
    """The date of an ISO time stamp in the repository's time zone: Tokyo's week from Monday
    08:00 is Monday's, not the Sunday its UTC stamp says. A stamp with no offset: its own date."""
    at = datetime.fromisoformat(stamp)
    return f"{at.astimezone(ZoneInfo(tz)) if at.tzinfo else at:%Y-%m-%d}"


def render_markdown(d: Digest) -> str:
    since, until = local_day(d.since, d.timezone), local_day(d.until, d.timezone)
    out = [f"# {d.title}", "", f"From {since} to {until}.", "", "## This week", ""]
    out += [f"- {label}: {_num(d.counts.get(k))}" for k, label in COUNT_NAMES.items()]
    out += ["", "## Top issues", ""]
    out += [f"{n}. {_top_line(i)}" for n, i in _enum(d.top)] or ["- no open issues"]
    out += ["", "## Waiting on a maintainer", ""]
    waits = [f"- #{i.number} {plain(i.title)} — {i.waiting_days} days" for i in d.waiting]
    if d.waiting_more:  # listed: the longest waits, `top` of them
        waits += [f"- and {d.waiting_more} more" if waits else f"- {d.waiting_more} issues"]
    if d.not_read:  # a busy repository: the digest read only so many threads
        waits += [f"- {_not_read(d)}"]
    out += waits or ["- nobody"]
    out += ["", "## What the bot did", ""]
    out += [f"- {k}: {v}" for k, v in d.bot.items()] or ["- nothing this week"]
    out += ["", "_Written by smolbot; summaries are checked, and fall back to the title._"]
    return "\n".join(out) + "\n"


def render_body(d: Digest, limit: int = GITHUB_BODY_MAX) -> str:
    """The GitHub issue body: Markdown plus the hidden week marker that makes reruns edit. Past
    GitHub's limit (long titles, a large `top`) the last rows go, and the body says how many."""
    body = f"{render_markdown(d).rstrip()}\n\n{marker(d.marker_name)}\n"
    top, waiting = list(d.top), list(d.waiting)
    while len(body) > limit and (top or waiting):
        (waiting if len(waiting) >= len(top) else top).pop()
        left_out = len(d.top) + len(d.waiting) - len(top) - len(waiting)
        note = (
            f"_{left_out} more issues left out: GitHub takes {limit:,} characters in an issue;"
            f" `smolbot digest {d.repo}` prints them all._"
        )
        text = render_markdown(replace(d, top=top, waiting=waiting)).rstrip()
        body = f"{text}\n\n{note}\n\n{marker(d.marker_name)}\n"
    return body


NO_TOP = "<tr><td>no open issues</td></tr>"


def render_html(d: Digest) -> str:
    e = html.escape
    rows = "".join(
        f"<tr><td><a href='{e(i.url)}'>#{i.number}</a></td><td>{e(i.title)}</td>"
        f"<td>{e(i.line) if i.line != i.title else ''}</td>"
        f"<td>{e(', '.join(i.why))}</td></tr>"
        for i in d.top
    )
    stats = "".join(
        f"<li>{e(label)}: {_num(d.counts.get(k))}</li>" for k, label in COUNT_NAMES.items()
    )
    waits = "".join(f"<li>#{i.number} {e(i.title)} — {i.waiting_days} days</li>" for i in d.waiting)
    if d.waiting_more:
        more = f"and {d.waiting_more} more" if waits else f"{d.waiting_more} issues"
        waits += f"<li>{more}</li>"
    if d.not_read:
        waits += f"<li>{e(_not_read(d))}</li>"
    did = "".join(f"<li>{e(k)}: {v}</li>" for k, v in d.bot.items())
    return (
        f"<article class='digest'><h1>{e(d.title)}</h1><ul>{stats}</ul>"
        f"<h2>Top issues</h2><table class='top'>{rows or NO_TOP}</table>"
        f"<h2>Waiting on a maintainer</h2><ul>{waits or '<li>nobody</li>'}</ul>"
        f"<h2>What the bot did</h2><ul>{did or '<li>nothing this week</li>'}</ul></article>"
    )


def render_json(d: Digest) -> str:
    data: dict[str, Any] = asdict(d) | {"title": d.title, "marker": d.marker_name}
    return json.dumps(data, indent=2, ensure_ascii=False)


def _not_read(d: Digest) -> str:
    issues = "open issue" if d.not_read == 1 else "open issues"
    return f"{d.not_read} {issues} not read: their waits are not counted"


def _num(v: float | int | None) -> str:
    return "—" if v is None else str(v)


def _top_line(i: TopIssue) -> str:
    """#206 Title: the model's line (why); without a line of its own, just the title. The line
    is as plain as the title: the model echoes the issue's text (its HTML, an `&#64;` mention)."""
    said = f": {plain(i.line)}" if i.line != i.title else ""
    return f"#{i.number} {plain(i.title)}{said} ({', '.join(i.why) or 'quiet'})"


def _enum(items: list[TopIssue]) -> Iterable[tuple[int, TopIssue]]:
    return enumerate(items, 1)
