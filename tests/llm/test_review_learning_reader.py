"""The triage reader (SMOLBOT_TRIAGE_READER=true) is shrunk towards uniform as the first stage is:
averaged 50/50 with a first stage that is sure of nothing, its unshrunk probabilities alone labeled
every question of a lopsided history (210 bugs, 2 features) a bug at 0.6 or more, unescalated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.llm import ModelLayer, reader
from bot.llm import classifier as first_stage
from bot.llm.classifier import SHRINK_K
from bot.llm.records import Example
from bot.store import Store
from tests.llm.conftest import make_settings

KINDS = ["bug", "feature", "question", "documentation"]
AXIS = {"bug": 0, "feature": 1, "question": 2, "documentation": 3}


def state(label: str, rng: np.random.Generator) -> np.ndarray:
    """A decoder-like state: one large shared offset, the label's direction on top."""
    v = rng.normal(0, 0.3, 16) + 50.0
    v[AXIS[label]] += 3.0
    return np.asarray(v, np.float32)


def lopsided(rng: np.random.Generator) -> tuple[np.ndarray, list[Example]]:
    labels = ["bug"] * 210 + ["feature"] * 2
    x = np.stack([state(lb, rng) for lb in labels])
    return x, [Example("o/r", f"issue {i}", lb, "backfill") for i, lb in enumerate(labels)]


def test_a_lopsided_history_makes_the_reader_sure_of_nothing() -> None:
    rng = np.random.default_rng(0)
    head = reader.Head.fit(*lopsided(rng))
    assert head is not None and head.evidence(KINDS) == 0
    uniform = {k: 0.25 for k in KINDS}
    for label in ("question", "feature", "documentation", "bug"):
        read = head.probabilities("o/r", state(label, rng), KINDS)
        assert read == pytest.approx(uniform)
        combined = reader.combine(uniform, read)  # the first stage is sure of nothing here too
        assert max(combined.values()) < 0.6


def test_the_reader_is_shrunk_by_what_it_learned_from() -> None:
    """A balanced history: the ranking stays, no label is surer than its examples allow, and a
    label no example had keeps the floor every asked label has."""
    rng = np.random.default_rng(1)
    labels = ["bug", "feature", "question"] * 20  # 60 examples, 20 of each
    x = np.stack([state(lb, rng) for lb in labels])
    head = reader.Head.fit(x, [Example("o/r", f"t{i}", lb, "human") for i, lb in enumerate(labels)])
    assert head is not None and head.evidence(KINDS) == 60
    w = 60 / (60 + SHRINK_K)
    p = head.probabilities("o/r", state("feature", rng), KINDS)
    assert max(p, key=lambda k: p[k]) == "feature"
    assert p["feature"] <= w + (1 - w) / 4 + 1e-9
    assert p["documentation"] == pytest.approx((1 - w) / 4, abs=1e-6)
    assert sum(p.values()) == pytest.approx(1.0)


class States:
    """The reader's encoder, without the model: every issue reads as a question."""

    name = "reader-test"

    def __init__(self) -> None:
        self.rng = np.random.default_rng(2)

    def encode(self, texts: list[str]) -> np.ndarray:
        return np.stack([state("question", self.rng) for _ in texts])


def test_the_layer_does_not_label_a_question_of_a_lopsided_history_a_bug(
    tmp_path: Path, llm_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(first_stage, "get_encoder", lambda *a, **k: None)  # TF-IDF only: fast
    layer = ModelLayer(make_settings(tmp_path, triage_reader=True), llm_store)
    x, examples = lopsided(np.random.default_rng(3))
    for i, e in enumerate(examples):
        words = "crash traceback error" if e.label == "bug" else "please add an option"
        layer.learn(e.scope, f"Report {i} {words}\n\n{words} in build {i}", e.label, "backfill")
    head = reader.Head.fit(x, examples)
    enc: Any = States()
    monkeypatch.setattr(layer, "reader_head", lambda: head)
    monkeypatch.setattr(layer, "reader_encoder", lambda: enc)
    ans = layer.classify(
        "triage", "o/r", "How do I set a proxy?\n\nWhere is the setting?", KINDS, threshold=0.6
    )
    backends = [a.backend for a in ans.attempts]
    assert backends[:2] == ["classifier", "reader"], backends
    assert ans.status == "not_escalated" and not ans.ok
    assert ans.confidence < 0.6, (ans.value, ans.record.note)
