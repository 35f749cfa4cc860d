"""Nearest past commits (by the files they touched): few-shot examples and a type vote from the repository's own history."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any

from bot.commits.style import CC_SUBJECT, CC_TYPES


def _features(files: list[str]) -> set[str]:
    feats: set[str] = set()
    for f in files:
        p = PurePosixPath(f)
        feats.add("file:" + f)
        feats.add("name:" + p.name)
        feats.update("dir:" + "/".join(p.parts[: i + 1]) for i in range(len(p.parts) - 1))
    return feats


def neighbours(
    files: list[str], history: list[tuple[str, list[str]]], k: int = 3
) -> list[tuple[float, str]]:
    """(similarity, subject) of the k past commits whose files look most like these, distinct subjects."""
    want = _features(files)
    scored = []
    for rank, (msg, past_files) in enumerate(history):
        if not msg or not past_files or not want:
            continue
        have = _features(past_files)
        score = len(want & have) / len(want | have)
        if score > 0:
            scored.append((-score, rank, msg.splitlines()[0].strip()))
    scored.sort()
    found: list[tuple[float, str]] = []
    for neg, _, subject in scored:
        if all(subject != s for _, s in found):
            found.append((-neg, subject))
        if len(found) == k:
            break
    return found


def similar(files: list[str], history: list[tuple[str, list[str]]], k: int = 3) -> list[str]:
    """Subjects of the k most similar past commits (ties: newest first)."""
    return [s for _, s in neighbours(files, history, k)]


def _votes(files: list[str], history: list[tuple[str, list[str]]], k: int) -> Counter[str]:
    votes: Counter[str] = Counter()
    for score, subject in neighbours(files, history, k):
        m = CC_SUBJECT.match(subject)
        if m and m.group("type") in CC_TYPES:
            votes[m.group("type")] += score  # type: ignore[assignment]
    return votes


def type_vote(files: list[str], history: list[tuple[str, list[str]]], k: int = 7) -> str | None:
    """The Conventional Commits type similar past commits used most (similarity-weighted)."""
    votes = _votes(files, history, k)
    return votes.most_common(1)[0][0] if votes else None


# --- evidence for a draft's confidence --------------------------------------------------------
# Measured on commit-pairs-dev (bench/commits.py --part confidence): when the similar past commits
# mostly used the drafted type, it is the human's type far more often than when they did not.
SUPPORT_VARIABLE = "type_support"  # passed with the prompt's variables, never shown to the model
NO_NEIGHBOURS = 0.5  # no similar past commit with a conventional subject: neither for nor against


def type_shares(
    files: list[str], history: list[tuple[str, list[str]]], k: int = 7
) -> dict[str, float]:
    """Each type's share (0..1) of the similarity-weighted vote of the k most similar past commits."""
    votes = _votes(files, history, k)
    total = sum(votes.values())
    return {t: round(v / total, 4) for t, v in votes.items()} if total else {}


def support_json(shares: dict[str, float], forced: str | None, fallback: str) -> str:
    """What the drafter's check needs: the neighbours' shares, a type the paths force, the rules' type."""
    return json.dumps({"shares": shares, "forced": forced, "fallback": fallback}, sort_keys=True)


def type_check(support: str) -> Callable[[Any], float]:
    """Evidence in [0.5, 1] for a draft: 0.5 + 0.5 x the neighbours' share of the type it ends up with."""
    data = json.loads(support)
    shares: dict[str, float] = data["shares"]

    def check(draft: Any) -> float:
        own = str(getattr(draft, "type", "") or "").strip().lower()
        final = data["forced"] or (own if own in CC_TYPES else data["fallback"])
        share = shares.get(final, 0.0) if shares else NO_NEIGHBOURS
        return 0.5 + 0.5 * share

    return check
