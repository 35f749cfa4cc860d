"""Backfill: copy a repository's issues into the store and teach the classifier its labeled ones."""

from __future__ import annotations

import codecs
import csv
import io
import json
import logging
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO

from bot.coord.jobs import unfinished as unfinished_runs
from bot.coord.locks import Locks
from bot.core.config import Kind, RepoConfig
from bot.core.digest import GITHUB_BODY_MAX
from bot.core.labels import NO_KIND_LABEL, kind_for_labels, kinds_named, not_learned_reason
from bot.core.lifecycle import epoch_or_none, repo_of
from bot.core.numbers import STORE_DIGITS, whole_number
from bot.jobs.context import JobContext
from bot.jobs.repo_config import cached_config, load_repo_config
from bot.llm.records import Learned, Records
from bot.ports import (
    AppCredentialsError,
    GitHubError,
    Gone,
    IssueData,
    IssuePage,
    Moved,
    NotFound,
    RateLimited,
    RepoHost,
    Unavailable,
)
from bot.store import Store
from bot.store.store import GONE_STATES
from bot.webhook.intake import BadPayload, json_line, not_text

log = logging.getLogger(__name__)
TASK = "backfill"
MAX_RATE_WAIT_S = 15 * 60  # longer than this: give up and let the task queue retry later
UNAVAILABLE_WAITS_S = (5.0, 30.0, 120.0)  # after a 5xx mid-listing; then the task queue retries
# A backfill that stopped less than this ago resumes at its page; an older one lists from page 1
# (issues deleted meanwhile pull the listing up, and one page of overlap covers only so many).
RESUME_WITHIN_S = 24 * 3600
CURSORS = "backfill_cursors"
CONTINUING = "continuing"  # a cursor's status between two parts of a queued backfill
# a cursor's status when GitHub answered the listing 410 (Issues switched off): not resumed; the
# next backfill (`smolbot backfill`, an installation event) lists from page 1
SKIPPED = "skipped"
ISSUES_OFF = "Issues are switched off for this repository"
# One backfill per repository at a time (the CLI beside a worker would share one cursor row): a lock
# whose lease is renewed at each page; the longest pause between pages is one rate-limit wait.
LOCK_LEASE_S = 2 * MAX_RATE_WAIT_S
NO_GITHUB = "no GitHub connection: set SMOLBOT_APP_ID and SMOLBOT_PRIVATE_KEY"
# The workers resume a stopped backfill by themselves, hourly (resume_unfinished), this many times in
# a row; then `smolbot doctor` lists it and a person decides (`smolbot backfill owner/name`).
MAX_AUTO_RESUMES = 5
# A queued backfill (a `backfill` job) lists Settings.backfill_pages_per_part pages of 100 issues,
# then queues the rest as its next part: the model-queue jobs queued meanwhile (and, under `smolbot
# serve`'s one worker process, new issues' events) run in between instead of waiting out a large
# repository. It waits out a rate limit this short; a longer one stops it, and the task queue
# retries it at the reset (pausing the installation's other work too) instead of a worker sleeping.
QUEUED_MAX_RATE_WAIT_S = 60
# A backfill that listed a repository to its end asks GitHub about at most this many stored issues
# it did not list (one request each); the next complete backfill asks about the rest.
MAX_GONE_CHECKS = 100
# an issue whose text an earlier issue of the same backfill taught under another kind: one example
SAME_TEXT_RELABELED = "an earlier issue's text, labeled otherwise (one example: the later label)"
BOT_S_OWN = "its kind label is smolbot's own guess, which no one changed"
# what PowerShell 5's `>` writes: UTF-16 with its byte-order mark
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
LABEL_SEPARATORS = re.compile(r"[,;]")  # in a --from file's label cell: `bug; needs-review`
LABEL_KEYS = frozenset({"label", "labels"})  # a --from row's label, by either name


class BackfillBusy(RuntimeError):
    """Another backfill of the repository is running (a worker, or `smolbot backfill`)."""


class _PartDone(Exception):
    """This run listed its pages (`until`); the listing goes on at `page`, asked at `address`
    (None: by its number). `listed`: the issues (and pull requests) of the page before it, the
    run's last, all of them handled; `listed_at`, that page's address."""

    def __init__(
        self, page: int, listed: list[int], address: str | None, listed_at: str | None
    ) -> None:
        super().__init__(page)
        self.page, self.listed = page, listed
        self.address, self.listed_at = address, listed_at


class _IssuesOff(Exception):
    """GitHub answered the issue listing 410: Issues are switched off for the repository."""


def lock_key(repo: str) -> str:
    return f"backfill:{repo.lower()}"


_COUNTS = ("seen", "stored", "still_open", "learned", "known", "skipped", "forgotten")


@dataclass
class BackfillResult:
    repo: str
    seen: int = 0
    stored: int = 0
    still_open: int = 0  # of those stored: kept for duplicate search; only closed ones teach
    learned: int = 0
    known: int = 0  # labeled issues learned before (a backfill run again): nothing new
    skipped: int = 0
    forgotten: int = 0  # examples an earlier backfill taught from issues that now teach nothing
    gone: int = 0  # stored issues GitHub no longer has (deleted, transferred): marked so
    # stored issues not listed and not settled in this run: not asked about (MAX_GONE_CHECKS), or
    # GitHub's answer can pass (a 404) or was ambiguous; the next complete backfill asks again
    unchecked: int = 0
    first_page: int = 1  # > 1: resumed where an earlier backfill stopped
    next_page: int | None = None  # this run listed its share of pages; the next part starts here
    issues_off: bool = False  # GitHub answered the listing 410 (ISSUES_OFF): skipped, audited
    # labeled issues that taught nothing, by reason, and the labels they carried (for the hint)
    not_learned: Counter[str] = field(default_factory=Counter)
    their_labels: Counter[str] = field(default_factory=Counter)
    from_file: bool = False  # `--from FILE`: a label map comes with --config, not the repository
    # examples (Records.example_key) this run taught: an unlabeled twin of a labeled issue (the
    # same text as the model reads it) does not forget them
    taught: set[str] = field(default_factory=set)

    def summary(self) -> dict[str, Any]:
        """The counts, JSON-able, for the audit log."""
        out = {k: v for k, v in self.__dict__.items() if not isinstance(v, Counter | set)}
        if self.next_page is None:
            del out["next_page"]
        if not self.issues_off:
            del out["issues_off"]
        out["not_learned"] = dict(self.not_learned)
        out["their_labels"] = dict(self.their_labels.most_common(10))
        return out

    def counts(self) -> dict[str, Any]:
        """The counts, JSON-able and whole, for a cursor row (a retried part goes on from them)."""
        out: dict[str, Any] = {k: getattr(self, k) for k in _COUNTS}
        out["not_learned"], out["their_labels"] = dict(self.not_learned), dict(self.their_labels)
        return out

    def add(self, counts: dict[str, Any]) -> None:
        """Count in what counts() gave (a stopped attempt of this part)."""
        for k in _COUNTS:
            setattr(self, k, getattr(self, k) + int(counts.get(k) or 0))
        self.not_learned.update(counts.get("not_learned") or {})
        self.their_labels.update(counts.get("their_labels") or {})

    @property
    def known_note(self) -> str:
        """What follows a learned count: ' (N known already)' when issues were learned before,
        and the examples an earlier backfill taught from issues that teach nothing now."""
        note = f" ({self.known} known already)" if self.known else ""
        if self.forgotten:
            s = "s" * (self.forgotten != 1)
            note += (
                f"; {self.forgotten} example{s} taught by an earlier backfill forgotten (their"
                " issues teach nothing now)"
            )
        return note

    @property
    def none_stored_note(self) -> str:
        """Why no issue was stored though some were read: `stored` counts issues copied into the
        store, what duplicate search reads, and a --from file's rows never are (it teaches kinds
        only; a gh export's numbers and states included)."""
        if self.stored or not self.seen:
            return ""
        if self.from_file:
            return (
                "; stored counts issues copied for duplicate search, which a --from file's rows"
                " never are (it teaches kinds only): the App's webhooks and"
                f" `smolbot backfill {self.repo}` through the API copy them"
            )
        return (
            "; stored counts issues copied for duplicate search: those listed were pull"
            " requests, or the store's copies were newer"
        )

    def explain(self, shown: int = 5) -> list[str]:
        """Why issues taught nothing, and what to do when a label of theirs names a kind."""
        if not self.not_learned:
            return []
        reasons = "; ".join(f"{n} {why}" for why, n in self.not_learned.most_common())
        lines = [f"not learned: {sum(self.not_learned.values())} ({reasons})"]
        if self.their_labels:
            top = self.their_labels.most_common(shown)
            lines.append("  their labels: " + ", ".join(f"{lb!r} ({n})" for lb, n in top))
            where = (
                "a smolbot.yml (e.g. triage: label_map: {bug: 'Type: Defect'}) and run the"
                " backfill again with --config smolbot.yml"
                if self.from_file
                else ".github/smolbot.yml (e.g. triage: label_map: {bug: 'Type: Defect'}) and"
                " backfill again"
            )
            lines.append(
                "  if one of these means bug, feature, question or documentation, map it in"
                f" {where}"
            )
        return lines


