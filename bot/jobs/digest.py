"""The weekly digest job: fetch threads, ask for checked one-line summaries, post or edit the issue."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from bot.core import lifecycle as lc
from bot.core.checks import check_text, commits_named, unsupported_claims
from bot.core.config import (
    ConfigError,
    DigestConfig,
    RepoConfig,
    default_config,
    parse_config,
)
from bot.core.digest import (
    SUPERSEDED,
    AuditEntry,
    Digest,
    ModelCall,
    assemble,
    due_slot,
    render_body,
    render_json,
    render_markdown,
    superseded,
    week_id,
)
from bot.core.digest import week_slot as _week_slot
from bot.core.labels import find_label
from bot.core.lifecycle import is_bot
from bot.core.markers import markers_in
from bot.core.ranking import Change, Note, Thread, Waiting, rank
from bot.jobs.context import JobContext, ModelLayer
from bot.jobs.lifecycle import known_team, recorded_pings
from bot.jobs.repo_config import config_text, load_repo_config, preview_repo_config
from bot.ports import (
    CommentData,
    EventData,
    IssueData,
    Locked,
    NotFound,
    RateLimited,
    ReadOnly,
    RepoHost,
    Unavailable,
)
from bot.store import Store

log = logging.getLogger(__name__)
DETAIL_LIMIT = 300  # issues whose comments/events are fetched, most recently updated first
WAIT_READS = 100  # and at most so many more: those with comments not updated for longest
HORIZON_DAYS = 30  # closed issues updated this far back still count (duplicates of open ones)
LINE_BODY_CHARS = 1200
REFUSED_RETRY_S = 86400.0  # a repository GitHub refuses the issues of: asked again daily


class DigestLine(BaseModel):
    """The model's answer for one top issue."""

    line: str = Field(min_length=3, max_length=240)


@dataclass
class DigestRun:
    digest: Digest
    number: int | None  # the digest issue on GitHub (None: dry-run or not posted)
    created: bool
    model_lines: int  # lines the model wrote that passed the checks
    closed: int | None = None  # the previous week's digest issue, closed as superseded


def parse_ts(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC)


# --- fetching ------------------------------------------------------------------------------
def to_thread(
    issue: IssueData,
    comments: list[CommentData] | None,
    events: Iterable[EventData],
    bot_login: str,
    team: frozenset[str] = frozenset(),
) -> Thread:
    """The port's issue, comments and events as core's Thread; who is a maintainer as the
    lifecycle reads it (`team`: known_team)."""
    changes = tuple(
        Change(
            e.kind,
            e.actor,
            parse_ts(e.created_at),
            e.label,
            _is_bot(e.actor, e.actor_type, bot_login),
        )
        for e in events
        if e.created_at  # a pull request's `committed` or `line-commented` item has no time
    )
    closed_at = _closed_at(issue, changes)
    notes = None if comments is None else tuple(_note(c, bot_login, team) for c in comments)
    return Thread(
        number=issue.number,
        title=issue.title,
        state=issue.state,
        author=issue.author,
        created_at=parse_ts(issue.created_at),
        labels=tuple(issue.labels),
        url=issue.html_url,
        closed_at=closed_at,
        reactions=issue.reactions,
        reaction_counts=tuple(sorted(issue.reaction_counts.items())),
        comment_count=issue.comments,
        author_maintainer=lc.on_team(issue.author, issue.author_association, team),
        is_pr=issue.is_pull_request,
        assignees=tuple(issue.assignees),
        comments=notes,
        events=changes,
    )


def _closed_at(issue: IssueData, changes: Iterable[Change]) -> datetime | None:
    """When a closed issue was last closed (its last `closed` event, else the host's closed_at,
    else its last update); None while it is open: one closed and reopened in the week is not
    one the week closed (GitHub's own closed_at is null then)."""
    if issue.state != "closed":
        return None
    closes = [c.at for c in changes if c.kind == "closed"]
    if closes:
        return closes[-1]
    return parse_ts(issue.closed_at or issue.updated_at)  # the host did not say: the last update


def _is_bot(login: str, kind: str, bot_login: str) -> bool:
    return kind == "Bot" or login == bot_login


