"""`smolbot models eval` asks the classifier what triage asks it: one of every kind (Kind), not only
the labels the store has. Asked only those, its confidences and the threshold it named described a
classifier triage never runs (a history of bugs and features looked sure of every answer)."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from bot.core.config import Kind
from bot.llm.classifier import Classifier
from bot.llm.evaluate import TRIAGE_KINDS, evaluate, split_examples
from bot.llm.records import Example
from tests.llm.test_evaluate import FILLER, START, WORDS


def dataset(labels: list[str], per_label: int, seed: int = 0) -> list[Example]:
    rng, out = random.Random(seed), list[Example]()
    for label in labels:
        for i in range(per_label):
            cue = rng.sample(WORDS[label], 3)
            words = cue + rng.sample(FILLER, 5)
            rng.shuffle(words)
            created = (START + timedelta(days=i, hours=len(out))).timestamp()
            text = f"{cue[0]} {words[1]} {words[2]}\n\n{' '.join(words)}"
            out.append(Example("o/r", text, label, "backfill", created))
    return out


def test_eval_asks_triage_s_kinds() -> None:
    assert list(TRIAGE_KINDS) == [k.value for k in Kind]  # as bot/jobs/triage.py asks


def test_a_history_of_two_kinds_is_scored_as_triage_answers_it() -> None:
    """Bugs and features only, asked the four kinds (triage): sure of none (evidence 0), so
    every issue would escalate, and eval must say so instead of naming a threshold."""
    report = evaluate(dataset(["bug", "feature"], 40), embed=False)
    assert report.held == 24
    assert {round(s.confidence, 6) for s in report.scored} == {0.25}
    assert all(lv.kept == 0 for lv in report.levels)  # 0.40 and over keep none
    assert report.suggest(0.5) is None


def test_the_confidences_are_the_ones_triage_would_act_on() -> None:
    examples = dataset(["bug", "feature", "question"], 40, seed=1)
    report = evaluate(examples, embed=False)
    train, test = split_examples(examples)
    clf = Classifier.train(train, embed=False)
    kinds = [k.value for k in Kind]
    for e, s in zip(test, report.scored, strict=True):
        probs = clf.probabilities(e.scope, e.text, kinds)
        assert probs is not None
        assert s.confidence == pytest.approx(max(probs.values()))
        assert s.pred == max(probs, key=lambda k: probs[k])


def test_a_label_triage_does_not_ask_is_asked_too() -> None:
    """Examples from elsewhere (a store's are kinds): their labels stay answerable."""
    examples = [
        Example(e.scope, e.text, "enhancement" if e.label == "feature" else e.label, e.source)
        for e in dataset(["bug", "feature", "question"], 30, seed=2)
    ]
    report = evaluate(examples, embed=False)
    assert "enhancement" in {s.pred for s in report.scored}
