"""Triage job: an issue event in, labels / a question / duplicate advice out, every step audited."""

from __future__ import annotations

import logging
import re
import sys
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel, Field

from bot.core.actions import Action, AddLabels, NoOp
from bot.core.config import Kind, RepoConfig
from bot.core.duplicates import Candidate, advice_actions, likely_duplicates, reported_before
from bot.core.labels import find_label, is_untriaged, kind_for_labels, kinds_named, spelled
from bot.core.lifecycle import epoch_or_none, is_bot
from bot.core.markers import markers_in
from bot.core.templates import (
    DEFAULT_NEEDS,
    Need,
    bug_templates,
    needs_from_template,
    pick_bug_template,
    report_gaps,
)
from bot.core.triage import (
    ASK_MARKER,
    IssueSnapshot,
    Verdict,
    asked_items,
    decide_kind,
    exempt_reason,
    first_response_actions,
    given_items,
    info_actions,
    kept_kind_actions,
    label_actions,
    labeled_kinds,
    not_put_back,
    quarantine,
    removed_by_people,
    threshold_for,
    triaged_by_person,
    unchanged_edit,
    visible,
)
from bot.dupes import INDEXES
from bot.dupes.index import GONE
from bot.jobs.backfill import issue_row
from bot.jobs.context import JobContext, host_for, sent_by_bot
from bot.jobs.lifecycle import WRITE_ROLES, load_roles, save_roles
from bot.jobs.perform import Performer, Target
from bot.jobs.repo_config import cached_config, load_repo_config, load_templates
from bot.llm.api import Answer, ModelUnavailable
from bot.llm.zeroshot import about_issue
from bot.ports import CommentData, IssueData, RepoHost

log = logging.getLogger(__name__)
TASK = "triage"
TRIGGERS = ("opened", "reopened", "edited")
PROMPT = "first_response_triage"  # the acknowledgement, with the kind, next steps, related issues
COMMENT_TASK = "comment"  # its task: the `comment` threshold (SMOLBOT_THRESHOLDS) is its bar
EDITED_TRIAGED = "edited, but already triaged"


class FirstResponse(BaseModel):
    """What the first-response prompt must return."""

    comment: str = Field(min_length=1, max_length=2000)


@dataclass
class Classified:
    verdict: Verdict
    record: dict[str, Any] = field(default_factory=dict)


def snapshot(issue: IssueData) -> IssueSnapshot:
    return IssueSnapshot(
        issue.repo,
        issue.number,
        issue.title,
        issue.body or "",
        issue.author,
        tuple(issue.labels),
        issue.state,
        issue.author_type,
    )


def opened_by_bot(ctx: JobContext, login: str, kind: str) -> str | None:
    """Why an issue by `login` (of user type `kind`) is no triage's business: opened by an app
    (a Dependency Dashboard, a CI failure report, this bot's own config-error issue), whose
    author reads no question and needs no kind. None: opened by a person."""
    if is_bot(login.lower(), kind, ctx.settings.bot_login.lower()):
        return f"skipped: opened by a bot ({login})"
    return None


# a quoted line (`> the version you are using`): someone else's words, the bot's ask among them
_QUOTE = re.compile(r"^ {0,3}>.*$", re.MULTILINE)


@dataclass
class Thread:
    """An issue's comments, read from the host at most once and only when a decision needs them.
    `count`: how many comments the issue has (None: not known), so an issue without any is
    never asked for them (the bot's own ask, had it been posted, would be one)."""

    host: RepoHost | None
    number: int
    count: int | None = None
    _read: list[CommentData] | None = None

    def comments(self) -> list[CommentData]:
        if self.host is None or self.count == 0:
            return []
        if self._read is None:
            self._read = self.host.comments(self.number)
        return self._read

    def by_author(self, author: str) -> str:
        """What the issue's author added in comments, as policy reads a report (`visible`:
        hidden HTML comments and text giving the bot orders aside; quoted lines too, as they
        repeat others' words): part of the report when judging what it lacks."""
        if not author:
            return ""
        said = [
            _QUOTE.sub("", visible(c.body))
            for c in self.comments()
            if c.author.lower() == author.lower()
        ]
        return "\n\n".join(t.strip() for t in said if t.strip())


