"""Summaries job: one summary comment per long thread, cited, checked, updated in place."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from bot.core import summary as S
from bot.core.actions import NoOp, UpsertComment
from bot.core.config import RepoConfig
from bot.core.lifecycle import Thread, Waiting, waiting_on
from bot.core.markers import marker, markers_in
from bot.jobs.context import JobContext, ModelLayer
from bot.jobs.lifecycle import KnownThread, load_roles, load_thread, resolve_team, save_roles
from bot.jobs.perform import LOCKED, Performer, Target
from bot.jobs.repo_config import load_repo_config
from bot.llm.api import ModelUnavailable
from bot.ports import IssueData, RepoHost
from bot.settings import Settings

log = logging.getLogger(__name__)
TASK = "summary"
DRY_RUN = "dry-run: "  # how a summary made but not posted is remembered
# Chunks of a long thread the model reads (S.read_plan: the first and the newest): with a merge
# of their summaries, at most 2 * MAX_CHUNKS - 1 calls, about ten minutes of the local model on
# two CPU cores, where a 400-comment thread made 41 calls. The summary says how many comments
# between were not read.
MAX_CHUNKS = 6


@dataclass
class Written:
    """A summary ready to post (body None: nothing we can stand behind) and how it was made."""

    body: str | None
    how: str
    digest: str
    model: dict[str, Any] | None = None
    problems: tuple[str, ...] = ()
    kind: str = "extractive"  # or "model"


def budget_chars(settings: Settings) -> int:
    """Thread characters per model call: the context minus room for instructions and the answer."""
    return max(1500, (settings.model_context - 1100) * 3)


def write_summary(
    models: ModelLayer | None,
    thread: Thread,
    settings: Settings,
    *,
    use_model: bool = True,
    needs_info: str = "needs-info",
    team: frozenset[str] = frozenset(),
    max_chunks: int = MAX_CHUNKS,
) -> Written:
    """Summarize (in chunks when long, at most max_chunks of them), keep only cited claims, check,
    or fall back to extractive. `needs_info` and `team` (logins that can write, lower case) as the
    lifecycle reads them for the waiting-on line and the entries' roles; without `team`, only the
    comments' author_association marks the team."""
    items = S.entries(thread, settings.bot_login, team=team)
    digest = S.content_hash(items)
    waiting = waiting_for(thread, settings.bot_login, needs_info, team)
    made: Made = (None, "extractive (no model)", None, ())
    if models is not None and use_model:
        try:
            made = _with_model(models, thread, items, budget_chars(settings), max_chunks)
        except ModelUnavailable as err:  # its text (file paths, the operator's fix): not public
            made = (
                None,
                "extractive (local model unavailable)",
                None,
                (f"model unavailable: {err}",),
            )
    summary, how, record, problems = made
    if summary is not None:
        body = S.render(summary, items, waiting, how, digest, "model")
        return Written(body, how, digest, record, kind="model")
    fallback = S.extractive(items)
    check = S.check_summary(fallback, thread, items)
    if not check.ok:
        return Written(
            None,
            "nothing posted: even the extractive text failed the check",
            digest,
            record,
            problems + check.problems,
        )
    body = S.render(fallback, items, waiting, how, digest, "extractive")
    return Written(body, how, digest, record, problems)


Made = tuple[S.ThreadSummary | None, str, dict[str, Any] | None, tuple[str, ...]]


def waiting_for(
    thread: Thread, bot: str, needs_info: str = "needs-info", team: frozenset[str] = frozenset()
) -> Waiting | None:
    """Who the issue waits on, as the lifecycle judges it; None on a pull request, which it does
    not judge: pushes and reviews answer there, and the bot reads neither (the summary says so)."""
    if thread.issue.is_pull_request:
        return None
    return waiting_on(thread, bot, needs_info, team)


