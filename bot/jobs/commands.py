"""Commands job: `/smolbot ...` in a new comment, run only for people with write access."""

from __future__ import annotations

import logging
import re
from typing import Any

from bot.coord.locks import Locks
from bot.core.actions import Comment, NoOp
from bot.core.commands import (
    Command,
    Rejected,
    conflicting_duplicates,
    denial_reason,
    parse_commands,
    web_host,
)
from bot.core.duplicates import close_as_duplicate_actions, marked_duplicate_of
from bot.core.labels import spelled
from bot.jobs.context import JobContext, host_for
from bot.jobs.lifecycle import known_team
from bot.jobs.perform import Performer, Target
from bot.jobs.repo_config import load_repo_config
from bot.jobs.summarize import summarize_issue
from bot.jobs.triage import recheck_after_comment, triage_issue
from bot.ports import IssueData, NotFound, RepoHost, Unavailable

log = logging.getLogger(__name__)
TASK = "commands"
NOT_NEW = "not run: commands run only from new comments"
DELETED = "command comment deleted before it was handled; not run"
EDITED_OUT = "not run: the comment was edited before it was handled and no longer holds it"
REFUSED_MARKER = "commands:duplicate-refused"  # and the command comment's id: one reply each
DUPLICATE_HOPS = 10  # closed duplicates followed to see whether a chain comes back to the issue
DUPLICATE_LOCK_WAIT_S = 30.0  # for another duplicate command of the repository, then retried


def handle_comment_event(ctx: JobContext, delivery_id: str, payload: dict[str, Any]) -> None:
    """Entry point for `issue_comment` deliveries: created runs; edited is audited as not run.
    A reporter's new comment also rechecks the bot's needs-info (recheck_after_comment)."""
    comment = payload.get("comment") or {}
    repo = payload["repository"]["full_name"]
    number = int((payload.get("issue") or {}).get("number", 0))
    audit: dict[str, Any] = {
        "task": TASK,
        "delivery_id": delivery_id,
        "repo": repo,
        "number": number,
    }
    if payload.get("action") not in ("created", "edited"):
        return
    web = web_host((payload.get("repository") or {}).get("html_url"))
    commands, rejected = parse_commands(str(comment.get("body") or ""), repo, web)
    user = comment.get("user") or {}
    author, is_bot = str(user.get("login", "")), user.get("type") == "Bot"
    if (commands or rejected) and (author.lower() == ctx.settings.bot_login.lower() or is_bot):
        if payload.get("action") == "created":
            ctx.store.audit("command", "skipped", f"comment written by a bot ({author})", **audit)
        return
    if payload.get("action") == "edited":  # an old comment: editing it in does not run it
        for cmd in commands:
            ctx.store.audit(f"command.{cmd.verb}", "skipped", NOT_NEW, **audit)
        return
    # the reporter answering the bot's needs-info question in a comment; before the commands,
    # so a retry after a failed read runs none twice
    recheck_after_comment(ctx, delivery_id, payload)
    why: str | None = None
    if commands:  # asked before any row is written: a retry after a 5xx here writes them once
        host = host_for(ctx, payload)
        why = denial_reason(author, host.permission(author), is_bot, ctx.settings.bot_login)
        if why is None:
            now = _as_it_is_now(ctx, host, comment, (commands, rejected), repo, web, audit)
            if now is None:
                return
            commands, rejected = now
    for bad in rejected:
        ctx.store.audit("command", "skipped", f"{bad.why}: {bad.text[:100]}", **audit)
    if not commands:
        return
    on_pr = bool((payload.get("issue") or {}).get("pull_request"))
    commands, targets = conflicting_duplicates(commands, rejected)
    if targets and (why is not None or on_pr):
        ctx.store.audit("command.duplicate", "skipped", why or "not for pull requests", **audit)
    elif targets:
        refuse_duplicates(ctx, host, repo, number, targets, author, delivery_id, comment.get("id"))
    for cmd in commands:
        if why is None and on_pr and cmd.verb in ("retriage", "duplicate"):
            ctx.store.audit(f"command.{cmd.verb}", "skipped", "not for pull requests", **audit)
        elif why is not None:
            ctx.store.audit(f"command.{cmd.verb}", "skipped", why, **audit)
        else:
            run_command(
                ctx,
                host,
                repo,
                number,
                cmd,
                author=author,
                delivery_id=delivery_id,
                installation_id=(payload.get("installation") or {}).get("id"),
                comment_id=comment.get("id"),
            )


