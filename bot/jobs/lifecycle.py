"""Lifecycle jobs: review one issue (waiting-on, re-ping, close) and sweep an installation."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, cast

from bot.coord.locks import LockLost, Locks
from bot.core.actions import Action, Close, Comment, NoOp
from bot.core.config import RepoConfig, TriageConfig
from bot.core.lifecycle import (
    PING_MARK,
    PULL_REQUEST,
    SWEEP_GRACE,
    TEAM_ASSOCIATIONS,
    WRITE_ASSOCIATIONS,
    Decision,
    Ping,
    Team,
    Thread,
    decide,
    described_in,
    description_in,
    exemption,
    is_bot,
    left_alone,
    parse_time,
    pinned_by,
    read_ping_marker,
)
from bot.jobs.context import JobContext
from bot.jobs.perform import Performer, Target
from bot.jobs.repo_config import load_repo_config
from bot.ports import (
    CommentData,
    GitHubError,
    IssueData,
    NotFound,
    RateLimited,
    ReadOnly,
    RepoHost,
    Unavailable,
)
from bot.store import Store

log = logging.getLogger(__name__)
TASK = "lifecycle"
WRITE_ROLES = frozenset({"admin", "maintain", "write", "triage"})
ROLES_TTL_S = 7 * 86400.0
SWEEP_LEASE_S = 600.0  # the sweep lock's lease (SQLite), renewed after every issue
SIMULATED = "dry-run:"  # the stored marker of a ping a dry-run would have posted
RECORDED = frozenset({"done", "dry-run"})  # the Performer's outcomes of a ping worth recording
# what one repository's data can make the sweep raise (a value no check refused, a bug met on
# it): not GitHub's errors (handled per issue, or a pause) nor the store's (every repo would fail)
DATA_ERRORS = (ArithmeticError, LookupError, TypeError, ValueError)
UNAVAILABLE_TRIES = 3  # a 5xx on the same issue this many times in a run: it fails, the run goes on


def sweep_lock_key(installation_id: int) -> str:
    """The lock one installation's sweep holds, the scheduled job's and `smolbot sweep`'s."""
    return f"sweep:{installation_id}"


class SweepBusy(Exception):
    """Another sweep of the installation holds its lock."""


class KnownThread:
    """A RepoHost view answering issue/comments from the thread already fetched (saves calls).
    `fresh_comments`: comments are read from GitHub again (the Performer's check that its
    marker is not there yet sees what another sweep posted since the thread was read)."""

    def __init__(self, host: RepoHost, thread: Thread, fresh_comments: bool = False) -> None:
        self._host, self._thread, self._fresh = host, thread, fresh_comments

    def __getattr__(self, name: str) -> Any:
        return getattr(self._host, name)

    def issue(self, number: int) -> IssueData:
        return self._thread.issue

    def comments(self, number: int) -> list[CommentData]:
        return self._host.comments(number) if self._fresh else list(self._thread.comments)


def load_thread(host: RepoHost, number: int, issue: IssueData | None = None) -> Thread:
    """Two calls (comments, events) when the issue is known from a listing; three otherwise.
    The issue is marked pinned from its timeline (GitHub's issue JSON does not say)."""
    got = issue or host.issue(number)
    comments, events = tuple(host.comments(number)), tuple(host.issue_events(number))
    return Thread(replace(got, pinned=pinned_by(events, got.pinned)), comments, events)


DEFAULT_NEEDS_INFO = TriageConfig().needs_info_label  # read once, not per issue's hash