def _with_model(
    models: ModelLayer, thread: Thread, items: list[S.Entry], budget: int, max_chunks: int
) -> Made:
    title = thread.issue.title
    parts, unread = S.read_plan(S.chunks(items, budget), max_chunks)
    if len(parts) == 1 and not unread:
        answer = models.ask(TASK, "summary_thread", _vars(title, items), S.ThreadSummary)
        value = answer.value if answer.ok else None
        if value is not None:  # a question answered since is no open one (as the chunks' are)
            value = S.still_open(value, items)
        return _kept(value, thread, items, answer.record.as_dict(), "")
    pieces: list[S.ThreadSummary] = []
    calls: list[dict[str, Any]] = []  # every call's record: the audit's, whether used or not
    writers: list[str] = []  # the model of each piece of text a model really wrote
    for part in parts:
        got = models.ask(TASK, "summary_chunk", _vars(title, part), S.ThreadSummary)
        calls.append(got.record.as_dict())
        kept = S.cited(got.value, part)[0] if got.ok and got.value is not None else None
        if kept is not None and not S.is_empty(kept):
            pieces.append(kept)
            writers.append(got.record.model)
        else:
            pieces.append(S.extractive(part))
    chunks_written = len(writers)
    pieces = [S.still_open(p, items) for p in pieces]  # a piece judged only its own chunk
    merges: list[bool] = []  # one per merge: whether the model wrote it
    while len(pieces) > 1:  # in rounds: each merge prompt within one call's budget
        groups = _groups(pieces, budget)
        if len(groups) == len(pieces):  # no two pieces fit one prompt
            pieces, merges = [S.merge_locally(pieces)], [*merges, False]
            break
        pieces = [
            g[0] if len(g) == 1 else _merge(models, title, g, items, calls, writers, merges)
            for g in groups
        ]
    record = _combined(calls, writers)
    if not writers:  # every piece is the thread's own text: the summary is the extractive one
        return _kept(None, thread, items, record, f" in {len(parts)} chunks")
    note = f" in {len(parts)} chunks, merged" + ("" if any(merges) else " without the model")
    besides = []
    if chunks_written < len(parts):
        besides.append(f"{len(parts) - chunks_written} of the chunks extractive")
    if any(merges) and not all(merges):
        besides.append(f"{merges.count(False)} of {len(merges)} merges without the model")
    if unread:
        besides.append(f"{unread} comments between the first chunk and the newest not read")
    if besides:
        note += f" ({'; '.join(besides)})"
    return _kept(pieces[0], thread, items, record, note)


def _merge(
    models: ModelLayer,
    title: str,
    group: list[S.ThreadSummary],
    items: list[S.Entry],
    calls: list[dict[str, Any]],
    writers: list[str],
    merges: list[bool],
) -> S.ThreadSummary:
    """One summary of consecutive pieces: the model's (grounded in the thread when the summary is
    whole), else merge_locally's."""
    got = models.ask(
        TASK, "summary_merge", {"title": _one_line(title), "parts": _json(group)}, S.ThreadSummary
    )
    calls.append(got.record.as_dict())
    merges.append(got.ok and got.value is not None and not S.is_empty(got.value))
    if got.value is None or not merges[-1]:
        return S.merge_locally(group)
    writers.append(got.record.model)
    return S.still_open(got.value, items)


def _groups(pieces: list[S.ThreadSummary], budget: int) -> list[list[S.ThreadSummary]]:
    """Consecutive pieces whose JSON, as the merge prompt shows it, fits budget characters (a
    piece's list brackets are as long as the separators between pieces)."""
    return S.packed(pieces, lambda p: len(_json([p])), budget)


def _json(pieces: list[S.ThreadSummary]) -> str:
    return json.dumps([p.model_dump() for p in pieces], ensure_ascii=False)


def _combined(calls: list[dict[str, Any]], writers: list[str]) -> dict[str, Any]:
    """One record of a long thread's calls for the summary's audit row: the models whose text
    it holds, and escalated when any call was (the digest counts escalations from the audit)."""
    return {
        "task": TASK,
        "backend": ", ".join(dict.fromkeys(c["backend"] for c in calls)),
        "model": ", ".join(dict.fromkeys(writers)),
        "prompt_version": ", ".join(dict.fromkeys(c["prompt_version"] for c in calls)),
        "confidence": min(c["confidence"] for c in calls),
        "escalated": any(c["escalated"] for c in calls),
        "latency_ms": sum(c["latency_ms"] for c in calls),
        "tokens_in": sum(c["tokens_in"] for c in calls),
        "tokens_out": sum(c["tokens_out"] for c in calls),
        "cache_hit": all(c["cache_hit"] for c in calls),
        "note": f"{len(calls)} calls",
    }


def _vars(title: str, part: list[S.Entry]) -> dict[str, str]:
    return {"title": _one_line(title), "thread": S.as_prompt_text(part), "count": str(len(part))}


