"""A bar above what the large model's answer can get (its prior, 0.95: bot/llm/confidence.py) is not
escalated: with `threshold: 0.97` every unsure issue paid for a large-model call whose answer was
then set aside as unsure. The record says why, so the audit shows it."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from bot.llm import ModelLayer, confidence
from bot.settings import load_settings
from bot.store import Store
from tests.llm import fake_local
from tests.llm.conftest import escalating_layer
from tests.llm.examples import LABELS
from tests.llm.fake_openai import Behaviour

ISSUE = "Tooltip flickers\n\nThe tooltip flickers when hovering over the chart legend"
WHY = "not escalated: the threshold 0.97 is above the most a large model's answer can get (0.95)"


def large(url: str) -> dict[str, object]:
    return {"large_provider": "openai", "large_model": "big-test", "large_base_url": url}


def test_the_large_model_reaches_its_prior_at_most() -> None:
    assert confidence.reach("large") == confidence.PRIOR["large"] == 0.95
    best = confidence.score("large", repaired=False, retried=False, is_grounded=True, agreement=1)
    assert best == confidence.reach("large")


def test_a_bar_out_of_the_large_model_s_reach_is_not_paid_for(
    tmp_path: Path, llm_store: Store, behaviour: Behaviour, large_url: str
) -> None:
    behaviour.replies = ['{"label": "bug"}']
    layer = escalating_layer(tmp_path, llm_store, large(large_url))
    ans = layer.classify("triage", "o/r", ISSUE, LABELS, threshold=0.97)
    assert behaviour.requests == [] and layer.records.budget_used(layer.large.name) == 0  # type: ignore[union-attr]
    assert ans.status == "not_escalated" and not ans.ok
    assert [a.backend for a in ans.attempts] == ["classifier"]
    assert WHY in ans.record.note
    (row,) = [r for r in layer.records.calls() if r["final"]]
    assert WHY in row["note"]  # the call log (and the triage audit's model record) says why


def test_a_bar_the_large_model_can_reach_still_escalates(
    tmp_path: Path, llm_store: Store, behaviour: Behaviour, large_url: str
) -> None:
    behaviour.replies = ['{"label": "bug"}']
    layer = escalating_layer(tmp_path, llm_store, large(large_url))
    ans = layer.classify("triage", "o/r", ISSUE, LABELS, threshold=0.95)
    assert ans.status == "escalated" and ans.confidence == 0.95
    assert len(behaviour.requests) == 1 and "not escalated" not in ans.record.note


def test_no_large_model_says_nothing_of_its_reach(tmp_path: Path, llm_store: Store) -> None:
    layer = escalating_layer(tmp_path, llm_store, {})
    ans = layer.classify("triage", "o/r", ISSUE, LABELS, threshold=0.97)
    assert ans.status == "not_escalated" and "not escalated" not in ans.record.note


def test_a_cold_start_past_both_models_reach_asks_neither(
    tmp_path: Path,
    llm_store: Store,
    behaviour: Behaviour,
    large_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The zero-shot path (no classifier yet): the local model's label (0.73 at most, from the
    logits) cannot clear the bar, nor can the large model's: neither is asked."""
    script = fake_local.install(monkeypatch)
    path = fake_local.model_file(tmp_path / "custom.gguf", b"fine")
    settings = load_settings(
        data_dir=tmp_path / "d",
        env="test",
        model_path=path,
        model_backend="llama",
        **large(large_url),
    )
    layer = ModelLayer(settings, llm_store)
    ans = layer.classify("triage", "o/r", ISSUE, LABELS, threshold=0.97)
    assert behaviour.requests == [] and script.calls == []
    assert [a.backend for a in ans.attempts] == ["classifier"]
    assert ans.status == "no_answer" and ans.record.backend == "classifier"
    assert "local zero-shot not asked: its answer is capped at 0.73" in ans.record.note
    assert WHY in ans.record.note


class Line(BaseModel):
    line: str


def test_ask_still_asks_the_large_model_past_its_reach(
    tmp_path: Path,
    llm_store: Store,
    behaviour: Behaviour,
    large_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only a classification's answer under the bar goes unused: a generation's is still the
    caller's (a commit draft under `commit: 0.99` is the large model's), so ask() pays for it."""
    script = fake_local.install(monkeypatch)
    script.replies = ['{"line": "tooltip flickers"}']
    path = fake_local.model_file(tmp_path / "custom.gguf", b"fine")
    settings = load_settings(
        data_dir=tmp_path / "d",
        env="test",
        model_path=path,
        thresholds={"digest": 0.97},
        **large(large_url),
    )
    ans = ModelLayer(settings, llm_store).ask(
        "digest", "digest_line", {"title": "t", "body": "b"}, Line
    )
    assert behaviour.requests  # the large model was asked
    assert WHY not in ans.record.note