def config_hash(cfg: RepoConfig) -> str:
    """What a stored decision was taken under: the settings the lifecycle's rules read. The
    needs-info label's name among them (which label marks a question decides who is waited on),
    only when it is not the default, so decisions stored before it counted keep their hash."""
    read = [cfg.dry_run, cfg.exempt_labels, cfg.lifecycle.model_dump(mode="json")]
    if cfg.triage.needs_info_label != DEFAULT_NEEDS_INFO:
        read.append(cfg.triage.needs_info_label)
    raw = json.dumps(read, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


# -- per-issue state (the store's copy; GitHub's markers stay the source of truth) ------------
def saved_state(store: Store, repo: str, number: int) -> dict[str, Any] | None:
    rows = list(
        store.db.table("lifecycle_state").rows_where("repo = ? and number = ?", [repo, number])
    )
    return rows[0] if rows else None


def save_state(
    store: Store, issue: IssueData, cfg: RepoConfig, d: Decision | None, acted: bool
) -> None:
    w = d.waiting if d else None
    row = {
        "repo": issue.repo,
        "number": issue.number,
        "waiting_on": w.on if w else "exempt",
        "who": json.dumps(list(w.who) if w else []),
        "since": w.since.isoformat() if w else None,
        "reason": w.reason if w else (d.actions[0].reason if d and d.actions else ""),
        "next_due": (d.next_due if d else datetime.max).isoformat(),
        "seen_updated_at": None if acted else issue.updated_at,
        "config_hash": config_hash(cfg),
        "decided_at": time.time(),
    }
    store.db.table("lifecycle_state").upsert(row, pk=("repo", "number"))


def unchanged_until(store: Store, issue: IssueData, cfg: RepoConfig) -> datetime | None:
    """When nothing on the issue changed since the last decision: the time that decision holds till."""
    row = saved_state(store, issue.repo, issue.number)
    if row is None or row["seen_updated_at"] != issue.updated_at:
        return None
    if row["config_hash"] != config_hash(cfg):
        return None
    return parse_time(row["next_due"])


def recorded_pings(store: Store, repo: str, number: int, dry_run: bool = False) -> list[Ping]:
    """The re-pings the bot posted on the issue, as the store recorded them (a ping deleted from
    the thread since still counts); in dry-run, the pings a dry-run would have posted too."""
    sql = "select marker, at from lifecycle_pings where repo = ? and number = ?"
    out = []
    for marker, at in store.db.execute(sql, [repo, number]).fetchall():
        simulated = marker.startswith(SIMULATED)
        if simulated and not dry_run:  # a preview's ping: a real one precedes any real close
            continue
        marker = marker.removeprefix(SIMULATED)
        party, close = read_ping_marker(marker)
        said = described_in(marker), description_in(marker)
        out.append(
            Ping(
                parse_time(at),
                party,
                marker,
                close,
                simulated=simulated,
                described=said[0],
                description=said[1],
            )
        )
    return out


def record_pings(
    store: Store,
    issue: IssueData,
    d: Decision,
    actions: list[Action],
    results: list[str],
    now: datetime,
) -> None:
    """Record the re-pings just posted (not those found already there); in dry-run, those it
    would have posted, as simulated (their marker prefixed), so the preview goes on to the close."""
    since = d.waiting.since.isoformat() if d.waiting else None
    rows = [
        {
            "repo": issue.repo,
            "number": issue.number,
            "marker": a.marker if result == "done" else SIMULATED + a.marker,
            "at": now.isoformat(),
            "since": since,
        }
        for a, result in zip(actions, results, strict=False)
        if isinstance(a, Comment) and a.marker.startswith(PING_MARK) and result in RECORDED
    ]
    if rows:
        store.db.table("lifecycle_pings").upsert_all(rows, pk=("repo", "number", "marker"))


def load_roles(store: Store, repo: str, max_age_s: float = ROLES_TTL_S) -> dict[str, bool]:
    sql = "select login, can_write from lifecycle_roles where repo = ? and checked_at > ?"
    rows = store.db.execute(sql, [repo, time.time() - max_age_s]).fetchall()
    return {login: bool(can) for login, can in rows}


def known_team(store: Store, repo: str) -> Team:
    """Who can write, as the sweep found them (the store's roles): those found without write are
    no maintainers, whatever their association says (the digest's figures, duplicate lines)."""
    return Team.of(load_roles(store, repo))


def save_roles(store: Store, repo: str, roles: dict[str, bool]) -> None:
    known = load_roles(store, repo)
    new = [
        {"repo": repo, "login": k, "can_write": int(v), "checked_at": time.time()}
        for k, v in roles.items()
        if known.get(k) is None
    ]
    if new:
        store.db.table("lifecycle_roles").upsert_all(new, pk=("repo", "login"))


# -- budgets ---------------------------------------------------------------------------------
@dataclass
class Budget:
    """Writes left this run: per repository (config) and per installation (caller). Only what
    GitHub took counts, and what a dry-run would have written (its preview predicts the run):
    admit takes a decision's actions before they are performed, and what the Performer then
    skipped (already true) or GitHub failed is given back. A cap nothing was spent under yet
    this run takes one whole decision over it: a close is two writes (its note and the close),
    which a cap of 1 would otherwise refuse every day. A cap of 0 takes nothing."""

    installation_left: int
    repo_left: int
    installation_untouched: bool = True  # nothing was spent under it before this budget
    repo_untouched: bool = True
    taken: int = field(default=0, init=False)  # admitted, not refunded: 0 keeps them untouched

    def spent(self) -> str | None:
        """Which cap is used up (then no decision could act, so nothing is worth reading)."""
        if self.repo_left <= 0:
            return "operation cap reached: lifecycle.max_operations_per_run; looked at next run"
        if self.installation_left <= 0:
            return "operation cap reached: max operations per installation run; looked at next run"
        return None

    def refuses(self, actions: list[Action]) -> NoOp | None:
        """The NoOp saying which cap the actions would not fit under, or None (nothing spent)."""
        ops = _writes(actions)
        if ops == 0:
            return None
        if not _fits(ops, self.repo_left, self.repo_untouched and not self.taken):
            return NoOp("operation cap reached: lifecycle.max_operations_per_run", what="cap")
        if not _fits(ops, self.installation_left, self.installation_untouched and not self.taken):
            return NoOp("operation cap reached: max operations per installation run", what="cap")
        return None

    def admit(self, actions: list[Action]) -> list[Action]:
        """Keep the actions if both budgets allow them all; otherwise one NoOp saying which cap."""
        refused = self.refuses(actions)
        if refused is not None:
            return [refused]
        ops = _writes(actions)
        self.repo_left -= ops
        self.installation_left -= ops
        self.taken += ops
        return actions

    def refund(self, actions: list[Action]) -> None:
        """Give back what admit took for actions not written (the Performer skipped them, or
        GitHub failed them): they did not touch the caps, and a retry admits them again."""
        ops = _writes(actions)
        self.repo_left += ops
        self.installation_left += ops
        self.taken -= ops


def _writes(actions: list[Action]) -> int:
    return sum(1 for a in actions if not isinstance(a, NoOp))


def _fits(ops: int, left: int, untouched: bool) -> bool:
    return ops <= left or (untouched and left > 0)


# -- one issue -------------------------------------------------------------------------------
@dataclass
class Reviewed:
    outcome: str  # exempt | unchanged | capped | decided
    decision: Decision | None = None
    results: list[str] = field(default_factory=list)
    calls: int = 0  # GitHub reads this review made
    thread: Thread | None = None
    actions: list[Action] = field(default_factory=list)  # what was handed to the Performer
    left_alone: str | None = None  # why no feature may write here unasked (ignored, exempt_labels)


def review_issue(
    ctx: JobContext,
    host: RepoHost,
    issue: IssueData,
    cfg: RepoConfig,
    budget: Budget,
    *,
    now: datetime | None = None,
    task: str = TASK,
    delivery_id: str | None = None,
    roles: dict[str, bool] | None = None,
) -> Reviewed:
    """Decide and act on one listed issue, with as few API reads as the decision needs."""
    now = now or ctx.now()
    bot = ctx.settings.bot_login
    target = Target(issue.repo, issue.number, task, delivery_id, cfg.dry_run, bot)
    ignored_by = ctx.store.ignored_by(issue.repo, issue.number)
    why = exemption(issue, cfg, ignored_by)
    if why is not None:
        Performer(host, ctx.store, target).perform([NoOp(why, what="lifecycle")])
        # a `/smolbot retriage` ends an ignore without touching the issue: look again next run
        save_state(ctx.store, issue, cfg, None, acted=ignored_by is not None)
        return Reviewed("exempt", left_alone=left_alone(issue, cfg, ignored_by))
    holds = unchanged_until(ctx.store, issue, cfg)
    # decided again SWEEP_GRACE before the hold ends: the ping announcing a close may come that
    # early (a decision stored before that rule holds till its exact time); a close comes no
    # sooner than its time all the same (an early look costs only reads)
    if holds is not None and now + SWEEP_GRACE < holds:
        forever = holds.date() == date.max  # waits on nobody, or left for the digest
        due = "nothing due until it changes" if forever else f"next decision due {holds.date()}"
        reason = f"unchanged since the last look; {due}"
        Performer(host, ctx.store, target).perform([NoOp(reason, what="lifecycle")])
        return Reviewed("unchanged")
    capped = budget.spent()
    if capped is not None:
        Performer(host, ctx.store, target).perform([NoOp(capped, what="cap")])
        return Reviewed("capped")
    thread = load_thread(host, issue.number, issue)
    pinged = recorded_pings(ctx.store, issue.repo, issue.number, cfg.dry_run)
    decision, lookups = _decide_with_roles(host, thread, cfg, now, bot, roles, pinged)
    calls = 2 + lookups
    # a close the budget would refuse is not read again (3 reads) only to be refused, nor one
    # a dry-run only previews (nothing is written)
    if closes(decision) and not cfg.dry_run and budget.refuses(decision.actions) is None:
        decision, thread, again = _before_closing(host, issue.number, cfg, now, bot, roles, pinged)
        calls += again
    actions = budget.admit(decision.actions)
    # comments read fresh before posting; a dry run posts nothing: the sweep's read will do
    view = cast(RepoHost, KnownThread(host, thread, fresh_comments=not cfg.dry_run))
    actions, results = _perform(Performer(view, ctx.store, target), actions, budget)
    record_pings(ctx.store, issue, decision, actions, results, now)  # a ping is the last action
    refused = any(isinstance(a, NoOp) and a.what == "cap" for a in actions)  # look again
    # a dry-run wrote nothing: its would-be outcome holds until the issue changes
    wrote = not cfg.dry_run and any(not isinstance(a, NoOp) for a in decision.actions)
    save_state(ctx.store, thread.issue, cfg, decision, acted=refused or wrote)
    return Reviewed("decided", decision, results, calls, thread, actions)


def _perform(
    performer: Performer, actions: list[Action], budget: Budget
) -> tuple[list[Action], list[str]]:
    """The actions performed in order, and their outcomes; but no Close after a comment GitHub
    refused because the issue is locked (locked between the re-read and the post): the issue
    would close with no note saying why. The close is audited as called off instead; the
    locked issue is exempt from then on. What was not written goes back to the budget (refund):
    an action the Performer skipped (already true, or called off), and one GitHub failed with
    those after it, before the error goes on; one whose audit failed after GitHub took it
    does not (it was written). A dry-run's would-be write stays spent, as the run's would."""
    done: list[Action] = []
    results: list[str] = []
    for i, admitted in enumerate(actions):
        a = admitted
        if isinstance(a, Close) and performer.locked:
            why = "close called off: the closing note was not posted, the issue is locked"
            a = NoOp(f"{why} ({a.reason})", what="close")
        try:
            (result,) = performer.perform([a])
        except GitHubError:  # GitHub refused or failed the write; a store's error came after it
            budget.refund(actions[i:])
            raise
        if result == "skipped":
            budget.refund([admitted])
        done.append(a)
        results.append(result)
    return done, results


def closes(decision: Decision) -> bool:
    return any(isinstance(a, Close) for a in decision.actions)


def _before_closing(
    host: RepoHost,
    number: int,
    cfg: RepoConfig,
    now: datetime,
    bot: str,
    roles: dict[str, bool] | None,
    pinged: list[Ping],
) -> tuple[Decision, Thread, int]:
    """Right before a close: the issue, its comments and timeline read again and decided again
    (a maintainer may have closed it as completed, or the author answered, since they were read).
    A decision that no longer closes is what is done instead, the called-off close audited."""
    thread = load_thread(host, number)
    fresh, lookups = _decide_with_roles(host, thread, cfg, now, bot, roles, pinged)
    if not closes(fresh):
        why = "close called off: the issue changed since it was read; decided again"
        fresh = replace(fresh, actions=[NoOp(why, what="close"), *fresh.actions])
    return fresh, thread, 3 + lookups


def _decide_with_roles(
    host: RepoHost,
    thread: Thread,
    cfg: RepoConfig,
    now: datetime,
    bot: str,
    roles: dict[str, bool] | None,
    recorded: list[Ping] | None = None,
) -> tuple[Decision, int]:
    """Decide knowing who can write; the author's role is looked up only when it would act."""
    roles = roles if roles is not None else {}
    author = thread.issue.author
    team, lookups = resolve_team(host, thread, bot, roles, skip=author)
    pinged = recorded or []
    decision = decide(thread, cfg, now, bot, team=team, recorded=pinged)
    acts = any(isinstance(a, Comment | Close) for a in decision.actions)
    if (
        not acts
        or author in roles
        or _proves_write(thread.issue.author_association)
        or is_bot(author, thread.issue.author_type, bot)  # never waited on: its role is moot
    ):
        return decision, lookups
    roles[author] = host.permission(author) in WRITE_ROLES
    if roles[author]:
        team = Team([*team, author], team.outsiders)
        decision = decide(thread, cfg, now, bot, team=team, recorded=pinged)
    return decision, lookups + 1


def resolve_team(
    host: RepoHost, thread: Thread, bot: str, roles: dict[str, bool], skip: str = ""
) -> tuple[Team, int]:
    """Who in the thread can write to the repo, asked once per person (roles caches per repo).

    Only an owner's author_association proves it: GitHub says MEMBER for any member of the
    owning organisation and COLLABORATOR for any outside collaborator, whatever their
    permission (read too), and nothing of a maintainer whose org membership is private. So
    everyone else is looked up, `skip` (the author, looked up only when the decision would act)
    too when the association takes them for the team. Returns (the team, lookups made).
    """
    people = {thread.issue.author: thread.issue.author_association}
    for c in thread.comments:
        if not is_bot(c.author, c.author_type, bot):
            people[c.author] = c.author_association
    for e in thread.events:  # who retitled it: the team's retitle holds no close (_retitled)
        if e.kind == "renamed" and not is_bot(e.actor, e.actor_type, bot):
            people.setdefault(e.actor, "")
    lookups = 0
    for login, association in people.items():
        if login in roles or _proves_write(association):
            continue
        if login == skip and not _claims_team(association):
            continue
        roles[login] = host.permission(login) in WRITE_ROLES
        lookups += 1
    return Team.of({p: roles[p] for p in people if p in roles}), lookups


def _proves_write(association: str) -> bool:
    return association.upper() in WRITE_ASSOCIATIONS


def _claims_team(association: str) -> bool:
    """The association alone would take them for the team: they are looked up before deciding."""
    return association.upper() in TEAM_ASSOCIATIONS


def review_one(
    ctx: JobContext, installation_id: int, repo: str, number: int, *, delivery_id: str | None = None
) -> Reviewed:
    """Review a single issue now (after a webhook, or from the CLI)."""
    if ctx.github is None:
        raise RuntimeError("review_one needs a GitHub host in the JobContext")
    host = ctx.github.repo(installation_id, repo)
    cfg = load_repo_config(ctx.store, host, repo, bot_login=ctx.settings.bot_login)
    budget = Budget(cfg.lifecycle.max_operations_per_run, cfg.lifecycle.max_operations_per_run)
    return review_issue(ctx, host, host.issue(number), cfg, budget, delivery_id=delivery_id)


def count(counts: Counter[str], r: Reviewed) -> None:
    counts["issues"] += 1
    counts[r.outcome] += 1
    counts["reads"] += r.calls
    if r.decision is None:
        return
    if r.decision.waiting is not None:
        counts[f"waiting_on_{r.decision.waiting.on}"] += 1
    for action, result in zip(r.actions, r.results, strict=False):
        if result in ("done", "dry-run") and not isinstance(action, NoOp):
            counts[f"{action.kind}:{result}"] += 1
        elif isinstance(action, NoOp) and action.what in ("close", "cap"):
            counts[f"noop_{action.what}"] += 1


# -- the sweep -------------------------------------------------------------------------------
Summarizer = Callable[[JobContext, RepoHost, IssueData, Thread | None, RepoConfig], bool]


@dataclass
class SweepResult:
    installation_id: int
    run_id: str
    status: str  # done | paused
    counts: dict[str, int]
    operations: int
    finished_before: bool = False  # the run had ended already: nothing was swept by this call


@dataclass
class SweepLimits:
    """How much one run may do: writes per installation, auto-summaries, a pause between issues."""

    max_operations: int = 100
    max_summaries: int = 3
    pace_s: float = 0.0


def sweep_installation(
    ctx: JobContext,
    installation_id: int,
    *,
    run_id: str | None = None,
    max_operations: int = 100,
    summarize: Summarizer | None = None,
    max_summaries: int = 3,
    pace_s: float = 0.0,
    sleep: Callable[[float], None] = time.sleep,
    hold_lock: bool = True,
) -> SweepResult:
    """Review every open issue of an installation's repositories; resumable by (installation, run).

    On RateLimited the cursor is saved and the error re-raised (its retry_after_s tells the task
    queue when to call again with the same run_id); a finished run returns at once. Long threads
    are summarized too (at most max_summaries per run) when ctx.models is set.
    The run holds the installation's sweep lock (sweep_lock_key), SweepBusy when another sweep
    has it; `hold_lock=False`: the caller holds it already (the scheduled job's runner does).
    """
    if ctx.github is None:
        raise RuntimeError("sweep_installation needs a GitHub host in the JobContext")
    if summarize is None and ctx.models is not None and max_summaries > 0:
        from bot.jobs.summarize import auto_summarize  # summarize imports this module

        summarize = auto_summarize
    limits = SweepLimits(max_operations, max_summaries, pace_s)
    if not hold_lock:
        return _run_sweep(ctx, installation_id, run_id, limits, summarize, sleep, None)
    locks, key = Locks(ctx.store, lease_s=SWEEP_LEASE_S), sweep_lock_key(installation_id)
    with locks.hold(key, wait_s=0) as got:
        if not got:
            raise SweepBusy(
                f"a lifecycle sweep of installation {installation_id} is running (the daily job"
                " or another smolbot sweep); run this again once it has finished"
            )
        return _run_sweep(
            ctx, installation_id, run_id, limits, summarize, sleep, lambda: locks.renew(key)
        )


def _run_sweep(
    ctx: JobContext,
    installation_id: int,
    run_id: str | None,
    limits: SweepLimits,
    summarize: Summarizer | None,
    sleep: Callable[[float], None],
    renew: Callable[[], bool] | None,
) -> SweepResult:
    assert ctx.github is not None
    now = ctx.now()
    sweep = _Sweep(ctx, installation_id, run_id or now.date().isoformat(), now, limits, renew)
    finished = sweep.run["status"] == "done"
    if not finished:
        sweep.go(ctx.github.installation_repos, summarize, sleep)
    return SweepResult(
        installation_id,
        sweep.run["run_id"],
        sweep.run["status"],
        dict(sweep.counts),
        sweep.run["operations"],
        finished,
    )


class _Sweep:
    """One run's cursor and tallies, saved after every issue so a later call resumes it."""

    def __init__(
        self,
        ctx: JobContext,
        inst: int,
        run_id: str,
        now: datetime,
        limits: SweepLimits,
        renew: Callable[[], bool] | None = None,
    ) -> None:
        self.ctx, self.inst, self.now, self.limits = ctx, inst, now, limits
        self.renew = renew  # extends the sweep lock's lease; False: another sweep took it
        self.run = _start(ctx.store, inst, run_id)
        self.counts: Counter[str] = Counter(json.loads(self.run["counts"] or "{}"))

    def go(
        self,
        repos: Callable[[int], list[str]],
        summarize: Summarizer | None,
        sleep: Callable[[float], None],
    ) -> None:
        try:
            try:
                listed = repos(self.inst)  # archived ones left out: GitHub takes no writes there
            except NotFound as err:  # uninstalled since the run was queued
                self.uninstalled(err)
                return
            self.ctx.store.unarchive_listed(self.inst, listed)  # if no event told us
            for repo in listed:
                if self.run["repo"] and repo < self.run["repo"]:
                    continue
                if repo != self.run["repo"]:
                    self.run.update(repo=repo, issue=0, repo_operations=0)
                try:
                    self.repo(repo, summarize, sleep)
                except ReadOnly as err:  # archived since the listing: the others go on
                    self.archived(repo, err)
                except NotFound as err:  # its issues refused (switched off: 410): the others go on
                    self.refused(repo, err)
                except DATA_ERRORS as err:  # this repository's data: the others go on
                    self.repo_failed(repo, err)
        except RateLimited as err:
            self.save("paused", str(err))
            log.info(
                "sweep %s paused at %s#%s: %s",
                self.run["run_id"],
                self.run["repo"],
                self.run["issue"],
                err,
            )
            raise
        except GitHubError as err:  # a 5xx the run is retried for (retry_later), or the listing
            # of the installation's repositories failed: the row says so, not "running"
            self.save("paused", str(err))
            raise
        self.save("done", None)

    def repo(self, repo: str, summarize: Summarizer | None, sleep: Callable[[float], None]) -> None:
        ctx, run, counts = self.ctx, self.run, self.counts
        read = self.repo_reads(repo)
        if read is None:  # GitHub failed them: audited, the sweep goes on with the next
            return
        host, cfg, issues = read
        left = self.limits.max_operations - run["operations"]
        budget = Budget(
            left,
            cfg.lifecycle.max_operations_per_run - run["repo_operations"],
            installation_untouched=run["operations"] == 0,
            repo_untouched=run["repo_operations"] == 0,
        )
        counts["list_pages"] += max(1, -(-len(issues) // 100))
        roles = load_roles(ctx.store, repo)  # login -> can write; GitHub is asked once a week
        for issue in (i for i in issues if i.number > run["issue"]):
            if issue.is_pull_request:  # the listing has them too; pushes and reviews are no replies
                self.pull_request(host, issue, cfg)
                continue
            before = budget.installation_left
            try:
                r = review_issue(
                    ctx, host, issue, cfg, budget, now=self.now, task="lifecycle.sweep", roles=roles
                )
                count(counts, r)
                if r.calls > 2:  # it looked permissions up (saved first: summaries read them)
                    save_roles(ctx.store, repo, roles)
                if summarize and not issue.locked:
                    self.summary(host, issue, cfg, r, summarize)
            except NotFound as err:  # deleted or transferred since the listing: the rest go on
                self.gone(repo, issue.number, err)
                continue
            except (RateLimited, ReadOnly):  # the run pauses; the repository is left alone
                raise
            except LockLost as err:  # another sweep holds the run now: this one writes no more
                raise SweepBusy(
                    f"sweep {run['run_id']} stopped at {repo}#{issue.number}: its lock was lost"
                    " and another sweep took it"
                ) from err
            except GitHubError as err:  # refused for good (403, 422), or a 5xx that persists
                if isinstance(err, Unavailable) and self.retry_later(repo, issue.number, err):
                    raise
                self.failed(repo, issue.number, err)
            finally:  # what the review wrote counts, whatever failed after it (the summary)
                self.spent(before - budget.installation_left)
            run.update(issue=issue.number, failing=None)
            self.save("running", None)
            if self.limits.pace_s:
                sleep(self.limits.pace_s)

    def spent(self, ops: int) -> None:
        """Count an issue's writes in the run's tallies, a resumed run's budgets start from them:
        also when the summary after them failed (go() saves the run paused with them then)."""
        self.run.update(
            operations=self.run["operations"] + ops,
            repo_operations=self.run["repo_operations"] + ops,
        )

    def repo_reads(self, repo: str) -> tuple[RepoHost, RepoConfig, list[IssueData]] | None:
        """The repository's host, config and open issues (pull requests too), or None when GitHub
        failed them for this run: refused (403, 422), or a 5xx the UNAVAILABLE_TRIES-th time
        in a row (before that the run pauses for a retry, as on an issue). Audited, and the
        sweep goes on with the next repository; the next run sweeps this one afresh."""
        ctx = self.ctx
        assert ctx.github is not None
        try:
            host = ctx.github.repo(self.inst, repo)
            cfg = load_repo_config(ctx.store, host, repo, bot_login=ctx.settings.bot_login)
            issues = sorted(host.list_issues(state="open"), key=lambda i: i.number)
        except (NotFound, RateLimited, ReadOnly):  # refused, paused, archived: go() says which
            raise
        except GitHubError as err:
            if isinstance(err, Unavailable) and self.retry_later(repo, None, err):
                raise
            self.repo_unreadable(repo, err)
            return None
        return host, cfg, issues

    def pull_request(self, host: RepoHost, pr: IssueData, cfg: RepoConfig) -> None:
        """Not swept (no ping, close nor automatic summary): audited when first seen and again
        only once it changed, not on every run."""
        self.counts["pull_requests"] += 1
        row = saved_state(self.ctx.store, pr.repo, pr.number)
        if row is None or row["waiting_on"] != "exempt" or row["seen_updated_at"] != pr.updated_at:
            bot = self.ctx.settings.bot_login
            target = Target(pr.repo, pr.number, "lifecycle.sweep", None, cfg.dry_run, bot)
            noop = NoOp(PULL_REQUEST, what="lifecycle")
            Performer(host, self.ctx.store, target).perform([noop])
            save_state(self.ctx.store, pr, cfg, Decision([noop], None), acted=False)
        self.run["issue"] = pr.number
        self.save("running", None)

    def summary(
        self, host: RepoHost, issue: IssueData, cfg: RepoConfig, r: Reviewed, summarize: Summarizer
    ) -> None:
        """Summarize a long thread (at most max_summaries a run), unless no feature may write to
        the issue unasked (`/smolbot ignore`, exempt_labels): then the audit says so instead."""
        if r.left_alone is None:
            if self.counts["summaries"] < self.limits.max_summaries:
                self.counts["summaries"] += int(summarize(self.ctx, host, issue, r.thread, cfg))
            return
        if not cfg.summaries.enabled or issue.comments < cfg.summaries.auto_after_comments:
            return  # no summary was due anyway
        bot = self.ctx.settings.bot_login
        target = Target(issue.repo, issue.number, "lifecycle.sweep", None, cfg.dry_run, bot)
        noop = NoOp(f"no automatic summary: {r.left_alone}", what="summary")
        Performer(host, self.ctx.store, target).perform([noop])
        self.counts["summaries_left_alone"] += 1

    def uninstalled(self, err: NotFound) -> None:
        """GitHub says the installation is gone: nothing to sweep. The run ends done, so this is
        audited once, not on every retry."""
        self.counts["uninstalled"] += 1
        why = f"installation {self.inst} is gone (the App was uninstalled): nothing to sweep; {err}"
        self.ctx.store.audit(
            "lifecycle", "skipped", why, task="lifecycle.sweep", detail={"installation": self.inst}
        )
        self.save("done", None)

    def archived(self, repo: str, err: ReadOnly) -> None:
        self.counts["archived"] += 1
        self.ctx.store.set_archived(repo, True)
        why = f"{err}: left alone until it is unarchived"
        self.ctx.store.audit("noop", "skipped", why, task="lifecycle.sweep", repo=repo)
        self.save("running", None)

    def retry_later(self, repo: str, number: int | None, err: Unavailable) -> bool:
        """Whether a 5xx on this issue (None: on the repository's config or listing) pauses the
        run for a retry (the cursor stays before it): yes, unless it is this run's
        UNAVAILABLE_TRIES-th in a row on the same issue."""
        was = json.loads(self.run.get("failing") or "{}")
        same = was.get("repo") == repo and was.get("issue") == number
        tries = int(was.get("tries", 0)) + 1 if same else 1
        if tries >= UNAVAILABLE_TRIES:
            return False
        self.run["failing"] = json.dumps({"repo": repo, "issue": number, "tries": tries})
        self.save("paused", str(err))
        return True

    def failed(self, repo: str, number: int, err: GitHubError) -> None:
        """GitHub refused this issue for good: audited, and the sweep goes on with the next one
        (the issue is decided afresh on the next run)."""
        self.counts["failed"] += 1
        after = f" {UNAVAILABLE_TRIES} times this run" if isinstance(err, Unavailable) else ""
        why = f"GitHub failed this issue{after}; the sweep went on with the next: {err}"
        self.ctx.store.audit(
            "lifecycle", "failed", why, task="lifecycle.sweep", repo=repo, number=number
        )
        log.warning("sweep %s: %s#%s failed: %s", self.run["run_id"], repo, number, err)

    def refused(self, repo: str, err: NotFound) -> None:
        """GitHub refused this repository's issues (Issues switched off, GitHub's 410; or the
        repository left the installation since the listing): audited, and the sweep goes on
        with the next repository; the next run asks again."""
        self.counts["repos_refused"] += 1
        said = _first_line(err)
        why = (
            f"GitHub refused this repository's issues ({said}): Issues switched off, or the"
            " repository left the installation; the sweep went on with the next repository and"
            " asks again on its next run"
        )
        self.ctx.store.audit("lifecycle", "skipped", why, task="lifecycle.sweep", repo=repo)
        self.save("running", None)

    def repo_failed(self, repo: str, err: Exception) -> None:
        """A fault met on this repository's data (a bug the decision hit on it, a value no
        check refused): audited in one line, logged with its traceback, and the sweep goes on
        with the next repository; the next run sweeps this one afresh."""
        self.counts["repos_failed"] += 1
        said = _first_line(err)
        done = self.run["issue"]
        where = f"after issue #{done}" if done else "before any of its issues was done"
        why = (
            f"sweep of this repository stopped {where} ({type(err).__name__}: {said}); the sweep"
            " went on with the next repository"
        )
        self.ctx.store.audit("lifecycle", "failed", why, task="lifecycle.sweep", repo=repo)
        log.exception("sweep %s: %s failed", self.run["run_id"], repo)
        self.save("running", None)

    def repo_unreadable(self, repo: str, err: GitHubError) -> None:
        """GitHub failed this repository's config or issue listing for this run (repo_reads):
        audited in one line, and the sweep goes on with the next repository."""
        self.counts["repos_failed"] += 1
        after = f" {UNAVAILABLE_TRIES} times this run" if isinstance(err, Unavailable) else ""
        why = (
            f"GitHub failed this repository's config or issue listing{after}"
            f" ({_first_line(err)}); the sweep went on with the next repository and sweeps this"
            " one afresh on its next run"
        )
        self.ctx.store.audit("lifecycle", "failed", why, task="lifecycle.sweep", repo=repo)
        log.warning("sweep %s: %s failed: %s", self.run["run_id"], repo, err)
        self.run["failing"] = None
        self.save("running", None)

    def gone(self, repo: str, number: int, err: NotFound) -> None:
        self.counts["gone"] += 1
        why = f"issue gone since the sweep listed it (deleted or transferred): {err}"
        self.ctx.store.audit(
            "noop", "skipped", why, task="lifecycle.sweep", repo=repo, number=number
        )
        self.run["issue"] = number
        self.save("running", None)

    def save(self, status: str, error: str | None) -> None:
        now = time.time()
        self.run.update(
            status=status, error=error, counts=json.dumps(dict(self.counts)), updated_at=now
        )
        if status == "done":
            self.run["finished_at"] = now
        self.ctx.store.db.table("sweeps").upsert(self.run, pk=("installation_id", "run_id"))
        if status == "running" and self.renew is not None and not self.renew():
            raise SweepBusy(
                f"sweep {self.run['run_id']} stopped at {self.run['repo']}#{self.run['issue']}:"
                " its lock's lease ran out and another sweep took it"
            )


def _start(store: Store, installation_id: int, run_id: str) -> dict[str, Any]:
    table = store.db.table("sweeps")
    rows = list(table.rows_where("installation_id = ? and run_id = ?", [installation_id, run_id]))
    if rows:
        return rows[0]
    row: dict[str, Any] = {
        "installation_id": installation_id,
        "run_id": run_id,
        "status": "running",
        "repo": None,
        "issue": 0,
        "operations": 0,
        "repo_operations": 0,
        "counts": "{}",
        "started_at": time.time(),
        "updated_at": time.time(),
        "finished_at": None,
        "error": None,
        "failing": None,
    }
    table.insert(row)
    return row


def _first_line(err: Exception) -> str:
    """An error's first line, at most 200 characters: what a sweep's audit row quotes."""
    return (str(err).splitlines() or [""])[0][:200]