def _as_it_is_now(
    ctx: JobContext,
    host: RepoHost,
    comment: dict[str, Any],
    parsed: tuple[list[Command], list[Rejected]],
    repo: str,
    web: str,
    audit: dict[str, Any],
) -> tuple[list[Command], list[Rejected]] | None:
    """The comment's commands as GitHub has the comment now, not as the delivery's copy has
    it: a delivery may be handled late (retried after a 5xx or a rate limit, spooled, replayed),
    after the maintainer deleted the comment (None: nothing runs) or edited the command out or
    in (the current text runs; it is still a new comment's). The commands not run are audited;
    a 5xx or rate limit on the read propagates, retried before any row is written."""
    commands = parsed[0]
    if comment.get("id") is None:  # nothing to read it by
        return parsed
    try:
        body = host.comment(int(comment["id"])).body
    except NotFound:
        for cmd in commands:
            ctx.store.audit(f"command.{cmd.verb}", "skipped", DELETED, **audit)
        return None
    current, rejected = parse_commands(body, repo, web)
    for cmd in (c for c in commands if c not in current):
        ctx.store.audit(f"command.{cmd.verb}", "skipped", EDITED_OUT, **audit)
    return current, rejected


def run_command(
    ctx: JobContext,
    host: RepoHost,
    repo: str,
    number: int,
    cmd: Command,
    *,
    author: str,
    delivery_id: str | None = None,
    installation_id: int | None = None,
    comment_id: int | None = None,
) -> None:
    audit: dict[str, Any] = {
        "task": TASK,
        "delivery_id": delivery_id,
        "repo": repo,
        "number": number,
    }
    if cmd.verb == "retriage":
        ctx.store.unignore_issue(repo, number)
        ctx.store.audit("command.retriage", "done", f"{author} asked to retriage", **audit)
        triage_issue(
            ctx, host, repo, number, trigger="retriage", delivery_id=delivery_id, force=True
        )
    elif cmd.verb == "ignore":
        ctx.store.ignore_issue(repo, number, author)
        ctx.store.audit(
            "command.ignore", "done", f"{author}: the bot leaves this issue alone", **audit
        )
    elif cmd.verb == "duplicate":
        mark_duplicate(ctx, host, repo, number, cmd.target or 0, author, delivery_id, comment_id)
    else:
        summarize(ctx, host, repo, number, author, delivery_id, installation_id)


def mark_duplicate(
    ctx: JobContext,
    host: RepoHost,
    repo: str,
    number: int,
    original: int,
    author: str,
    delivery_id: str | None,
    comment_id: int | None = None,
) -> None:
    """Close as a duplicate of #original, another issue (not a pull request) that exists; the
    maintainer decided, not a model. A refused target gets one short reply per command comment
    (fixed text, no model), so the maintainer knows nothing was closed."""
    perf = _performer(ctx, host, repo, number, delivery_id)
    # one duplicate command of the repository at a time, from its check to its close: crossed
    # commands (#A on #B, #B on #A) hold different issues' locks, and each would pass its cycle
    # check before the other closed, closing both
    key = duplicates_lock_key(ctx.store.current_repo_name(repo))
    locks = Locks(ctx.store, lease_s=ctx.settings.recovery_after_s)
    with locks.hold(key, wait_s=DUPLICATE_LOCK_WAIT_S) as got:
        if not got:
            raise Unavailable(f"another /smolbot duplicate in {repo} is running: retried later")
        why, hint = _refusal(ctx, host, repo, number, original)
        if why is None:
            label = spelled("duplicate", host.labels())
            perf.perform(close_as_duplicate_actions(number, original, author, label))
            return
    _refuse(
        perf,
        f"/smolbot duplicate #{original}: {why}",
        f"#{original} {why}, so this issue was not closed as its duplicate.{hint}",
        f"{author}: #{original} {why}",
        comment_id if comment_id is not None else original,
    )


def duplicates_lock_key(repo: str) -> str:
    return f"duplicates:{repo.lower()}"


def _refusal(
    ctx: JobContext, host: RepoHost, repo: str, number: int, original: int
) -> tuple[str | None, str]:
    """Why #number must not be closed as a duplicate of #original (None: it may), and a hint.
    Read under the repository's duplicates lock, so a close made just before is seen."""
    if original == number:
        return "is this issue itself", ""
    try:
        target = host.issue(original)
    except (NotFound, LookupError):  # rate limits and outages propagate: the task retries
        return "was not found (no such issue in this repository)", ""
    if target.is_pull_request:
        return "is a pull request, not an issue", ""
    between = _duplicates_leading_to(ctx, host, repo, target, number)
    if between is None:
        return None, ""
    via = "".join(f"#{n}, a duplicate of " for n in between)
    hint = f" To close this one in its place, reopen #{original} first."
    return f"is closed as a duplicate of {via}this issue", hint