def _note(c: CommentData, bot_login: str, team: frozenset[str] = frozenset()) -> Note:
    maintainer = lc.on_team(c.author, c.author_association, team)
    bot = _is_bot(c.author, c.author_type, bot_login)
    return Note(c.author, parse_ts(c.created_at), maintainer, bot, c.body)


def fetch_threads(
    host: RepoHost,
    since: datetime,
    bot_login: str,
    detail_limit: int = DETAIL_LIMIT,
    details: dict[int, lc.Thread] | None = None,
    known: Callable[[IssueData], bool] | None = None,
    team: frozenset[str] = frozenset(),
) -> tuple[list[Thread], dict[int, IssueData]]:
    """Open issues plus everything updated in the horizon; details for the most recent ones,
    and for up to WAIT_READS open issues with comments not updated for longest (the longest
    waits, which a busy repository's recent ones would crowd out; no more, so a busy repository
    costs at most DETAIL_LIMIT + WAIT_READS reads: the digest says how many it left) unless
    `known` (the lifecycle decided on them as they are now). Issues bots opened (this bot's
    digests, a dependency bot's dashboard) are not the week's issues: no thread for them (they
    stay in the second answer, to find the digest issue by). Pull requests get no details: the
    ranking leaves them out, and they would use up the budget.
    details: filled with the issues read in full, as the lifecycle reads them (`digest_waits`).
    team: who can write, as the sweep found them (known_team)."""
    found: dict[int, IssueData] = {i.number: i for i in host.list_issues("open")}
    horizon = since - timedelta(days=HORIZON_DAYS)
    stamp = horizon.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    found.update({i.number: i for i in host.list_issues("all", since=stamp)})
    issues = [i for i in found.values() if not i.is_pull_request]
    recent = sorted(issues, key=lambda i: i.updated_at, reverse=True)[:detail_limit]
    detailed = {i.number for i in recent if i.comments or parse_ts(i.updated_at) >= horizon}
    waiting = [
        i
        for i in issues
        if i.state == "open"
        and i.comments
        and i.number not in detailed
        and not (known and known(i))
        and not is_bot(i.author, "", bot_login)
    ]
    longest = sorted(waiting, key=lambda i: i.updated_at)[: min(detail_limit, WAIT_READS)]
    detailed |= {i.number for i in longest}
    threads = []
    for issue in found.values():
        if is_bot(issue.author, "", bot_login):
            continue  # the bot's digests and config-error issues, other bots' dashboards
        if issue.number in detailed:
            try:
                comments, events = host.comments(issue.number), host.issue_events(issue.number)
            except NotFound:  # deleted or transferred since the listing: not one of the week's
                continue
            thread = to_thread(issue, comments, events, bot_login, team)
            if details is not None:
                details[issue.number] = lc.Thread(issue, tuple(comments), tuple(events))
        else:
            thread = to_thread(issue, [] if issue.comments == 0 else None, (), bot_login, team)
        threads.append(thread)
    return sorted(threads, key=lambda t: t.number), found


def digest_waits(
    store: Store,
    repo: str,
    cfg: RepoConfig,
    issues: dict[int, IssueData],
    details: dict[int, lc.Thread],
    bot_login: str,
    stored: dict[int, dict[str, Any]] | None = None,
    team: lc.Team | None = None,
) -> dict[int, Waiting | None]:
    """Who each open issue waits on, as the lifecycle decides it (None: nobody), so the digest
    says what the sweep does. The lifecycle's stored decision when it was taken on the issue as
    it is (the thread it read has the issue's updated_at); else the lifecycle's rule over the
    whole thread read (the real description and the bot's pings: a wait on the author moves to
    the team when the description was edited after the ping, `edited_since_ping`). A wait on an
    author nobody can ping (a deleted account, `ghost`) is the team's: the lifecycle leaves it
    for the digest. Issues neither read nor decided are left to the ranking's own reading; one
    not read, decided on an earlier state of it, keeps that decision (stored:
    `lifecycle_decisions`, read here when not given). The team: maintainers by association, and
    those the store's roles say can write (a private org member's association says only
    CONTRIBUTOR), as the sweep found them; those it found without write are not team, whatever
    their association (a read-only outside collaborator is a COLLABORATOR): known_team, read
    here when not given."""
    team = known_team(store, repo) if team is None else team
    stored = lifecycle_decisions(store, repo) if stored is None else stored
    waits: dict[int, Waiting | None] = {}
    for number, issue in issues.items():
        if issue.state != "open" or issue.is_pull_request:
            continue
        row = stored.get(number)
        if row is not None and _decided_since_update(row, issue):
            waits[number] = _stored_wait(row)
            continue
        thread = details.get(number)
        if thread is None:  # not read: the lifecycle's last word, if it said one
            if row is not None and row["waiting_on"] in WAITS:
                waits[number] = _stored_wait(row)
            continue
        w = lc.waiting_on(thread, bot_login, cfg.triage.needs_info_label, team)
        if w.on != "nobody":
            pinged = recorded_pings(store, repo, number, cfg.dry_run)
            w = lc.edited_since_ping(thread, bot_login, w, pinged, team)
        waits[number] = _as_wait(w.on, w.since, w.who)
    return waits


