"""The recipe `smolbot summarize --help` and README give for a thread file from GitHub (gh api and
jq) makes a file the command reads: its jq line run for real on files shaped as `gh api` writes
them (`--paginate`: one JSON array a page, back to back)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.lifecycle import summarize_cmd
from bot.settings import get_settings

README = Path(__file__).resolve().parents[2] / "README.md"
API = "https://api.github.com/repos/acme/widget"
ALICE = {"login": "alice", "id": 1, "type": "User", "site_admin": False}
BOB = {"login": "bob", "id": 2, "type": "User", "site_admin": False}
ISSUE = {  # gh api repos/acme/widget/issues/7, trimmed of URLs the loader does not read
    "url": f"{API}/issues/7",
    "html_url": "https://github.com/acme/widget/issues/7",
    "id": 3001,
    "number": 7,
    "title": "Export fails on large files",
    "user": ALICE,
    "labels": [{"id": 11, "name": "bug", "color": "d73a4a", "default": True}],
    "state": "open",
    "locked": False,
    "assignee": None,
    "assignees": [],
    "milestone": None,
    "comments": 3,
    "created_at": "2026-01-05T09:00:00Z",
    "updated_at": "2026-01-08T16:00:00Z",
    "closed_at": None,
    "author_association": "NONE",
    "body": "Exporting a 2 GB file stops at 50 % with `OSError: [Errno 28]`.",
    "reactions": {"url": f"{API}/issues/7/reactions", "total_count": 2, "+1": 2},
    "state_reason": None,
}


def _comment(n: int, who: dict[str, object], body: str, at: str) -> dict[str, object]:
    return {
        "url": f"{API}/issues/comments/{n}",
        "html_url": f"https://github.com/acme/widget/issues/7#issuecomment-{n}",
        "issue_url": f"{API}/issues/7",
        "id": n,
        "user": who,
        "created_at": at,
        "updated_at": at,
        "author_association": "MEMBER" if who is BOB else "NONE",
        "body": body,
        "reactions": {"total_count": 0},
    }


PAGE_1 = [
    _comment(501, BOB, "Which version, and how much free disk?", "2026-01-06T10:00:00Z"),
    _comment(502, ALICE, "2.3.1; 1 GB free on the target disk.", "2026-01-07T11:00:00Z"),
]
PAGE_2 = [
    _comment(
        503,
        BOB,
        "Can you try 2.4.0? It checks the free space before it starts.",
        "2026-01-08T16:00:00Z",
    )
]
EVENTS = [
    {
        "id": 9001,
        "actor": BOB,
        "event": "labeled",
        "commit_id": None,
        "created_at": "2026-01-06T10:01:00Z",
        "label": {"name": "bug", "color": "d73a4a"},
    },
    {
        "id": 9002,
        "actor": BOB,
        "event": "subscribed",
        "commit_id": None,
        "created_at": "2026-01-06T10:01:00Z",
    },
]


def _recipe_jq() -> list[str]:
    """The jq command of `smolbot summarize --help`'s recipe, as argv."""
    text = summarize_cmd.help or ""
    lines = text[text.index("jq -n") :].split("> thread.json")[0]
    return ["bash", "-c", lines.replace("\\\n", " ") + " > thread.json"]


@pytest.mark.skipif(shutil.which("jq") is None, reason="the recipe needs jq")
def test_the_gh_and_jq_recipe_makes_a_thread_file_summarize_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMOLBOT_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    (tmp_path / "issue.json").write_text(json.dumps(ISSUE, indent=2))
    (tmp_path / "comments.json").write_text(json.dumps(PAGE_1) + json.dumps(PAGE_2))
    (tmp_path / "events.json").write_text(json.dumps(EVENTS))
    subprocess.run(_recipe_jq(), cwd=tmp_path, check=True, timeout=30)

    try:
        out = CliRunner().invoke(
            summarize_cmd, ["--thread", str(tmp_path / "thread.json"), "--no-model", "--json"]
        )
    finally:
        get_settings.cache_clear()  # this test's data dir is gone: no later test may read it
    assert out.exit_code == 0, out.output
    said = json.loads(out.output)
    assert said["waiting_on"] == "author" and said["who"] == ["alice"], said
    assert "#issuecomment-503" in said["summary"] and "from 3 comments" in said["summary"]
    thread = json.loads((tmp_path / "thread.json").read_text())
    assert [c["id"] for c in thread["comments"]] == [501, 502, 503]  # both pages
    assert thread["events"][0]["event"] == "labeled"


def test_the_readme_gives_the_same_recipe_as_the_help() -> None:
    readme = " ".join(README.read_text(encoding="utf-8").split())
    for line in (summarize_cmd.help or "").splitlines():
        line = line.strip().rstrip("\\").strip()
        if line.startswith(("gh api", "--slurpfile", "'{issue")):
            assert line in readme, line
    assert re.search(r"\[below\]\(#a-thread-file-from-github\)", readme)
    assert "#### A thread file from GitHub" in README.read_text(encoding="utf-8")
