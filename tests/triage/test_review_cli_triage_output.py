"""`smolbot triage`'s decisions as a script reads them: `duplicates` are those the webhook's comment
would name (at or over the threshold), not every issue with a score over 0; each decision names its
input line and number (blank lines made the outputs drift from the inputs); a title or body past
GitHub's size is cut to it, said once; a --title that is not UTF-8 is a usage error, not a
traceback; on a terminal it says it reads stdin. The real CLI on a store of its own (no model)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.cli import triage as triage_cli
from bot.settings import get_settings
from bot.store import open_store
from tests.triage import test_cli

runner = test_cli.runner  # the fixture: the CLI on a store of its own, no model

REPO = "octo/app"
STORED = [
    ("App crashes when I click save", "It stops with a traceback every time I click save."),
    ("Crash after saving a large file", "The app stops when a big file is written."),
    ("Add a dark theme", "A dark mode would be easier on the eyes."),
    ("Export to CSV loses accents", "Names with accents come out garbled."),
]
SAVE = {"title": STORED[0][0], "body": STORED[0][1]}


def _store_issues() -> None:
    store = open_store(get_settings().effective_database_url)
    try:
        for n, (title, body) in enumerate(STORED, 1):
            store.upsert_issue(
                REPO,
                {
                    "number": n,
                    "title": title,
                    "body": body,
                    "state": "open",
                    "user": {"login": "alice"},
                    "labels": [],
                    "created_at": "2026-01-01T00:00:00Z",
                    "updated_at": "2026-01-02T00:00:00Z",
                },
            )
    finally:
        store.close()


def _triage(runner: CliRunner, lines: list[str], *more: str) -> list[dict[str, Any]]:
    out = runner.invoke(cli, ["triage", "--repo", REPO, *more], input="\n".join(lines) + "\n")
    assert out.exit_code in (0, 1) and "Traceback" not in out.output, out.output
    return [json.loads(x) for x in out.stdout.splitlines()]


def test_duplicates_are_those_over_the_threshold_the_rest_are_near(runner: CliRunner) -> None:
    _store_issues()
    (answer,) = _triage(runner, [json.dumps({**SAVE, "number": 9})])
    assert answer["duplicate_threshold"] == 0.45
    assert [d["number"] for d in answer["duplicates"]] == [1], answer
    assert all(d["score"] >= 0.45 for d in answer["duplicates"])
    assert answer["near"] and all(d["score"] < 0.45 for d in answer["near"]), answer
    assert 2 in [d["number"] for d in answer["near"]]  # similar, but no comment would name it
    assert answer["would_comment"] == ["triage:duplicates"]
    strict = ["--config", str(_config("triage:\n  duplicate_threshold: 1.0\n"))]
    (answer,) = _triage(runner, [json.dumps({**SAVE, "title": "App crashes on save"})], *strict)
    assert answer["duplicates"] == [] and answer["would_comment"] == [], answer
    assert 1 in [d["number"] for d in answer["near"]] and answer["duplicate_threshold"] == 1.0


def _config(text: str) -> Path:
    path = Path(get_settings().data_dir) / "smolbot.yml"
    path.write_text(text)
    return path


def test_each_decision_names_its_input_line_and_number(runner: CliRunner) -> None:
    lines = [
        json.dumps({**SAVE, "number": 7}),
        "",
        "   ",
        json.dumps({"title": "Add dark mode please", "body": "A dark theme."}),
        "not json",
        json.dumps({"title": "Export is slow", "number": 12}),
    ]
    answers = _triage(runner, lines)
    assert [(a["line"], a.get("number"), "error" in a) for a in answers] == [
        (1, 7, False),
        (4, None, False),
        (5, None, True),
        (6, 12, False),
    ], answers
    (one,) = _triage(runner, [], "--title", "App crashes on save")
    assert (one["line"], one["number"]) == (1, None)


def test_a_body_past_githubs_size_is_cut_and_said_once(runner: CliRunner) -> None:
    """A 22 MB body took 89 s and 4 GB in the filters; GitHub keeps 65,536 characters."""
    big = {"title": "T" * 300, "body": "Traceback line error at foo.py\n" * 3000}  # 93,000
    lines = [json.dumps(SAVE), json.dumps(big), json.dumps(big)]
    out = runner.invoke(cli, ["triage", "--repo", REPO], input="\n".join(lines) + "\n")
    assert out.exit_code == 0, out.output
    answers = [json.loads(x) for x in out.stdout.splitlines()]
    assert [len(a["title"]) for a in answers] == [len(SAVE["title"]), 256, 256]
    said = [x for x in out.stderr.splitlines() if "longer than GitHub takes" in x]
    assert said == [
        "smolbot triage: line 2: the title and body are longer than GitHub takes in an issue"
        " (title 256, body 65,536 characters): cut to that, as any later line's is (not said"
        " again)"
    ], out.stderr


def test_a_title_that_is_not_utf8_is_a_usage_error(runner: CliRunner) -> None:
    """`--title $'Caf\\xe9 crashes'` in a UTF-8 locale: Python keeps the byte as a lone
    surrogate, and printing the decision raised UnicodeEncodeError."""
    out = runner.invoke(cli, ["triage", "--repo", REPO, "--title", "Caf\udce9 crashes"])
    assert out.exit_code == 2 and "Traceback" not in out.output, out.output
    assert "Invalid value for '--title': not UTF-8 (byte 0xe9 at position 3)" in out.output


def test_on_a_terminal_it_says_it_reads_stdin(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It waited for Ctrl-D, silent. A pipe is not told (its issues come by themselves)."""
    hint = "reading issues from stdin, one JSON object a line"
    out = runner.invoke(cli, ["triage", "--repo", REPO], input="")
    assert hint not in out.stderr
    monkeypatch.setattr(triage_cli, "_on_terminal", lambda stream: True)
    out = runner.invoke(cli, ["triage", "--repo", REPO], input="")
    assert out.exit_code == 0 and f"smolbot triage: {hint}" in out.stderr, out.output
    assert "end with Ctrl-D" in out.stderr
    out = runner.invoke(cli, ["triage", "--repo", REPO, "--title", "Crash"])
    assert hint not in out.stderr  # --title: nothing is read from stdin
