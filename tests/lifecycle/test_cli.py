"""`smolbot summarize --thread FILE`: both file shapes, events honoured, errors in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.lifecycle import summarize_cmd
from bot.settings import get_settings

USER = {"login": "alice", "type": "User"}
ISSUE = {
    "number": 12,
    "title": "Crash on start",
    "body": "The app crashes on start.",
    "state": "open",
    "user": USER,
    "labels": [{"name": "needs-info"}],
    "created_at": "2026-01-01T10:00:00Z",
    "updated_at": "2026-01-02T10:00:00Z",
    "author_association": "NONE",
    "html_url": "https://github.com/acme/app/issues/12",
}
COMMENTS = [
    {
        "id": 101,
        "user": {"login": "bob", "type": "User"},
        "author_association": "MEMBER",
        "body": "Which version do you use?",
        "created_at": "2026-01-01T12:00:00Z",
        "html_url": "https://github.com/acme/app/issues/12#issuecomment-101",
    },
]
EVENTS = [
    {
        "event": "labeled",
        "actor": {"login": "bob", "type": "User"},
        "created_at": "2026-01-01T12:01:00Z",
        "label": {"name": "needs-info"},
    }
]


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMOLBOT_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()


@pytest.mark.parametrize("shape", ["object", "list"])
def test_summarize_a_thread_file_without_github(tmp_path: Path, shape: str) -> None:
    data = (
        {"issue": ISSUE, "comments": COMMENTS, "events": EVENTS}
        if shape == "object"
        else [ISSUE, *COMMENTS]
    )
    path = tmp_path / "thread.json"
    path.write_text(json.dumps(data))
    out = CliRunner().invoke(summarize_cmd, ["--thread", str(path), "--no-model", "--json"])
    assert out.exit_code == 0, out.output
    got = json.loads(out.output)
    assert got["waiting_on"] == "author" and got["who"] == ["alice"]
    assert "https://github.com/acme/app/issues/12#issuecomment-101" in got["summary"]


def test_a_bad_file_is_explained_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "thread.json"
    path.write_text(json.dumps({"comments": []}))
    out = CliRunner().invoke(summarize_cmd, ["--thread", str(path), "--no-model"])
    assert out.exit_code == 2 and '{"issue": {...}, "comments": [...]}' in out.output
