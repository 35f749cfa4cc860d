"""The large model over real HTTP: ChatOpenAI(base_url=…) against a loopback server the test starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

from bot.llm import ModelLayer
from bot.store import Store
from tests.llm.conftest import escalating_layer, make_settings
from tests.llm.examples import LABELS
from tests.llm.fake_openai import Behaviour

ISSUE = "Tooltip flickers\n\nThe tooltip flickers when hovering over the chart legend"


def layer_for(tmp_path: Path, store: Store, url: str | None, **over: Any) -> ModelLayer:
    large = (
        {"large_provider": "openai", "large_model": "big-test", "large_base_url": url}
        if url
        else {}
    )
    return escalating_layer(tmp_path, store, large, **over)


def test_escalates_over_http_and_learns(
    tmp_path: Path, llm_store: Store, behaviour: Behaviour, large_url: str
) -> None:
    behaviour.replies = ['{"label": "bug"}']
    layer = layer_for(tmp_path, llm_store, large_url)
    ans = layer.classify("triage", "o/r", ISSUE, LABELS)
    assert ans.status == "escalated" and ans.value is not None
    assert ans.value.label == "bug"
    assert ans.record.backend == "openai" and ans.record.escalated
    assert [a.backend for a in ans.attempts] == ["classifier", "openai"]
    req = behaviour.requests[0]["body"]
    assert req["model"] == "big-test"
    assert req["response_format"] == {"type": "json_object"}  # json_mode
    assert '<data id="issue">' in req["messages"][-1]["content"]
    rows = list(llm_store.rows("select source, label from llm_examples where text = ?", [ISSUE]))
    assert rows == [{"source": "large", "label": "bug"}]


def test_cache_hit_never_reaches_the_model_twice(
    tmp_path: Path, llm_store: Store, behaviour: Behaviour, large_url: str
) -> None:
    layer = layer_for(tmp_path, llm_store, large_url)
    first = layer.classify("triage", "o/r", ISSUE, LABELS)
    second = layer.classify("triage", "o/r", ISSUE, LABELS)
    assert first.status == second.status == "escalated"
    assert len(behaviour.requests) == 1
    assert second.record.cache_hit and second.record.backend == "cache"
    stats = layer.stats()
    assert stats["cache_hits"] == 1 and stats["cache_hit_rate"] > 0


def test_garbage_answer_is_retried_then_not_used(
    tmp_path: Path, llm_store: Store, behaviour: Behaviour, large_url: str
) -> None:
    behaviour.mode = "garbage"
    layer = layer_for(tmp_path, llm_store, large_url)
    ans = layer.classify("triage", "o/r", ISSUE, LABELS)
    assert ans.status == "not_escalated"  # the classifier's guess, not acted on
    assert not ans.ok
    assert len(behaviour.requests) == 2  # one try + one bounded retry
    assert (
        "previous answer could not be used"
        in behaviour.requests[1]["body"]["messages"][-1]["content"]
    )
    assert "no valid answer" in ans.attempts[-1].note


def test_label_outside_the_list_is_refused(
    tmp_path: Path, llm_store: Store, behaviour: Behaviour, large_url: str
) -> None:
    behaviour.replies = ['{"label": "wontfix"}']
    layer = layer_for(tmp_path, llm_store, large_url)
    ans = layer.classify("triage", "o/r", ISSUE, LABELS)
    assert ans.status == "not_escalated"
    assert list(llm_store.rows("select * from llm_examples where source = 'large'")) == []


def test_slow_large_model_times_out(
    tmp_path: Path, llm_store: Store, behaviour: Behaviour, large_url: str
) -> None:
    behaviour.mode, behaviour.delay_s = "slow", 3.0
    layer = layer_for(tmp_path, llm_store, large_url, timeout=0.5)
    ans = layer.classify("triage", "o/r", ISSUE, LABELS)
    assert ans.status == "not_escalated"
    assert "no answer within 0.5 s" in ans.attempts[-1].note, ans.attempts[-1].note
    assert ans.attempts[-1].latency_ms < 2900


def test_server_errors_are_retried_by_the_client(
    tmp_path: Path, llm_store: Store, behaviour: Behaviour, large_url: str
) -> None:
    behaviour.mode = "fail"
    layer = layer_for(tmp_path, llm_store, large_url, retries=2)
    ans = layer.classify("triage", "o/r", ISSUE, LABELS)
    assert ans.status == "not_escalated"
    assert len(behaviour.requests) == 3  # 1 + large_max_retries
    assert "500" in ans.attempts[-1].note


def test_daily_budget(
    tmp_path: Path, llm_store: Store, behaviour: Behaviour, large_url: str
) -> None:
    layer = layer_for(tmp_path, llm_store, large_url, large_daily_budget=1)
    assert layer.classify("triage", "o/r", ISSUE, LABELS).status == "escalated"
    other = "Docs typo\n\nThere is a typo in the install page"
    ans = layer.classify("triage", "o/r", other, LABELS)
    assert ans.status == "not_escalated"
    assert len(behaviour.requests) == 1
    assert layer.budget_left() == 0


def test_the_repository_threshold_decides_escalation(
    tmp_path: Path, llm_store: Store, behaviour: Behaviour, large_url: str
) -> None:
    """A repository's own bar (triage: threshold:) moves escalation with acceptance, both ways."""
    layer = layer_for(tmp_path, llm_store, large_url)  # the installation's bar: 0.9
    lenient = layer.classify("triage", "o/r", ISSUE, LABELS, threshold=0.0)
    assert lenient.status == "ok" and lenient.record.backend == "classifier"
    assert behaviour.requests == []
    strict = make_settings(
        tmp_path,
        thresholds={"triage": 0.0},
        large_provider="openai",
        large_model="big-test",
        large_base_url=large_url,
    )
    layer = ModelLayer(strict, llm_store)
    behaviour.replies = ['{"label": "bug"}']
    assert layer.classify("triage", "o/r", ISSUE, LABELS).status == "ok"
    ans = layer.classify("triage", "o/r", ISSUE, LABELS, threshold=0.9)
    assert ans.status == "escalated" and ans.value is not None and ans.value.label == "bug"
    assert len(behaviour.requests) == 1


