"""The actions core decides on: the only output decision code produces. Jobs perform them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class AddLabels:
    labels: tuple[str, ...]
    reason: str
    kind: Literal["add_labels"] = "add_labels"


@dataclass(frozen=True)
class RemoveLabel:
    label: str
    reason: str
    kind: Literal["remove_label"] = "remove_label"


@dataclass(frozen=True)
class Comment:
    """A new comment. marker is a hidden id so a re-run finds the comment instead of re-posting."""

    body: str
    marker: str
    reason: str
    kind: Literal["comment"] = "comment"


@dataclass(frozen=True)
class UpsertComment:
    """Create the bot's one comment carrying marker, or edit it in place (summaries, digests)."""

    body: str
    marker: str
    reason: str
    kind: Literal["upsert_comment"] = "upsert_comment"


@dataclass(frozen=True)
class Close:
    reason: str
    state_reason: Literal["completed", "not_planned", "duplicate"] = "not_planned"
    kind: Literal["close"] = "close"


@dataclass(frozen=True)
class NoOp:
    """A decision not to act, kept so the audit log can say why."""

    reason: str
    what: str = "nothing"
    kind: Literal["noop"] = "noop"
    detail: dict[str, object] = field(default_factory=dict, compare=False)


Action = AddLabels | RemoveLabel | Comment | UpsertComment | Close | NoOp

DESTRUCTIVE = ("close",)
