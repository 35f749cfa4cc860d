"""`smolbot triage` and `--config FILE` on input as people have it: gh's JSON array on stdin, UTF-16
(PowerShell 5's `>`), `--body-file -`, an empty `--title`, a config file that is not UTF-8 or has
invalid settings. The real CLI on a store of its own (no model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from tests.triage import test_cli

runner = test_cli.runner  # the fixture: the CLI on a store of its own, no model

REPO = "octo/app"
ISSUES = [
    {"title": "App crashes when I click save", "body": "It stops with a traceback every time."},
    {"title": "Add a dark theme", "body": "A dark mode would be easier on the eyes: é."},
]
LINES = "".join(json.dumps(i, ensure_ascii=False) + "\r\n" for i in ISSUES)


def test_a_json_array_on_stdin_says_how_to_give_one_issue_a_line(runner: CliRunner) -> None:
    """gh's --json output is one array: one line, so one answer, saying what to run instead."""
    out = runner.invoke(cli, ["triage", "--repo", REPO], input=json.dumps(ISSUES) + "\n")
    assert out.exit_code == 1, out.output
    (answer,) = [json.loads(x) for x in out.stdout.splitlines()]
    assert answer["line"] == 1 and "not a JSON array" in answer["error"], answer
    assert "--jq '.[]'" in answer["error"]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_stdin_with_its_byte_order_mark_is_triaged(runner: CliRunner, codec: str) -> None:
    """Split at byte 0x0a, it gave a junk line for every half of a UTF-16 newline."""
    data = "\ufeff".encode(codec) + LINES.encode(codec)
    out = runner.invoke(cli, ["triage", "--repo", REPO], input=data)
    assert out.exit_code == 0, out.output
    answers = [json.loads(x) for x in out.stdout.splitlines()]
    assert [a.get("title") for a in answers] == [i["title"] for i in ISSUES], answers


def test_utf16_stdin_cut_short_says_to_convert_it(runner: CliRunner) -> None:
    data = "\ufeff".encode("utf-16-le") + LINES.encode("utf-16-le") + b"{"
    out = runner.invoke(cli, ["triage", "--repo", REPO], input=data)
    assert out.exit_code == 1, out.output
    *triaged, last = [json.loads(x) for x in out.stdout.splitlines()]
    assert len(triaged) == 2 and last["line"] == 3, out.stdout
    assert "`iconv -f utf-16 -t utf-8`" in last["error"]


def test_the_body_file_can_be_stdin(runner: CliRunner) -> None:
    """It was refused: "File '-' does not exist"."""
    args = ["triage", "--repo", REPO, "--title", "Crash", "--body-file", "-"]
    out = runner.invoke(cli, args, input="It crashes on save.\n")
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["title"] == "Crash"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--title", ""], "(--title is empty, no --body-file)"),
        (["--title", "  ", "--body-file", "-"], "(--title is empty, --body-file is empty)"),
        (["--body-file", "-"], "(no --title, --body-file is empty)"),
    ],
)
def test_an_issue_with_neither_title_nor_body_is_refused(
    runner: CliRunner, args: list[str], said: str
) -> None:
    """As a stdin line is: it was triaged as an empty issue."""
    out = runner.invoke(cli, ["triage", "--repo", REPO, *args], input="\n")
    assert out.exit_code == 2 and out.stdout == "", out.output
    assert f"Error: an issue needs a title or a body {said}" in out.output


def _command(which: str, tmp_path: Path) -> list[str]:
    if which == "triage":
        return ["triage", "--repo", REPO, "--title", "Crash"]
    src = tmp_path / "issues.jsonl"
    src.write_text(json.dumps({**ISSUES[0], "label": "bug"}) + "\n")
    return ["backfill", REPO, "--from", str(src)]


@pytest.mark.parametrize("which", ["triage", "backfill"])
def test_a_config_file_that_is_not_utf8_is_a_one_line_error(
    runner: CliRunner, tmp_path: Path, which: str
) -> None:
    """It ended in a UnicodeDecodeError traceback."""
    cfg = tmp_path / "smolbot.yml"
    cfg.write_bytes('triage:\n  label_map:\n    bug: "Défaut"\n'.encode("latin-1"))
    out = runner.invoke(cli, [*_command(which, tmp_path), "--config", str(cfg)])
    assert "Traceback" not in out.output and out.exit_code == 2, out.output
    error = out.output.splitlines()[-1]
    assert error == (
        f"Error: {cfg} is not UTF-8 (byte 0xe9 at position 32); convert it first, e.g. `iconv -f"
        " latin1 -t utf-8`"
    ), out.output


@pytest.mark.parametrize("which", ["triage", "backfill"])
def test_a_config_file_s_errors_name_that_file(
    runner: CliRunner, tmp_path: Path, which: str
) -> None:
    """They named .github/smolbot.yml, the repository's file, which the given one need not be."""
    cfg = tmp_path / "mine.yml"
    cfg.write_text("triage:\n  label_map:\n    bugz: x\n")
    out = runner.invoke(cli, [*_command(which, tmp_path), "--config", str(cfg)])
    assert out.exit_code == 2, out.output
    assert f"Error: {cfg} has invalid settings: triage.label_map.bugz" in out.output
    assert ".github/smolbot.yml" not in out.output


def test_a_utf16_config_file_is_read(runner: CliRunner, tmp_path: Path) -> None:
    cfg = tmp_path / "smolbot.yml"
    cfg.write_bytes("\ufefftriage:\n  label_map:\n    bug: Défaut\n".encode("utf-16-le"))
    src = tmp_path / "issues.jsonl"
    src.write_text(json.dumps({**ISSUES[0], "label": "Défaut"}) + "\n")
    out = runner.invoke(cli, ["backfill", REPO, "--from", str(src), "--config", str(cfg)])
    assert out.exit_code == 0 and "1 learned" in out.stdout, out.output