WAITS = frozenset({"author", "maintainer", "assignee", "nobody"})  # lifecycle_state.waiting_on


def lifecycle_decisions(store: Store, repo: str) -> dict[int, dict[str, Any]]:
    """The lifecycle's stored decision on each issue of the repository, by number."""
    sql = (
        "select number, waiting_on, who, since, seen_updated_at from lifecycle_state where repo = ?"
    )
    return {int(r["number"]): r for r in store.rows(sql, [repo])}


def decided_since_update(stored: dict[int, dict[str, Any]]) -> Callable[[IssueData], bool]:
    """Whether the lifecycle decided on the issue as it is now (its wait is known)."""
    return lambda i: i.number in stored and _decided_since_update(stored[i.number], i)


def _decided_since_update(row: dict[str, Any], issue: IssueData) -> bool:
    """The lifecycle decided who the issue waits on (not exempt) from the thread as it is now:
    the issue's updated_at is the one of the thread it read (`seen_updated_at`, GitHub's own
    stamp: no clock of ours compared with GitHub's, no reply posted between the read and the
    save taken for read). A decision it acted on is not (its own write updated the issue; it
    decides again on its next look)."""
    return row["waiting_on"] in WAITS and row["seen_updated_at"] == issue.updated_at


def _stored_wait(row: dict[str, Any]) -> Waiting | None:
    if row["waiting_on"] == "nobody" or not row["since"]:
        return None
    who = json.loads(row["who"] or "[]")
    return _as_wait(row["waiting_on"], parse_ts(str(row["since"])), who)


def _as_wait(on: str, since: datetime, who: Iterable[str]) -> Waiting | None:
    """The lifecycle's wait as the digest lists it: on the team (a maintainer or an assignee),
    on the author, or None (nobody). A wait on the author with no one the lifecycle can ping
    (`ghost`, a deleted account) is "left for the digest": a maintainer's."""
    if on == "nobody":
        return None
    living = [p for p in who if p.lower() != lc.GHOST]
    return Waiting("author" if on == "author" and living else "maintainer", since)


def audit_entries(store: Store, repo: str, since: datetime, until: datetime) -> list[AuditEntry]:
    sql = "select * from audit where repo = ? and at >= ? and at < ? order by id"
    rows = store.rows(sql, [repo, since.timestamp(), until.timestamp()])
    return [
        AuditEntry(
            datetime.fromtimestamp(r["at"], UTC),
            r["action"] or "",
            r["outcome"] or "",
            r["reason"] or "",
            r["task"] or "",
            r["number"],
        )
        for r in rows
    ]


def model_calls(store: Store, repo: str, since: datetime, until: datetime) -> list[ModelCall]:
    """This repository's model answers in the window, from its own audit rows: an action's row
    carries the model record behind it (one answer behind several actions counts once). Not the
    model_calls table: it has no repository column, and would show every installation's calls,
    private repositories' too, in this repository's public digest."""
    sql = "select at, number, detail from audit where repo = ? and at >= ? and at < ? order by id"
    seen: set[tuple[int | None, str]] = set()
    calls = []
    for r in store.rows(sql, [repo, since.timestamp(), until.timestamp()]):
        model = _detail(r["detail"]).get("model")
        if not isinstance(model, dict):
            continue
        key = (r["number"], json.dumps(model, sort_keys=True, default=str))
        if key in seen:
            continue
        seen.add(key)
        calls.append(
            ModelCall(
                datetime.fromtimestamp(r["at"], UTC),
                str(model.get("task") or ""),
                bool(model.get("escalated")),
                bool(model.get("cache_hit")),
                float(model.get("latency_ms") or 0),
            )
        )
    return calls


