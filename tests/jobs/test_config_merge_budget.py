"""YAML merge keys and aliases in .github/smolbot.yml are read within budgets, whatever PyYAML
is installed: before 6.0.4, nested `<<: [*a, *a, ...]` merges were copied again at every level
(488 bytes seven levels deep: 11 s and 275 MB; nine levels ran out of memory). Such a file is an
invalid config saying why, reported as any other; the anchors and merges a maintainer writes
(a shared label list, defaults merged into a section) still read."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.config import MAX_ALIASES, ConfigError, parse_config
from bot.jobs.repo_config import load_repo_config
from tests.jobs.test_config_nul_etag import BOT, CONFIG, REPO, error_issues, world

__all__ = ["world"]  # the fixture, used below

MERGES = r"found merge keys \(<<\) that bring in more than 1,000 keys"


def bomb(levels: int, width: int = 10) -> str:
    """The reviewer's file: each level merges the one before it `width` times."""
    lines = ["l0: &l0 {k: 1}"]
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} {{<<: [{', '.join([f'*l{i - 1}'] * width)}]}}")
    lines.append(f"triage:\n  <<: *l{levels}\n")
    return "\n".join(lines)


@pytest.mark.parametrize("levels,width,line", [(7, 10, 4), (20, 4, 6)])
def test_a_merge_key_bomb_is_refused_saying_why(levels: int, width: int, line: int) -> None:
    """Refused at the first merge past the budget (`l3` brings in 1,000 keys, and `l5`
    1,024), as PyYAML 6.0.4 reads it too: no timing here, the budget is counted before any
    merge is made."""
    with pytest.raises(ConfigError, match=rf"(?s)not valid YAML: .*{MERGES}.*line {line},"):
        parse_config(bomb(levels, width))


def test_too_many_aliases_are_refused_saying_why() -> None:
    text = "labels: &l [pinned]\n" + "".join(f"k{i}: *l\n" for i in range(MAX_ALIASES + 1))
    with pytest.raises(ConfigError, match=rf"found more than {MAX_ALIASES} aliases \(\*name\)"):
        parse_config(text)


def test_the_bomb_is_reported_as_an_invalid_config(world: Any) -> None:
    state, store, host = world
    state.put_file(REPO, CONFIG, "dry_run: false\n")
    assert load_repo_config(store, host, REPO, bot_login=BOT).from_file
    state.put_file(REPO, CONFIG, bomb(7))

    cfg = load_repo_config(store, host, REPO, bot_login=BOT)

    assert cfg.from_file and not cfg.dry_run  # the last good one
    (issue,) = error_issues(state)
    assert "found merge keys (<<) that bring in more than 1,000 keys" in issue.body


def test_anchors_aliases_and_merges_a_maintainer_writes_still_read() -> None:
    cfg = parse_config(
        "exempt_labels: &keep [pinned, security]\n"
        "lifecycle:\n"
        "  exempt_labels: *keep\n"
        "  days_until_ping: &days 30\n"
        "  days_until_close: *days\n"
        "summaries: &off {enabled: false}\n"
        "digest: {<<: *off, top: 5}\n"
        "triage: {<<: [{enabled: false}, *off], duplicates: false}\n"
    )
    assert cfg.lifecycle.exempt_labels == cfg.exempt_labels == ("pinned", "security")
    assert cfg.lifecycle.days_until_close == 30
    assert not cfg.summaries.enabled and not cfg.digest.enabled and cfg.digest.top == 5
    assert not cfg.triage.enabled and not cfg.triage.duplicates
