"""The sample repository's labeled history (bot/samples/history.jsonl), which the demo backfills."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from bot.core.config import Kind, RepoConfig
from bot.core.labels import kind_for_labels
from bot.llm.tune import MIN_EXAMPLES
from bot.samples import load_sample


def when(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def test_history_is_older_closed_issues_numbered_before_the_sample() -> None:
    plain, full = load_sample(), load_sample(history=True)
    history = full["issues"][: len(full["issues"]) - len(plain["issues"])]
    assert full["issues"][len(history) :] == plain["issues"]
    assert [i["number"] for i in history] == list(range(1, len(history) + 1))
    assert len(history) < min(i["number"] for i in plain["issues"])
    now = when(plain["now"])
    opened = [when(i["created_at"]) for i in history]
    assert opened == sorted(opened)  # numbered in the order they were opened
    assert max(opened) < min(when(i["created_at"]) for i in plain["issues"])
    names = {lb["name"] for lb in plain["labels"]}
    for issue in history:
        assert issue["state"] == "closed" and when(issue["closed_at"]) <= now
        assert when(issue["created_at"]) < when(issue["closed_at"])
        assert issue["title"].strip() and issue["body"].strip()
        (label,) = [lb["name"] for lb in issue["labels"]]
        assert label in names


def test_history_teaches_every_kind_the_sample_labels() -> None:
    full = load_sample(history=True)
    cfg = RepoConfig()
    kinds = Counter(
        kind_for_labels([lb["name"] for lb in i["labels"]], cfg)
        for i in full["issues"]
        if i["state"] == "closed"
    )
    assert all(kinds[k] >= 15 for k in Kind), kinds
    # fewer than start the background encoder tune: the demo keeps its two cores for the loop
    assert sum(kinds[k] for k in Kind) < MIN_EXAMPLES
