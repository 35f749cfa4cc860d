"""Which issues are "top" this week, and why: pure scoring over issue threads."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from bot.core import lifecycle
from bot.core.config import DEFAULT_WEIGHTS
from bot.core.labels import canon, find_label, spelled
from bot.ports import CommentData, EventData, IssueData

# GitHub's "Duplicate of #N" at the start of a line, or the bot's `/smolbot duplicate` comment
DUPLICATE_OF = re.compile(r"^[ \t]*(?:closing as a )?duplicate of\s+#(\d+)\b", re.I | re.M)
LABEL_SCOPES = ("type", "kind", "t", "c", "area", "category", "topic", "bug", "status")
MAX_WAIT_DAYS = 90  # beyond this, waiting longer adds nothing to the score
# GitHub's reaction kinds as people see them; 👎 and 😕 say "against" or "lost", not "wanted"
REACTION_EMOJI = {
    "+1": "👍", "heart": "❤️", "hooray": "🎉", "rocket": "🚀", "eyes": "👀", "laugh": "😄",
    "-1": "👎", "confused": "😕",
}  # fmt: skip
NOT_INTEREST = frozenset({"-1", "confused"})


@dataclass(frozen=True)
class Note:
    """One comment, reduced to what ranking needs."""

    author: str
    at: datetime
    maintainer: bool = False
    bot: bool = False
    body: str = ""


@dataclass(frozen=True)
class Change:
    """One event (labeled, closed, ...), reduced to what ranking needs."""

    kind: str
    actor: str
    at: datetime
    label: str | None = None
    bot: bool = False


@dataclass(frozen=True)
class Thread:
    """An issue with its comments and events. comments=None: not fetched (only the count known)."""

    number: int
    title: str
    state: str
    author: str
    created_at: datetime
    labels: tuple[str, ...] = ()
    url: str = ""
    closed_at: datetime | None = None
    state_reason: str | None = None
    reactions: int = 0  # all of them, all time
    reaction_counts: tuple[tuple[str, int], ...] = ()  # by kind ("+1": 12); (): only the total
    comment_count: int = 0
    author_maintainer: bool = False
    is_pr: bool = False
    assignees: tuple[str, ...] = ()
    comments: tuple[Note, ...] | None = ()
    events: tuple[Change, ...] = ()

    def has_label(self, word: str) -> bool:
        """A label that names `word` (`security`, `type: security`, `kind/security`,
        `security bug`); not one that only contains it (`security-reviewed`, `not-a-regression`)."""
        names = {word, f"{word} issue", f"{word} bug", *(f"{s} {word}" for s in LABEL_SCOPES)}
        return any(canon(label) in names for label in self.labels)


@dataclass(frozen=True)
class Waiting:
    on: Literal["maintainer", "author"]
    since: datetime

    def days(self, now: datetime) -> int:
        return max(0, (now - self.since).days)


@dataclass(frozen=True)
class Ranked:
    thread: Thread
    score: float
    why: tuple[str, ...]
    waiting: Waiting | None
    duplicates: tuple[int, ...] = field(default=())


def merged_weights(overrides: Mapping[str, float] | None) -> dict[str, float]:
    """Defaults with the repository's overrides for known names (unknown names are ignored)."""
    weights = dict(DEFAULT_WEIGHTS)
    for name, value in (overrides or {}).items():
        if name in weights:
            weights[name] = float(value)
    return weights


def duplicate_links(threads: Iterable[Thread]) -> dict[int, tuple[int, ...]]:
    """original number -> numbers of the closed issues a maintainer or the bot marked its
    duplicate: a line starting "Duplicate of #original" (GitHub's convention), or the bot's
    "Closing as a duplicate of #original". Not any mention ("Not a duplicate of #1"), nor an
    open issue's."""
    links: dict[int, set[int]] = {}
    for t in threads:
        if t.state != "closed":
            continue
        for note in t.comments or ():
            if not (note.maintainer or note.bot):
                continue
            for n in DUPLICATE_OF.findall(note.body):
                if int(n) != t.number:
                    links.setdefault(int(n), set()).add(t.number)
    return {k: tuple(sorted(v)) for k, v in links.items()}


def waiting_state(t: Thread, needs_info_label: str = "needs-info") -> Waiting | None:
    """Who the open issue waits on, and since when; None when closed, a PR, unknown, or waiting on
    nobody. The lifecycle's rule (`bot.core.lifecycle.waiting_on`), so the digest says what the
    sweep and the summaries say: bots' comments and `/smolbot` command comments answer nobody."""
    if t.state != "open" or t.is_pr:
        return None
    if t.comments is None and find_label(t.labels, spelled(needs_info_label, t.labels)) is None:
        return None if t.comment_count else _unanswered(t)
    w = lifecycle.waiting_on(_as_lifecycle(t), "", needs_info_label)
    if w.on == "nobody":
        return None
    return Waiting("author" if w.on == "author" else "maintainer", w.since)