def guarded(ctx: JobContext, issue: IssueSnapshot, delivery_id: str | None) -> IssueSnapshot:
    """The issue with text that gives the bot orders set aside (audited when there was some:
    quarantine strips the text's ends, so what it set aside is counted from the stripped text)."""
    title, body = quarantine(issue.title), quarantine(issue.body)
    dropped = len(issue.title.strip()) + len(issue.body.strip()) - len(title) - len(body)
    if dropped > 0:
        ctx.store.audit(
            "quarantine",
            "done",
            f"{dropped} characters of hidden or bot-directed text set aside",
            task=TASK,
            delivery_id=delivery_id,
            repo=issue.repo,
            number=issue.number,
        )
    return replace(issue, title=title, body=body)


def issue_text(issue: IssueSnapshot) -> str:
    return f"{issue.title}\n\n{issue.body}"


def classify(
    ctx: JobContext, issue: IssueSnapshot, kinds: list[str], threshold: float
) -> Classified:
    """Ask the model layer for one of `kinds`, escalating below `threshold`; no layer or a broken
    model: a cautious no-answer."""
    if ctx.models is None or not kinds:
        return Classified(Verdict(None, 0.0, "no_answer"), {"note": "no model layer configured"})
    try:
        with about_issue(issue.number):
            answer: Answer[Any] = ctx.models.classify(
                task=TASK,
                scope=issue.repo,
                text=issue_text(issue),
                labels=kinds,
                threshold=threshold,
            )
    except ModelUnavailable as err:
        return Classified(Verdict(None, 0.0, "no_answer"), {"note": str(err)})
    label = getattr(answer.value, "label", None)
    verdict = Verdict(label, answer.confidence, answer.status, answer.record.note or "")
    return Classified(verdict, answer.record.as_dict())


def needs_for(
    ctx: JobContext, host: RepoHost | None, repo: str, body: str, cfg: RepoConfig | None = None
) -> tuple[tuple[Need, ...], Any, str]:
    """(needs, template, why): the required fields of the bug template `body` was written from
    (none required: nothing is asked for); several bug templates and the body matches none:
    nothing; no bug template: the default needs. `why`: why there are no needs ("" if some)."""
    templates = bug_templates(load_templates(ctx.store, host, repo), cfg) if host else []
    if not templates:
        return DEFAULT_NEEDS, None, ""
    template = pick_bug_template(templates, body, cfg)
    if template is None:
        why = (
            f"not asking for information: the repository has {len(templates)} bug templates and"
            " the report matches none of them, so which fields it needs is not known"
        )
        return (), None, why
    needs = needs_from_template(template)
    if not needs:
        why = f"not asking for information: the bug template {template.name!r} requires no field"
        return (), template, why
    return needs, template, ""


def gaps(
    report: IssueSnapshot, needs: tuple[Need, ...], template: Any, thread: Thread | None
) -> tuple[tuple[Need, ...], tuple[Need, ...]]:
    """(missing, unread) of report_gaps, the issue author's own comments read as part of the
    report: a need the body lacks but the author gave in the thread is not missing. The
    comments are read only when the body lacks something (and the issue has comments)."""
    missing, unread = report_gaps(report.title, report.body, needs, template)
    if not missing or thread is None:
        return missing, unread
    said = thread.by_author(report.author)
    if not said:
        return missing, unread
    # free text (no template: a comment is not written from one); a need it does not clearly
    # meet, in any language, stays missing
    still, cannot_tell = report_gaps("", said, missing)
    return tuple(n for n in missing if n in still or n in cannot_tell), unread


def find_duplicates(ctx: JobContext, issue: IssueSnapshot, k: int = 5) -> list[Candidate]:
    """The k issues reported before this one most like it: asked of all, as newer ones (a
    reopened issue's copies) would otherwise take the k places."""
    found = INDEXES.similar(
        ctx.store,
        issue.repo,
        ctx.now(),
        issue.title,
        issue.body,
        k=sys.maxsize,
        exclude=issue.number,
    )
    return reported_before(found, issue.number)[:k]


