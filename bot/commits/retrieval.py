"""Nearest past commits (by the files they touched) as few-shot examples from the repository's own history."""

from __future__ import annotations

from pathlib import PurePosixPath


def _features(files: list[str]) -> set[str]:
    feats: set[str] = set()
    for f in files:
        p = PurePosixPath(f)
        feats.add("file:" + f)
        feats.add("name:" + p.name)
        feats.update("dir:" + "/".join(p.parts[: i + 1]) for i in range(len(p.parts) - 1))
    return feats


def similar(files: list[str], history: list[tuple[str, list[str]]], k: int = 3) -> list[str]:
    """Subjects of the k past commits whose changed files look most like these (ties: newest first)."""
    want = _features(files)
    if not want:
        return []
    scored = []
    for rank, (msg, past_files) in enumerate(history):
        if not msg or not past_files:
            continue
        have = _features(past_files)
        score = len(want & have) / len(want | have)
        if score > 0:
            scored.append((-score, rank, msg.splitlines()[0].strip()))
    scored.sort()
    seen: list[str] = []
    for _, _, subject in scored:
        if subject not in seen:
            seen.append(subject)
        if len(seen) == k:
            break
    return seen