def _as_lifecycle(t: Thread) -> lifecycle.Thread:
    """The thread as the lifecycle reads it (a maintainer's association: MEMBER)."""
    issue = IssueData(
        repo="",
        number=t.number,
        title=t.title,
        body="",
        state=t.state,
        author=t.author,
        labels=list(t.labels),
        created_at=t.created_at.isoformat(),
        updated_at=t.created_at.isoformat(),
        assignees=list(t.assignees),
        author_association="MEMBER" if t.author_maintainer else "NONE",
    )
    comments = tuple(
        CommentData(
            n,
            c.author,
            c.body,
            c.at.isoformat(),
            "Bot" if c.bot else "User",
            author_association="MEMBER" if c.maintainer else "NONE",
        )
        for n, c in enumerate(t.comments or ())
    )
    events = tuple(
        EventData(e.kind, e.actor, e.at.isoformat(), "Bot" if e.bot else "User", label=e.label)
        for e in t.events
    )
    return lifecycle.Thread(issue, comments, events)


def _unanswered(t: Thread) -> Waiting | None:
    return None if t.author_maintainer else Waiting("maintainer", t.created_at)


def interest(t: Thread) -> tuple[int, str]:
    """The reactions that rank an issue, and how the explanation says them: every kind but 👎 and
    😕 (a proposal 40 people voted down is not one 40 people want), all time, as GitHub counts
    them. Without the breakdown (a host that gives the total only) the total, as "N reactions"."""
    if not t.reaction_counts:
        return t.reactions, _plural(t.reactions, "reaction")
    kinds = sorted(((n, k) for k, n in t.reaction_counts if n > 0), key=lambda nk: (-nk[0], nk[1]))
    counted = [(n, REACTION_EMOJI.get(k, k)) for n, k in kinds if k not in NOT_INTEREST]
    left = sum(n for n, k in kinds if k in NOT_INTEREST)
    total = sum(n for n, _ in counted)
    said = f"{total} {counted[0][1]}" if len(counted) == 1 else _plural(total, "reaction")
    notes = [" ".join(f"{n} {e}" for n, e in counted)] if len(counted) > 1 else []
    if left:
        notes.append(f"{left} 👎/😕 not counted")
    return total, said + (f" ({'; '.join(notes)})" if notes else "")


def people(t: Thread, dupes: Iterable[Thread] = ()) -> set[str]:
    """Distinct humans in the thread: author, commenters, and authors of its duplicates."""
    found = {t.author} | {c.author for c in t.comments or () if not c.bot}
    return found | {d.author for d in dupes}


def rank(
    threads: Iterable[Thread],
    since: datetime,
    until: datetime,
    weights: Mapping[str, float] | None = None,
    needs_info_label: str = "needs-info",
    exclude_labels: Iterable[str] = ("digest",),
    waits: Mapping[int, Waiting | None] | None = None,
) -> list[Ranked]:
    """Open issues (no PRs) best first; ties by number. Each carries its explanation.

    waits: who an issue waits on, by number, as the lifecycle decided it from the whole thread
    (None: nobody); an issue not in it gets `waiting_state`."""
    w = merged_weights(weights)
    all_threads = list(threads)
    by_number = {t.number: t for t in all_threads}
    links = duplicate_links(all_threads)
    skip = {lb.casefold() for lb in exclude_labels}
    ranked = [
        _score(
            t,
            [by_number[n] for n in links.get(t.number, ()) if n in by_number],
            since,
            until,
            w,
            needs_info_label,
            waits or {},
        )
        for t in all_threads
        if t.state == "open"
        and not t.is_pr
        and not skip.intersection(lb.casefold() for lb in t.labels)
    ]
    return sorted(ranked, key=lambda r: (-r.score, r.thread.number))


def _score(
    t: Thread,
    dupes: list[Thread],
    since: datetime,
    until: datetime,
    w: Mapping[str, float],
    needs_info_label: str,
    waits: Mapping[int, Waiting | None],
) -> Ranked:
    fresh = sum(1 for c in t.comments or () if since <= c.at < until and not c.bot)
    crowd = len(people(t, dupes))
    waiting = waits[t.number] if t.number in waits else waiting_state(t, needs_info_label)
    wait_days = waiting.days(until) if waiting and waiting.on == "maintainer" else 0
    liked, liked_why = interest(t)
    parts: list[tuple[float, str]] = [
        (w["security"] * t.has_label("security"), "security"),
        (w["regression"] * t.has_label("regression"), "regression"),
        (w["reactions"] * liked, liked_why),
        (w["duplicates"] * len(dupes), _plural(len(dupes), "duplicate")),
        (w["comments"] * fresh, f"{_plural(fresh, 'new comment')} this week"),
        (w["participants"] * crowd, f"{crowd} people" if crowd > 1 else ""),
        (w["new"] * (since <= t.created_at < until), "new this week"),
        (
            w["waiting_days"] * min(wait_days, MAX_WAIT_DAYS),
            f"waiting on a maintainer for {_plural(wait_days, 'day')}",
        ),
    ]
    score = round(sum(value for value, _ in parts), 3)
    why = tuple(text for value, text in parts if value > 0 and text)
    if waiting and waiting.on == "author":
        why += (f"waiting on the author for {_plural(waiting.days(until), 'day')}",)
    return Ranked(t, score, why, waiting, tuple(d.number for d in dupes))


def _plural(n: int, one: str) -> str:
    return f"{n} {one if n == 1 else one + 's'}"