@dataclass
class Plan:
    """Everything triage decided for one issue, grouped by the model record behind it."""

    kind: Kind | None
    classified: Classified
    labels: list[Action]
    info: list[Action]
    missing: tuple[Need, ...]
    candidates: list[Candidate]
    duplicates: list[Action]
    likely: list[Candidate] = field(default_factory=list)  # candidates at or over the threshold
    unread: tuple[Need, ...] = ()  # needs a report not in English could not be judged on


def plan_triage(
    ctx: JobContext,
    host: RepoHost | None,
    issue: IssueSnapshot,
    cfg: RepoConfig,
    repo_labels: list[str],
    *,
    replace: bool = False,
    report: IssueSnapshot | None = None,
    theirs: bool = False,
    thread: Thread | None = None,
) -> Plan:
    """The model reads `issue` (quarantined: no orders to the bot); what a bug report lacks, and
    the duplicate search (TF-IDF, no model), read `report`, the issue as policy reads it
    (`visible`: hidden HTML comments and what only gives the bot orders aside, a report's log
    lines kept; default `issue`), so an injection counts as nothing a report lacks and hides none
    of its logs. What a bug report lacks also reads its author's comments (`thread`, as policy
    reads them), read only when the body lacks something. `theirs`: a needs-triage beside a kind
    label is someone else's, left for a maintainer (kept_kind_actions)."""
    report = report or issue
    thread = thread or Thread(host, issue.number)
    # A kind label already there (a person's, or the issue form's `labels: [bug]`) is kept: the
    # classifier is not asked, and the first-responder work below goes by that kind. Only a
    # maintainer's retriage (`replace`) classifies again and replaces it.
    present, named = labeled_kinds(issue, cfg)
    if present and not replace:
        kind: Kind | None = named[0] if len(named) == 1 else None
        note = f"kind from the issue's label(s) {present}; the classifier was not asked"
        classified = Classified(
            Verdict(kind.value if kind else None, 1.0, "labeled"), {"note": note}
        )
        labels = kept_kind_actions(present, named, issue, cfg, theirs=theirs)
    else:
        # Every kind, also those the repository has no label for: asked to choose among only the
        # labelled ones, the classifier would be sure of a question being a bug in a repository
        # labelling only bugs. A kind without a label gets needs-triage (label_actions).
        kinds = [k.value for k in Kind]
        threshold = threshold_for(cfg, ctx.settings.threshold(TASK))
        classified = classify(ctx, issue, kinds, threshold)
        kind, why = decide_kind(classified.verdict, threshold)
        labels = label_actions(kind, why, issue, repo_labels, cfg, replace=replace)
    missing: tuple[Need, ...] = ()
    unread: tuple[Need, ...] = ()
    no_needs = ""
    if kind is Kind.BUG:
        needs, template, no_needs = needs_for(ctx, host, issue.repo, report.body, cfg)
        missing, unread = gaps(report, needs, template, thread if _reads(issue, cfg) else None)
    ask = _ask_on(ctx, thread, issue, cfg, missing, unread, no_needs) if kind is Kind.BUG else None
    candidates = find_duplicates(ctx, report) if cfg.triage.duplicates else []
    likely = likely_duplicates(candidates, cfg.triage.duplicate_threshold, exclude=issue.number)
    return Plan(
        kind,
        classified,
        labels,
        info_actions(
            kind,
            missing,
            issue,
            cfg,
            replace=replace,
            asked=ask is not None,
            unread=unread,
            no_needs=no_needs,
            asked_for=asked_items(ask.body, needs) if ask else (),
            struck=given_items(ask.body) if ask else (),
        ),
        missing,
        candidates,
        advice_actions(likely, cfg.triage.duplicate_threshold, cfg.triage.duplicates),
        likely,
        unread,
    )


