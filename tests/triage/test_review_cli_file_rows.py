"""`smolbot backfill o/r --from FILE` on rows as exporters write them: a null label left out of the
first object, a bad byte deep in a long file (named by its line and its offset in the file, not one
inside the decoder's chunk), a body past GitHub's size (cut to it, said once: a 22 MB body took
483 s), and `--from -` for stdin. The real CLI on a store of its own (no model)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bot.cli import cli
from bot.llm import records
from bot.settings import get_settings
from bot.store import open_store
from tests.triage import test_cli

runner = test_cli.runner  # the fixture: the CLI on a store of its own, no model

REPO = "octo/app"
ROWS = [
    {"title": "App crashes when I click save", "body": "A traceback every time.", "label": "bug"},
    {"title": "Add a dark theme", "body": "Easier on the eyes.", "label": "enhancement"},
    {"title": "How do I set a proxy?", "body": "Nothing in the docs.", "label": "question"},
]


def _run(runner: CliRunner, src: Path | str, **kw: Any) -> Result:
    return runner.invoke(cli, ["backfill", REPO, "--from", str(src)], **kw)


def _examples() -> list[dict[str, Any]]:
    store = open_store(get_settings().effective_database_url)
    try:
        return list(store.rows("select text, label from llm_examples where scope = ?", [REPO]))
    finally:
        store.close()


def _lines(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def test_a_first_object_without_a_label_key_is_a_row_with_no_label(
    runner: CliRunner, tmp_path: Path
) -> None:
    """An exporter leaves a null label out: the file was refused whole ("the keys are title,
    body; backfill reads title, body and label")."""
    src = tmp_path / "export.jsonl"
    src.write_text(_lines([{"title": "Unlabeled one", "body": "b"}, *ROWS]))
    out = _run(runner, src)
    assert out.exit_code == 0, out.output
    assert "4 read, 0 stored, 3 learned, 1 skipped" in out.stdout, out.output
    assert "not learned: 1 (1 no label)" in out.stdout
    gh = tmp_path / "gh.json"  # gh's array, the first item without labels
    rows = [{"title": "Unlabeled two", "body": "b"}, *({**r, "label": "bug"} for r in ROWS)]
    gh.write_text(json.dumps(rows))
    out = _run(runner, gh)
    assert out.exit_code == 0 and "4 read, 0 stored, 2 learned (1 known already), 1 skipped" in (
        out.stdout
    ), out.output


@pytest.mark.parametrize("kind", ["jsonl", "json"])
def test_a_file_none_of_whose_rows_has_a_label_is_refused(
    runner: CliRunner, tmp_path: Path, kind: str
) -> None:
    rows = [{"title": r["title"], "body": r["body"]} for r in ROWS]
    src = tmp_path / f"export.{kind}"
    src.write_text(_lines(rows) if kind == "jsonl" else json.dumps(rows))
    out = _run(runner, src)
    assert out.exit_code == 1 and "Traceback" not in out.output, out.output
    assert out.output.endswith(
        f"Error: {src}: none of its rows has a label (the first row's keys are title, body);"
        " backfill reads title, body and label (rename the keys of another tracker's export to"
        " these)\n"
    ), out.output
    assert _examples() == []


def test_a_bad_byte_deep_in_a_file_is_named_by_its_line_and_file_offset(
    runner: CliRunner, tmp_path: Path
) -> None:
    """A Latin-1 é at line 5657 (offset 200,023) was said to be "at offset 7511", and 121 of the
    126 rows before it learned: the decoder had read ahead a chunk."""
    good = [
        json.dumps({"title": f"Crash {i} on save", "body": "x" * 80, "label": "bug"}).encode()
        for i in range(400)
    ]
    bad = b'{"title": "Caf\xe9 crashes", "body": "y", "label": "bug"}'
    head = b"\r\n".join(good[:300]) + b"\r\n\r\n"  # a blank line: a line too
    src = tmp_path / "export.jsonl"
    src.write_bytes(head + bad + b"\r\n" + b"\r\n".join(good[300:]))
    out = _run(runner, src)
    assert out.exit_code == 1 and "Traceback" not in out.output, out.output
    offset = len(head) + bad.index(b"\xe9")
    assert out.output.endswith(
        f"Error: {src}:302: not UTF-8 text (byte 0xe9 at offset {offset}); save it as UTF-8, e.g."
        " `iconv -f latin1 -t utf-8`, and run it again. 300 issues before that line were"
        " learned; fix it and run the file again: nothing is learned twice\n"
    ), out.output
    assert len(_examples()) == 300


def test_a_bad_byte_in_a_csv_counts_the_lines_of_a_quoted_cell(
    runner: CliRunner, tmp_path: Path
) -> None:
    src = tmp_path / "export.csv"
    text = 'title,body,label\nCrash,"line one\nline two\nline three",bug\n'
    src.write_bytes(text.encode() + b"Caf\xe9 crashes,on start,bug\n")
    out = _run(runner, src)
    assert out.exit_code == 1, out.output
    assert f"Error: {src}:5: not UTF-8 text (byte 0xe9 at offset {len(text) + 3})" in out.output
    assert "1 issue before that line was learned" in out.output


def test_a_body_past_githubs_size_is_cut_to_it_and_said_once(
    runner: CliRunner, tmp_path: Path
) -> None:
    big = {"title": "Huge log crash", "body": "Traceback line error at foo.py\n" * 3000}  # 93,000
    big["label"] = "bug"
    src = tmp_path / "export.jsonl"
    src.write_text(_lines([ROWS[0], big, {**big, "title": "T" * 300}]))
    out = _run(runner, src)
    assert out.exit_code == 0 and "3 read, 0 stored, 3 learned" in out.stdout, out.output
    said = [x for x in out.stderr.splitlines() if "longer than GitHub takes" in x]
    assert said == [
        f"smolbot backfill: {src}:2: the body is longer than GitHub takes in an issue (title 256,"
        " body 65,536 characters): cut to that, as any later row's is (not said again)"
    ], out.stderr
    texts = sorted((e["text"] for e in _examples()), key=len)
    assert len(texts[-1]) <= 256 + 2 + 65_536 and texts[-1].startswith("T" * 256 + "\n\n")


def test_each_example_is_read_through_the_filters_once(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its key (backfill) and its stored form (Records.learn, twice there): 12 quarantine passes
    over each title and body where 2 do."""
    reads: list[str] = []
    real = records._read

    def counted(text: str) -> str:
        reads.append(text)
        return real(text)

    monkeypatch.setattr(records, "_read", counted)
    tag = uuid.uuid4().hex  # texts no earlier test had read
    rows = [{**r, "body": f"{r['body']} {tag}"} for r in ROWS]
    src = tmp_path / "export.jsonl"
    src.write_text(_lines(rows))
    out = _run(runner, src)
    assert out.exit_code == 0 and "3 learned" in out.stdout, out.output
    assert len(reads) == 2 * len(rows), reads  # a title and a body each


@pytest.mark.parametrize("kind", ["jsonl", "csv"])
def test_from_dash_reads_stdin(runner: CliRunner, kind: str) -> None:
    """It was refused: "File '-' does not exist"."""
    if kind == "jsonl":
        text = _lines(ROWS) + "[1]\n"
    else:
        text = "title,body,label\n" + "".join(f"{r['title']},x,{r['label']}\n" for r in ROWS)
    out = _run(runner, "-", input=text)
    assert "Traceback" not in out.output, out.output
    if kind == "csv":
        assert out.exit_code == 0 and "3 read, 0 stored, 3 learned" in out.stdout, out.output
    else:
        assert out.exit_code == 1 and out.output.endswith(
            "Error: stdin:4: not a JSON object; use CSV or JSON lines. 3 issues before that line"
            " were learned; fix it and run the file again: nothing is learned twice\n"
        ), out.output
    assert len(_examples()) == 3
