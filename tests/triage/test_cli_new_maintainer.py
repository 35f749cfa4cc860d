"""What a new maintainer meets trying `smolbot triage` and `smolbot backfill --from FILE`: a
repository with no examples of its own (a new one, or a mistyped --repo) is said to borrow the
others'; a `gh issue list` export's "0 stored" is said to be what a file always stores; and input
that is not what the command reads gets one line saying what it is and what to do. The real CLI on
a store of its own, the real classifier."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from bot.cli import cli
from tests.triage import test_cli
from tests.triage.examples import labeled

runner = test_cli.runner  # the fixture: the CLI on a store of its own, no model

CRASH = ["--title", "App crashes with an exception when I click save"]
GOOD = json.dumps({"title": "Add dark mode please", "body": "A dark theme option."})


def _gh_export(path: Path, repo: str) -> Path:
    """What `gh issue list --state all --json number,title,body,labels,state,createdAt,closedAt,url
    > FILE` writes: one JSON array on one line, labels as objects, open issues among the closed."""
    items: list[dict[str, Any]] = []
    for n, (text, label) in enumerate(labeled(), 1):
        title, _, body = text.partition("\n")
        closed = n % 4 != 0
        items.append(
            {
                "body": body,
                "closedAt": f"2024-03-{n % 28 + 1:02d}T10:00:00Z" if closed else None,
                "createdAt": f"2024-02-{n % 28 + 1:02d}T09:30:00Z",
                "labels": [
                    {"id": f"LA_{label}", "name": label, "description": "", "color": "d73a4a"}
                ],
                "number": 100 + n,
                "state": "CLOSED" if closed else "OPEN",
                "title": title,
                "url": f"https://github.com/{repo}/issues/{100 + n}",
            }
        )
    path.write_text(json.dumps(items) + "\n")
    return path


def test_a_repository_with_no_examples_of_its_own_is_said_to_borrow_the_others(
    runner: CliRunner, tmp_path: Path
) -> None:
    """`--repo new/repo` (or a typo) used the classifier trained on acme/widget's examples and
    said nothing: the cold-start hint asked whether any classifier was ready."""
    export = _gh_export(tmp_path / "widget.json", "acme/widget")
    out = runner.invoke(cli, ["backfill", "acme/widget", "--from", str(export)])
    assert out.exit_code == 0 and "45 learned" in out.stdout, out.output
    borrowed = (
        "smolbot triage: new/repo has no labeled issues of its own: its kinds come from other"
        " repositories' examples, acme/widget (45); `smolbot backfill new/repo --from FILE`, or"
        " the App installed on it and `smolbot backfill new/repo`, teaches it its own"
    )
    out = runner.invoke(cli, ["triage", "--repo", "new/repo", *CRASH])
    assert out.exit_code == 0, out.output
    assert out.stderr.splitlines()[0] == borrowed
    assert json.loads(out.stdout)["model"].startswith("tfidf-lr")  # stdout: the decision only
    out = runner.invoke(cli, ["triage", "--repo", "acme/widgte", *CRASH])
    assert out.stderr.splitlines()[0].startswith(
        "smolbot triage: acme/widgte has no labeled issues of its own (did you mean acme/widget?):"
    )
    out = runner.invoke(cli, ["triage", "--repo", "acme/widget", *CRASH])
    assert out.exit_code == 0 and "of its own" not in out.stderr, out.stderr


def test_a_gh_export_says_why_nothing_is_stored_and_triage_does_not_contradict_it(
    runner: CliRunner, tmp_path: Path
) -> None:
    """ "0 stored" was unexplained, and triage then said "a --from file teaches kinds only: its
    numbers need not be GitHub's" of a --github-numbers import, whose numbers are GitHub's."""
    export = _gh_export(tmp_path / "gh.json", "acme/gizmo")
    out = runner.invoke(cli, ["backfill", "acme/gizmo", "--from", str(export), "--github-numbers"])
    assert out.exit_code == 0, out.output
    assert out.stdout.splitlines()[0] == (
        "acme/gizmo: 45 read, 0 stored, 45 learned, 0 skipped; stored counts issues copied for"
        " duplicate search, which a --from file's rows never are (it teaches kinds only): the"
        " App's webhooks and `smolbot backfill acme/gizmo` through the API copy them"
    )
    out = runner.invoke(cli, ["triage", "--repo", "acme/gizmo", *CRASH])
    assert out.exit_code == 0, out.output
    assert out.stderr == (
        "smolbot triage: no issues of acme/gizmo are stored, so no duplicates can be found; they"
        " are stored from the App's webhooks and `smolbot backfill acme/gizmo` through the API"
        " (a --from file teaches kinds only: its rows, --github-numbers ones too, are not stored"
        " as issues)\n"
    )


def test_a_stdin_line_that_is_not_json_is_said_to_be_so_with_where_it_stopped(
    runner: CliRunner,
) -> None:
    """It got "expected a JSON object with title and body", as a JSON line without them does."""
    lines = ["not json", GOOD + " trailing", GOOD]
    out = runner.invoke(cli, ["triage", "--repo", "octo/app"], input="\n".join(lines) + "\n")
    assert out.exit_code == 1 and "2 input line(s) could not be read" in out.stderr, out.output
    answers = [json.loads(x) for x in out.stdout.splitlines()]
    assert [a.get("line") for a in answers] == [1, 2, 3]
    expected = '; expected one JSON object a line, {"title": ..., "body": ...}'
    assert answers[0]["error"] == "not valid JSON (Expecting value at column 1)" + expected
    assert (
        answers[1]["error"] == f"not valid JSON (Extra data at column {len(GOOD) + 2})" + expected
    )
    assert answers[2]["title"] == "Add dark mode please"


def test_a_number_that_is_no_issue_number_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    """`"number": -5` was taken: triage answered issue -5, and a --github-numbers backfill learned
    the row by its text without a word."""
    rows = [{"title": "Crash", "body": "boom", "number": n} for n in (-5, 0, 7)]
    stdin = "".join(json.dumps(r) + "\n" for r in rows)
    out = runner.invoke(cli, ["triage", "--repo", "octo/app"], input=stdin)
    assert out.exit_code == 1 and "2 input line(s) could not be read" in out.stderr, out.output
    answers = [json.loads(x) for x in out.stdout.splitlines()]
    assert answers[0] == {
        "line": 1,
        "error": "number must be an issue number (GitHub's start at 1), not -5; fix or drop it",
    }
    assert answers[1]["error"].endswith("not 0; fix or drop it")
    assert answers[2]["number"] == 7 and "error" not in answers[2]
    export = tmp_path / "gh.json"
    export.write_text(
        json.dumps(
            [
                {"number": 3, "title": "Crash", "body": "boom", "labels": [{"name": "bug"}]},
                {"number": -5, "title": "Idea", "body": "add", "labels": [{"name": "enhancement"}]},
            ]
        )
    )
    out = runner.invoke(cli, ["backfill", "octo/app", "--from", str(export), "--github-numbers"])
    assert out.exit_code == 1 and "Traceback" not in out.output, out.output
    assert out.stderr.endswith(
        f"Error: {export}: item 2 of its JSON array: number -5 is not an issue number (GitHub's"
        " are whole numbers from 1); fix it, or import without --github-numbers to learn the rows"
        " by their title and body. 1 issue before that item was learned; fix it and run the file"
        " again: nothing is learned twice\n"
    )


def test_an_empty_file_is_said_to_be_empty(runner: CliRunner, tmp_path: Path) -> None:
    """It got "the columns are none" (a .json one: "0 read", exit 0)."""
    for name, text in (("empty.csv", ""), ("blank.jsonl", "\n\n")):
        src = tmp_path / name
        src.write_text(text)
        out = runner.invoke(cli, ["backfill", "octo/app", "--from", str(src)])
        assert out.exit_code == 1, out.output
        assert out.stderr.endswith(
            f"Error: {src}: the file is empty; backfill reads labeled issues as CSV (a title,"
            " body, label header, then a row each), JSON lines or a JSON array\n"
        )
    out = runner.invoke(cli, ["backfill", "octo/app", "--from", "-"], input="")
    assert out.exit_code == 1 and "Error: stdin is empty; backfill reads" in out.stderr


def test_a_file_with_no_rows_is_a_failed_import_not_0_read(
    runner: CliRunner, tmp_path: Path
) -> None:
    """A header alone, or gh's `[]` (its filter matched nothing), said "0 read" and exited 0, as
    if imported; a file of rows none of which has a label exits 1, as an empty file does."""
    header = tmp_path / "header.csv"
    header.write_text("title,body,label\n")
    out = runner.invoke(cli, ["backfill", "octo/app", "--from", str(header)])
    assert out.exit_code == 1 and "0 read" not in out.output, out.output
    assert out.stderr.endswith(
        f"Error: {header}: a header (title, body, label) and no rows under it: nothing to learn;"
        " export the labeled issues with it\n"
    )
    none = tmp_path / "gh.json"
    none.write_text("[]\n")
    out = runner.invoke(cli, ["backfill", "octo/app", "--from", str(none)])
    assert out.exit_code == 1 and "0 read" not in out.output, out.output
    assert "an empty JSON array, no issues: nothing to learn" in out.stderr


def test_a_binary_file_is_said_not_to_be_text(runner: CliRunner, tmp_path: Path) -> None:
    """A .gz (or a spreadsheet) was told to run `iconv -f latin1`, which makes it no CSV."""
    csv = "title,body,label\nCrash,boom,bug\nIdea,add,enhancement\n"
    packed = tmp_path / "export.csv.gz"
    packed.write_bytes(gzip.compress(csv.encode(), mtime=0))
    out = runner.invoke(cli, ["backfill", "octo/app", "--from", str(packed)])
    assert out.exit_code == 1 and "iconv" not in out.output, out.output
    assert out.stderr.endswith(
        f"Error: {packed}: not a text file (a NUL byte at offset 3); backfill reads CSV, JSON"
        " lines or a JSON array as UTF-8 text: save a spreadsheet as CSV, and give a .gz as"
        " `--from <(zcat FILE)`\n"
    )


def test_backfill_help_names_the_json_array_gh_writes(runner: CliRunner) -> None:
    """It said "CSV or JSON lines", though gh's one JSON array is read (the README says so)."""
    out = runner.invoke(cli, ["backfill", "--help"], terminal_width=200)
    assert out.exit_code == 0
    assert (
        "CSV, JSON lines, or the JSON array gh issue list --json number,title,body,labels writes"
        in " ".join(out.stdout.split())
    )