def _ask_on(
    ctx: JobContext,
    thread: Thread,
    issue: IssueSnapshot,
    cfg: RepoConfig,
    missing: tuple[Need, ...],
    unread: tuple[Need, ...],
    no_needs: str,
) -> CommentData | None:
    """The bot's ask for details on a bug report, read (one comments call, shared with the
    author's comments) only when it decides something: details missing and needs-info off (a
    maintainer took it off: not put back; asking switched off: nothing is asked), details
    missing and needs-info on (what the ask listed and the report has now is shown as given
    there), or nothing missing and needs-info on (the bot's own needs-info is taken off, also
    when asking was switched off since; someone else's is left for them)."""
    labeled = find_label(issue.labels, cfg.triage.needs_info_label) is not None
    if not (missing or labeled) or (missing and not cfg.triage.ask_for_missing_info):
        return None
    if not missing and (unread or no_needs):  # needs-info stays whoever set it
        return None
    for c in thread.comments():
        if c.author == ctx.settings.bot_login and ASK_MARKER in markers_in(c.body):
            return c
    return None


def _reads(issue: IssueSnapshot, cfg: RepoConfig) -> bool:
    """Whether what a bug report lacks reads its author's comments: when the bot may ask, or
    may take its needs-info off (asking switched off: no comments read for an ask never made)."""
    labeled = find_label(issue.labels, cfg.triage.needs_info_label) is not None
    return cfg.triage.ask_for_missing_info or labeled


def first_response(
    ctx: JobContext, issue: IssueSnapshot, plan: Plan, cfg: RepoConfig
) -> tuple[list[Action], dict[str, Any] | None]:
    """The model's short acknowledgement, only for opened issues, checked before posting."""
    if not cfg.triage.first_response:
        off = first_response_actions(
            None, issue=issue, related=(), people=(), enabled=False, kind=plan.kind
        )
        return off, None
    if ctx.models is None:
        return [NoOp("no model layer for a first response", "comment")], None
    related = [c.number for c in plan.likely[:3]]  # only what the duplicate advice offers
    variables = {
        "repo": issue.repo,
        "title": issue.title,
        "body": issue.body[:3000],
        "kind": plan.kind.value if plan.kind else "not yet known",
        "next_steps": _next_steps(plan),
        "related": ", ".join(f"#{n}" for n in related) or "none",
    }
    try:
        answer: Answer[Any] = ctx.models.ask(
            COMMENT_TASK, PROMPT, variables, FirstResponse, use_unsure=False
        )
    except ModelUnavailable as err:
        return [NoOp(f"local model unavailable: {err}", "comment")], None
    text = answer.value.comment if answer.ok and answer.value is not None else None
    actions = first_response_actions(
        text, issue=issue, related=related, people=(), enabled=True, kind=plan.kind
    )
    return actions, answer.record.as_dict()


def _next_steps(plan: Plan) -> str:
    if plan.kind is None:
        return "a maintainer will look at it and label it"
    if plan.missing:
        return "the bot asked for missing details; a maintainer will look once they are added"
    return "a maintainer will look at it"


