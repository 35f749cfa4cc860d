"""Carry out core's Actions on one issue: idempotently, audited, and not at all in dry-run (where
what a live run would skip is skipped as live, by the same reads, and only writes are previewed)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.core.actions import (
    Action,
    AddLabels,
    Close,
    Comment,
    NoOp,
    RemoveLabel,
    UpsertComment,
)
from bot.core.labels import find_label
from bot.core.markers import markers_in, with_marker
from bot.ports import CommentData, IssueData, Locked, RepoHost
from bot.store import Store

log = logging.getLogger(__name__)
LOCKED = "issue is locked: no comment posted"
LOCKED_EDIT = "issue is locked: comment not updated"


@dataclass
class Target:
    """Where actions go and who asked: one issue, one task run."""

    repo: str
    number: int
    task: str
    delivery_id: str | None = None
    dry_run: bool = False
    bot_login: str = "smolbot[bot]"


def _bot_comment_with(comments: Iterable[CommentData], marker: str, bot: str) -> CommentData | None:
    for c in comments:
        if c.author == bot and marker in markers_in(c.body):
            return c
    return None


class Performer:
    """Applies actions to a RepoHost, skipping what is already true, recording every outcome."""

    def __init__(self, host: RepoHost, store: Store, target: Target) -> None:
        self.host, self.store, self.t = host, store, target
        self._comments: list[CommentData] | None = None
        self._labels: set[str] | None = None
        self._issue: IssueData | None = None
        # GitHub refused a comment here because the issue is locked: the others are not tried
        self.locked = False

    def perform(self, actions: Iterable[Action], model: dict[str, Any] | None = None) -> list[str]:
        """Return the outcomes ("done", "skipped", "dry-run") in order."""
        return [self._one(a, model) for a in actions]

    # -- internals -------------------------------------------------------------------------
    def _audit(self, what: str, outcome: str, reason: str, **detail: Any) -> str:
        self.store.audit(
            what,
            outcome,
            reason,
            task=self.t.task,
            delivery_id=self.t.delivery_id,
            repo=self.t.repo,
            number=self.t.number,
            detail={k: v for k, v in detail.items() if v is not None},
        )
        return outcome

    def _existing_comments(self) -> list[CommentData]:
        if self._comments is None:
            self._comments = self.host.comments(self.t.number)
        return self._comments

    def current_labels(self) -> set[str]:
        """The issue's labels as GitHub has them now (read once), updated by this performer."""
        if self._labels is None:
            self._issue = self.host.issue(self.t.number)
            self._labels = set(self._issue.labels)
        return self._labels

    def _known_locked(self) -> bool:
        """Whether the issue is known to be locked (an App's comment is refused there): from
        the issue as read for its labels, or a comment refused so; never an extra read."""
        return self.locked or (self._issue is not None and self._issue.locked)

    def _one(self, action: Action, model: dict[str, Any] | None) -> str:
        if isinstance(action, NoOp):
            return self._audit(action.what, "skipped", action.reason, model=model, **action.detail)
        if isinstance(action, AddLabels):
            return self._add_labels(action, model)
        if isinstance(action, RemoveLabel):
            return self._remove_label(action, model)
        if isinstance(action, Comment | UpsertComment):
            return self._comment(action, model)
        if isinstance(action, Close):
            if self._dry_run(action, model):
                return "dry-run"
            self.host.close(self.t.number, action.state_reason)
            return self._audit(
                "close", "done", action.reason, state_reason=action.state_reason, model=model
            )
        raise TypeError(f"unknown action {action!r}")

    def _dry_run(self, action: Action, model: dict[str, Any] | None) -> bool:
        """In a dry run, audit the write a live run would make now (its checks, all reads, made
        first: what is already true is skipped as live) instead of making it; True then."""
        if not self.t.dry_run:
            return False
        self._audit(action.kind, "dry-run", action.reason, action=_describe(action), model=model)
        return True

    def _add_labels(self, action: AddLabels, model: dict[str, Any] | None) -> str:
        missing = [lb for lb in action.labels if find_label(self.current_labels(), lb) is None]
        if not missing:
            why = _skipped("labels already present", action)
            return self._audit("add_labels", "skipped", why, labels=action.labels, model=model)
        if self._dry_run(action, model):
            self.current_labels().update(missing)  # later actions see them as in a live run
            return "dry-run"
        self.host.add_labels(self.t.number, missing)
        self.current_labels().update(missing)
        return self._audit("add_labels", "done", action.reason, labels=missing, model=model)

    def _remove_label(self, action: RemoveLabel, model: dict[str, Any] | None) -> str:
        present = find_label(self.current_labels(), action.label)  # GitHub ignores case
        if present is None:
            why = _skipped("label not present", action)
            return self._audit("remove_label", "skipped", why, label=action.label, model=model)
        if self._dry_run(action, model):
            self.current_labels().discard(present)
            return "dry-run"
        self.host.remove_label(self.t.number, present)
        self.current_labels().discard(present)
        return self._audit("remove_label", "done", action.reason, label=present, model=model)

    def _comment(self, action: Comment | UpsertComment, model: dict[str, Any] | None) -> str:
        body = with_marker(action.body, action.marker)
        found = _bot_comment_with(self._existing_comments(), action.marker, self.t.bot_login)
        if found is None:
            if self._known_locked():
                return self._not_posted(action, model)
            if self._dry_run(action, model):
                return "dry-run"
            try:
                cid = self.host.create_comment(self.t.number, body)
            except Locked:  # locked since it was read (or not read): the other actions go on
                return self._not_posted(action, model)
            return self._audit(action.kind, "done", action.reason, comment_id=cid, model=model)
        if isinstance(action, Comment):
            why = _skipped("already commented", action)
            return self._audit("comment", "skipped", why, comment_id=found.id, model=model)
        if found.body.strip() == body.strip():
            why = _skipped("comment unchanged", action)
            return self._audit("upsert_comment", "skipped", why, comment_id=found.id, model=model)
        if self._dry_run(action, model):
            return "dry-run"
        try:
            self.host.edit_comment(found.id, body)
        except Locked:
            return self._not_posted(action, model, found.id, LOCKED_EDIT)
        return self._audit(
            "upsert_comment", "done", action.reason, comment_id=found.id, model=model
        )

    def _not_posted(
        self,
        action: Comment | UpsertComment,
        model: dict[str, Any] | None,
        cid: int | None = None,
        cause: str = LOCKED,
    ) -> str:
        """A comment GitHub refuses (or would) because the issue is locked: a decision, audited,
        not a failure to retry (that changes nothing until a maintainer unlocks the issue)."""
        self.locked = True
        why = _skipped(cause, action)
        return self._audit(action.kind, "skipped", why, comment_id=cid, model=model)


def _skipped(cause: str, action: Action) -> str:
    """A skip's cause with the decision it skipped (`labels already present (cautious path: …)`):
    the audit row says why the action was wanted as well as why it was not needed."""
    return f"{cause} ({action.reason})" if action.reason else cause


def _describe(action: Action) -> dict[str, Any]:
    return {k: v for k, v in action.__dict__.items() if k not in ("reason",)}
