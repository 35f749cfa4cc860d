"""`smolbot backfill o/r --from FILE`: a row's `number` is not taken for o/r's issue number unless
`--github-numbers` says the file is o/r's own export. Keyed by default, a Jira export's issue 1 was
"the example of issue #1": a second export numbering from 1, an API backfill forgetting closed #1
or a maintainer labeling GitHub's #1 replaced or deleted it, while every run said "2 learned".
The real CLI on a store of its own (no model), the store read after it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bot.cli import cli
from bot.llm import get_model_layer
from bot.settings import get_settings
from bot.store import open_store
from tests.triage import test_cli

runner = test_cli.runner  # the fixture: the CLI on a store of its own, no model

REPO = "octo/app"
JIRA = [
    {
        "number": 1,
        "title": "Export to PDF fails with a crash",
        "body": "stack trace",
        "label": "bug",
    },
    {"number": 2, "title": "Please add dark mode", "body": "would be nice", "label": "enhancement"},
]
LATER = [
    {
        "number": 1,
        "title": "How do I install on Windows?",
        "body": "which MSI",
        "label": "question",
    },
    {"number": 2, "title": "README typo in setup", "body": "teh", "label": "documentation"},
]
GITHUB_1 = "Sync is slow\n\nit takes minutes"  # GitHub's issue #1 of REPO: another issue


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _backfill(runner: CliRunner, path: Path, *more: str) -> Result:
    out = runner.invoke(cli, ["backfill", REPO, "--from", str(path), *more])
    assert out.exit_code == 0 and "Traceback" not in out.output, out.output
    return out


def _examples() -> list[dict[str, Any]]:
    store = open_store(get_settings().effective_database_url)
    try:
        sql = "select text, label, source, issue from llm_examples where scope = ? order by seq"
        return list(store.rows(sql, [REPO]))
    finally:
        store.close()


def _texts() -> list[str]:
    return sorted(e["text"].split("\n")[0] for e in _examples())


@pytest.fixture
def layer() -> Iterator[Any]:
    """The model layer on the CLI's store, as the webhook's worker would use it."""
    store = open_store(get_settings().effective_database_url)
    try:
        yield get_model_layer(get_settings(), store)
    finally:
        store.close()


def test_a_second_numbered_export_keeps_the_first(runner: CliRunner, tmp_path: Path) -> None:
    jira, later = _jsonl(tmp_path / "jira.jsonl", JIRA), _jsonl(tmp_path / "later.jsonl", LATER)
    out = _backfill(runner, jira)
    assert "2 read, 0 stored, 2 learned" in out.stdout, out.output
    assert f"{jira}: its numbers are not taken as {REPO}'s issue numbers" in out.stderr
    assert "--github-numbers" in out.stderr
    out = _backfill(runner, later)
    assert "2 read, 0 stored, 2 learned" in out.stdout, out.output
    assert _texts() == sorted(r["title"] for r in JIRA + LATER)  # all four: none replaced
    assert all(e["issue"] is None for e in _examples())
    out = _backfill(runner, jira)  # the same file again learns nothing twice
    assert "0 learned (2 known already)" in out.stdout, out.output
    assert len(_examples()) == 4


def test_github_issue_n_neither_replaces_nor_forgets_a_file_row_numbered_n(
    runner: CliRunner, tmp_path: Path, layer: Any
) -> None:
    """What the webhook does on GitHub's issue #1 (a maintainer's label) and what an API backfill
    does with a closed #1 that names no kind now (forget_backfilled) leave the Jira row 1 alone."""
    _backfill(runner, _jsonl(tmp_path / "jira.jsonl", JIRA))
    layer.learn(REPO, GITHUB_1, "bug", "human", None, 1)
    assert _texts() == sorted([*(r["title"] for r in JIRA), "Sync is slow"])
    assert not layer.forget_backfilled(REPO, "Sync is slow\n\nit is no bug after all", 1)
    assert _texts() == sorted([*(r["title"] for r in JIRA), "Sync is slow"])


def test_github_numbers_keys_the_rows_of_the_repositorys_own_export(
    runner: CliRunner, tmp_path: Path, layer: Any
) -> None:
    """`gh issue list --json number,title,body,labels`: the rows are the issues, so a later label
    of the edited issue #1 replaces its example (one example per issue, its newest text)."""
    gh = tmp_path / "gh.json"
    gh.write_text(json.dumps([{**r, "labels": [{"name": r.pop("label")}]} for r in JIRA]))
    out = _backfill(runner, gh, "--github-numbers")
    assert "2 learned" in out.stdout and "numbers are not taken" not in out.stderr, out.output
    assert sorted(e["issue"] for e in _examples()) == [1, 2]
    layer.learn(
        REPO, "Export to PDF fails with a crash\n\nstack trace, edited", "bug", "human", None, 1
    )
    rows = {e["issue"]: e["text"] for e in _examples()}
    assert len(rows) == 2 and rows[1].endswith("stack trace, edited"), rows


def test_github_numbers_goes_with_from(runner: CliRunner) -> None:
    out = runner.invoke(cli, ["backfill", REPO, "--github-numbers"])
    assert out.exit_code == 2 and "--github-numbers goes with --from" in out.output, out.output