def triage_issue(
    ctx: JobContext,
    host: RepoHost,
    repo: str,
    number: int,
    *,
    trigger: str,
    delivery_id: str | None = None,
    force: bool = False,
    comments: int | None = None,
) -> Plan | None:
    """Fetch, decide, act. force (a maintainer's retriage) also redoes triaged issues.
    comments: how many comments the event's issue had (None: not known); with none then or now,
    the thread is not read for the author's own details."""
    cfg = load_repo_config(ctx.store, host, repo, bot_login=ctx.settings.bot_login)
    repo_labels = host.labels()
    cfg = with_repo_spelling(cfg, repo_labels)
    fetched = host.issue(number)
    ctx.store.upsert_issue(repo, issue_row(fetched))  # fresh copy for duplicate search
    raw = snapshot(fetched)
    count = None if comments is None else max(comments, fetched.comments)
    thread = Thread(host, number, count)  # read at most once, only if a decision needs it
    shown = replace(raw, title=visible(raw.title), body=visible(raw.body))  # what policy reads
    target = Target(repo, number, TASK, delivery_id, cfg.dry_run, ctx.settings.bot_login)
    perf = Performer(host, ctx.store, target)
    skip = _skip_reason(ctx, raw, cfg, trigger, force, delivery_id)
    if skip is not None:
        perf.perform([NoOp(skip, "triage")])
        if skip == EDITED_TRIAGED and find_label(raw.labels, cfg.triage.needs_info_label):
            recheck_info(ctx, host, shown, cfg, perf, thread)
        return None
    if trigger == "edited" and not force and is_untriaged(raw.labels, cfg):
        people = removed_by_people(host.issue_events(number), ctx.settings.bot_login)
        if (why := triaged_by_person(people, cfg)) is not None:
            perf.perform([NoOp(why, "triage")])
            return None
    issue = guarded(ctx, raw, delivery_id)  # what the model reads (audited only for triage)
    theirs = _needs_triage_theirs(ctx, cfg, delivery_id, repo, number)
    plan = plan_triage(
        ctx,
        host,
        issue,
        cfg,
        repo_labels,
        replace=force,
        report=shown,
        theirs=theirs,
        thread=thread,
    )
    if not force and any(isinstance(a, AddLabels) for a in plan.labels):
        # A kind label a maintainer (or another delivery) put on while the model read the issue
        # wins as one there before it would: the plan is made again from the labels as they are
        # now, without the model (no second, contradicting kind; no bug questions on a question).
        now = tuple(sorted(perf.current_labels()))
        if labeled_kinds(replace(raw, labels=now), cfg)[0]:
            issue, shown = replace(issue, labels=now), replace(shown, labels=now)
            plan = plan_triage(
                ctx, host, issue, cfg, repo_labels, report=shown, theirs=theirs, thread=thread
            )
    if trigger != "opened" and not force:  # an edit or a reopen: a person may have been at it
        plan = _without_removed(ctx, host, plan, cfg, perf.current_labels(), number)
    perf.perform(plan.labels, model=plan.classified.record)
    if plan.kind is not None:
        ctx.store.set_issue_kind(repo, number, plan.kind.value)
    perf.perform(plan.info, model=plan.classified.record)
    perf.perform(plan.duplicates, model={"backend": "tfidf", "task": "duplicates"})
    if trigger == "opened":
        actions, record = first_response(ctx, issue, plan, cfg)
        perf.perform(actions, model=record)
    return plan


def with_repo_spelling(cfg: RepoConfig, repo_labels: list[str]) -> RepoConfig:
    """The config with needs-triage and needs-info as the repository spells them (`needs
    triage`): no near-identical twin label is created beside the repository's own."""
    triage = cfg.triage.model_copy(
        update={
            "needs_triage_label": spelled(cfg.triage.needs_triage_label, repo_labels),
            "needs_info_label": spelled(cfg.triage.needs_info_label, repo_labels),
        }
    )
    return cfg.model_copy(update={"triage": triage})


def recheck_info(
    ctx: JobContext,
    host: RepoHost,
    issue: IssueSnapshot,
    cfg: RepoConfig,
    perf: Performer,
    thread: Thread | None = None,
) -> None:
    """An edit to a bug with needs-info, or its author's new comment: drop it once the details
    are there (the body or its author's comments), when it is the bot's own (its ask is on the
    issue); someone else's is left for them (issue: as policy reads it, `visible`, not
    quarantined: log lines are kept)."""
    if kind_for_labels(issue.labels, cfg) is not Kind.BUG:
        return
    thread = thread or Thread(host, issue.number)
    needs, template, no_needs = needs_for(ctx, host, issue.repo, issue.body, cfg)
    missing, unread = gaps(issue, needs, template, thread if _reads(issue, cfg) else None)
    ask = _ask_on(ctx, thread, issue, cfg, missing, unread, no_needs)
    actions = info_actions(
        Kind.BUG,
        missing,
        issue,
        cfg,
        asked=ask is not None,
        unread=unread,
        no_needs=no_needs,
        asked_for=asked_items(ask.body, needs) if ask else (),
        struck=given_items(ask.body) if ask else (),
    )
    perf.perform(actions)


