"""Nearest past commits (by the files they touched): few-shot examples and a type vote from the repository's own history."""

from __future__ import annotations

from collections import Counter
from pathlib import PurePosixPath

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


def type_vote(files: list[str], history: list[tuple[str, list[str]]], k: int = 7) -> str | None:
    """The Conventional Commits type similar past commits used most (similarity-weighted)."""
    votes: Counter[str] = Counter()
    for score, subject in neighbours(files, history, k):
        m = CC_SUBJECT.match(subject)
        if m and m.group("type") in CC_TYPES:
            votes[m.group("type")] += score  # type: ignore[assignment]
    return votes.most_common(1)[0][0] if votes else None
