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


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (json.dumps(["a", "b"]).encode(), "must be JSON objects"),
        (json.dumps([{**ISSUE, "created_at": "yesterday"}]).encode(), "not an ISO 8601 time"),
        (json.dumps([ISSUE, {**COMMENTS[0], "created_at": None}]).encode(), "comment 1's"),
        (json.dumps([ISSUE]).replace("Crash", "Caf\u00e9").encode("latin-1"), "is not UTF-8"),
    ],
)
def test_a_file_that_is_not_a_thread_gets_a_message_not_a_traceback(
    tmp_path: Path, content: bytes, says: str
) -> None:
    path = tmp_path / "thread.json"
    path.write_bytes(content)
    out = CliRunner().invoke(summarize_cmd, ["--thread", str(path), "--no-model"])
    assert out.exit_code == 2 and says in out.output, out.output
    assert out.exception is None or isinstance(out.exception, SystemExit)


def test_audit_and_an_unusable_data_dir_say_what_to_fix(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    from bot.cli import _register, cli

    _register()
    out = CliRunner().invoke(cli, ["audit", "--issue", "a/b#x"])
    assert out.exit_code == 2 and "N a number" in out.output
    (tmp_path / "afile").write_text("")  # the data dir's place is taken by a file
    env = {"SMOLBOT_DATA_DIR": str(tmp_path / "afile" / "data"), "SMOLBOT_ENV": "test"}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "triage", "--repo", "a/b", "--title", "x"],
        env={**__import__("os").environ, **env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "set SMOLBOT_DATA_DIR (or SMOLBOT_DATABASE_URL) to a directory" in done.stderr
