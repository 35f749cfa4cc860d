"""What `smolbot triage` and `smolbot backfill --from FILE` do with input they cannot take: a line
costs only itself in triage; backfill stops at it with one line naming FILE:line and what to do,
keeping what it learned before and never reporting a half-read file as read."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from tests.triage import test_cli

runner = test_cli.runner  # the fixture: the CLI on a store of its own, no model

GOOD = json.dumps({"title": "Add dark mode please", "body": "A dark theme option."})
CRASH = json.dumps({"title": "Crash", "body": "boom", "label": "bug"})
DEEP = "[" * 100_000  # json.loads recursed into it until a RecursionError ended the run


def test_triage_a_deeply_nested_line_costs_only_its_line(runner: CliRunner) -> None:
    out = runner.invoke(cli, ["triage", "--repo", "octo/app"], input=f"{GOOD}\n{DEEP}\n{GOOD}\n")
    assert out.exit_code == 1 and "1 input line(s) could not be read" in out.output
    answers = [json.loads(x) for x in out.stdout.splitlines()]
    assert [a.get("line") for a in answers] == [1, 2, 3], out.stdout
    assert answers[1]["error"] == (
        "expected a JSON object with title and body, not JSON nested deeper than 64 levels"
    )


def test_backfill_a_deeply_nested_line_is_a_one_line_error(
    runner: CliRunner, tmp_path: Path
) -> None:
    src = tmp_path / "export.jsonl"
    src.write_text(f"{CRASH}\n{DEEP}\n")
    out = runner.invoke(cli, ["backfill", "octo/app", "--from", str(src)])
    assert out.exit_code == 1 and "Traceback" not in out.output, out.output
    assert (
        f"Error: {src}:2: not a JSON object (JSON nested deeper than 64 levels); use CSV or JSON"
        " lines. 1 issue before that line was learned" in out.output
    )


HUGE = '{"title": "Crash", "body": "boom", "id": ' + "9" * 5000 + "}"  # past 4,300 digits


def test_triage_a_number_python_will_not_read_costs_only_its_line(runner: CliRunner) -> None:
    """json.loads raises a plain ValueError for it, not JSONDecodeError: the run ended there."""
    out = runner.invoke(cli, ["triage", "--repo", "octo/app"], input=f"{GOOD}\n{HUGE}\n{GOOD}\n")
    assert out.exit_code == 1 and "1 input line(s) could not be read" in out.output, out.output
    answers = [json.loads(x) for x in out.stdout.splitlines()]
    assert [a.get("line") for a in answers] == [1, 2, 3], out.stdout
    assert answers[1]["error"] == "expected a JSON object with title and body"


CUT = (
    '{"title": "Crash when I type \\ud83d", "body": "it crashes", "label": "bug"}'  # JSON.stringify
)
HALF = (
    '\\ud83d after \'{"title": "Crash when I type \' is half of an emoji or other character (the'
    " text was cut inside it); remove it or export the text whole"
)


def test_triage_a_title_cut_inside_an_emoji_costs_only_its_line(runner: CliRunner) -> None:
    """Its decision, printed as UTF-8, raised UnicodeEncodeError: the lines after it were lost."""
    out = runner.invoke(cli, ["triage", "--repo", "octo/app"], input=f"{GOOD}\n{CUT}\n{GOOD}\n")
    assert out.exit_code == 1 and "1 input line(s) could not be read" in out.output, out.output
    answers = [json.loads(x) for x in out.stdout.splitlines()]
    assert [a.get("line") for a in answers] == [1, 2, 3], out.stdout
    assert answers[1]["error"] == HALF


def test_backfill_a_title_cut_inside_an_emoji_is_named_and_counted_right(
    runner: CliRunner, tmp_path: Path
) -> None:
    """The store refused it with a codec message naming neither file nor line, and the count
    took it for one of the issues before it ("1 of the 2 issues")."""
    src = tmp_path / "export.jsonl"
    src.write_text(f"{CRASH}\n{CUT}\n{GOOD}\n")
    out = runner.invoke(cli, ["backfill", "octo/app", "--from", str(src)])
    assert out.exit_code == 1 and "Traceback" not in out.output, out.output
    assert out.output.endswith(
        f"Error: {src}:2: {HALF}. 1 issue before that line was learned; fix it and run the file"
        " again: nothing is learned twice\n"
    )


@pytest.mark.parametrize(
    "text",
    [
        "title;body;label\nCrash;boom;bug\nIdea;add it;enhancement\n",
        f"\n{CRASH}\n" + json.dumps({"title": "Idea", "body": "add", "label": "enhancement"}),
    ],
)
def test_backfill_from_a_pipe_streams_it(runner: CliRunner, text: str) -> None:
    """`--from <(zcat export.csv.gz)`: telling CSV from JSON lines, and the separator, sought
    back to the start, and a pipe cannot seek ("underlying stream is not seekable")."""
    r, w = os.pipe()
    os.write(w, text.encode())
    os.close(w)
    try:
        out = runner.invoke(cli, ["backfill", "octo/app", "--from", f"/dev/fd/{r}"])
    finally:
        os.close(r)
    assert out.exit_code == 0 and "2 read, 0 stored, 2 learned" in out.output, out.output


def test_backfill_reads_json_lines_named_csv_as_json_lines(
    runner: CliRunner, tmp_path: Path
) -> None:
    """They were read as CSV, and told to rename columns named like `{"title": "Crash"`."""
    src = tmp_path / "issues.csv"
    idea = json.dumps({"title": "Idea", "body": "add it", "label": "enhancement"})
    src.write_text(f"{CRASH}\n{idea}\n")
    out = runner.invoke(cli, ["backfill", "octo/app", "--from", str(src)])
    assert out.exit_code == 0 and "2 read, 0 stored, 2 learned" in out.output, out.output


def test_backfill_refuses_json_lines_without_the_columns_naming_their_keys(
    runner: CliRunner, tmp_path: Path
) -> None:
    """As a CSV file without them: a Jira export was read to the end, learned nothing, exit 0."""
    src = tmp_path / "jira.jsonl"
    row = {"Summary": "Crash", "Description": "boom", "Issue Type": "Bug"}
    src.write_text(json.dumps(row) + "\n" + json.dumps(row) + "\n")
    out = runner.invoke(cli, ["backfill", "octo/app", "--from", str(src)])
    assert out.exit_code == 1 and out.output.endswith(
        f"Error: {src}: the keys are Summary, Description, Issue Type; backfill reads title, body"
        " and label (rename the keys of another tracker's export to these)\n"
    ), out.output


SLOW = "Slow export,takes minutes,bug\n"
KEPT = (
    ". 1 issue before that line was learned; fix it and run the file again: nothing is learned"
    " twice"
)


@pytest.mark.parametrize(
    ("rows", "error"),
    [  # never closed; closed inside the cell
        (
            '"Crash on save,it crashes,bug\nIdea,add it,enhancement\n',
            "2: not CSV from this line on (unexpected end of data)",
        ),
        (
            'Idea,add it,enhancement\nCrash,"it crashes" on save,bug\n',
            "3: not CSV from this line on (',' expected after '\"')",
        ),
    ],
)
def test_backfill_refuses_a_quote_that_does_not_end_its_field_naming_the_line(
    runner: CliRunner, tmp_path: Path, rows: str, error: str
) -> None:
    """A quote never closed took the rest of the file as one cell: "1 read", exit 0."""
    src = tmp_path / "export.csv"
    src.write_text(f"title,body,label\n{rows}{SLOW}")
    out = runner.invoke(cli, ["backfill", "octo/app", "--from", str(src)])
    assert out.exit_code == 1 and "read," not in out.output, out.output
    kept = KEPT if rows.startswith("Idea") else ""
    assert out.output.endswith(
        f"Error: {src}:{error}; a quoted field must end with a quote, and a quote inside it is"
        f' written twice (""){kept}\n'
    ), out.output