def test_no_large_model_configured(tmp_path: Path, llm_store: Store) -> None:
    layer = layer_for(tmp_path, llm_store, None)
    ans = layer.classify("triage", "o/r", ISSUE, LABELS)
    assert ans.status == "not_escalated" and not ans.ok
    assert ans.value is not None  # the classifier's best guess, for the record only
    assert ans.confidence < 0.9


def test_api_key_is_sent_as_bearer(
    tmp_path: Path, llm_store: Store, behaviour: Behaviour, large_url: str
) -> None:
    layer = layer_for(tmp_path, llm_store, large_url, large_api_key="sk-test-123")
    layer.classify("triage", "o/r", ISSUE, LABELS)
    assert behaviour.requests[0]["auth"] == "Bearer sk-test-123"


class Summary(BaseModel):
    line: str


class Comment(BaseModel):
    comment: str


def test_an_unsure_large_answer_is_not_used_either(
    tmp_path: Path, llm_store: Store, behaviour: Behaviour, large_url: str
) -> None:
    """Under the bar, the large model's answer takes the cautious path too, with both confidences
    recorded: an ungrounded one (invented links, numbers and people) is 0.95 x 0.3."""
    behaviour.replies = [
        '{"comment": "Thanks! This duplicates #4242, see https://evil.example/fix, @mallory."}'
    ]
    settings = make_settings(
        tmp_path,
        model_path=tmp_path / "missing.gguf",
        large_provider="openai",
        large_model="big-test",
        large_base_url=large_url,
    )
    layer = ModelLayer(settings, llm_store)
    variables = {
        "repo": "o/r",
        "kind": "bug",
        "next_steps": "n",
        "related": "none",
        "title": "t",
        "body": "b",
    }
    ans = layer.ask("comment", "first_response_triage", variables, Comment)
    assert settings.threshold("comment") == 0.5
    assert ans.status == "not_escalated" and not ans.ok
    assert ans.confidence == 0.285 and ans.record.escalated
    assert "unsure: the large model's 0.28" in ans.record.note and "under 0.50" in ans.record.note
    (row,) = [r for r in layer.records.calls() if r["final"]]
    assert row["status"] == "not_escalated" and row["note"] == ans.record.note


def test_an_unsure_large_label_is_not_acted_on_nor_learned(
    tmp_path: Path, llm_store: Store, behaviour: Behaviour, large_url: str
) -> None:
    behaviour.replies = ["it is a bug, I think", '{"label": "bug"}']  # valid on the retry: 0.665
    layer = layer_for(tmp_path, llm_store, large_url)
    ans = layer.classify("triage", "o/r", ISSUE, LABELS)
    assert ans.status == "not_escalated" and not ans.ok
    assert ans.value is not None and ans.value.label == "bug" and ans.confidence < 0.9
    assert "unsure: the large model's 0.67 and the first answer's 0." in ans.record.note
    rows = list(llm_store.rows("select source from llm_examples where text = ?", [ISSUE]))
    assert rows == []