def recheck_after_comment(ctx: JobContext, delivery_id: str, payload: dict[str, Any]) -> None:
    """An issue_comment delivery: the reporter's own new comment on their bug report carrying
    needs-info is an answer as an edit is (the usual one), so needs-info is checked again then
    (recheck_info), not only at the next edit. Nothing is read from GitHub for any other
    comment: who wrote it, whose issue it is and its labels are in the payload."""
    raw, comment = payload.get("issue") or {}, payload.get("comment") or {}
    user = comment.get("user") or {}
    author, kind = str(user.get("login") or ""), str(user.get("type") or "User")
    reporter = str((raw.get("user") or {}).get("login") or "")
    if payload.get("action") != "created" or raw.get("pull_request") or not author:
        return
    if author.lower() != reporter.lower() or opened_by_bot(ctx, author, kind) is not None:
        return
    repo, number = payload["repository"]["full_name"], int(raw.get("number", 0))
    labels = [str(lb.get("name") or "") for lb in raw.get("labels") or [] if isinstance(lb, dict)]
    wanted = spelled(cached_config(ctx.store, repo).triage.needs_info_label, labels)
    if find_label(labels, wanted) is None:
        return
    host = host_for(ctx, payload)
    cfg = load_repo_config(ctx.store, host, repo, bot_login=ctx.settings.bot_login)
    cfg = with_repo_spelling(cfg, host.labels())
    fetched = host.issue(number)
    issue = snapshot(fetched)
    target = Target(repo, number, TASK, delivery_id, cfg.dry_run, ctx.settings.bot_login)
    perf = Performer(host, ctx.store, target)
    skip = _skip_reason(ctx, issue, cfg, "comment", False, delivery_id)
    if skip is not None:
        perf.perform([NoOp(skip, "triage")])
        return
    shown = replace(issue, title=visible(issue.title), body=visible(issue.body))
    # its comments read when a decision needs them (it has one at least: this)
    recheck_info(ctx, host, shown, cfg, perf, Thread(host, number))


def _without_removed(
    ctx: JobContext,
    host: RepoHost,
    plan: Plan,
    cfg: RepoConfig,
    current: set[str],
    number: int,
) -> Plan:
    """The plan less each label it would add that a person took off the issue (its timeline
    says who; read only when the plan adds a label the issue lacks): not put back, audited
    with who (not_put_back). With the kind's label held back the issue got no kind: no bug
    report's details are asked for on it."""
    adds = [
        lb
        for a in plan.labels
        if isinstance(a, AddLabels)
        for lb in a.labels
        if find_label(current, lb) is None
    ]
    if not adds:
        return plan
    people = removed_by_people(host.issue_events(number), ctx.settings.bot_login)
    removed = {lb.casefold(): people[lb.casefold()] for lb in adds if lb.casefold() in people}
    if not removed:
        return plan
    labels, held_kind = not_put_back(plan.labels, removed, cfg.triage.needs_triage_label)
    if not held_kind:
        return replace(plan, labels=labels)
    why = "not asking for information: the kind's label was taken off by a person"
    return replace(plan, kind=None, labels=labels, info=[NoOp(why, "comment")])


def _needs_triage_theirs(
    ctx: JobContext, cfg: RepoConfig, delivery_id: str | None, repo: str, number: int
) -> bool:
    """Whether a needs-triage beside a kind label is someone else's (the issue form's, or a
    person's), left for a maintainer on the opening as on a reopen: the bot never put one on
    the issue, and this delivery's failed attempt put no kind label on (its retry finishes the
    triage it began: needs-triage off)."""
    if _kind_put_on_by(ctx, cfg, delivery_id, repo, number):
        return False
    return cfg.triage.needs_triage_label.casefold() not in ctx.store.labels_added(repo, number)


def _kind_put_on_by(
    ctx: JobContext, cfg: RepoConfig, delivery_id: str | None, repo: str, number: int
) -> bool:
    """Whether handling `delivery_id` put a kind label on the issue already: an earlier attempt
    of it, which failed after that (its retry finishes the triage it began)."""
    if delivery_id is None:
        return False
    return bool(kinds_named(ctx.store.labels_added(repo, number, delivery_id), cfg))


