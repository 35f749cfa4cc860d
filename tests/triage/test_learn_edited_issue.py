"""One example per issue, also when its body was edited between the large model's label and a
maintainer's: the maintainer's label (on the newer text) replaces the large model's example of
the older text, instead of both staying as two examples with two labels of one issue."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.jobs.backfill import backfill_from_file
from bot.jobs.context import JobContext
from bot.jobs.triage import handle_issue_event
from bot.llm.records import Learned, Records
from tests.llm.conftest import behaviour, escalating_layer, large_url  # noqa: F401 (fixtures)
from tests.triage.conftest import REPO, OneRepoGitHub, issue_payload

OTHER = "other/repo"  # a repository the trained fixtures taught nothing


def _examples(store, scope=REPO):  # type: ignore[no-untyped-def]
    sql = "select source, label, text, issue from llm_examples where scope = ? order by seq"
    return list(store.rows(sql, [scope]))


def test_label_after_an_edit_replaces_the_large_models_example(
    tmp_path,
    store,
    host,
    behaviour,  # noqa: F811
    large_url,  # noqa: F811
):
    behaviour.replies = ['{"label": "bug"}']
    layer = escalating_layer(
        tmp_path,
        store,
        {"large_provider": "openai", "large_model": "big", "large_base_url": large_url},
    )
    ctx = JobContext(
        layer.settings, store, OneRepoGitHub(host), layer, lambda: datetime(2026, 3, 1, tzinfo=UTC)
    )  # type: ignore[arg-type]
    n = host.add("Tooltip flickers", "The tooltip flickers over the legend.").number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert [(r["source"], r["label"], r["issue"]) for r in _examples(store)] == [
        ("large", "bug", n)
    ]
    host.issues[n].body = "It would be nice if the tooltip faded in instead of appearing."
    host.issues[n].labels[:] = ["enhancement"]
    p = issue_payload(host, n, "labeled", sender="maint")
    p["label"] = {"name": "enhancement"}
    handle_issue_event(ctx, "d2", p)
    rows = _examples(store)
    assert [(r["source"], r["label"], r["issue"]) for r in rows] == [("human", "feature", n)], rows
    assert "faded in" in rows[0]["text"]


def test_an_issue_is_one_example_whichever_source_teaches_it(any_store):  # type: ignore[no-untyped-def]
    records = Records(any_store)
    assert records.learn(REPO, "Crash\n\nold words", "bug", "backfill", issue=7) == Learned.NEW
    # a later backfill of the edited issue: the repository's label on its newest text
    assert records.learn(REPO, "Crash\n\nnew words", "bug", "backfill", issue=7) == Learned.KNOWN
    rows = _examples(any_store)
    assert [(r["text"], r["issue"]) for r in rows] == [("Crash\n\nnew words", 7)], rows
    # the large model's later guess on the next edit does not replace the repository's label
    got = records.learn(REPO, "Crash\n\nnewest words", "feature", "large", issue=7)
    assert got == Learned.OUTRANKED
    rows = _examples(any_store)
    assert [(r["label"], r["text"]) for r in rows] == [("bug", "Crash\n\nnewest words")], rows


def test_a_verbatim_twins_label_stays_with_its_text(any_store):  # type: ignore[no-untyped-def]
    """Issue 9 is a verbatim copy of issue 7 and a maintainer labels 9: the example is 9's now.
    Issue 7 is then rewritten: its new text is its own example, and 9's label stays on the text
    the maintainer saw."""
    records = Records(any_store)
    records.learn(REPO, "Crash\n\nit crashes", "bug", "large", issue=7)
    assert records.learn(REPO, "Crash\n\nit crashes", "feature", "human", issue=9) == Learned.NEW
    got = records.learn(REPO, "Export\n\nplease add CSV export", "feature", "large", issue=7)
    assert got == Learned.NEW
    rows = {r["text"]: (r["source"], r["label"], r["issue"]) for r in _examples(any_store)}
    assert rows == {
        "Crash\n\nit crashes": ("human", "feature", 9),
        "Export\n\nplease add CSV export": ("large", "feature", 7),
    }, rows


def test_a_file_import_with_numbers_is_the_same_issue(ctx, tmp_path):  # type: ignore[no-untyped-def]
    """`gh issue list --json number,title,body,labels` as JSON lines, and a CSV with a number
    column: the numbers are the issues', so a later label of an edited issue replaces them. A
    row whose number is no issue number (`true`, `six`) stops the import at its line: the file
    said its numbers are GitHub's (a row before it stays learned)."""
    assert ctx.models is not None
    jsonl, csv = tmp_path / "issues.jsonl", tmp_path / "issues.csv"
    row = {"number": 5, "title": "Crash", "body": "it crashes on save", "label": "bug"}
    jsonl.write_text(json.dumps(row) + "\n" + json.dumps({**row, "number": True, "title": "B"}))
    csv.write_text("number,title,body,label\n6,Slow,it is slow,bug\nsix,Odd,no number,bug\n")
    with pytest.raises(ValueError, match=r"issues.jsonl:2: number true is not an issue number"):
        backfill_from_file(ctx, OTHER, jsonl, github_numbers=True)
    with pytest.raises(ValueError, match=r'issues.csv:3: number "six" is not an issue number'):
        backfill_from_file(ctx, OTHER, csv, github_numbers=True)
    numbers = sorted((r["issue"] or 0) for r in _examples(ctx.store, OTHER))
    assert numbers == [5, 6], numbers
    ctx.models.learn(OTHER, "Crash\n\nit crashes on save in 2.1", "question", "human", None, 5)
    ctx.models.learn(OTHER, "Slow\n\nit is slow, edited", "question", "human", None, 6)
    rows = _examples(ctx.store, OTHER)
    assert sorted((r["label"], r["issue"] or 0) for r in rows) == [
        ("question", 5),
        ("question", 6),
    ], rows


def test_examples_without_an_issue_are_found_by_text_only(any_store):  # type: ignore[no-untyped-def]
    records = Records(any_store)
    records.learn(REPO, "A\n\none", "bug", "backfill")  # a CSV import: no numbers
    records.learn(REPO, "B\n\ntwo", "feature", "backfill")
    records.learn(REPO, "A\n\none, edited", "question", "human", issue=3)
    assert sorted((r["label"], r["issue"] or 0) for r in _examples(any_store)) == [
        ("bug", 0),
        ("feature", 0),
        ("question", 3),
    ]
