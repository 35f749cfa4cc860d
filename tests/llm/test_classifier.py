"""The learned first stage: probabilities over the asked labels, per-scope blend, learning priorities."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.llm import ModelLayer
from bot.llm.classifier import MIN_SCOPE_EXAMPLES, Classifier
from bot.llm.records import Example, Learned
from bot.store import Store
from tests.llm.conftest import make_settings
from tests.llm.examples import BUGS, FEATURES, LABELS, QUESTIONS, seed


def examples(scope: str = "o/r") -> list[Example]:
    rows = []
    for label, texts in zip(LABELS, (BUGS, FEATURES, QUESTIONS), strict=True):
        rows += [Example(scope, t, label, "human") for t in texts]
    return rows


def test_untrained_classifier_has_no_answer() -> None:
    assert Classifier.train([]).probabilities("o/r", "x", LABELS) is None
    one_class = [Example("o/r", t, "bug", "human") for t in BUGS]
    assert Classifier.train(one_class).probabilities("o/r", "x", LABELS) is None


def test_probabilities_cover_exactly_the_asked_labels() -> None:
    clf = Classifier.train(examples())
    p = clf.probabilities("o/r", "Program crashes with an exception\n\ntraceback error", LABELS)
    assert p is not None and set(p) == set(LABELS)
    assert sum(p.values()) == pytest.approx(1.0)
    assert max(p, key=lambda k: p[k]) == "bug"
    only_two = clf.probabilities("o/r", "How do I set the port?\n\nwhere", ["feature", "question"])
    assert only_two is not None and set(only_two) == {"feature", "question"}
    assert max(only_two, key=lambda k: only_two[k]) == "question"
    unknown = clf.probabilities("o/r", "anything", ["bug", "docs"])
    # a label it never saw keeps only the prior's share, which shrinks as examples accumulate
    assert unknown is not None and 0.0 < unknown["docs"] < unknown["bug"]


def test_scope_model_needs_enough_examples() -> None:
    small = Classifier.train(examples("a/b"))
    assert "a/b" not in small.scoped
    many = examples("a/b") * (MIN_SCOPE_EXAMPLES // len(examples()) + 1)
    assert "a/b" in Classifier.train(many).scoped


def test_human_label_is_not_overwritten_by_a_model(tmp_path: Path, llm_store: Store) -> None:
    layer = ModelLayer(make_settings(tmp_path), llm_store)
    assert layer.learn("o/r", "Text", "bug", source="human") == Learned.NEW
    assert layer.learn("o/r", "Text", "feature", source="large") == Learned.OUTRANKED
    assert layer.learn("o/r", "Text", "bug", source="human") == Learned.KNOWN
    assert layer.learn("o/r", "Other", "feature", source="large") == Learned.NEW
    assert layer.learn("o/r", "Other", "question", source="human") == Learned.NEW  # relabeled
    labels = {e.text: (e.label, e.source) for e in layer.records.examples()}
    assert labels == {"Text": ("bug", "human"), "Other": ("question", "human")}
    with pytest.raises(ValueError, match="source"):
        layer.learn("o/r", "x", "bug", source="guess")


def test_classifier_retrains_in_batches(tmp_path: Path, llm_store: Store) -> None:
    layer = ModelLayer(make_settings(tmp_path, thresholds={"triage": 0.0}), llm_store)
    seed(layer)
    ans = layer.classify("triage", "o/r", BUGS[0], LABELS)
    assert ans.status == "ok" and ans.record.backend == "classifier"
    trained_on = layer.classifier().seq
    layer.learn("o/r", "A new bug report\n\ncrash", "bug")
    assert layer.classifier().seq == trained_on  # one example does not retrain
    for i in range(layer.retrain_every):
        layer.learn("o/r", f"Question {i}\n\nhow do I", "question")
    assert layer.classifier().seq > trained_on


def test_get_model_layer_is_one_per_data_dir_model_and_store(
    tmp_path: Path, llm_store: Store
) -> None:
    from bot.llm import get_model_layer
    from bot.store import open_store

    settings = make_settings(tmp_path)
    layer = get_model_layer(settings, llm_store)
    assert get_model_layer(settings, llm_store) is layer
    other = get_model_layer(settings, open_store(":memory:"))
    assert other is not layer
    assert other.local is layer.local  # weights are shared by the whole process
