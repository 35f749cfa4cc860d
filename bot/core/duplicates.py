"""Duplicate policy: which similar issues are worth pointing at, and the advisory comment."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.core.actions import Action, AddLabels, Close, Comment, NoOp
from bot.core.lifecycle import on_team
from bot.core.ranking import DUPLICATE_OF
from bot.ports import CommentData

DUPLICATES_MARKER = "triage:duplicates"
MAX_SHOWN = 3
ADVICE_INTRO = "This may have been reported before. Possibly related:"
ADVICE_OUTRO = (
    "If one of these is the same problem, a maintainer can say `/smolbot duplicate #N`. "
    "(I am a bot; I never close issues on my own.)"
)


@dataclass(frozen=True)
class Candidate:
    number: int
    title: str
    state: str  # open | closed
    score: float
    url: str = ""


def reported_before(candidates: Iterable[Candidate], number: int) -> list[Candidate]:
    """The candidates opened before issue `number` (GitHub numbers a repository's issues in
    order), never the issue itself: the advice says "reported before", also on a reopened or
    retriaged issue, whose newer copies (one closed as its duplicate) are not. A number below 1
    is an issue not opened yet (a dry run's): every stored one came before it."""
    return [c for c in candidates if c.number < number or (number < 1 and c.number != number)]


def likely_duplicates(
    candidates: Iterable[Candidate], threshold: float, *, exclude: int, limit: int = MAX_SHOWN
) -> list[Candidate]:
    """Candidates at or above threshold, best first, reported before issue `exclude` (never
    the issue itself, nor one opened after it)."""
    keep = [c for c in reported_before(candidates, exclude) if c.score >= threshold]
    return sorted(keep, key=lambda c: (-c.score, c.number))[:limit]


def _line(c: Candidate) -> str:
    return f"- #{c.number} ({c.state}, similarity {c.score:.2f})"


def advice_actions(likely: list[Candidate], threshold: float, enabled: bool) -> list[Action]:
    """One advisory comment with links and states; never a close."""
    if not enabled:
        return [NoOp("duplicate detection is switched off", "comment")]
    if not likely:
        return [NoOp(f"no similar issue at or above {threshold:.2f}", "comment")]
    lines = "\n".join(_line(c) for c in likely)
    numbers = ", ".join(f"#{c.number}" for c in likely)
    body = f"{ADVICE_INTRO}\n\n{lines}\n\n{ADVICE_OUTRO}"
    return [Comment(body, DUPLICATES_MARKER, f"similar to {numbers} (>= {threshold:.2f})")]


def close_as_duplicate_actions(
    number: int, original: int, by: str, label: str = "duplicate"
) -> list[Action]:
    """What a maintainer's `/smolbot duplicate #N` does: label (`label`: the repository's own
    spelling of duplicate), say so, close as duplicate."""
    if original == number:
        return [NoOp(f"@{by} asked to mark the issue a duplicate of itself", "close")]
    reason = f"{by} marked it a duplicate of #{original}"
    return [
        AddLabels((label,), reason),
        Comment(
            f"Closing as a duplicate of #{original}, as requested by a maintainer.",
            f"triage:duplicate-of:{original}",
            reason,
        ),
        Close(reason, state_reason="duplicate"),
    ]


def marked_duplicate_of(
    comments: Iterable[CommentData], bot_login: str, team: frozenset[str] = frozenset()
) -> int | None:
    """The issue the latest maintainer's or the bot's duplicate line in a thread names (GitHub's
    "Duplicate of #N", or the bot's "Closing as a duplicate of #N"); None when there is none.
    Not anyone else's ("Duplicate of #N" from a passer-by), as in ranking.duplicate_links; who
    is a maintainer as the lifecycle reads it (`team`: a read-only COLLABORATOR is none)."""
    named = None
    for c in comments:
        if c.author == bot_login or on_team(c.author, c.author_association, team):
            found = DUPLICATE_OF.findall(c.body)
            named = int(found[-1]) if found else named
    return named