def _detail(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value or "{}")
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


# --- one-line summaries --------------------------------------------------------------------
MAX_LINE = 160
NUMBER = re.compile(r"\d+(?:\.\d+)*")  # 400, 3.2, 1.2.3: a line says only those the thread does
GROUPED = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")  # 1,000 and 1000 are one number


def numbers(text: str) -> list[str]:
    """The numbers written in the text, a count's digit groups joined (1,000 is 1000)."""
    return NUMBER.findall(GROUPED.sub("", text))


def _written(n: str, known: set[str]) -> bool:
    """The thread wrote n, or a longer version of it (3.2 of 3.2.0, macOS 14 of 14.1)."""
    return n in known or any(k.startswith(n + ".") for k in known)


@dataclass
class LineAnswer:
    """The model's line for one issue (None: not used), the record of the call (None: the model
    layer failed), and why the line was not used (short, for the audit)."""

    line: str | None
    record: dict[str, Any] | None = None
    why: str | None = None


def summary_line(models: ModelLayer, thread: Thread, issue: IssueData) -> LineAnswer:
    """The model's line for one issue if it validates and passes the checks, with the call's
    record; otherwise no line, and why."""
    variables = {"title": thread.title, "body": issue.body[:LINE_BODY_CHARS] or "(empty)"}
    try:
        answer = models.ask(
            task="digest", prompt="digest_line", variables=variables, schema=DigestLine
        )
    except Exception as err:  # the model layer failing must never stop the digest
        log.warning("digest line for #%s: model failed: %s", thread.number, err)
        return LineAnswer(None, None, f"model failed: {type(err).__name__}")
    record = answer.record.as_dict()
    if not answer.ok or answer.value is None:
        return LineAnswer(None, record, f"no valid answer ({answer.status})")
    line = " ".join(str(answer.value.line).split())
    problems = list(line_problems(line, thread, issue.body))
    if problems:
        log.info("digest line for #%s rejected: %s", thread.number, "; ".join(problems))
        return LineAnswer(None, record, _short("; ".join(problems)))
    return LineAnswer(line, record)


WHY_CHARS = 120  # a rejection's reason as the audit keeps it


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= WHY_CHARS else text[: WHY_CHARS - 1] + "…"


def line_problems(line: str, thread: Thread, body: str) -> Iterable[str]:
    """Invented numbers (issue references, versions, counts), links, commit SHAs or people; a
    claim of a fix nobody wrote; too long or cut off."""
    people = {thread.author, *(c.author for c in thread.comments or ())}
    said = " ".join([thread.title, body, *(c.body for c in thread.comments or ())])
    check = check_text(
        line,
        allowed_numbers={thread.number},
        allowed_urls={thread.url},
        allowed_people=people,
        allowed_commits=commits_named(said),
    )
    yield from check.problems
    for claim in unsupported_claims(line, said):
        yield f"claims {claim!r}, which nobody in the thread said"
    known = {*numbers(said), *NUMBER.findall(thread.url), str(thread.number)}
    for n in dict.fromkeys(numbers(line)):
        if not _written(n, known):
            yield f"invented number: {n} (a version, a count, a date nobody in the thread wrote)"
    if len(line) > MAX_LINE:
        yield f"too long: {len(line)} > {MAX_LINE} characters"
    if line.count("(") != line.count(")") or line.count("`") % 2:
        yield "cut off: unbalanced brackets or backticks"
    if _words(line) == _words(thread.title):
        yield "only repeats the title"


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


