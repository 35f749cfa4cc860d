"""`smolbot backfill --from FILE` on files as people have them: a row with no label forgets nothing,
rows sharing a number are not one issue, gh's JSON array, labels separated by semicolons, UTF-16
(PowerShell 5's `>`) and files joined with cat. The real CLI on a store of its own (no model: the
TF-IDF classifier), the store read after it."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import cli
from bot.settings import get_settings
from bot.store import open_store
from tests.triage import test_cli

runner = test_cli.runner  # the fixture: the CLI on a store of its own, no model

REPO = "octo/app"
ISSUES = [
    ("App crashes when I click save", "It stops with a traceback every time.", "bug"),
    ("Login page shows a blank screen", "Nothing renders after the update.", "bug"),
    ("Export to CSV loses accents", "Names with é come out garbled.", "bug"),
    ("Add a dark theme", "A dark mode would be easier on the eyes.", "enhancement"),
    ("Support keyboard shortcuts", "Ctrl+S to save would help.", "enhancement"),
    ("Allow tags on tasks", "Tags would let me group tasks.", "enhancement"),
]


def _examples() -> list[dict]:  # type: ignore[type-arg]
    store = open_store(get_settings().effective_database_url)
    try:
        return list(
            store.rows(
                "select text, label, source, issue from llm_examples where scope = ?", [REPO]
            )
        )
    finally:
        store.close()


def _csv(path: Path, rows: list[tuple[str, str, str]], label_column: str = "label") -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["title", "body", label_column])
        w.writerows(rows)
    return path


def _backfill(runner: CliRunner, path: Path | str, *more: str) -> Result:
    out = runner.invoke(cli, ["backfill", REPO, "--from", str(path), *more])
    assert out.exit_code == 0 and "Traceback" not in out.output, out.output
    return out


def test_a_file_row_with_no_label_forgets_nothing(runner: CliRunner, tmp_path: Path) -> None:
    """The same issues again with empty label cells (or a label naming no kind) forgot every
    example the first file taught: in a file, no label is no label known."""
    _backfill(runner, _csv(tmp_path / "labeled.csv", ISSUES))
    assert len(_examples()) == 6
    bare = [(t, b, "" if i % 2 else "wontfix") for i, (t, b, _) in enumerate(ISSUES)]
    out = _backfill(runner, _csv(tmp_path / "bare.csv", bare))
    assert "6 read, 0 stored, 0 learned, 6 skipped" in out.stdout, out.stdout
    assert "forgotten" not in out.stdout
    assert sorted(e["label"] for e in _examples()) == ["bug"] * 3 + ["feature"] * 3


def test_numbered_rows_with_no_label_forget_nothing_either(
    runner: CliRunner, tmp_path: Path
) -> None:
    """Keyed by number, the forgetting went by the number too (gh's export has numbers)."""
    src = tmp_path / "issues.jsonl"
    rows = [
        {"number": n, "title": t, "body": b, "label": k} for n, (t, b, k) in enumerate(ISSUES, 1)
    ]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    _backfill(runner, src)
    src.write_text("".join(json.dumps({**r, "label": ""}) + "\n" for r in rows))
    _backfill(runner, src)
    assert len(_examples()) == 6


def _numbered_twice() -> list[dict]:  # type: ignore[type-arg]
    """Eight issues numbered 1-4 twice (two exports joined, each numbering from 1)."""
    more = [
        ("Sync fails behind a proxy", "It times out at the proxy.", "bug"),
        ("Crash on empty project", "Opening an empty project crashes.", "bug"),
        ("Add a calendar view", "Tasks on a calendar, please.", "enhancement"),
        ("Recurring tasks", "Tasks that repeat weekly.", "enhancement"),
    ]
    return [
        {"number": n % 4 + 1, "title": t, "body": b, "label": k}
        for n, (t, b, k) in enumerate([*ISSUES[:4], *more])
    ]


def test_rows_sharing_a_number_are_learned_by_their_text(runner: CliRunner, tmp_path: Path) -> None:
    """Each repeat replaced the example of the row before it with that number: "8 learned",
    4 examples stored."""
    src = tmp_path / "joined.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in _numbered_twice()))
    out = _backfill(runner, src, "--github-numbers")
    assert "8 read, 0 stored, 8 learned, 0 skipped" in out.stdout, out.output
    assert f"{src}: rows 1 and 5 both have number 1" in out.stderr
    assert "its rows are learned by their title and body" in out.stderr
    examples = _examples()
    assert len(examples) == 8 and all(e["issue"] is None for e in examples), examples
    out = _backfill(runner, src, "--github-numbers")  # again: nothing new
    assert "0 learned (8 known already)" in out.stdout
    assert len(_examples()) == 8


def test_rows_sharing_a_number_in_a_pipe_are_learned_by_text_from_the_repeat_on(
    runner: CliRunner,
) -> None:
    text = "".join(json.dumps(r) + "\n" for r in _numbered_twice()).encode()
    r, w = os.pipe()
    os.write(w, text)
    os.close(w)
    try:
        out = _backfill(runner, f"/dev/fd/{r}", "--github-numbers")
    finally:
        os.close(r)
    assert "8 read, 0 stored, 8 learned, 0 skipped" in out.stdout, out.output
    assert "from row 5 on, its rows are learned by their title and body" in out.stderr
    assert len(_examples()) == 8
    # the audit names the pipe as given (it said "learned from 63", the descriptor's number)
    store = open_store(get_settings().effective_database_url)
    try:
        (reason,) = [r["reason"] for r in store.audit_rows(limit=10) if r["outcome"] == "done"]
    finally:
        store.close()
    assert reason.startswith(f"8 labeled issues learned from /dev/fd/{r}"), reason


def test_the_same_text_labeled_twice_counts_as_one_example(
    runner: CliRunner, tmp_path: Path
) -> None:
    title, body, _ = ISSUES[0]
    out = _backfill(
        runner, _csv(tmp_path / "twice.csv", [(title, body, "bug"), (title, body, "enhancement")])
    )
    assert "2 read, 0 stored, 1 learned, 1 skipped" in out.stdout, out.stdout
    assert "an earlier issue's text, labeled otherwise" in out.stdout
    assert [e["label"] for e in _examples()] == ["feature"]  # the later label


def _gh_rows() -> list[dict]:  # type: ignore[type-arg]
    """As `gh issue list --json number,title,body,labels` gives them."""
    return [
        {"number": n, "title": t, "body": b, "labels": [{"id": f"L{n}", "name": k, "color": "f00"}]}
        for n, (t, b, k) in enumerate(ISSUES, 1)
    ]


@pytest.mark.parametrize("name", ["gh.json", "issues.txt"])
@pytest.mark.parametrize("indent", [None, 2])  # gh's own output is one line; jq's is indented
def test_gh_json_output_is_read(
    runner: CliRunner, tmp_path: Path, name: str, indent: int | None
) -> None:
    """It was refused: "not a JSON object; use CSV or JSON lines"."""
    src = tmp_path / name
    src.write_text(json.dumps(_gh_rows(), indent=indent))
    out = _backfill(runner, src, "--github-numbers")
    assert "6 read, 0 stored, 6 learned, 0 skipped" in out.stdout, out.output
    assert sorted(e["issue"] for e in _examples()) == [1, 2, 3, 4, 5, 6]


def test_an_item_of_a_json_array_that_is_no_issue_is_named(
    runner: CliRunner, tmp_path: Path
) -> None:
    src = tmp_path / "gh.json"
    src.write_text(json.dumps([*_gh_rows()[:2], "oops", *_gh_rows()[2:]]))
    out = runner.invoke(cli, ["backfill", REPO, "--from", str(src)])
    assert out.exit_code == 1 and "Traceback" not in out.output, out.output
    assert out.output.endswith(
        f"Error: {src}: item 3 of its JSON array is not a JSON object. 2 issues before that item"
        " were learned; fix it and run the file again: nothing is learned twice\n"
    ), out.output


def test_labels_separated_by_semicolons_are_split(runner: CliRunner, tmp_path: Path) -> None:
    """`bug; needs-review` was one label naming no kind, and the hint offered to map it whole."""
    rows = [(t, b, f"{k}; needs-review") for t, b, k in ISSUES[:4]]
    rows.append(("Tasks vanish on sync", "Synced tasks are gone.", "needs-review; wontfix"))
    out = _backfill(runner, _csv(tmp_path / "semis.csv", rows, "labels"))
    assert "5 read, 0 stored, 4 learned, 1 skipped" in out.stdout, out.stdout
    assert "their labels: 'needs-review' (1), 'wontfix' (1)" in out.stdout, out.stdout
    assert sorted(e["label"] for e in _examples()) == ["bug"] * 3 + ["feature"]


def _jsonl(rows: list[tuple[str, str, str]]) -> str:
    return "".join(json.dumps({"title": t, "body": b, "label": k}) + "\n" for t, b, k in rows)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("kind", ["jsonl", "csv"])
def test_utf16_with_its_byte_order_mark_is_read(
    runner: CliRunner, tmp_path: Path, codec: str, kind: str
) -> None:
    """What PowerShell 5's `>` writes: it was refused with `iconv -f latin1`, the wrong advice."""
    if kind == "jsonl":
        text = _jsonl(ISSUES).replace("\n", "\r\n")
    else:
        text = "title,body,label\r\n" + "".join(f'{t},"{b}",{k}\r\n' for t, b, k in ISSUES)
    src = tmp_path / f"issues.{kind}"
    src.write_bytes("\ufeff".encode(codec) + text.encode(codec))
    out = _backfill(runner, src)
    assert "6 read, 0 stored, 6 learned, 0 skipped" in out.stdout, out.output
    assert any(e["text"].startswith("Export to CSV loses accents") for e in _examples())


def test_utf16_cut_short_says_to_convert_it_from_utf16(runner: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "issues.jsonl"
    src.write_bytes("\ufeff".encode("utf-16-le") + _jsonl(ISSUES).encode("utf-16-le") + b"{")
    out = runner.invoke(cli, ["backfill", REPO, "--from", str(src)])
    assert out.exit_code == 1 and "Traceback" not in out.output, out.output
    assert "`iconv -f utf-16 -t utf-8`" in out.output and "latin1" not in out.output


def _joined(*parts: str) -> bytes:
    """Files saved with a UTF-8 byte-order mark each, joined with cat."""
    return b"".join(b"\xef\xbb\xbf" + part.encode() for part in parts)


def _halves(rows: list[tuple[str, str, str]], header: str = "") -> Iterator[str]:
    for part in (rows[:3], rows[3:]):
        yield header + (
            _jsonl(part) if not header else "".join(f"{t},{b},{k}\n" for t, b, k in part)
        )


@pytest.mark.parametrize("kind", ["jsonl", "csv"])
def test_a_byte_order_mark_starting_a_later_line_is_ignored(
    runner: CliRunner, tmp_path: Path, kind: str
) -> None:
    """It stopped the import: "not a JSON object" (and a CSV's second header was a row)."""
    src = tmp_path / f"joined.{kind}"
    src.write_bytes(_joined(*_halves(ISSUES, "title,body,label\n" if kind == "csv" else "")))
    out = _backfill(runner, src)
    assert "6 read, 0 stored, 6 learned, 0 skipped" in out.stdout, out.output
    assert len(_examples()) == 6