@dataclass(frozen=True)
class Part:
    """Which part of a queued backfill a run is, and what the parts before it stored and learned
    (a part's job carries these, so the last part's audit row can give the whole)."""

    number: int = 1
    stored: int = 0
    learned: int = 0

    def after(self, result: BackfillResult) -> Part:
        return Part(self.number + 1, self.stored + result.stored, self.learned + result.learned)

    def kwargs(self) -> dict[str, int]:
        """For the next part's job (the first part's job has none of these)."""
        return {"part": self.number, "stored": self.stored, "learned": self.learned}

    def saved(self) -> list[int]:
        """As a cursor row keeps it (its `totals`)."""
        return [self.number, self.stored, self.learned]


def issue_row(issue: IssueData) -> dict[str, Any]:
    """An IssueData in the shape Store.upsert_issue takes. A closed issue whose host gave no
    closed_at counts as closed when it was last updated."""
    return {
        "number": issue.number,
        "title": issue.title,
        "body": issue.body,
        "state": issue.state,
        "user": {"login": issue.author},
        "labels": list(issue.labels),
        "created_at": issue.created_at,
        "updated_at": issue.updated_at,
        "closed_at": (issue.closed_at or issue.updated_at) if issue.state == "closed" else None,
    }


def _pages(
    host: RepoHost,
    sleep: Callable[[float], None],
    done: set[int],
    retries: int = 3,
    *,
    first: int = 1,
    at: str | None = None,
    before: Sequence[int] = (),
    before_at: str | None = None,
    fetched: Callable[[int, str | None], None] = lambda page, address: None,
    until: int | None = None,
    max_wait_s: float = MAX_RATE_WAIT_S,
    waiting: Callable[[float, str], None] = lambda seconds, why: None,
) -> Iterator[IssueData]:
    """Every issue once, page by page from `first`. A rate limit up to `max_wait_s` is waited
    out, a 5xx or a dropped connection backs off (UNAVAILABLE_WAITS_S); either way the listing
    resumes at the last page it fetched, not the first: a long backfill pays one page again, not all
    of them. The last page fetched, not the next one: issues deleted or transferred meanwhile pull
    the newest-first listing up, and a page of overlap keeps that from skipping any; issues opened
    meanwhile push it down, and `done` drops the repeats. `retries` counts failures in a row: a
    page the listing had not reached before starts the count (and the waits) again, so one-off
    errors far apart in a long listing do not add up to a stop. The same pull-up between two pages
    of one run moves the next page's first issue onto the page just read: each page is checked
    against the one before it (_moved_up). `fetched(page, address)` is told each page as it
    arrives, with the address it was asked at (IssuePage). With `until`, raises _PartDone instead
    of fetching a page after it, unless the listing ended there (a page shorter than
    host.page_size is the last, as is an IssuePage without a next address). `before`: the issues
    of the page before `first`, as an earlier run (a part) listed and handled them. `at` and
    `before_at`: the addresses of page `first` and of the page before it, when known: past the
    pages GitHub gives by number (GitHubRepo.issue_pages), a page asked again (a retry,
    _moved_up, a part's first) costs one request by its address, and a walk from the last
    numbered page without one. `waiting(seconds, why)` is told each wait before it starts (the
    CLI says it). GitHub's 410 to the listing (Issues switched off) is _IssuesOff."""
    last, last_at = first, at  # the last page fetched and its address: where a retry starts
    # the page fetched before the next one, its issues (and pull requests) in listing order, and
    # its address; the next page's address, as the last page fetched gave it
    previous, listed, previous_at, ahead = first - 1, list(before), before_at, None
    reached, failures = first - 1, 0  # the furthest page fetched; errors since it was reached
    while True:
        try:
            page = last
            listing = _issue_pages(host, last, last_at)
            while True:
                if until is not None and page > until:
                    raise _PartDone(page, listed, ahead, previous_at)
                issues = next(listing, None)
                if issues is None:
                    return
                # a page a retry fetches again (previous == page) was checked the first time
                moved = (
                    _moved_up(host, page - 1, listed, issues, previous_at)
                    if previous == page - 1
                    else []
                )
                last, previous, listed = page, page, [issue.number for issue in issues]
                last_at = previous_at = issues.address if isinstance(issues, IssuePage) else None
                ahead = issues.next_address if isinstance(issues, IssuePage) else None
                if page > reached:
                    reached, failures = page, 0
                fetched(page, last_at)
                for issue in chain(moved, issues):
                    if issue.number not in done:
                        yield issue
                if len(issues) < host.page_size or (
                    isinstance(issues, IssuePage) and issues.next_address is None
                ):
                    return  # the listing's last page (a full one has no next address)
                page += 1
        except Gone as err:  # to the listing: Issues are switched off (no retry changes that)
            raise _IssuesOff(str(err)) from err
        except RateLimited as err:
            wait, why = err.wait_s(failures), "GitHub rate limit"
            if failures == retries or wait > max_wait_s:
                raise
        except Unavailable as err:
            if failures == retries:
                raise
            wait = UNAVAILABLE_WAITS_S[min(failures, len(UNAVAILABLE_WAITS_S) - 1)]
            why = f"GitHub unavailable ({err})"
            log.info("%s", err)
        failures += 1
        log.info("waiting %.0f s, then listing again from page %d", wait, last)
        waiting(wait, why)
        sleep(wait)


def _issue_pages(host: RepoHost, first: int, at: str | None) -> Iterator[list[IssueData]]:
    """host.issue_pages("all") from page `first`, asked at its address `at` when there is one (a
    host whose pages have none is asked as it always was)."""
    if at:
        return iter(host.issue_pages("all", first=first, at=at))
    return iter(host.issue_pages("all", first=first))


def _moved_up(
    host: RepoHost,
    page: int,
    before: Sequence[int],
    after: list[IssueData],
    at: str | None = None,
) -> list[IssueData]:
    """Issues that moved up onto `page` after it was listed as `before` (numbers, in listing
    order: issues and pull requests, as the listing gives both), judged by `after`, the page after
    it as listed now. An issue deleted or transferred on or above `page` moves the newest-first
    listing up, and the first issue that was on the next page onto this one, where the listing
    would miss it. Numbers count down the listing, so when `after` starts right after `before`'s
    last issue, or with issues `before` had (opened ones pushed it down), nothing moved up: lists
    `page` again only otherwise (and when `after` is empty), and gives its issues `before` had
    not. That costs one request at a page boundary the numbers skip across even when nothing
    moved (an issue deleted long ago, a Discussion: they share the numbers and are not listed):
    at most one more request a page, and none where the numbers run on. `at`: `page`'s address,
    so that a page past those GitHub gives by number is asked in that one request."""
    if not before or (after and after[0].number >= before[-1] - 1):
        return []
    again = next(_issue_pages(host, page, at), [])
    listed = set(before)
    return [issue for issue in again if issue.number not in listed]