@dataclass
class SummaryLines:
    """The model's lines for the top issues, by number, and how they were made: every call's
    record, the model of each line used, and why each other line was not (by issue number)."""

    lines: dict[int, str] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    writers: list[str] = field(default_factory=list)
    rejected: dict[int, str] = field(default_factory=dict)

    def record(self) -> dict[str, Any] | None:
        """One record of the digest's model calls for its audit row (summarize._combined's
        pattern), saying how many lines were the model's, how many were rejected and why (a
        failed call, no valid answer, a failed check); None when the model was not asked."""
        if not self.calls and not self.rejected:
            return None
        asked = len(self.lines) + len(self.rejected)
        failed = asked - len(self.calls)  # calls that raised: no record
        note = (
            f"{asked} calls"
            + (f" ({failed} failed)" if failed else "")
            + f"; {len(self.lines)} lines the model's, {len(self.rejected)} rejected"
        )
        calls = self.calls
        return {
            "task": "digest",
            "backend": ", ".join(dict.fromkeys(str(c["backend"]) for c in calls)),
            "model": ", ".join(dict.fromkeys(self.writers)),
            "prompt_version": ", ".join(dict.fromkeys(str(c["prompt_version"]) for c in calls)),
            "confidence": min((c["confidence"] for c in calls), default=0.0),
            "escalated": any(c["escalated"] for c in calls),
            "latency_ms": sum(c["latency_ms"] for c in calls),
            "tokens_in": sum(c["tokens_in"] for c in calls),
            "tokens_out": sum(c["tokens_out"] for c in calls),
            "cache_hit": bool(calls) and all(c["cache_hit"] for c in calls),
            "note": note,
            "lines": len(self.lines),
            "rejected": {str(n): w for n, w in self.rejected.items()},
        }


def summary_lines(
    models: ModelLayer | None,
    threads: list[Thread],
    issues: dict[int, IssueData],
    cfg: RepoConfig,
    since: datetime,
    until: datetime,
    waits: dict[int, Waiting | None] | None = None,
    made: SummaryLines | None = None,
) -> SummaryLines:
    """The model's lines for the top issues (into `made` when given)."""
    made = SummaryLines() if made is None else made
    if models is None:
        return made
    ranked = rank(
        threads,
        since,
        until,
        cfg.digest.weights,
        cfg.triage.needs_info_label,
        (cfg.digest.label,),
        waits,
    )
    for r in ranked[: cfg.digest.top]:
        number = r.thread.number
        got = summary_line(models, r.thread, issues[number])
        if got.record is not None:
            made.calls.append(got.record)
        if got.line:
            made.lines[number] = got.line
            if got.record is not None:
                made.writers.append(str(got.record.get("model") or ""))
        else:
            made.rejected[number] = got.why or "empty line"
    return made


# --- building and posting --------------------------------------------------------------------
def build_digest(
    host: RepoHost,
    store: Store,
    repo: str,
    cfg: RepoConfig,
    until: datetime,
    *,
    days: float = 7,
    models: ModelLayer | None = None,
    bot_login: str = "smolbot[bot]",
    detail_limit: int = DETAIL_LIMIT,
    audit_until: datetime | None = None,
    week: str | None = None,
    since: datetime | None = None,
    made: SummaryLines | None = None,
) -> Digest:
    """The digest for the `days` before `until` (no posting), or from `since` when given; of
    `week` when given, else of the week of `until`.

    audit_until: end of the window for the audit log and model calls when it differs from the
    issues' clock (the bundled sample's issues live on a fixed date; the bot's rows are real time).
    made: when given, filled with how the model's lines were made (for the digest's audit row).
    """
    since = until - timedelta(days=days) if since is None else since
    log_until = audit_until or until
    log_since = log_until - (until - since)
    details: dict[int, lc.Thread] = {}
    stored = lifecycle_decisions(store, repo)
    known = decided_since_update(stored)
    team = known_team(store, repo)
    threads, issues = fetch_threads(host, since, bot_login, detail_limit, details, known, team)
    ours = digest_issues(store, repo, cfg)  # a maintainer's pinned digest issue is no week's issue
    threads = [t for t in threads if t.number not in ours]
    waits = digest_waits(store, repo, cfg, issues, details, bot_login, stored, team)
    made = summary_lines(models, threads, issues, cfg, since, until, waits, made)
    return assemble(
        repo,
        threads,
        since,
        until,
        cfg.digest,
        audit_entries(store, repo, log_since, log_until),
        model_calls(store, repo, log_since, log_until),
        made.lines,
        cfg.triage.needs_info_label,
        (log_since, log_until),
        week=week,
        waits=waits,
    )