def _duplicates_leading_to(
    ctx: JobContext, host: RepoHost, repo: str, target: IssueData, number: int
) -> list[int] | None:
    """When the closed issue `target` was closed as a duplicate of #number, or of a closed issue
    that was (a chain of closed duplicates, followed up to DUPLICATE_HOPS): the issues between
    them, [] when it names #number itself. Closing #number as its duplicate would close the
    last open issue of the cycle, and none would be left open for the problem. None when the
    chain reaches an open issue, an issue not marked a duplicate, comes round without #number
    or goes on too long (each step reads an issue and its comments from GitHub)."""
    between: list[int] = []
    seen = {target.number}
    for _ in range(DUPLICATE_HOPS):
        if target.state != "closed":
            return None
        original = _closed_as_duplicate_of(ctx, host, repo, target.number, number)
        if original == number:
            return between
        if original is None or original in seen:
            return None
        seen.add(original)
        between.append(original)
        try:
            target = host.issue(original)
        except (NotFound, LookupError):  # rate limits and outages propagate: the task retries
            return None
    return None


def _closed_as_duplicate_of(
    ctx: JobContext, host: RepoHost, repo: str, closed: int, number: int
) -> int | None:
    """The issue the closed issue #closed was closed as a duplicate of, #number first: the bot's
    own close (its audit, no call to GitHub) when it names #number, else the latest duplicate
    line of a maintainer or the bot in its comments (GitHub's "Duplicate of #N"; the comment
    also outlives a rename, which the audit's repository name does not), else the audit's."""
    sql = (
        "select reason from audit where repo = ? and number = ? and action = 'close'"
        " and outcome = 'done' order by id desc limit 1"
    )
    closes = list(ctx.store.rows(sql, [repo, closed]))
    audited = re.search(r"duplicate of #(\d+)\b", closes[0]["reason"] or "") if closes else None
    if audited and int(audited[1]) == number:
        return number
    team = known_team(ctx.store, repo)
    marked = marked_duplicate_of(host.comments(closed), ctx.settings.bot_login, team)
    return marked if marked is not None or not audited else int(audited[1])


def refuse_duplicates(
    ctx: JobContext,
    host: RepoHost,
    repo: str,
    number: int,
    targets: tuple[str, ...],
    author: str,
    delivery_id: str | None,
    comment_id: int | None = None,
) -> None:
    """One comment naming two or more issues to close this one as a duplicate of: nothing is
    closed (which one was meant is not guessed) and one short reply per comment says so."""
    named = ", ".join(targets)
    why = f"names more than one issue to close this one as a duplicate of ({named})"
    _refuse(
        _performer(ctx, host, repo, number, delivery_id),
        f"/smolbot duplicate: the comment {why}",
        f"That comment {why}, so this issue was not closed. To close it, comment one"
        " `/smolbot duplicate #N`.",
        f"{author}: the comment {why}",
        comment_id if comment_id is not None else "-".join(t[1:] for t in targets if t[0] == "#"),
    )


def _performer(
    ctx: JobContext, host: RepoHost, repo: str, number: int, delivery_id: str | None
) -> Performer:
    cfg = load_repo_config(ctx.store, host, repo, bot_login=ctx.settings.bot_login)
    target = Target(repo, number, TASK, delivery_id, cfg.dry_run, ctx.settings.bot_login)
    return Performer(host, ctx.store, target)


def _refuse(perf: Performer, noop: str, text: str, reason: str, once_per: object) -> None:
    """A refused `/smolbot duplicate`: audited, and one short reply (fixed text, no model) per
    command comment, so the maintainer knows nothing was closed."""
    marker = f"{REFUSED_MARKER}:{once_per}"
    perf.perform([NoOp(noop, "close"), Comment(f"{text} (I am a bot.)", marker, reason)])


def summarize(
    ctx: JobContext,
    host: RepoHost,
    repo: str,
    number: int,
    author: str,
    delivery_id: str | None,
    installation_id: int | None = None,
) -> None:
    """Hand over to the summaries job (on the model queue when there is one); it audits its posts."""
    audit: dict[str, Any] = {
        "task": TASK,
        "delivery_id": delivery_id,
        "repo": repo,
        "number": number,
    }
    why = f"{author} asked for a summary"
    if ctx.store.ignored_by(repo, number) is not None:  # ignore stops the automatic ones only
        why += " (the issue is ignored; a maintainer's explicit request still runs)"
    ctx.store.audit("command.summarize", "done", why, **audit)
    if ctx.defer is not None and installation_id is not None:
        kwargs = {
            "installation_id": installation_id,
            "repo": repo,
            "number": number,
            "requested_by": author,
            "delivery_id": delivery_id,
        }
        ctx.defer("summarize", kwargs, delivery_id)
        return
    summarize_issue(ctx, host, repo, number, delivery_id=delivery_id, requested_by=author)
