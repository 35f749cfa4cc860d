"""The large model asked and its answer not used (an HTTP 500, garbage, a label outside the allowed
list) is said on the final record, the one the audit shows: the classifier's guess came back as if
the large model had never been asked (escalated False, no note), and an out-of-list label's call
row kept the confidence 0.95 with no note of why it was refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from bot.llm import ModelLayer
from bot.settings import load_settings
from bot.store import Store
from tests.llm import fake_local
from tests.llm.conftest import escalating_layer
from tests.llm.examples import LABELS
from tests.llm.fake_openai import Behaviour

ISSUE = "Tooltip flickers\n\nThe tooltip flickers when hovering over the chart legend"
LARGE = {"large_provider": "openai", "large_model": "big-test"}


@pytest.mark.parametrize(
    "mode,reply,why",
    [
        ("fail", None, "Error code: 500"),
        ("garbage", None, "no valid answer"),
        ("scripted", '{"label": "security"}', "label 'security' is not in the allowed list"),
    ],
    ids=["http_500", "garbage", "out_of_list"],
)
def test_a_large_answer_not_used_is_said_on_the_final_record(
    tmp_path: Path,
    llm_store: Store,
    behaviour: Behaviour,
    large_url: str,
    mode: str,
    reply: str | None,
    why: str,
) -> None:
    behaviour.mode = mode
    if reply is not None:
        behaviour.replies = [reply]
    layer = escalating_layer(tmp_path, llm_store, {**LARGE, "large_base_url": large_url})
    ans = layer.classify("triage", "o/r", ISSUE, LABELS)
    assert behaviour.requests and ans.status == "not_escalated" and not ans.ok
    assert ans.record.backend == "classifier"
    assert ans.record.escalated  # it was asked
    assert ans.record.note.startswith("large model asked: ") and why in ans.record.note
    rows = layer.records.calls()
    (final,) = [r for r in rows if r["final"]]
    assert final["escalated"] and why in final["note"]  # the call log says so too
    (large,) = [r for r in rows if r["backend"] == "openai"]
    assert large["confidence"] == 0.0 and why in large["note"]


def test_a_large_answer_it_was_unsure_of_is_the_final_record_as_before(
    tmp_path: Path, llm_store: Store, behaviour: Behaviour, large_url: str
) -> None:
    """An answer in the list under the bar is the final record itself (noted unsure)."""
    behaviour.replies = ['Here it is: {"label": "bug"}']  # repaired: under 0.9
    layer = escalating_layer(tmp_path, llm_store, {**LARGE, "large_base_url": large_url})
    ans = layer.classify("triage", "o/r", ISSUE, LABELS)
    assert ans.status == "not_escalated" and ans.record.backend == "openai"
    assert "unsure" in ans.record.note and "large model asked" not in ans.record.note
    (clf,) = [a for a in ans.attempts if a.backend == "classifier"]
    assert "large model asked" not in clf.note


class Line(BaseModel):
    line: str


def test_ask_says_so_too_when_the_large_model_fails(
    tmp_path: Path,
    llm_store: Store,
    behaviour: Behaviour,
    large_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ask(): the local answer under the bar comes back, with the large model's failure on it."""
    script = fake_local.install(monkeypatch)
    script.replies = ['{"line": "tooltip flickers"}']
    behaviour.mode = "fail"
    settings = load_settings(
        data_dir=tmp_path / "d",
        env="test",
        model_path=fake_local.model_file(tmp_path / "m.gguf", b"fine"),
        thresholds={"digest": 0.9},
        large_max_retries=0,
        large_base_url=large_url,
        **LARGE,
    )
    ans = ModelLayer(settings, llm_store).ask(
        "digest", "digest_line", {"title": "t", "body": "b"}, Line
    )
    assert behaviour.requests and ans.status == "not_escalated"
    assert ans.record.backend == "gpt4all" and ans.record.escalated
    assert ans.record.note.startswith("large model asked: ") and "500" in ans.record.note