def _skip_reason(
    ctx: JobContext,
    issue: IssueSnapshot,
    cfg: RepoConfig,
    trigger: str,
    force: bool,
    delivery_id: str | None,
) -> str | None:
    if ctx.store.ignored_by(issue.repo, issue.number) is not None:
        return "a maintainer said /smolbot ignore on this issue"
    by_bot = opened_by_bot(ctx, issue.author, issue.author_type)
    if by_bot is not None:  # also when a person edits or reopens it: its author is still an app
        return by_bot
    exempt = exempt_reason(issue, cfg)
    if exempt is not None:
        return exempt
    # a kind label this delivery's own failed attempt put on is no reason: its retry finishes
    # that triage (needs-triage off, the ask for details)
    triaged = trigger == "edited" and not force and not is_untriaged(issue.labels, cfg)
    if triaged and not _kind_put_on_by(ctx, cfg, delivery_id, issue.repo, issue.number):
        return EDITED_TRIAGED
    return None


def handle_issue_event(ctx: JobContext, delivery_id: str, payload: dict[str, Any]) -> None:
    """Entry point for `issues` deliveries: opened / reopened / edited triage, labeled learns."""
    repo, raw = payload["repository"]["full_name"], payload.get("issue") or {}
    action, number = str(payload.get("action")), int(raw.get("number", 0))
    # an issue deleted or moved to another repository is kept as a row that says so: duplicate
    # search stops pointing at it (its link would be a 404 or lead elsewhere)
    ctx.store.upsert_issue(repo, {**raw, "state": action} if action in GONE else raw)
    audit = {"task": TASK, "delivery_id": delivery_id, "repo": repo, "number": number}
    if raw.get("pull_request"):
        ctx.store.audit("triage", "skipped", "pull request", **audit)
    elif sent_by_bot(ctx, payload):
        ctx.store.audit("triage", "skipped", "event caused by a bot", **audit)
    elif action == "labeled":
        learn_from_label(ctx, payload, str((payload.get("label") or {}).get("name", "")), audit)
    elif action == "unlabeled":
        unlearn_label(ctx, payload, str((payload.get("label") or {}).get("name", "")), audit)
    elif action in GONE:
        why = f"issues.{action}: no triage, and no longer offered as a likely duplicate"
        ctx.store.audit("triage", "skipped", why, **audit)
    elif action not in TRIGGERS:
        ctx.store.audit("triage", "skipped", f"issues.{action} needs no triage", **audit)
    elif (by_bot := _opened_by_bot_payload(ctx, raw)) is not None:
        ctx.store.audit("triage", "skipped", by_bot, **audit)  # nothing read from GitHub for it
    elif action == "edited" and (same := unchanged_edit(payload.get("changes"), raw.get("body"))):
        ctx.store.audit("triage", "skipped", same, **audit)
    else:
        count = raw.get("comments")
        triage_issue(
            ctx,
            host_for(ctx, payload),
            repo,
            number,
            trigger=action,
            delivery_id=delivery_id,
            comments=count if isinstance(count, int) else None,
        )


def _opened_by_bot_payload(ctx: JobContext, raw: dict[str, Any]) -> str | None:
    """opened_by_bot for the payload's issue (its `user`): a person's edit or reopening of an
    app's issue is not triaged either."""
    user = raw.get("user") or {}
    return opened_by_bot(ctx, str(user.get("login") or ""), str(user.get("type") or "User"))


