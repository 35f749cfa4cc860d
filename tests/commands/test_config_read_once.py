""".github/smolbot.yml is read once per job, a file past 256 KB is refused unread, and an
unchanged invalid file is not read again at every job (PyYAML takes seconds on a large one).
Whether an invalid file asks for dry-run is read from its YAML where it parses, and only where
it does not from its top-level `dry_run:` lines (a BOM before the first one too)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from bot.core.config import ConfigError, parse_config
from bot.jobs.repo_config import _asks_dry_run
from tests.commands.conftest import CONFIG, REPO, error_issues, repo_writes
from tests.commands.test_repo_config_file import _load

# unknown keys: a valid YAML file, an invalid config
BIG = "".join(f"key_{i}: value number {i}\n" for i in range(50_000))  # 1.5 MB
UNDER = "".join(f"other_{i}: value number {i}\n" for i in range(6_000))  # 170 KB


def _count_large_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    reads: list[int] = []
    real = yaml.load

    def counting(stream: Any, Loader: Any) -> Any:
        if isinstance(stream, str) and len(stream) > 100_000:
            reads.append(len(stream))
        return real(stream, Loader=Loader)

    monkeypatch.setattr(yaml, "load", counting)
    return reads


def test_a_file_over_256_kb_is_refused_unread(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    state, ctx = world
    reads = _count_large_reads(monkeypatch)
    with pytest.raises(ConfigError, match=r"is 1,[0-9,]+ bytes; smolbot reads at most 256 KB"):
        parse_config(BIG)
    state.put_file(REPO, CONFIG, BIG)
    assert not _load(state, ctx).from_file
    _load(state, ctx)
    assert reads == []
    (report,) = error_issues(state)
    assert "smolbot reads at most 256 KB" in report.body


def test_a_large_file_asking_for_dry_run_keeps_it_unread(world: Any) -> None:
    state, ctx = world
    state.put_file(REPO, CONFIG, "dry_run: true\n" + BIG)
    assert _load(state, ctx).dry_run
    assert repo_writes(state) == []


def test_an_invalid_file_is_read_once_per_job_and_not_again_while_unchanged(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, ctx = world
    reads = _count_large_reads(monkeypatch)
    state.put_file(REPO, CONFIG, UNDER)
    assert not _load(state, ctx).from_file
    assert len(reads) == 1  # the dry-run check reuses the one read
    _load(state, ctx)  # the same file (304): nothing new to learn from it
    assert len(reads) == 1
    assert len(error_issues(state)) == 1


@pytest.mark.parametrize(
    "text,asks",
    [
        ("\ufeffdry_run: true\nlifecycle:\n  close: true\n   bad: [\n", True),
        ("\ufeffdry_run: true\ntriage:\n  treshold: 0.7\n", True),  # parses; a typo
        ('dry_run: false\ntriage:\n  treshold: 0.7\nnote: "see\ndry_run: true\nend"\n', False),
        ("dry_run: false\nnote: |\n  x\ndry_run_too: 1\ntriage: {treshold: 1}\n", False),
        ("dry_run: true\ndry_run: false\n", True),  # a key twice does not parse: lines read
    ],
    ids=["bom-slip", "bom-parses", "quoted-line", "parses-false", "twice"],
)
def test_dry_run_is_read_from_the_yaml_where_it_parses(text: str, asks: bool) -> None:
    assert _asks_dry_run(text) is asks


def test_a_bom_before_dry_run_true_writes_nothing(world: Any) -> None:
    state, ctx = world
    state.put_file(REPO, CONFIG, "\ufeffdry_run: true\nlifecycle:\n  close: true\n   bad: [\n")
    assert _load(state, ctx).dry_run
    assert repo_writes(state) == []
