"""One example per issue, also when its body was edited between the large model's label and a
maintainer's: the maintainer's label (on the newer text) replaces the large model's example of
the older text, instead of both staying as two examples with two labels of one issue."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.jobs.context import JobContext
from bot.jobs.triage import handle_issue_event
from bot.llm.records import Learned, Records
from tests.llm.conftest import behaviour, escalating_layer, large_url  # noqa: F401 (fixtures)
from tests.triage.conftest import REPO, OneRepoGitHub, issue_payload


def _examples(store):  # type: ignore[no-untyped-def]
    sql = "select source, label, text, issue from llm_examples where scope = ? order by seq"
    return list(store.rows(sql, [REPO]))


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


def test_an_issue_is_one_example_whichever_source_teaches_it(store):  # type: ignore[no-untyped-def]
    records = Records(store)
    assert records.learn(REPO, "Crash\n\nold words", "bug", "backfill", issue=7) == Learned.NEW
    # a later backfill of the edited issue: the repository's label on its newest text
    assert records.learn(REPO, "Crash\n\nnew words", "bug", "backfill", issue=7) == Learned.KNOWN
    rows = _examples(store)
    assert [(r["text"], r["issue"]) for r in rows] == [("Crash\n\nnew words", 7)], rows
    # a person's label of another issue with the same text: that example, its first issue kept
    assert records.learn(REPO, "Crash\n\nnew words", "feature", "human", issue=9) == Learned.NEW
    assert [(r["source"], r["label"], r["issue"]) for r in _examples(store)] == [
        ("human", "feature", 7)
    ]
    # the large model's later guess on issue 7's next edit does not replace the person's label
    got = records.learn(REPO, "Crash\n\nnewest words", "bug", "large", issue=7)
    assert got == Learned.OUTRANKED
    rows = _examples(store)
    assert [(r["label"], r["text"]) for r in rows] == [("feature", "Crash\n\nnewest words")], rows


def test_examples_without_an_issue_are_found_by_text_only(store):  # type: ignore[no-untyped-def]
    records = Records(store)
    records.learn(REPO, "A\n\none", "bug", "backfill")  # a CSV import: no numbers
    records.learn(REPO, "B\n\ntwo", "feature", "backfill")
    records.learn(REPO, "A\n\none, edited", "question", "human", issue=3)
    assert sorted((r["label"], r["issue"]) for r in _examples(store)) == [
        ("bug", None),
        ("feature", None),
        ("question", 3),
    ]