class _Cursor:
    """A repository's backfill in the store (CURSORS): the last page fetched, saved as each page
    arrives, so a backfill that stopped (the task queue's retry after a long outage, a killed
    worker, the CLI run again) starts there instead of at page 1. With the page, the address it was
    asked at (`page_address`), and for the page before it, the issues of which a next part gets
    (`listed`), that one's (`listed_address`): past the pages GitHub gives by number, a resume asks
    those pages in one request each, instead of walking to them from the last numbered page
    (GitHubRepo.issue_pages).

    A part of a queued backfill (`part` given) also keeps its counts there (`totals`): as of each
    page fetched, and of the last issue handled when it stops, with the issues handled since the
    page was fetched. The task queue's retry of the part (the same Part: the totals at the part's
    start) and an hourly resume of it go on from those counts, and skip those issues when the
    listing gives the page again, instead of counting the pages the stopped attempt stored as
    nothing (its counts) or as known (its last page, learned by then). A run without a part (the
    CLI) counts its own issues from the page it resumes at, as it says."""

    def __init__(
        self, ctx: JobContext, repo: str, delivery_id: str | None, resumes: int, part: Part | None
    ) -> None:
        self.table, self.repo, self.part = ctx.store.db.table(CURSORS), repo, part
        row = next(iter(unfinished(ctx.store, repo)), None)
        self.page = int(row["page"]) if row is not None else 1
        self.previous_error: str | None = row["error"] if row is not None else None
        # the issues of the page before `page`, all handled (a part's next part gets them from the
        # part before it), in listing order; kept until a page after `page` is fetched
        self.listed: list[int] = json.loads(row["listed"] or "[]") if row is not None else []
        self.address: str | None = row["page_address"] if row is not None else None
        self.listed_address: str | None = row["listed_address"] if row is not None else None
        self.result = BackfillResult(repo, first_page=self.page)
        self.handled: list[int] = []  # issues handled since `page` was fetched, `result` counts
        saved = _totals(row)
        if part is not None and saved is not None and saved.get("part") == part.saved():
            self.result.first_page = int(saved.get("first_page") or self.page)
            self.result.add(saved.get("counts") or {})
            self.handled = [int(n) for n in saved.get("handled") or []]
        self._kept = self.result.counts()  # as of the last issue handled
        started = float(row["started_at"]) if row is not None else time.time()
        self.started_at = started  # the listing's start, at page 1 (parts and resumes keep it)
        self._save(
            delivery_id=delivery_id,
            status="running",
            started_at=started,
            error=None,
            resumes=resumes,
            retry_at=None,
            listed=json.dumps(self.listed) if self.listed else None,
            totals=self._totals(),
            page_address=self.address,
            listed_address=self.listed_address,
        )

    def fetched(self, page: int, address: str | None = None) -> None:
        """Page `page` arrived, asked at `address` (None: by its number)."""
        if page != self.page:  # the page before it is handled
            self.page, self.listed, self.handled = page, [], []
            self.address, self.listed_address = address, None
            self._save(
                listed=None, totals=self._totals(), page_address=address, listed_address=None
            )
        elif address != self.address:  # asked again, at another address (walked to)
            self.address = address
            self._save(page_address=address)

    def handled_one(self, number: int) -> None:
        """Issue `number` (or a pull request) is handled and counted in `result`."""
        self.handled.append(number)
        self._kept = self.result.counts()

    def stopped(self, err: BaseException) -> None:
        retry_at = time.time() + err.retry_after_s if isinstance(err, RateLimited) else None
        self._save(
            status="stopped",
            error=f"{type(err).__name__}: {err}",
            retry_at=retry_at,
            totals=self._totals(),
        )

    def done(self) -> None:
        self._save(status="done", error=None, listed=None, totals=None, **_NO_ADDRESSES)

    def issues_off(self, err: BaseException) -> None:
        """GitHub answered the listing 410 (Issues switched off): not resumed; the next backfill
        lists from page 1."""
        self.page = 1
        self._save(status=SKIPPED, error=str(err), listed=None, totals=None, **_NO_ADDRESSES)

    def continuing(self, end: _PartDone, after: Part) -> None:
        """This run's part is listed; the next part (a queued job, `after`) starts at `end.page`.
        `end.listed`: the issues of the page before it, all handled (the next part checks that none
        moved up onto it meanwhile, and skips those that opened issues pushed down onto its own);
        with both pages' addresses."""
        self.page, self.listed, self.handled = end.page, end.listed, []
        self.address, self.listed_address = end.address, end.listed_at
        self.part, self.result = after, BackfillResult(self.repo, first_page=end.page)
        self._kept = self.result.counts()
        self._save(
            status=CONTINUING,
            error=None,
            listed=json.dumps(end.listed),
            totals=self._totals(),
            page_address=end.address,
            listed_address=end.listed_at,
        )

    def _totals(self) -> str | None:
        if self.part is None:
            return None
        return json.dumps(
            {
                "part": self.part.saved(),
                "first_page": self.result.first_page,
                "counts": self._kept,
                "handled": self.handled,
            }
        )

    def _save(self, **fields: Any) -> None:
        row = {"repo": self.repo, "page": self.page, "updated_at": time.time(), **fields}
        self.table.upsert(row, pk="repo")


_NO_ADDRESSES: dict[str, Any] = {"page_address": None, "listed_address": None}


def _totals(row: dict[str, Any] | None) -> dict[str, Any] | None:
    """A cursor row's part and its counts (_Cursor), None without them."""
    raw = row.get("totals") if row is not None else None
    try:
        saved = json.loads(raw) if raw else None
    except ValueError:
        return None
    return saved if isinstance(saved, dict) else None


def saved_part(row: dict[str, Any]) -> Part | None:
    """The part of a queued backfill a cursor row is at (its earlier parts' counts), if any."""
    saved = (_totals(row) or {}).get("part")
    if not (isinstance(saved, list) and len(saved) == 3):
        return None
    return Part(*(int(n) for n in saved))


def cursor(store: Store, repo: str) -> dict[str, Any] | None:
    """Where `repo`'s last API backfill got to: status running, stopped, CONTINUING, done or
    SKIPPED (Issues switched off), its page."""
    rows = list(store.db.table(CURSORS).rows_where("repo = ?", [repo]))
    return rows[0] if rows else None


def unfinished(store: Store, repo: str | None = None) -> list[dict[str, Any]]:
    """Backfills (of `repo`, or all) that stopped or whose worker died, recently enough
    (RESUME_WITHIN_S) that the next backfill of that repository resumes at their page. Not one
    GitHub refused for good (SKIPPED: Issues switched off): no resume changes that."""
    where = f"status not in ('done', '{SKIPPED}') and updated_at > ?"
    args: list[Any] = [time.time() - RESUME_WITHIN_S]
    if repo is not None:
        where, args = where + " and repo = ?", [*args, repo]
    return list(store.db.table(CURSORS).rows_where(where, args, order_by="repo"))