def learn_from_label(
    ctx: JobContext, payload: dict[str, Any], label: str, audit: dict[str, Any]
) -> None:
    """A maintainer put a kind label on an issue: a training example for this repository.

    Only a person who can triage the repository teaches: an issue form's `labels: [bug]` is
    applied as its reporter, and a reporter's label is their guess, not a maintainer's. Bots
    never reach here (handle_issue_event skips their events). One permission lookup at most,
    cached per repository with the lifecycle's roles."""
    repo, raw = payload["repository"]["full_name"], payload.get("issue") or {}
    taught = _kind_label_by_triager(ctx, payload, label, audit, "learn")
    if taught is None or ctx.models is None:
        return
    kind, sender = taught
    text = f"{raw.get('title', '')}\n\n{raw.get('body') or ''}"
    number = raw.get("number") if isinstance(raw.get("number"), int) else None
    ctx.models.learn(repo, text, kind.value, "human", epoch_or_none(raw.get("created_at")), number)
    ctx.store.audit("learn", "done", f"{sender} labeled it {label!r} ({kind.value})", **audit)


def unlearn_label(
    ctx: JobContext, payload: dict[str, Any], label: str, audit: dict[str, Any]
) -> None:
    """A person who can triage took a kind label off an issue: what it taught goes (their own
    earlier label, or the large model's answer), so a label taken back is not learned for good.
    A label the issue was given since (the kind it is now) stays."""
    repo, raw = payload["repository"]["full_name"], payload.get("issue") or {}
    taught = _kind_label_by_triager(ctx, payload, label, audit, "unlearn")
    if taught is None or ctx.models is None:
        return
    kind, sender = taught
    number = raw.get("number") if isinstance(raw.get("number"), int) else None
    # the issue's labels now, not the event's: another label for the kind put on since (or
    # before: `type: bug` beside `bug`), or the same one again, handled before this event
    now = host_for(ctx, payload).issue(number).labels if number is not None else []
    if kind in kinds_named(now, cached_config(ctx.store, repo)):
        why = f"{sender} took {label!r} off, but the issue is still labeled {kind.value}"
        ctx.store.audit("unlearn", "skipped", why, **audit)
        return
    text = f"{raw.get('title', '')}\n\n{raw.get('body') or ''}"
    if ctx.models.forget_label(repo, text, number, kind.value):
        why = f"{sender} took {label!r} off: its example ({kind.value}) is forgotten"
        ctx.store.audit("unlearn", "done", why, **audit)
    else:
        why = f"{sender} took {label!r} off; no example of it was learned from this issue"
        ctx.store.audit("unlearn", "skipped", why, **audit)


def _kind_label_by_triager(
    ctx: JobContext, payload: dict[str, Any], label: str, audit: dict[str, Any], what: str
) -> tuple[Kind, str] | None:
    """The kind `label` names and who put it on or took it off, when that teaches (`what`:
    learn or unlearn) at all: a kind label, a model layer, a sender who can triage the
    repository. Else None, audited as skipped with why."""
    repo = payload["repository"]["full_name"]
    kind = kind_of_label(label, ctx, repo)
    if kind is None:
        ctx.store.audit(what, "skipped", f"label {label!r} is not a kind label", **audit)
        return None
    if ctx.models is None:  # a kind label, but nothing to teach: its own reason, not a false one
        why = f"no model layer: not {what}ed (label {label!r})"
        ctx.store.audit(what, "skipped", why, **audit)
        return None
    sender = str((payload.get("sender") or {}).get("login", ""))
    if not sender or not can_triage(ctx, payload, sender):
        why = f"not {what}ed: {sender or 'an unknown sender'} cannot triage {repo}"
        ctx.store.audit(what, "skipped", f"{why} (label {label!r})", **audit)
        return None
    return kind, sender


def can_triage(ctx: JobContext, payload: dict[str, Any], login: str) -> bool:
    """Whether login has triage access or more to the payload's repository: the roles cache
    (lifecycle_roles, a week), else one permission lookup, cached."""
    repo = payload["repository"]["full_name"]
    known = load_roles(ctx.store, repo).get(login)
    if known is not None:
        return known
    ok = host_for(ctx, payload).permission(login) in WRITE_ROLES
    save_roles(ctx.store, repo, {login: ok})
    return ok


def kind_of_label(label: str, ctx: JobContext, repo: str) -> Kind | None:
    """Which kind a repository label stands for, using the last good config's label map."""
    return kind_for_labels([label], cached_config(ctx.store, repo))