def digest_issues(store: Store, repo: str, cfg: RepoConfig) -> set[int]:
    """The issues the digest is written to: the configured pinned one, and those stored."""
    sql = "select distinct number from digests where repo = ? and number is not null"
    stored = {int(r["number"]) for r in store.rows(sql, [repo])}
    pinned = cfg.digest.pinned_issue
    return stored | ({pinned} if pinned is not None else set())


def find_digest_issue(
    host: RepoHost, store: Store, d: Digest, cfg: RepoConfig, bot_login: str = "smolbot[bot]"
) -> int | None:
    """This week's digest issue: from the store, else by its hidden marker in an issue the bot
    opened, else pinned."""
    row = next(
        store.rows("select number from digests where repo = ? and week = ?", [d.repo, d.week]), None
    )
    if row and row["number"]:
        return int(row["number"])
    since = (parse_ts(d.until) - timedelta(days=8)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for issue in host.list_issues("all", since=since):
        ours = issue.author == bot_login and find_label(issue.labels, cfg.digest.label) is not None
        if ours and d.marker_name in markers_in(issue.body):
            return issue.number
    return cfg.digest.pinned_issue


def post_weekly_digest(
    host: RepoHost,
    store: Store,
    repo: str,
    cfg: RepoConfig,
    now: Callable[[], datetime],
    *,
    models: ModelLayer | None = None,
    bot_login: str = "smolbot[bot]",
    audit_until: datetime | None = None,
    slot: datetime | None = None,
) -> DigestRun:
    """Post this week's digest issue, or edit it when it exists: a rerun never duplicates.

    slot: the weekly slot the job found due (core's due_slot): the digest is stored and marked
    as that slot's week's, even when the run comes late, in the next week (or now() turned to the
    next week since the job looked), and covers the week before the slot, [the slot seven local
    days before, slot) (`previous_slot`: a week of 167 or 169 hours at a change of summer time),
    or from where the last digest stored ended (`window_start`: the digest's hour, weekday or
    time zone changed): however late it comes, each week is in one digest, and the next slot's
    starts where it ends. Without it, the week of now(), and the seven days before now(), as
    `smolbot digest` previews it."""
    week = week_id(slot, cfg.digest.timezone) if slot is not None else None
    made = SummaryLines()
    digest = build_digest(
        host,
        store,
        repo,
        cfg,
        now() if slot is None else slot.astimezone(UTC),
        models=models,
        bot_login=bot_login,
        audit_until=audit_until,
        week=week,
        since=None if slot is None else window_start(store, repo, slot, cfg),
        made=made,
    )
    body = render_body(digest)
    number = find_digest_issue(host, store, digest, cfg, bot_login)
    detail: dict[str, Any] = {"week": digest.week}
    record = made.record()
    if record is not None:  # the model's lines: every call's record, and the lines not used
        detail["model"] = record
    audit: dict[str, Any] = {"task": "digest", "repo": repo, "detail": detail}
    if cfg.dry_run:
        store.audit(
            "digest", "dry-run", "weekly digest (dry-run: not posted)", number=number, **audit
        )
        # kept (for the dashboard) as this week's preview, with no issue (not even the pinned
        # one it would edit): not rebuilt, with its model calls, every hour for the rest of the
        # week in dry-run, and posted once dry-run is off (last_week_posted)
        save_digest(store, digest, None, now())
        return DigestRun(digest, None, False, _model_lines(digest))
    number, created = _publish(host, digest, body, number, cfg.digest.label)
    save_digest(store, digest, number, now())
    reason = "weekly digest posted" if created else "weekly digest updated in place"
    store.audit("digest", "done", reason, number=number, **audit)
    closed = close_previous_digest(host, store, digest, number, cfg, bot_login)
    return DigestRun(digest, number, created, _model_lines(digest), closed)


def close_previous_digest(
    host: RepoHost, store: Store, d: Digest, number: int, cfg: RepoConfig, bot_login: str
) -> int | None:
    """Close the previous week's digest issue now that this week's (`number`) is posted, so a
    repository does not gather one open digest a week: the newest earlier week's issue the store
    has, when GitHub shows it open, the bot's and with that week's marker (`superseded`), with a
    note naming the new one; audited. None with `digest.pinned_issue` (every week rewrites that
    issue: there is nothing to close). A failure here costs the digest nothing (it is posted):
    audited, and the issue left open."""
    if cfg.digest.pinned_issue is not None:
        return None
    sql = (
        "select week, number from digests where repo = ? and week < ? and number is not null"
        " order by week desc limit 1"
    )
    row = next(store.rows(sql, [d.repo, d.week]), None)
    if row is None:
        return None
    old, week = int(row["number"]), str(row["week"])
    audit: dict[str, Any] = {"task": "digest", "repo": d.repo, "number": old}
    audit["detail"] = {"week": week, "superseded_by": number}
    try:
        if not superseded(host.issue(old), week, bot_login, {number}):
            return None
        with suppress(Locked):  # a locked conversation takes no comment: closed without the note
            host.create_comment(old, SUPERSEDED.format(number=number))
        host.close(old, "completed")
    except NotFound:  # deleted or transferred: nothing left to close
        return None
    except (RateLimited, Unavailable, ReadOnly) as err:
        store.audit("close", "failed", f"previous digest left open: {err}", **audit)
        return None
    store.audit("close", "done", f"digest of {week} superseded by #{number}", **audit)
    return old


TILE_DAYS = 14  # a digest stored this far back is the one the slot's window goes on from


def window_start(store: Store, repo: str, slot: datetime, cfg: RepoConfig) -> datetime:
    """Where the slot's week starts: where the newest digest of an earlier week ended (posted;
    in dry-run, previewed too), when that is in the two weeks before the slot, so the windows
    tile even after the digest's hour, weekday or time zone changed; else `previous_slot`."""
    this_week = week_id(slot, cfg.digest.timezone)
    posted = "" if cfg.dry_run else " and number is not null"
    sql = f"select json from digests where repo = ? and week < ?{posted} order by week desc limit 1"
    row = next(store.rows(sql, [repo, this_week]), None)
    start = previous_slot(slot, cfg.digest)
    if row is None:
        return start
    try:
        until = datetime.fromisoformat(str(json.loads(row["json"] or "{}")["until"]))
    except (KeyError, TypeError, ValueError):  # not a digest this code wrote: the slot's week
        return start
    if until.tzinfo is None or not slot - timedelta(days=TILE_DAYS) <= until < slot:
        return start
    return until.astimezone(UTC)


def previous_slot(slot: datetime, cfg: DigestConfig) -> datetime:
    """The slot a week before, in UTC: seven days on the repository's wall clock (168 hours, or
    167 or 169 across a change of summer time), so each week starts where the one before ends."""
    local = slot.astimezone(ZoneInfo(cfg.timezone))
    return (local - timedelta(days=7)).astimezone(UTC)  # aware arithmetic: on the wall clock


def _publish(
    host: RepoHost, d: Digest, body: str, number: int | None, label: str
) -> tuple[int, bool]:
    """Edit the known issue; create one when there is none (or it was deleted or transferred)."""
    if number is not None:
        try:
            host.edit_issue(number, title=d.title, body=body)
            return number, False
        except NotFound:
            log.warning("digest issue #%s of %s is gone; posting a new one", number, d.repo)
    return host.create_issue(d.title, body, [label]), True


def _model_lines(d: Digest) -> int:
    return sum(1 for i in d.top if i.line != i.title)


def save_digest(store: Store, d: Digest, number: int | None, at: datetime) -> None:
    store.db.table("digests").upsert(
        {
            "repo": d.repo,
            "week": d.week,
            "number": number,
            "posted_at": at.timestamp(),
            "title": d.title,
            "markdown": render_markdown(d),
            "json": render_json(d),
            "best_score": max((i.score for i in d.top), default=None),  # the dashboard's pick
        },
        pk=("repo", "week"),
    )


def last_week_posted(store: Store, repo: str, *, previews: bool = False) -> str | None:
    """The newest week with a digest posted ("2026-w48" sorts by year, then week). A dry-run's
    preview (stored with no issue) counts only with `previews` (in dry-run: it is not built
    again every hour); once dry-run is off, the previewed week's digest is posted."""
    posted = "" if previews else " and number is not null"
    sql = f"select max(week) as week from digests where repo = ?{posted}"
    row = next(store.rows(sql, [repo]), None)
    return str(row["week"]) if row and row["week"] else None


def week_slot(now: datetime, cfg: DigestConfig) -> datetime:
    """This week's digest slot (weekday, hour) in the repository's time zone, as core's due_slot()
    reads it: from then on, until a digest of this week is stored, the hourly job posts one (the
    first digest of a repository waits for this slot; later ones are also posted late)."""
    return _week_slot(now, cfg)


def repo_config(host: RepoHost, store: Store | None = None, repo: str | None = None) -> RepoConfig:
    """The repository's .github/smolbot.yml (else .yaml), or the defaults when missing (no side
    effects).
    With the store and the repository, an invalid file gives the last valid one the store kept,
    as the weekly job's load_repo_config does; without them, the defaults."""
    if store is not None and repo is not None:
        cfg, note = preview_repo_config(store, host, repo)
        if note:
            log.warning("digest: %s", note)
        return cfg
    path, text = config_text(host)
    if text is None:
        return default_config()
    try:
        return parse_config(text, path)
    except ConfigError as err:
        log.warning("digest: %s; using defaults", err)
        return default_config()


def run_due_digests(ctx: JobContext) -> list[DigestRun]:
    """For Celery beat (hourly): post the digest of every repository whose weekly slot has passed.

    One repository GitHub cannot answer for costs the others nothing: its 5xx is audited and the
    run goes on; a rate limit stops only its installation's repositories. Either is raised at the
    end, so the task's retry does what is missing (a digest posted is no longer due). One GitHub
    refuses for good (Issues switched off, the repository or its installation gone) is audited
    once and asked again daily, or at once when the store adds it again (an installation event,
    or an issue event from it: the mark is cleared then)."""
    if ctx.github is None:
        return []
    runs = []
    retry: RateLimited | Unavailable | None = None
    limited: set[int] = set()  # installations out of quota: their other repositories wait
    suspended = ctx.store.suspended_installations()
    for row in ctx.store.repositories():
        repo = row["full_name"]
        if row["installation_id"] in suspended:  # GitHub refuses its tokens until unsuspended
            continue
        if row["installation_id"] in limited:
            continue
        refused = row.get("digest_refused")
        if refused is not None and ctx.now().timestamp() - refused < REFUSED_RETRY_S:
            continue
        if row.get("archived"):  # read-only on GitHub until unarchived
            continue
        try:
            host = ctx.github.repo(row["installation_id"], repo)
            cfg = load_repo_config(ctx.store, host, repo, bot_login=ctx.settings.bot_login)
            last = last_week_posted(ctx.store, repo, previews=cfg.dry_run)
            slot = due_slot(ctx.now(), cfg.digest, last)
            if slot is not None:  # the digest is the slot's week's, even past that week's end
                bot = ctx.settings.bot_login
                runs.append(
                    post_weekly_digest(
                        host,
                        repo=repo,
                        store=ctx.store,
                        cfg=cfg,
                        now=ctx.now,
                        models=ctx.models,
                        bot_login=bot,
                        slot=slot,
                    )
                )
                if refused is not None:  # GitHub answers again
                    ctx.store.set_digest_refused(repo, None)
        except (RateLimited, Unavailable) as err:
            if isinstance(err, RateLimited):
                limited.add(row["installation_id"])
            if not isinstance(retry, RateLimited):  # the run's retry waits for the quota
                retry = err
            why = f"{err}: tried again when the run is retried"
            ctx.store.audit("digest", "failed", why, task="digest", repo=repo)
        except NotFound as err:  # 410 Issues disabled, 404 gone or no longer the App's
            if refused is None:
                why = (
                    f"{err}: no digest until GitHub answers for its issues (asked again daily,"
                    " and at once when the repository is added to the installation again)"
                )
                ctx.store.audit("digest", "skipped", why, task="digest", repo=repo)
            ctx.store.set_digest_refused(repo, ctx.now().timestamp())
        except ReadOnly as err:  # archived, and no event told us: not tried again until unarchived
            ctx.store.set_archived(repo, True)
            why = f"{err}: no digest until it is unarchived"
            ctx.store.audit("digest", "skipped", why, task="digest", repo=repo)
        except Exception as err:  # one repository's failure must not cost the others their digest
            log.exception("digest of %s failed", repo)
            ctx.store.audit("digest", "failed", f"{type(err).__name__}: {err}", repo=repo)
    if retry is not None:
        raise retry
    return runs
