"""The examples' sequence number never goes back when examples are forgotten: every process compares
its classifier's with it, and one that went back (a repository's last examples forgotten) left the
other processes serving a classifier trained on the forgotten examples."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.llm import ModelLayer
from bot.llm import classifier as first_stage
from bot.llm.records import MARK_SOURCE, Records
from bot.store import Store
from tests.llm.conftest import make_settings


def text(scope: str, i: int) -> str:
    words = "crash traceback error" if i % 2 else "please add an option"
    return f"{scope} issue {i} {words}\n\n{words} seen on build {i}"


def label(i: int) -> str:
    return "bug" if i % 2 else "feature"


def test_forgetting_a_repository_s_last_examples_moves_the_sequence_on(any_store: Store) -> None:
    rec = Records(any_store)
    for i in range(40):
        rec.learn("a/a", text("a/a", i), label(i), "backfill", issue=i)
    for i in range(5):
        rec.learn("b/b", text("b/b", i), label(i), "backfill", issue=100 + i)
    seen = [rec.example_seq()]
    for i in range(5):  # all of b/b: none of its examples is left to carry the number
        assert rec.forget("b/b", text("b/b", i), "backfill", 100 + i)
        seen.append(rec.example_seq())
    assert seen == [45, 46, 47, 48, 49, 50]  # one a change, as learning would count them
    assert rec.forget("a/a", text("a/a", 0), "backfill", 0)
    assert rec.example_seq() == 51
    assert set(rec.example_counts()) == {"a/a"}
    # what a classifier learns from is in the order it was: the newest of all took the number
    assert [e.text for e in rec.examples()] == [text("a/a", i) for i in range(1, 40)]


def test_forgetting_every_example_leaves_a_mark_the_next_example_replaces(
    any_store: Store,
) -> None:
    rec = Records(any_store)
    for i in range(3):
        rec.learn("o/r", text("o/r", i), label(i), "backfill", issue=i)
    for i in range(3):
        assert rec.forget("o/r", text("o/r", i), "backfill", i)
    assert rec.example_seq() == 6
    assert rec.examples() == [] and rec.examples(newest_per_scope=5) == []
    assert rec.example_counts() == {}
    assert rec.forget("o/r", text("o/r", 0), "backfill", 0) is False  # nothing: no change
    assert rec.example_seq() == 6
    rec.learn("o/r", text("o/r", 7), "bug", "human", issue=7)
    assert rec.example_seq() == 7
    rows = list(any_store.rows("select scope, source, seq from llm_examples"))
    assert rows == [{"scope": "o/r", "source": "human", "seq": 7}]  # the mark went
    assert MARK_SOURCE not in {r["source"] for r in rows}


def learn_two_repositories(layer: ModelLayer) -> None:
    for i in range(40):
        layer.learn("a/a", text("a/a", i), label(i), "backfill", issue=i)
    for i in range(25):
        layer.learn("b/b", text("b/b", i), label(i), "backfill", issue=100 + i)


def test_another_process_retrains_when_a_repository_s_examples_are_forgotten(
    tmp_path: Path, llm_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(first_stage, "get_encoder", lambda *a, **k: None)  # TF-IDF only: fast
    settings = make_settings(tmp_path)
    worker, backfill = ModelLayer(settings, llm_store), ModelLayer(settings, llm_store)
    learn_two_repositories(backfill)
    before = worker.classifier()
    assert before.counts == {"a/a": 40, "b/b": 25} and before.seq == 65
    for i in range(25):  # the label map changed: b/b teaches nothing now
        assert backfill.forget_backfilled("b/b", text("b/b", i), 100 + i)
    after = worker.classifier()  # 25 changes since its training: RETRAIN_EVERY (20) passed
    assert after is not before and after.counts == {"a/a": 40} and after.seq == 90


def test_a_sequence_gone_back_retrains(
    tmp_path: Path, llm_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store restored from a backup, or examples deleted by hand: a history this classifier
    never learned, whatever the difference."""
    monkeypatch.setattr(first_stage, "get_encoder", lambda *a, **k: None)
    layer = ModelLayer(make_settings(tmp_path), llm_store)
    learn_two_repositories(layer)
    assert layer.classifier().counts == {"a/a": 40, "b/b": 25}
    llm_store.db.execute("delete from llm_examples where scope = ?", ["b/b"])
    llm_store.db.conn.commit()
    assert layer.records.example_seq() == 40
    assert layer.classifier().counts == {"a/a": 40}