def _one_line(title: str) -> str:
    """The title on its own line of the prompt: a line break in it (GitHub keeps them; a lone
    carriage return, U+2028 are line breaks to a model) would let it write a line that reads as
    a `[n] login (role):` entry header ahead of the thread. Every run of whitespace is one space."""
    return " ".join(title.split())


def _kept(
    value: S.ThreadSummary | None,
    thread: Thread,
    items: list[S.Entry],
    record: dict[str, Any],
    note: str,
) -> Made:
    """Check the model's raw answer, then keep only the claims grounded in the thread."""
    if value is None:
        return None, f"extractive (the model gave no valid answer{note})", record, ()
    check = S.check_summary(value, thread, items)
    if not check.ok:
        return None, "extractive (the model's text failed the check)", record, check.problems
    kept, dropped = S.cited(value, items)
    if S.is_empty(kept):
        return (
            None,
            f"extractive (no claim of the model's was found in the thread{note})",
            record,
            (),
        )
    why = S.extractive_instead(kept, dropped, S.extractive(items))
    if why is not None:
        return None, f"extractive ({why}{note})", {**record, "fallback": why}, ()
    kept = S.owned_state(kept, items)
    extra = f"; {dropped} ungrounded claims dropped" if dropped else ""
    return kept, f"written by {record.get('model') or 'the local model'}{note}{extra}", record, ()


# -- the job ---------------------------------------------------------------------------------
def summarize_issue(
    ctx: JobContext,
    host: RepoHost,
    repo: str,
    number: int,
    *,
    delivery_id: str | None = None,
    requested_by: str | None = None,
    force: bool = False,
    thread: Thread | None = None,
    cfg: RepoConfig | None = None,
) -> str:
    """Post or update the issue's one summary comment. Returns the Performer's outcome."""
    cfg = cfg or load_repo_config(ctx.store, host, repo, bot_login=ctx.settings.bot_login)
    target = Target(repo, number, TASK, delivery_id, cfg.dry_run, ctx.settings.bot_login)
    if not cfg.summaries.enabled and requested_by is None:
        return Performer(host, ctx.store, target).perform(
            [NoOp("summaries disabled", what="summary")]
        )[0]
    thread = thread or load_thread(host, number)
    if thread.issue.locked:  # GitHub refuses the App's comment there: no model call for it
        return _locked(ctx, host, target, requested_by)
    bot, needs_info = ctx.settings.bot_login, cfg.triage.needs_info_label
    current, kind, posted = _current(thread, bot)
    roles = load_roles(ctx.store, repo)  # as the lifecycle: private org members are team too
    team, lookups = resolve_team(host, thread, bot, roles)
    if lookups:
        save_roles(ctx.store, repo, roles)
    items = S.entries(thread, bot, team=team)
    # the wait changes with no comment (a label, an assignment, a close): the posted line is
    # compared with today's, so an unchanged thread still gets a current Waiting-on line
    wait = S.waiting_text(waiting_for(thread, bot, needs_info, team))
    unchanged = current == S.content_hash(items) and not force
    # asked for, an extractive summary is redone: the model it fell back from may be back
    redo = requested_by is not None and kind != "model" and ctx.models is not None
    if unchanged and not redo:
        why = "the thread has not changed"
        return _unchanged(ctx, host, target, thread, current, (posted, wait), why)
    written = write_summary(ctx.models, thread, ctx.settings, needs_info=needs_info, team=team)
    if unchanged and written.kind == kind:
        why = "the thread has not changed, and the model still gave no summary"
        return _unchanged(
            ctx, host, target, thread, current, (posted, wait), why, model=written.model
        )
    if written.body is None:
        why = f"{written.how}: {'; '.join(written.problems)}"
        noop = NoOp(why, what="summary")
        return Performer(host, ctx.store, target).perform([noop], model=written.model)[0]
    who = f" (asked by {requested_by})" if requested_by else ""
    rejected = f"; rejected: {'; '.join(written.problems)}" if written.problems else ""
    reason = f"thread summary{who}: {written.how}{rejected}"
    action = UpsertComment(written.body, S.SUMMARY_MARK, reason)
    view: Any = KnownThread(host, thread, fresh_comments=True)  # another run may have posted
    perf = Performer(view, ctx.store, target)
    outcome = perf.perform([action], model=written.model)[0]
    if perf.locked:  # locked since the thread was read: nothing posted, nothing to remember
        return outcome
    how = DRY_RUN + written.how if outcome == "dry-run" else written.how
    _remember(ctx, thread.issue, written.digest, how)
    return outcome


