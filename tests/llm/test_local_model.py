"""The real default model through gpt4all: typed answers, cache, cold-start labels, garbage, escalation.
Generations are few and short; skipped only when the model file is not installed."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from bot.llm import ModelLayer, get_model_layer
from bot.llm.zeroshot import LabelAnswer
from bot.store import Store, open_store
from tests.llm.conftest import make_settings
from tests.llm.examples import LABELS
from tests.llm.fake_openai import Behaviour, serve

pytestmark = [pytest.mark.model, pytest.mark.slow]

BUG = "App crashes when I click save\n\nTraceback (most recent call last): KeyError 'path'"


class Line(BaseModel):
    line: str


def test_ask_real_model_then_cache_hit(tmp_path: Path, llm_store: Store, model_path: Path) -> None:
    layer = get_model_layer(make_settings(tmp_path), llm_store)
    variables = {"title": "Crash on save", "body": "It crashes. Traceback: KeyError 'path'"}
    first = layer.ask("digest", "digest_line", variables, Line, max_tokens=64)
    assert first.value is not None, first.record.note
    assert first.status in ("ok", "not_escalated")
    rec = first.record
    assert (rec.backend, rec.model) == ("gpt4all", model_path.name)
    assert rec.prompt_version == "digest_line@2"
    assert rec.tokens_in > 50 and 0 < rec.tokens_out <= 64
    assert 0 < first.confidence <= 0.8
    second = layer.ask("digest", "digest_line", variables, Line, max_tokens=64)
    assert second.value == first.value
    assert second.record.cache_hit and second.record.backend == "cache"
    assert second.record.tokens_out == 0
    rows = list(llm_store.rows("select backend, cache_hit from model_calls order by id"))
    assert rows == [{"backend": "gpt4all", "cache_hit": 0}, {"backend": "cache", "cache_hit": 1}]


def test_weights_load_once_per_process(tmp_path: Path, model_path: Path) -> None:
    a = ModelLayer(make_settings(tmp_path), open_store(":memory:"))
    b = ModelLayer(make_settings(tmp_path / "other"), open_store(":memory:"))
    assert a.local is b.local


def test_cold_start_label_from_local_model(
    tmp_path: Path, llm_store: Store, model_path: Path
) -> None:
    """Asked only under a bar it can clear (tests/llm/test_zeroshot_not_asked.py): the default 0.60 is not."""
    layer = get_model_layer(make_settings(tmp_path), llm_store)
    ans = layer.classify("triage", "o/r", BUG, LABELS, threshold=0.45)
    assert ans.record.backend == "gpt4all"
    assert ans.value is not None and ans.value.label in LABELS
    assert ans.confidence <= 0.47  # zero-shot is right about half the time: never trusted alone
    assert ans.status == "ok"


GARBAGE_PROMPT = """\
name: haiku
version: "1"
system: You are a poet.
template: "Write a haiku about $topic. Plain text only, no JSON."
max_tokens: 24
"""


class Impossible(BaseModel):
    zebra_count: int
    moon_phase: str


def test_model_answering_garbage_gives_no_answer(
    tmp_path: Path, llm_store: Store, model_path: Path
) -> None:
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "haiku.yaml").write_text(GARBAGE_PROMPT)
    layer = ModelLayer(make_settings(tmp_path), llm_store, prompts_dir=prompts)
    ans = layer.ask("poem", "haiku", {"topic": "rain"}, Impossible)
    assert ans.status == "no_answer" and ans.value is None and not ans.ok
    assert "no valid answer" in ans.record.note
    assert ans.record.tokens_out > 0


def test_escalation_to_a_large_model_served_over_http(
    tmp_path: Path, llm_store: Store, model_path: Path
) -> None:
    b = Behaviour(mode="local", model_path=model_path)
    with serve(b) as url:
        settings = make_settings(
            tmp_path,
            thresholds={
                "triage": 0.9
            },  # over the local answer (0.8 at best), under a clean large one
            large_provider="openai",
            large_model="qwen-on-loopback",
            large_base_url=url,
            large_timeout_s=60,
        )
        layer = ModelLayer(settings, llm_store)
        variables = {"labels": "bug, feature, question", "issue": BUG}
        ans = layer.ask("triage", "triage_kind", variables, LabelAnswer)
    assert len(b.requests) == 1
    assert [a.backend for a in ans.attempts] == ["gpt4all", "openai"]
    assert ans.status == "escalated" and ans.value is not None, ans.record.note
    assert ans.record.escalated and ans.record.model == "qwen-on-loopback"
    assert layer.stats()["tasks"]["triage"]["escalation_share"] == 1.0


def test_caller_evidence_scales_confidence_and_decides_escalation(
    tmp_path: Path, llm_store: Store, model_path: Path, behaviour: Behaviour, large_url: str
) -> None:
    variables = {"title": "Crash on save", "body": "It crashes. Traceback: KeyError 'path'"}
    plain = ModelLayer(make_settings(tmp_path), llm_store)
    base = plain.ask("comment", "digest_line", variables, Line, max_tokens=64)
    assert base.value is not None and base.confidence > 0, base.record.note
    asked = "Saving a file stops the whole application with a KeyError"  # the large model's
    behaviour.replies = [f'{{"line": "{asked}"}}']
    settings = make_settings(
        tmp_path,
        thresholds={"comment": base.confidence * 0.75},  # between half and all of it
        large_provider="openai",
        large_model="big-test",
        large_base_url=large_url,
    )
    layer = ModelLayer(settings, llm_store)  # same store: the local answer comes from the cache
    backed = layer.ask(
        "comment", "digest_line", variables, Line, max_tokens=64, check=lambda a: 1.0
    )
    assert backed.status == "ok" and backed.confidence == base.confidence
    assert base.value.line != asked

    def backs_the_large(a: Line) -> float:  # evidence for the large answer, not the local
        return 1.0 if a.line == asked else 0.5

    doubted = layer.ask(
        "comment", "digest_line", variables, Line, max_tokens=64, check=backs_the_large
    )
    assert doubted.attempts[0].cache_hit
    assert doubted.attempts[0].confidence == pytest.approx(base.confidence * 0.5, abs=1e-4)
    assert "evidence 0.50" in doubted.attempts[0].note
    assert doubted.status == "escalated" and doubted.value is not None
    assert doubted.value.line == asked
    assert doubted.confidence == pytest.approx(0.95)  # the large answer is checked too
    assert len(behaviour.requests) == 1
    # the large answer doubted as much: under the threshold too, so the cautious path
    both_doubted = layer.ask(
        "comment", "digest_line", variables, Line, max_tokens=64, check=lambda a: 0.25
    )
    assert both_doubted.status == "not_escalated" and both_doubted.attempts[-1].cache_hit
    assert len(behaviour.requests) == 1  # the large answer came from the cache


def test_a_generation_its_caller_no_longer_wants_stops_early(
    tmp_path: Path, llm_store: Store
) -> None:
    """A commit draft of what is no longer staged: the caller says so while the model writes, and
    the generation ends with Stopped within about a second; nothing recorded or cached."""
    import time

    from bot.llm.api import Stopped, stop_when

    layer = get_model_layer(make_settings(tmp_path), llm_store)
    variables = {"title": "Crash on save", "body": "It crashes on every save. " * 20}
    asked: list[float] = []

    def unwanted() -> bool:
        asked.append(time.monotonic())
        return True

    with pytest.raises(Stopped), stop_when(unwanted):
        layer.ask("digest", "digest_line", variables, Line, max_tokens=400)
    assert len(asked) == 1  # asked once, after a second of tokens, and stopped then
    assert list(llm_store.rows("select id from model_calls")) == []
    wanted = layer.ask("digest", "digest_line", variables, Line, max_tokens=64)
    assert wanted.record.backend == "gpt4all" and not wanted.record.cache_hit
