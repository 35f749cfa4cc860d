"""`smolbot summarize --thread FILE` with the fields README lists (no html_url): an entry with
no link is cited as `(entry n)`, not `((entry n))`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.lifecycle import summarize_cmd
from bot.settings import get_settings

# exactly the fields README (Commands table, `smolbot summarize`) names for the issue
ISSUE = {
    "number": 5,
    "title": "Crash on start",
    "body": "It crashes when I start it. Version 2.1",
    "user": {"login": "alice"},
    "created_at": "2026-11-01T10:00:00Z",
}
COMMENT = {
    "id": 11,
    "body": "Which OS are you on?",
    "user": {"login": "bob"},
    "created_at": "2026-11-02T10:00:00Z",
    "author_association": "MEMBER",
}


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMOLBOT_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()


def test_an_entry_without_html_url_is_cited_without_doubled_parentheses(tmp_path: Path) -> None:
    path = tmp_path / "thread.json"
    path.write_text(json.dumps({"issue": ISSUE, "comments": [COMMENT]}))
    result = CliRunner().invoke(summarize_cmd, ["--thread", str(path), "--no-model"])
    assert result.exit_code == 0, result.output
    assert "((entry" not in result.output, result.output
    assert "(entry 0)" in result.output or "(entry 1)" in result.output, result.output