def backfill_repo(
    ctx: JobContext,
    host: RepoHost,
    repo: str,
    *,
    progress: Callable[[int], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    delivery_id: str | None = None,
    resumes: int = 0,
    max_pages: int | None = None,
    max_wait_s: float = MAX_RATE_WAIT_S,
    part: Part | None = None,
    waiting: Callable[[float, str], None] = lambda seconds, why: None,
) -> BackfillResult:
    """Store every issue; learn() each closed issue that carries exactly one kind label.
    Raises BackfillBusy when another backfill of `repo` is running (in any process). `resumes`:
    how many automatic resumes in a row this run is (0: a person's or an installation event's).
    `max_pages`: list at most that many pages, then stop with `next_page` set (the cursor says
    CONTINUING) for a next part to go on from; `part`: which part of a queued backfill this run
    is (Part() with `max_pages`, when not given): a run of a part that stopped goes on from its
    counts (_Cursor); without one, the run counts only what it lists. `max_wait_s`: the longest
    rate limit waited out; `waiting(seconds, why)` is told each wait as it starts."""
    if part is None and max_pages:
        part = Part()
    locks, key = Locks(ctx.store, lease_s=LOCK_LEASE_S), lock_key(repo)
    with locks.hold(key, wait_s=0) as got:
        if not got:
            raise BackfillBusy(_busy(ctx.store, repo))
        at = _Cursor(ctx, repo, delivery_id, resumes, part)
        if resumes:
            ctx.store.audit(
                "backfill",
                "resumed",
                f"automatic resume {resumes} of {MAX_AUTO_RESUMES} at page {at.page}, after"
                f" {at.previous_error or 'its process stopped'}",
                task=TASK,
                delivery_id=delivery_id,
                repo=repo,
            )

        def fetched(page: int, address: str | None) -> None:
            if not locks.renew(key):  # paused past its lease, and another backfill took over
                raise BackfillBusy(_busy(ctx.store, repo))
            at.fetched(page, address)

        # a part's pages: a retried one goes on to its own last page, not max_pages past its stop
        until = max(at.page, at.result.first_page + max_pages - 1) if max_pages else None

        def listing(done: set[int]) -> Iterator[IssueData]:
            return _pages(
                host,
                sleep,
                done,
                first=at.page,
                at=at.address,
                before=at.listed,
                before_at=at.listed_address,
                fetched=fetched,
                until=until,
                max_wait_s=max_wait_s,
                waiting=waiting,
            )

        return _backfill(ctx, host, listing, repo, at, progress, delivery_id, part)


def progress_age_s(row: dict[str, Any], now: float | None = None) -> int:
    """Seconds since a cursor row last moved (a page fetched, or a status change)."""
    now = time.time() if now is None else now
    return max(0, round(now - float(row["updated_at"] or 0)))


def _busy(store: Store, repo: str) -> str:
    row = cursor(store, repo)
    where = ""
    if row is not None and row["status"] == "running":
        where = f" (at page {row['page']}, last progress {progress_age_s(row)} s ago)"
    return (
        f"a backfill of {repo} is already running{where}; it carries on by itself. `smolbot"
        " doctor` shows it if it stops; run this again once it has finished or stopped (the lock of"
        f" one whose process died frees itself at most {LOCK_LEASE_S // 60} min after its last"
        " progress)"
    )


def _backfill(
    ctx: JobContext,
    host: RepoHost,
    listing: Callable[[set[int]], Iterator[IssueData]],
    repo: str,
    at: _Cursor,
    progress: Callable[[int], None] | None,
    delivery_id: str | None,
    part: Part | None,
) -> BackfillResult:
    # a part's retry: its counts so far, and the issues of its page it handled before it stopped
    result, done = at.result, {*at.listed, *at.handled}

    def audit(outcome: str, reason: str, **detail: Any) -> None:
        ctx.store.audit(
            "backfill",
            outcome,
            reason,
            task=TASK,
            delivery_id=delivery_id,
            repo=repo,
            detail={**result.summary(), **detail},
        )

    if at.page > 1:
        log.info("%s: backfill from page %d, where it stopped", repo, at.page)
    try:
        cfg = load_repo_config(ctx.store, host, repo, bot_login=ctx.settings.bot_login)
        named: str | None = None  # the repository's name as the listing's issues give it
        for issue in listing(done):
            done.add(issue.number)
            named = repo_of(issue.html_url) or named
            result.seen += 1
            if progress is not None:
                progress(1)
            if issue.is_pull_request:
                result.skipped += 1
            else:
                if ctx.store.upsert_issue(repo, issue_row(issue)):  # else older than the row
                    result.stored += 1
                if issue.state == "closed":
                    _learn(
                        ctx,
                        result,
                        issue.title,
                        issue.body,
                        issue.labels,
                        cfg,
                        issue.created_at,
                        issue.number,
                    )
                else:
                    result.still_open += 1
            at.handled_one(issue.number)
        _unlisted(ctx, host, repo, at.started_at, result, named)  # listed to its end, from page 1
    except BackfillBusy:  # the cursor row is the other backfill's now
        raise
    except _IssuesOff as err:  # what an earlier part stored stays; nothing to resume
        at.issues_off(err)
        result.issues_off = True
        audit(
            "skipped",
            f"{ISSUES_OFF} ({err}): nothing to backfill; a backfill once they are switched on"
            f" (`smolbot backfill {repo}`) lists them",
        )
        return result
    except _PartDone as end:  # this part's pages are in; the caller queues the next part
        part = part or Part()
        at.continuing(end, part.after(result))
        result.next_page = end.page
        audit(
            "continues",
            f"part {part.number}, pages {result.first_page}-{end.page - 1}: {result.stored} issues"
            f" stored, {result.learned} learned{result.known_note}; part {part.number + 1} lists"
            f" from page {end.page} as a queued job, after the model-queue work queued meanwhile",
            part=part.number,
        )
        return result
    except Exception as err:  # what was stored stays; the next backfill starts at at.page
        at.stopped(err)
        audit(
            "stopped",
            f"{err}; {result.stored} issues stored so far, a backfill within a day resumes at"
            f" page {at.page}",
            page=at.page,
        )
        raise
    at.done()
    counts = f"{result.stored} issues stored{_open_note(result)}, {result.learned} learned"
    counts += result.known_note + _gone_note(result)
    if part is not None and part.number > 1:
        whole = part.after(result)
        counts += (
            f" in part {part.number}, from page {result.first_page}; {whole.stored} stored and"
            f" {whole.learned} learned in all {part.number} parts"
        )
    elif result.first_page > 1:
        counts += f", resumed at page {result.first_page}"
    audit("done", "; ".join([counts, *result.explain()[:1]]))
    return result


def _unlisted(
    ctx: JobContext,
    host: RepoHost,
    repo: str,
    since: float,
    result: BackfillResult,
    named: str | None = None,
) -> None:
    """After a listing from page 1 to its end: ask GitHub about the stored issues it did not list
    (last stored before it started, and not known gone), at most MAX_GONE_CHECKS. A 410 marks one
    deleted; an answer for another issue (GitHub's redirect: another number, or another
    repository's) transferred: duplicate search stops offering them. The mark carries the time of
    the check, so only a copy changed after it replaces it. One GitHub still has is stored afresh.
    A 404 (it can pass: an author hidden as spam, a permission briefly lost) leaves the row as it
    is, unchecked, as does an answer from a repository path that is neither `repo` nor `named` (the
    name the listing's issues gave) when the listing gave none. A GitHub error stops the asking:
    the next complete backfill asks again."""
    rows = ctx.store.rows(
        "select number, state from issues where repo = ? and seen_at < ? order by number",
        [repo, since],
    )
    numbers = [int(r["number"]) for r in rows if r["state"] not in GONE_STATES]
    result.unchecked = max(0, len(numbers) - MAX_GONE_CHECKS)
    for at, number in enumerate(numbers[:MAX_GONE_CHECKS]):
        moved = False
        try:
            now: IssueData | None = host.issue(number)
        except Gone:
            now = None
        except Moved:  # the adapter's answer for a 301 to another repository: transferred
            now, moved = None, True
        except NotFound:
            result.unchecked += 1
            continue
        except GitHubError as err:
            log.info("%s: stopped asking about unlisted issues: %s", repo, err)
            result.unchecked += min(len(numbers), MAX_GONE_CHECKS) - at
            return
        where = repo_of(now.html_url) if now is not None else None
        here = where is None or where in {repo.lower(), named}  # named: the repository renamed
        if now is not None and now.number == number and here:
            ctx.store.upsert_issue(repo, issue_row(now))
            continue
        if now is not None and now.number == number and named is None:
            result.unchecked += 1  # another path, and no name from the listing to tell a rename
            continue
        row = ctx.store.issue(repo, number) or {"number": number}
        state = "deleted" if now is None and not moved else "transferred"
        checked = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        ctx.store.upsert_issue(repo, {**_as_issue(row), "state": state, "updated_at": checked})
        result.gone += 1


def _as_issue(row: dict[str, Any]) -> dict[str, Any]:
    """A stored issue row in the shape Store.upsert_issue takes."""
    labels = json.loads(row.get("labels") or "[]")
    return {**row, "labels": labels, "user": {"login": row.get("author") or ""}}


def _gone_note(result: BackfillResult) -> str:
    """The stored issues GitHub no longer has, and those left for the next backfill to ask about."""
    note = f"; {result.gone} no longer on GitHub (deleted or transferred)" if result.gone else ""
    if result.unchecked:
        note += (
            f"; {result.unchecked} more stored issues it did not list are left for the next"
            f" complete backfill to ask GitHub about (at most {MAX_GONE_CHECKS} a run)"
        )
    return note


def _open_note(result: BackfillResult) -> str:
    """Why fewer are learned than stored: the open ones are there for duplicate search."""
    if not result.still_open:
        return ""
    return f" ({result.still_open} open: for duplicate search, only closed issues teach)"


def _learn(
    ctx: JobContext,
    result: BackfillResult,
    title: str,
    body: str,
    labels: Sequence[str],
    cfg: RepoConfig,
    created: object = None,
    number: int | None = None,
) -> bool:
    """Teach one labeled issue (`number`: its number, when it came from the API or is one a
    --from file can be keyed by), or count why it teaches nothing (and which labels it had).
    `learned` counts new examples only: an issue whose text (as the model reads it) an earlier
    issue of this run taught under another label replaces that example, and is counted apart."""
    kind, text = kind_for_labels(labels, cfg), f"{title}\n\n{body or ''}"
    key = Records.example_key(text)
    if kind is None or ctx.models is None:
        why = not_learned_reason(labels, cfg) or "no model layer"
        result.not_learned[why] += 1
        if why == NO_KIND_LABEL:
            result.their_labels.update(labels)
        # what an earlier backfill taught from it (under another label map) goes, not what a
        # labeled twin (the same title and body as the model reads them) taught in this run. Only
        # from the API: a closed issue there that names no kind now lost its kind label (or the
        # map changed), while a --from row's empty label cell only says its label is not known
        if (
            not result.from_file
            and ctx.models is not None
            and key not in result.taught
            and ctx.models.forget_backfilled(result.repo, text, number)
        ):
            result.forgotten += 1
        return False
    if (
        not result.from_file
        and number is not None
        and _bot_s_own(ctx, result.repo, number, kind, labels, cfg)
    ):
        result.not_learned[BOT_S_OWN] += 1
        return False
    again = key in result.taught  # an earlier issue of this run taught this text
    how = ctx.models.learn(
        result.repo, text, kind.value, "backfill", epoch_or_none(created), number
    )
    if how == Learned.KNOWN:
        result.known += 1
    elif how == Learned.OUTRANKED:  # a surer source labeled that text otherwise: that label stays
        result.not_learned["labeled otherwise before by a person"] += 1
        return False
    elif again:  # its label replaced the earlier issue's on their one example: none added
        result.not_learned[SAME_TEXT_RELABELED] += 1
        return False
    else:
        result.learned += 1
    result.taught.add(key)
    return True


def _bot_s_own(
    ctx: JobContext, repo: str, number: int, kind: Kind, labels: Sequence[str], cfg: RepoConfig
) -> bool:
    """Whether every label of the issue that names `kind` is one the bot put there itself (its
    own guess, which no maintainer changed): the classifier would learn from its own answers,
    wrong ones included, as a backfill (which outranks the large model's examples)."""
    naming = [lb for lb in labels if kind in kinds_named([lb], cfg)]
    if not naming:
        return False
    added = ctx.store.labels_added(repo, number)
    return all(lb.casefold() in added for lb in naming)


class _ItemError(ValueError):
    """An item of a file's JSON array that backfill cannot read (errors elsewhere name a line)."""


class _NoLabels(ValueError):
    """A file none of whose rows has a label: refused once read through, nothing learned."""


STDIN = "-"  # `--from -`: the rows come on stdin
# What GitHub takes in an issue, in characters: a longer title or body (a log pasted whole into an
# export) is cut to it when read. Nothing on GitHub is longer, and what reads an issue's text (the
# filters of orders to the bot, an example's form) took minutes and gigabytes over a 22 MB body.
GITHUB_TITLE_MAX = 256
SIZES = (("title", GITHUB_TITLE_MAX), ("body", GITHUB_BODY_MAX))
Cut = Callable[[str, list[str]], None]  # told where a row was cut (FILE:line) and what


def github_sized(row: dict[str, Any]) -> list[str]:
    """Cut `row`'s title and body (text) to what GitHub takes in an issue; which were cut."""
    cut = []
    for key, most in SIZES:
        value = row.get(key)
        if isinstance(value, str) and len(value) > most:
            row[key] = value[:most]
            cut.append(key)
    return cut


def cut_note(where: str, cut: Sequence[str], later: str = "") -> str:
    """What is said, once, of a title or body cut to GitHub's size (`later`: whose else is, not
    said again)."""
    what = " and ".join(cut)
    return (
        f"{where}: the {what} {'is' if len(cut) == 1 else 'are'} longer than GitHub takes in an"
        f" issue (title {GITHUB_TITLE_MAX:,}, body {GITHUB_BODY_MAX:,} characters): cut to that"
        + (f", as {later} (not said again)" if later else "")
    )


def read_labeled_file(
    path: Path, cut: Cut | None = None, numbered: bool = False
) -> Generator[dict[str, Any]]:
    """Rows with title, body, label from a CSV file, JSON lines, or one JSON array of objects
    (`gh issue list --json number,title,body,labels > FILE`), by extension and content; `-` is
    stdin. A title or body longer than GitHub takes is cut to it (github_sized), and `cut(where,
    names)` told of each row cut.

    Raises ValueError, naming what was found, for a CSV header or a first JSON object without
    those columns (an export from another tracker often names them otherwise; a JSON row without a
    label key is a row with no label, as an exporter leaves out a null key, but a file none of
    whose rows has one is refused), a line that is not a JSON object, text that is not UTF-8
    (its line and byte offset), a file that is empty, holds no rows (a CSV header alone, an empty
    JSON array) or is not text at all (a NUL byte in its start: a spreadsheet, a .gz), and, when
    `numbered` (--github-numbers: the numbers key the examples), a row whose `number` is not an
    issue number. A byte-order mark (Excel's "CSV UTF-8") is not part of the first
    column's name, nor of a later line (files joined with cat); a file that starts with UTF-16's
    (PowerShell 5's `>`) is read as UTF-16.
    """
    try:
        for where, row in _read_labeled_file(path):
            if numbered:
                _check_number(where, row)
            names = github_sized(row)
            if names and cut is not None:
                cut(where, names)
            yield row
    except UnicodeDecodeError as err:  # UTF-16's, as it streams: UTF-8 is read line by line
        raise ValueError(
            f"{_shown(path)}: starts as UTF-16 text but is not UTF-16 throughout ({err.reason});"
            " save it as UTF-8, e.g. `iconv -f utf-16 -t utf-8`, and run it again"
        ) from None


def _check_number(where: str, row: dict[str, Any]) -> None:
    """Refuse a row whose `number` is given but is not an issue number (a whole number from 1):
    with --github-numbers it keys the row's example, and -5 was learned by the row's text."""
    raw = row.get("number")
    if raw is None or raw == "" or _number(row) is not None:
        return
    said = f"{where}: number {json.dumps(raw, ensure_ascii=False)} is not an issue number"
    error = _ItemError if where.endswith(" of its JSON array") else ValueError
    raise error(
        f"{said} (GitHub's are whole numbers from 1); fix it, or import without --github-numbers"
        " to learn the rows by their title and body"
    )


def _is_stdin(path: Path) -> bool:
    return str(path) == STDIN


def _shown(path: Path) -> str:
    """`path` as messages name it."""
    return "stdin" if _is_stdin(path) else str(path)


class _Borrowed(io.RawIOBase):
    """A stream read through and left open (stdin: the process's, not the reader's to close)."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        data = getattr(self.stream, "read1", self.stream.read)(len(buf))
        buf[: len(data)] = data
        return len(data)


BINARY_PEEK = 8192  # how much of a --from file's start is looked at for a NUL byte


@contextmanager
def _text_lines(path: Path) -> Iterator[Iterator[str]]:
    """`path`'s lines as text (`-`: stdin's), a byte-order mark at the start of any line left out
    (files joined with cat keep each one's), each ending as in the file (\\n, \\r\\n or a lone
    \\r, which the csv module reads as such). UTF-8 is decoded line by line, so a byte that is not
    UTF-8 is named by its line and its offset in the file; a file that starts with UTF-16's
    byte-order mark (PowerShell 5's `>`) is read as UTF-16; one with a NUL byte in its start is no
    text (a spreadsheet, a .gz: its first byte past ASCII was taken for Latin-1, `iconv` advised).
    Peeked at, not sought back to: a pipe cannot seek."""
    stdin = _is_stdin(path)
    raw = io.BufferedReader(_Borrowed(sys.stdin.buffer)) if stdin else path.open("rb")
    with raw:
        start = raw.peek(BINARY_PEEK)[:BINARY_PEEK]
        if start[:2] in UTF16_BOMS:
            text = io.TextIOWrapper(raw, encoding="utf-16", newline="")
            yield (line.removeprefix("\ufeff") for line in text)
            return
        if b"\0" in start:  # text has none; a spreadsheet, an archive or a .gz has (as grep tells)
            raise ValueError(
                f"{_shown(path)}: not a text file (a NUL byte at offset {start.index(0)}); backfill"
                " reads CSV, JSON lines or a JSON array as UTF-8 text: save a spreadsheet as CSV,"
                " and give a .gz as `--from <(zcat FILE)`"
            )
        yield _utf8_lines(raw, _shown(path))


_LONE_CR = re.compile(rb"(?<=\r)(?!\n)")  # a line break of its own (classic Mac), not of \r\n


def _utf8_lines(raw: BinaryIO, shown: str) -> Iterator[str]:
    """`raw`'s lines as UTF-8 text, or a ValueError naming the line and the file offset of the
    first byte that is not UTF-8 (decoded as it streams, the error's offset was one inside the
    decoder's chunk, and no line was named)."""
    n = offset = 0
    for chunk in raw:  # split at \n
        for line in _LONE_CR.split(chunk) if b"\r" in chunk else (chunk,):
            if not line:
                continue
            n += 1
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as err:
                raise ValueError(
                    f"{shown}:{n}: not UTF-8 text (byte 0x{line[err.start]:02x} at offset"
                    f" {offset + err.start}); save it as UTF-8, e.g. `iconv -f latin1 -t utf-8`,"
                    " and run it again"
                ) from None
            offset += len(line)
            yield text.removeprefix("\ufeff")


def _read_labeled_file(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, row): where is FILE:line, or an item of FILE's JSON array."""
    with _text_lines(path) as fh:
        head = _head(fh)
        first, lines = head[-1] if head else "", chain(head, fh)
        if not first.strip():  # it was read as a CSV with no columns ("the columns are none")
            empty = "stdin is empty" if _is_stdin(path) else f"{path}: the file is empty"
            raise ValueError(
                f"{empty}; backfill reads labeled issues as CSV (a title, body,"
                " label header, then a row each), JSON lines or a JSON array"
            )
        if first.lstrip().startswith("["):  # gh's --json output: one array of objects
            yield from _array_rows(path, "".join(lines))
            return
        if _is_csv(path, first):  # from its header: blank lines before it are no header
            yield from _csv_rows(path, chain(head[-1:], fh), _delimiter(first), len(head) - 1)
            return
        yield from _json_rows(path, lines)


def _json_rows(path: Path, lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """JSON lines' rows. The first must have a title or a body key (as a CSV header: another
    tracker's export is refused, not read through). A row without a label key has no label (an
    exporter leaves a null key out): only a file none of whose rows has one is refused, once read
    through (a pipe cannot be read twice), having taught nothing."""
    shown, first, labeled = _shown(path), None, False
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json_line(line)
        except BadPayload as err:
            raise ValueError(
                f"{shown}:{n}: not a JSON object ({err}); use CSV or JSON lines"
            ) from None
        except json.JSONDecodeError:
            row = None
        if not isinstance(row, dict):
            raise ValueError(f"{shown}:{n}: not a JSON object; use CSV or JSON lines")
        broken = not_text(row)
        if broken:
            raise ValueError(f"{shown}:{n}: {broken}")
        if first is None:
            first = [str(k) for k in row]
            _check_columns(path, first, "keys", label=False)
        row = _keys_lowered(row)
        labeled = labeled or "label" in row or "labels" in row
        yield f"{shown}:{n}", row
    if first is not None and not labeled:
        raise _NoLabels(_no_labels(path, first))


def _no_labels(path: Path, first: list[str]) -> str:
    return (
        f"{_shown(path)}: none of its rows has a label (the first row's keys are"
        f" {', '.join(first) or 'none'}); backfill reads title, body and label (rename the keys of"
        " another tracker's export to these)"
    )


def _csv_rows(
    path: Path, lines: Iterator[str], delimiter: str, skipped: int = 0
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The rows, read strictly: a quote that never closes took the rest of the file as one cell
    (a 2 GB field limit), and the file was reported read. A label column named more than once
    (Jira exports one `Labels` column per label) gives all its cells, comma-separated; a title
    or body named twice is refused, as which one is meant is not guessed. `skipped`: blank lines
    before the header, for the line numbers said."""
    csv.field_size_limit(2**31 - 1)  # issue bodies can exceed the 128 KB default
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    shown, start = _shown(path), 1 + skipped  # the line the row being read starts on
    try:
        header = next(reader, [])
        _check_columns(path, header)
        names = [c.strip().lower() for c in header]
        twice = sorted({c for c in names if names.count(c) > 1} & {"title", "body"})
        if twice:
            raise ValueError(
                f"{shown}: the column {twice[0]} is there {names.count(twice[0])} times; keep one"
            )
        start, rows = reader.line_num + 1 + skipped, 0
        for cells in reader:
            # a blank line is no row (as DictReader reads it), nor the header again (files
            # joined with cat)
            if any(cells) and [c.strip().lower() for c in cells] != names:
                rows += 1
                yield f"{shown}:{start}", _cells_row(names, cells)
            start = reader.line_num + 1 + skipped
        if not rows:  # it said "0 read" and exited 0: an import that taught nothing
            raise ValueError(
                f"{shown}: a header ({', '.join(header)}) and no rows under it: nothing to learn;"
                " export the labeled issues with it"
            )
    except csv.Error as err:
        raise ValueError(
            f"{shown}:{start}: not CSV from this line on ({err}); a quoted field must end with a"
            ' quote, and a quote inside it is written twice ("")'
        ) from None


def _array_rows(path: Path, text: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The objects of a file that is one JSON array, as `gh issue list --json ... > FILE` writes
    it (whole: gh writes it on one line), refused as JSON lines are past MAX_DEPTH. As of JSON
    lines, the first must have a title or a body key, and one at least a label key."""
    shown = _shown(path)
    try:
        items = json_line(text)
    except BadPayload as err:
        raise ValueError(f"{shown}: not a JSON array it can read ({err})") from None
    except json.JSONDecodeError as err:
        raise ValueError(
            f"{shown}:{err.lineno}: not JSON ({err.msg}); a file that starts with [ is read as one"
            " JSON array of issues (gh issue list --json number,title,body,labels > FILE)"
        ) from None
    if not items:  # it said "0 read" and exited 0: an import that taught nothing
        raise ValueError(
            f"{shown}: an empty JSON array, no issues: nothing to learn (gh issue list lists only"
            " open issues and at most 30 unless given --state all and --limit)"
        )
    for at, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise _ItemError(f"{shown}: item {at} of its JSON array is not a JSON object")
        broken = not_text(item)
        if broken:
            raise _ItemError(f"{shown}: item {at} of its JSON array: {broken}")
        if at == 1:  # as a CSV header: another tracker's export is refused, not read through
            _check_columns(path, [str(k) for k in item], "keys", label=False)
            if not any(isinstance(i, dict) and _keys_lowered(i).keys() & LABEL_KEYS for i in items):
                raise _NoLabels(_no_labels(path, [str(k) for k in item]))
        yield f"{shown}: item {at} of its JSON array", _keys_lowered(item)


def _head(fh: Iterator[str]) -> list[str]:
    """The lines up to the first that is not blank, read rather than peeked at and sought back
    to: a pipe (`--from <(zcat export.csv.gz)`, /dev/stdin) cannot seek."""
    head = []
    for line in fh:
        head.append(line)
        if line.strip():
            break
    return head


def _is_csv(path: Path, first: str) -> bool:
    """.json/.jsonl/.ndjson are JSON lines; another name, .csv too, by its first line: `{` starts
    JSON lines (saved as .csv, they were read as CSV and told to rename their columns). A file
    that starts with `[` is one JSON array, whatever its name (_read_labeled_file)."""
    if path.suffix.lower() in (".json", ".jsonl", ".ndjson"):
        return False
    return not first.lstrip().startswith("{")


def _delimiter(header: str) -> str:
    """The header's separator: a comma, else the semicolon of a spreadsheet in a comma-decimal
    locale, a tab or a bar, whichever splits the header into the columns backfill reads."""
    for sep in (",", ";", "\t", "|"):
        names = {c.strip().strip('"').lower() for c in header.split(sep)}
        if names & {"title", "body"} and names & {"label", "labels"}:
            return sep
    return ","


def _cells_row(names: list[str], cells: list[str]) -> dict[str, Any]:
    """A CSV row by its (lower-cased) column names; cells of a name given more than once (the
    label columns) joined with commas, the empty ones left out; cells past the header dropped."""
    row: dict[str, Any] = {}
    for name, cell in zip(names, cells, strict=False):
        if name in row and name in ("label", "labels"):
            row[name] = ",".join(x for x in (row[name], cell) if x.strip())
        else:
            row.setdefault(name, cell)
    return row


def _keys_lowered(row: dict[Any, Any]) -> dict[str, Any]:
    """Title, Body, LABEL: column names in any case (a CSV row's surplus cells have no name)."""
    return {k.strip().lower(): v for k, v in row.items() if isinstance(k, str)}


def _check_columns(
    path: Path, columns: list[str], what: str = "columns", *, label: bool = True
) -> None:
    """Refuse `columns` without title or body, or (`label`: a CSV header) without label."""
    has = {c.strip().lower() for c in columns}
    if has & {"title", "body"} and (has & LABEL_KEYS or not label):
        return
    raise ValueError(
        f"{_shown(path)}: the {what} are {', '.join(columns) or 'none'}; backfill reads title,"
        f" body and label (rename the {what} of another tracker's export to these)"
    )


def backfill_from_file(
    ctx: JobContext,
    repo: str,
    path: Path,
    *,
    progress: Callable[[int], None] | None = None,
    cfg: RepoConfig | None = None,
    note: Callable[[str], None] | None = None,
    github_numbers: bool = False,
) -> BackfillResult:
    """Teach the per-repo classifier from a file instead of the API (no GitHub needed); `-` is
    stdin.

    Labels are read with `cfg`'s label map: by default the repository's last good
    .github/smolbot.yml the store holds (defaults for a repository it has never seen).

    Rows are learned by their title and body: the same file again learns nothing twice. A row's
    `number` keys its example only with `github_numbers` (the file is REPO's own export, `gh
    issue list --json number,title,body,labels`): the example is then issue N's, so an edited row
    replaces its earlier text's, and the issue's later label on GitHub replaces it. Keyed by
    default, another tracker's numbered export (moving from Jira) was taken for REPO's issues:
    a second such file, the API backfill or a maintainer's label of issue #N replaced or forgot
    its rows. Even then, when two rows share one number, the file's numbers are not an issue's,
    and its rows are learned by their text (found before the learning when the file can be read
    twice; a pipe's from the repeat on). `note(text)` is told that, once; that numbers were not
    taken, once; and of a title or body cut to what GitHub takes (read_labeled_file), once."""
    cfg, result = cfg or cached_config(ctx.store, repo), BackfillResult(repo, from_file=True)
    repeat = _repeated_number(path) if github_numbers else None
    keyed, row_of = github_numbers and repeat is None, dict[int, int]()  # number -> its row
    said = _unkeyed(path, *repeat, whole=True) if repeat is not None else ""
    if said and note is not None:
        note(said)
    told: set[str] = set()  # what note() was told of already

    def tell(what: str, text: str) -> None:
        if what not in told and note is not None:
            told.add(what)
            note(text)

    def cut(where: str, names: list[str]) -> None:
        tell("cut", cut_note(where, names, "any later row's is"))

    try:
        for row in read_labeled_file(path, cut, numbered=github_numbers):
            result.seen += 1
            if progress is not None:
                progress(1)
            if not github_numbers and _number(row) is not None:
                tell("numbers", _numbers_not_taken(path, repo))
            number = _number(row) if keyed else None
            if number is not None and number in row_of:  # a pipe, read once: found here
                said = _unkeyed(path, number, row_of[number], result.seen, whole=False)
                keyed, number = False, None
                if note is not None:
                    note(said)
            elif number is not None:
                row_of[number] = result.seen
            title, body = str(row.get("title") or ""), str(row.get("body") or "")
            if not (title or body):
                result.not_learned["no title or body"] += 1
            elif _learn(ctx, result, title, body, _labels(row), cfg, row.get("created_at"), number):
                continue
            result.skipped += 1
    except ValueError as err:  # what was learned stays learned; a second run adds nothing twice
        if result.seen and not isinstance(err, _NoLabels):  # that one teaches nothing
            n, seen = result.learned + result.known, result.seen  # known: learned before
            which = f"{n} of the {seen} issues" if n != seen else f"{n} issue{'s' * (n != 1)}"
            unit = "item" if isinstance(err, _ItemError) else "line"
            err = ValueError(
                f"{err}. {which} before that {unit} {'was' if n == 1 else 'were'} learned; fix it"
                " and run the file again: nothing is learned twice"
            )
        detail = {**result.summary(), **({"numbers": said} if said else {})}
        ctx.store.audit("backfill", "failed", str(err), task=TASK, repo=repo, detail=detail)
        raise err from None
    ctx.store.audit(
        "backfill",
        "done",
        f"{result.learned} labeled issues learned from {_shown(path)}{result.known_note}",
        task=TASK,
        repo=repo,
        detail={**result.summary(), **({"numbers": said} if said else {})},
    )
    return result


def _numbers_not_taken(path: Path, repo: str) -> str:
    """What backfill_from_file says, once, of a file whose rows have numbers it does not key by."""
    return (
        f"{_shown(path)}: its numbers are not taken as {repo}'s issue numbers, so its rows are"
        " learned by their title and body; if it is an export of that repository's own issues"
        " (gh issue list --json number,title,body,labels), --github-numbers keys them by number"
    )


def _repeated_number(path: Path) -> tuple[int, int, int] | None:
    """The first number two rows of `path` share, and those rows, read through once before the
    learning when `path` can be read twice (a pipe or stdin cannot: backfill_from_file finds the
    repeat as it reads). Rows after one it cannot read are not looked at: the learning stops
    there too."""
    if _is_stdin(path) or not path.is_file():
        return None
    row_of: dict[int, int] = {}
    try:
        with closing(read_labeled_file(path)) as rows:
            for at, row in enumerate(rows, 1):
                number = _number(row)
                if number is not None and number in row_of:
                    return number, row_of[number], at
                if number is not None:
                    row_of[number] = at
    except ValueError:
        pass
    return None


def _unkeyed(path: Path, number: int, first: int, again: int, *, whole: bool) -> str:
    """What backfill_from_file says when two rows share a number (rows counted from 1): `whole`,
    found before the learning; else as it read `again`, the rows before it keyed by number."""
    which = "its rows are" if whole else f"from row {again} on, its rows are"
    return (
        f"{_shown(path)}: rows {first} and {again} both have number {number}, so its numbers are"
        f" not taken as issue numbers: {which} learned by their title and body"
    )


def _number(row: dict[str, Any]) -> int | None:
    """A row's issue number, when it has one (`gh issue list --json number,…` gives it): a whole
    number, in JSON or as CSV digits. Anything else is no number: the row still teaches."""
    raw = row.get("number")
    if isinstance(raw, str):
        raw = whole_number(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, int):
        return None
    return raw if 0 < raw < 10**STORE_DIGITS else None


def _labels(row: dict[str, Any]) -> list[str]:
    """A row's labels: `label` (or `labels`), separated by commas or semicolons in a CSV cell or
    a JSON string, or a JSON list of names or of label objects (`gh issue list --json labels`
    gives {"id", "name", ...}: their name)."""
    raw = row.get("label") or row.get("labels")
    items = raw if isinstance(raw, list) else LABEL_SEPARATORS.split(str(raw or ""))
    names = [x.get("name") or "" if isinstance(x, dict) else x for x in items]
    return [str(x).strip() for x in names if str(x).strip()]


def handle_installation_event(ctx: JobContext, delivery_id: str, payload: dict[str, Any]) -> None:
    """installation.created / installation_repositories.added: backfill each new repository.

    With a task queue (ctx.defer) each repository is a `backfill` job on the model queue: a backfill
    lasts minutes, which the fast queue's new-issue events must not wait behind; it lists
    settings.backfill_pages_per_part pages a job, so the model queue's other jobs do not wait long
    either. Without one (the CLI, a test's context) they run here, in turn, to the end."""
    if ctx.github is None:
        raise RuntimeError(NO_GITHUB)
    inst = int((payload.get("installation") or {}).get("id", 0))
    repos = payload.get("repositories") or payload.get("repositories_added") or []
    for item in repos:
        name = str(item["full_name"])
        if ctx.defer is None:
            backfill_installed(ctx, inst, name, delivery_id)
            continue
        kwargs = {"installation_id": inst, "repo": name, "delivery_id": delivery_id}
        if not ctx.defer("backfill", kwargs, f"{delivery_id}:{name}"):
            continue  # the task queue's retry of this event: that job was queued (and audited)
        ctx.store.audit(
            "backfill",
            "queued",
            "a job on the model queue (the worker's log and `smolbot doctor` show its progress)",
            task=TASK,
            delivery_id=delivery_id,
            repo=name,
        )


def backfill_installed(
    ctx: JobContext,
    inst: int,
    name: str,
    delivery_id: str | None,
    queued: bool = False,
    part: Part = Part(),
) -> BackfillResult | None:
    """One repository of an installation event (`queued`: the `backfill` job, which lists
    settings.backfill_pages_per_part pages as `part`, and leaves rate limits over a minute to the
    task queue). The run's result, its `next_page` set when a next part is due; None when the
    event's earlier run had finished it, another backfill holds it, the repository left the
    installation before its job ran, GitHub answered its listing 410 (Issues switched off: the
    last three audited, and the job ends, as no retry changes that), or a part's repository was
    finished meanwhile (by an hourly resume or `smolbot backfill`)."""
    if ctx.github is None:
        raise RuntimeError(NO_GITHUB)
    if queued and ctx.store.installation_for_repo(name) is None:
        why = "the App is no longer installed on it"
        ctx.store.audit("backfill", "skipped", why, task=TASK, delivery_id=delivery_id, repo=name)
        return None
    row = cursor(ctx.store, name)
    # the task queue's retry of this event, or a part whose backfill was finished by another run
    if (
        row is not None
        and row["status"] in ("done", SKIPPED)
        and (row["delivery_id"] == delivery_id or part.number > 1)
    ):
        return None
    try:
        result = backfill_repo(
            ctx,
            ctx.github.repo(inst, name),
            name,
            delivery_id=delivery_id,
            max_pages=ctx.settings.backfill_pages_per_part if queued else None,
            max_wait_s=QUEUED_MAX_RATE_WAIT_S if queued else MAX_RATE_WAIT_S,
            part=part if queued else None,
        )
    except BackfillBusy as err:  # that one stores the same issues; a second would add nothing
        ctx.store.audit(
            "backfill", "skipped", str(err), task=TASK, delivery_id=delivery_id, repo=name
        )
        return None
    return None if result.issues_off else result


def queue_next_part(
    ctx: JobContext, inst: int, result: BackfillResult, delivery_id: str | None, part: Part
) -> bool:
    """Queue the `backfill` job of the part after `part`, keyed by the event, the part and its
    first page: a retry of this part queues it once, and an hourly resume of a chain whose part
    died (a new first page) queues its own. False without a task queue, or when queued before."""
    if ctx.defer is None or result.next_page is None:
        return False
    after = part.after(result)
    kwargs = {"installation_id": inst, "repo": result.repo, "delivery_id": delivery_id}
    key = f"{delivery_id or 'cli'}:{result.repo}:part{after.number}:page{result.next_page}"
    return ctx.defer("backfill", {**kwargs, **after.kwargs()}, key)


@dataclass
class Resumed:
    """What one resume_unfinished() pass did, per repository."""

    finished: list[str] = field(default_factory=list)
    stopped: dict[str, str] = field(default_factory=dict)  # repo -> why it stopped again
    # repo -> why it was not tried now, or was skipped when tried (ISSUES_OFF: not tried again)
    left: dict[str, str] = field(default_factory=dict)
    continuing: dict[str, int] = field(default_factory=dict)  # repo -> next part's first page


def resume_unfinished(
    ctx: JobContext, now: float | None = None, sleep: Callable[[float], None] = time.sleep
) -> Resumed:
    """Resume the backfills that stopped within a day (RESUME_WITHIN_S), each at its page: a rate
    limit longer than a backfill waits, GitHub down past its retries, a CLI run given up, a worker
    killed mid-listing (a running cursor whose lock's lease ran out), an installation event that
    found its repository busy with a backfill that then stopped. The workers' beat runs it hourly.

    A resume keeps the cursor's delivery id: the task queue's own retry of that installation event
    then finds its repository done and lists nothing again. Not tried: before a rate limit's reset,
    while another backfill holds the repository or a queued part's job has yet to run or finish
    (however long the model queue keeps it waiting), when the App is no longer installed on it or
    the installation is suspended, and after MAX_AUTO_RESUMES resumes in a row (doctor lists it)."""
    out, now = Resumed(), time.time() if now is None else now
    if ctx.github is None:
        return out
    suspended = ctx.store.suspended_installations()
    limited: set[int] = set()  # rate limited in this pass: its other repositories wait too
    # with a task queue, each resume lists one part and queues the rest as `backfill` jobs
    max_pages = ctx.settings.backfill_pages_per_part if ctx.defer is not None else None
    parts = _part_jobs(ctx.store)
    for row in unfinished(ctx.store):
        repo = row["repo"]
        inst = ctx.store.installation_for_repo(repo)
        part_job = parts.get(str(repo).lower()) if row["status"] == CONTINUING else None
        why = _not_resumed_because(row, inst, suspended, limited, now, part_job)
        if why:
            out.left[repo] = why
            continue
        assert inst is not None
        try:
            host = ctx.github.repo(inst, repo)
            n = int(row["resumes"] or 0) + 1
            # a queued backfill's part goes on as that part, from its counts; another run as one
            part = saved_part(row) or (Part() if max_pages else None)
            done = backfill_repo(
                ctx,
                host,
                repo,
                sleep=sleep,
                delivery_id=row["delivery_id"],
                resumes=n,
                max_pages=max_pages,
                part=part,
            )
            if done.issues_off:
                out.left[repo] = f"skipped: {ISSUES_OFF}"
            elif done.next_page is None:
                out.finished.append(repo)
            else:
                queue_next_part(ctx, inst, done, row["delivery_id"], part or Part())
                out.continuing[repo] = done.next_page
        except BackfillBusy:  # another process took it between the check and the lock
            out.left[repo] = "another backfill holds it"
        except (GitHubError, AppCredentialsError) as err:  # audited as stopped by the backfill
            out.stopped[repo] = f"{type(err).__name__}: {err}"
            if isinstance(err, RateLimited):
                limited.add(inst)
    if out.finished and ctx.defer is not None:  # new labeled examples: tune the encoder if due
        reason = f"resumed backfill of {len(out.finished)} repositories"
        ctx.defer("tune_encoder", {"reason": reason}, f"resume:{now:.0f}")
    return out


def _part_jobs(store: Store) -> dict[str, str]:
    """The status of the oldest `backfill` job not finished (received, queued or running) of each
    repository, by its name lowercased, as the job names it and as it is named now: a CONTINUING
    cursor row with none waits for no part (it died, or was never recorded). Any of the
    repository's jobs, not only the next part's: each goes on from the row."""
    out: dict[str, str] = {}
    for job in unfinished_runs(store, "backfill"):
        named = str(job["kwargs"].get("repo") or "")
        for name in (named, store.current_repo_name(named)):
            out.setdefault(name.lower(), str(job["status"]))
    return out


def _not_resumed_because(
    row: dict[str, Any],
    inst: int | None,
    suspended: set[int],
    limited: set[int],
    now: float,
    part_job: str | None = None,
) -> str:
    """Why `row`'s backfill is not to be resumed now ('' when it is). `part_job`: the status of
    the unfinished `backfill` job that goes on from a CONTINUING row (_part_jobs): while there is
    one, the row waits for it however long the model queue takes; resumed here as well, the
    repository would be listed by two chains of parts."""
    repo, resumes = row["repo"], int(row["resumes"] or 0)
    recent = now - float(row["updated_at"] or 0) < LOCK_LEASE_S
    if row["status"] == "running" and recent:
        return f"running (last progress {progress_age_s(row, now)} s ago)"
    if row["status"] == CONTINUING and (recent or part_job is not None):
        return f"its next part, from page {row['page']}, is a queued job"
    if resumes >= MAX_AUTO_RESUMES:
        return f"gave up after {resumes} automatic resumes; `smolbot backfill {repo}` resumes it"
    if row["retry_at"] and float(row["retry_at"]) > now:
        return f"rate limited for {float(row['retry_at']) - now:.0f} s more"
    if inst is None:
        return "the App is not installed on it (any more)"
    if inst in suspended:
        return "its installation is suspended"
    if inst in limited:
        return "its installation was rate limited in this pass"
    return ""