def _locked(ctx: JobContext, host: RepoHost, target: Target, requested_by: str | None) -> str:
    """A summary not written for a locked issue: GitHub would refuse its comment."""
    who = f" (asked by {requested_by})" if requested_by else ""
    noop = NoOp(f"{LOCKED}{who}", what="summary")
    return Performer(host, ctx.store, target).perform([noop])[0]


def _unchanged(
    ctx: JobContext,
    host: RepoHost,
    target: Target,
    thread: Thread,
    digest: str | None,
    waits: tuple[str | None, str],
    why: str,
    *,
    model: dict[str, Any] | None = None,
) -> str:
    """A summary whose claims still stand: left as it is, or, when the wait changed since it was
    posted (`waits`: the posted summary and today's Waiting-on line), its Waiting-on line alone
    rewritten, with no model call."""
    posted, wait = waits
    if posted is None or S.waiting_in(posted) == wait:
        return _up_to_date(ctx, host, target, thread, digest, why, model=model)
    reason = f"thread summary: the Waiting-on line brought up to date ({why})"
    own = posted.rstrip().removesuffix(marker(S.SUMMARY_MARK))  # the Performer adds it again
    action = UpsertComment(S.with_waiting(own.rstrip(), wait), S.SUMMARY_MARK, reason)
    view: Any = KnownThread(host, thread, fresh_comments=True)  # another run may have posted
    perf = Performer(view, ctx.store, target)
    outcome = perf.perform([action], model=model)[0]
    if not perf.locked:
        how = "waiting-on line updated"
        _remember(ctx, thread.issue, digest, DRY_RUN + how if outcome == "dry-run" else how)
    return outcome


def _up_to_date(
    ctx: JobContext,
    host: RepoHost,
    target: Target,
    thread: Thread,
    digest: str | None,
    why: str,
    *,
    model: dict[str, Any] | None = None,
) -> str:
    """A NoOp row for a summary left as it is; `model`: the record of the model asked again."""
    _remember(ctx, thread.issue, digest, "unchanged")
    same = NoOp(f"summary up to date: {why}", what="summary")
    return Performer(host, ctx.store, target).perform([same], model=model)[0]


def _current(thread: Thread, bot: str) -> tuple[str | None, str | None, str | None]:
    """The thread's hash and the kind of summary its summary comment marks, and its body."""
    for c in thread.comments:
        if c.author == bot and S.SUMMARY_MARK in markers_in(c.body):
            return S.summary_hash_in(c.body), S.summary_kind_in(c.body), c.body
    return None, None, None


def _remember(ctx: JobContext, issue: IssueData, digest: str | None, how: str) -> None:
    row = {
        "repo": issue.repo,
        "number": issue.number,
        "content_hash": digest,
        "how": how,
        "seen_updated_at": issue.updated_at,
        "updated_at": time.time(),
    }
    ctx.store.db.table("summaries").upsert(row, pk=("repo", "number"), alter=True)


def auto_summarize(
    ctx: JobContext, host: RepoHost, issue: IssueData, thread: Thread | None, cfg: RepoConfig
) -> bool:
    """The sweep's hook: summarize threads past summaries.auto_after_comments that changed."""
    if not cfg.summaries.enabled or issue.comments < cfg.summaries.auto_after_comments:
        return False
    rows = list(
        ctx.store.db.table("summaries").rows_where(
            "repo = ? and number = ?", [issue.repo, issue.number]
        )
    )
    if rows and rows[0].get("seen_updated_at") == issue.updated_at and not _unposted(rows[0], cfg):
        return False
    thread = thread or load_thread(host, issue.number, issue)
    people = len(S.entries(thread, ctx.settings.bot_login)) - 1  # the bot's comments don't count
    if people < cfg.summaries.auto_after_comments:
        _remember(ctx, issue, rows[0]["content_hash"] if rows else None, "too short")
        return False
    outcome = summarize_issue(ctx, host, issue.repo, issue.number, thread=thread, cfg=cfg)
    return outcome in ("done", "dry-run")


def _unposted(row: dict[str, Any], cfg: RepoConfig) -> bool:
    """A summary made in dry-run, never posted, now that the repository is out of dry-run."""
    return str(row.get("how") or "").startswith(DRY_RUN) and not cfg.dry_run
