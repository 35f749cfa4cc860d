"""A cold start (no classifier yet) whose local zero-shot label cannot change the decision: capped at
0.47 (LOCAL_ZERO_SHOT_CAP), under the bar, with no large model to ask after it. Before any backfill
and without a large model, every issue waited 15-35 s for a 0.47 guess that was then set aside as
unsure; now the local model is not asked, and the record says why. Under a bar it can clear, or
with a large model to ask, it is asked as before."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.llm import ModelLayer
from bot.store import Store
from tests.llm import fake_local
from tests.llm.conftest import make_settings
from tests.llm.examples import LABELS
from tests.llm.fake_openai import Behaviour

BUG = "App crashes when I click save\n\nTraceback (most recent call last): KeyError 'path'"
WHY = (
    "local zero-shot not asked: its answer is capped at 0.47, under the threshold 0.60,"
    " and no large model is configured"
)


def large(url: str) -> dict[str, object]:
    return {"large_provider": "openai", "large_model": "big-test", "large_base_url": url}


def backends(store: Store) -> list[str]:
    """The backend of every call the layer logged (a local generation logs its model's)."""
    return [r["backend"] for r in store.rows("select backend from model_calls order by id")]


def fake_local_layer(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch, **settings: object
) -> tuple[fake_local.Script, ModelLayer]:
    """A layer whose local model is the scripted one (its calls counted), with `settings`."""
    script = fake_local.install(monkeypatch)
    path = fake_local.model_file(tmp_path / "m.gguf", b"fine")
    return script, ModelLayer(make_settings(tmp_path, model_path=path, **settings), store)


@pytest.mark.model
def test_no_large_model_and_the_default_bar_do_not_ask_the_local_model(
    tmp_path: Path, llm_store: Store, model_path: Path
) -> None:
    layer = ModelLayer(make_settings(tmp_path), llm_store)
    assert layer.local_available() and layer.large is None and not layer.classifier().ready
    ans = layer.classify("triage", "o/r", BUG, LABELS)
    assert ans.value is None and ans.status == "no_answer" and not ans.ok
    assert [a.backend for a in ans.attempts] == ["classifier"]
    assert backends(llm_store) == ["classifier"]  # no generation, none cached or logged
    assert ans.record.note == f"untrained; {WHY}"
    (row,) = [r for r in layer.records.calls() if r["final"]]
    assert WHY in row["note"]  # the call log (and the triage audit's model record) says why


@pytest.mark.model
@pytest.mark.slow
def test_a_bar_under_the_cap_asks_the_local_model_for_its_label(
    tmp_path: Path, llm_store: Store, model_path: Path
) -> None:
    layer = ModelLayer(make_settings(tmp_path), llm_store)
    ans = layer.classify("triage", "o/r", BUG, LABELS, threshold=0.4)
    assert [a.backend for a in ans.attempts] == ["classifier", "gpt4all"]
    assert ans.value is not None and ans.value.label in LABELS, ans.record.note
    assert ans.status == "ok" and ans.ok and ans.confidence == 0.47
    assert "not asked" not in ans.record.note


def test_a_spent_budget_does_not_ask_the_local_model_either(
    tmp_path: Path,
    llm_store: Store,
    behaviour: Behaviour,
    large_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    script, layer = fake_local_layer(
        tmp_path, llm_store, monkeypatch, large_daily_budget=0, **large(large_url)
    )
    ans = layer.classify("triage", "o/r", BUG, LABELS)
    assert script.calls == [] and behaviour.requests == []
    assert ans.status == "no_answer" and [a.backend for a in ans.attempts] == ["classifier"]
    assert ans.record.note.endswith("and the large model's daily budget is spent")


def test_escalation_not_allowed_does_not_ask_the_local_model(
    tmp_path: Path,
    llm_store: Store,
    behaviour: Behaviour,
    large_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    script, layer = fake_local_layer(tmp_path, llm_store, monkeypatch, **large(large_url))
    ans = layer.classify("triage", "o/r", BUG, LABELS, allow_escalation=False)
    assert script.calls == [] and behaviour.requests == []
    assert ans.record.note.endswith("and escalation to the large model is not allowed here")


def test_a_large_model_to_ask_keeps_the_local_label_before_it(
    tmp_path: Path,
    llm_store: Store,
    behaviour: Behaviour,
    large_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With a large model the local label is still asked first: it is the answer kept when the
    large model fails (large_not_used), and the one its unsure answer is compared with."""
    script, layer = fake_local_layer(tmp_path, llm_store, monkeypatch, **large(large_url))
    script.replies = ['{"label": "bug"}']
    behaviour.replies = ['{"label": "question"}']
    ans = layer.classify("triage", "o/r", BUG, LABELS)
    assert len(script.calls) == 1 and len(behaviour.requests) == 1
    assert [a.backend for a in ans.attempts] == ["classifier", "gpt4all", "openai"]
    assert ans.status == "escalated" and ans.value is not None and ans.value.label == "question"


@pytest.mark.parametrize(("bar", "asked"), [(0.6, True), (0.8, False)])
def test_labels_read_from_the_logits_are_capped_at_their_own_reach(
    tmp_path: Path, llm_store: Store, monkeypatch: pytest.MonkeyPatch, bar: float, asked: bool
) -> None:
    """llama's label from the logits gets at most 1/3 + 0.6 x 2/3 = 0.73 of three labels: the
    default bar is within it (asked), 0.80 is not."""
    script, layer = fake_local_layer(tmp_path, llm_store, monkeypatch, model_backend="llama")
    ans = layer.classify("triage", "o/r", BUG, LABELS, threshold=bar)
    assert bool(script.calls) is asked
    if asked:
        assert ans.status == "ok" and ans.value is not None and ans.value.label == "bug"
    else:
        assert ans.status == "no_answer"
        assert "capped at 0.73, under the threshold 0.80, and no large model" in ans.record.note


@pytest.mark.parametrize(
    ("bar", "said"),
    [
        (
            0.6,
            "kinds come from the local model's zero-shot label where it clears the threshold 0.60",
        ),
        (0.8, "every issue gets needs-triage (the local model's zero-shot label, trusted at most"),
    ],
)
def test_the_cli_cold_start_hint_says_what_the_backend_can_reach(
    tmp_path: Path, llm_store: Store, monkeypatch: pytest.MonkeyPatch, bar: float, said: str
) -> None:
    """With llama's labels read from the logits (at most 0.70 of the four kinds) the default bar
    is within reach: the hint said every issue gets needs-triage, which was untrue there."""
    from bot.cli.triage import cold_start_hint
    from bot.jobs.context import JobContext

    _, layer = fake_local_layer(tmp_path, llm_store, monkeypatch, model_backend="llama")
    ctx = JobContext(settings=layer.settings, store=llm_store, models=layer)
    hint = cold_start_hint(ctx, "o/r", bar)
    assert hint is not None and said in hint, hint
