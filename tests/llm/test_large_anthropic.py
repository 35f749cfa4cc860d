"""The large model over real HTTP as ChatAnthropic: the SDK posts to a loopback Messages API (base_url)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.llm import ModelLayer
from bot.store import Store
from tests.llm.conftest import escalating_layer
from tests.llm.examples import LABELS
from tests.llm.fake_anthropic import AnthropicBehaviour, serve

ISSUE = "Tooltip flickers\n\nThe tooltip flickers when hovering over the chart legend"
OTHER = "Docs typo\n\nThere is a typo in the install page"


@pytest.fixture
def anthropic() -> AnthropicBehaviour:
    return AnthropicBehaviour()


@pytest.fixture
def anthropic_url(anthropic: AnthropicBehaviour) -> Iterator[str]:
    with serve(anthropic) as url:
        yield url


def layer_for(tmp_path: Path, store: Store, url: str, **over: Any) -> ModelLayer:
    large = {
        "large_provider": "anthropic",
        "large_model": "claude-test",
        "large_base_url": url,
        "large_api_key": SecretStr("sk-ant-test"),
    }
    return escalating_layer(tmp_path, store, large, **over)


def test_escalates_with_a_forced_tool_call(
    tmp_path: Path, llm_store: Store, anthropic: AnthropicBehaviour, anthropic_url: str
) -> None:
    anthropic.replies = ['{"label": "feature"}']
    layer = layer_for(tmp_path, llm_store, anthropic_url)
    ans = layer.classify("triage", "o/r", ISSUE, LABELS)
    assert ans.status == "escalated" and ans.value is not None, ans.record.note
    assert ans.value.label == "feature"
    assert (ans.record.backend, ans.record.model) == ("anthropic", "claude-test")
    assert (ans.record.tokens_in, ans.record.tokens_out) == (13, 5)
    req = anthropic.requests[0]
    headers = req["headers"]  # the SDK sends the key as x-api-key or (newer) a bearer token
    sent = {headers.get("x-api-key"), headers.get("authorization", "").removeprefix("Bearer ")}
    assert "sk-ant-test" in sent
    body = req["body"]
    assert body["model"] == "claude-test"
    assert [t["name"] for t in body["tools"]] == ["LabelAnswer"]
    assert body["tools"][0]["input_schema"]["properties"]["label"]["type"] == "string"
    assert body["tool_choice"]["name"] == "LabelAnswer"  # structured output: the tool is forced
    assert body["system"].startswith("You sort GitHub issues")
    assert '<data id="issue">' in body["messages"][-1]["content"]


def test_tool_input_is_validated_by_the_schema(
    tmp_path: Path, llm_store: Store, anthropic: AnthropicBehaviour, anthropic_url: str
) -> None:
    anthropic.replies = ['{"verdict": "bug"}']  # a tool call whose input lacks `label`
    layer = layer_for(tmp_path, llm_store, anthropic_url)
    ans = layer.classify("triage", "o/r", ISSUE, LABELS)
    assert ans.status == "not_escalated" and not ans.ok
    assert len(anthropic.requests) == 2  # one try + one bounded retry
    assert "no valid answer" in ans.attempts[-1].note


def test_server_errors_500_and_529_are_retried(
    tmp_path: Path, llm_store: Store, anthropic: AnthropicBehaviour, anthropic_url: str
) -> None:
    anthropic.fail_with = [500, 529]
    layer = layer_for(tmp_path, llm_store, anthropic_url, retries=2)
    ans = layer.classify("triage", "o/r", ISSUE, LABELS)
    assert ans.status == "escalated" and ans.value is not None, ans.attempts[-1].note
    assert len(anthropic.requests) == 3


def test_retries_are_bounded(
    tmp_path: Path, llm_store: Store, anthropic: AnthropicBehaviour, anthropic_url: str
) -> None:
    anthropic.fail_with = [529] * 10
    layer = layer_for(tmp_path, llm_store, anthropic_url, retries=1)
    ans = layer.classify("triage", "o/r", ISSUE, LABELS)
    assert ans.status == "not_escalated" and not ans.ok
    assert len(anthropic.requests) == 2  # 1 + large_max_retries
    assert "529" in ans.attempts[-1].note or "Overloaded" in ans.attempts[-1].note


def test_slow_answer_times_out(
    tmp_path: Path, llm_store: Store, anthropic: AnthropicBehaviour, anthropic_url: str
) -> None:
    anthropic.delay_s = 3.0
    layer = layer_for(tmp_path, llm_store, anthropic_url, timeout=0.5)
    ans = layer.classify("triage", "o/r", ISSUE, LABELS)
    assert ans.status == "not_escalated"
    assert "no answer within 0.5 s" in ans.attempts[-1].note, ans.attempts[-1].note
    assert ans.attempts[-1].latency_ms < 2900


def test_daily_budget_stops_calls(
    tmp_path: Path, llm_store: Store, anthropic: AnthropicBehaviour, anthropic_url: str
) -> None:
    layer = layer_for(tmp_path, llm_store, anthropic_url, large_daily_budget=1)
    assert layer.classify("triage", "o/r", ISSUE, LABELS).status == "escalated"
    ans = layer.classify("triage", "o/r", OTHER, LABELS)
    assert ans.status == "not_escalated" and not ans.ok
    assert len(anthropic.requests) == 1
    assert layer.budget_left() == 0


def test_a_forced_tool_call_has_room_to_answer(
    tmp_path: Path, llm_store: Store, anthropic: AnthropicBehaviour, anthropic_url: str
) -> None:
    """The prompt's answer bound (16 tokens for a kind) went to the large model as max_tokens; a
    forced tool call costs more than its input (here 40 tokens), so every escalation was cut
    off and refused. The large model gets room (the schema bounds the answer), and is billed
    for what it writes."""
    anthropic.replies = ['{"label": "feature"}']
    anthropic.tool_call_tokens = 40
    ans = layer_for(tmp_path, llm_store, anthropic_url).classify("triage", "o/r", ISSUE, LABELS)
    assert ans.status == "escalated" and ans.value is not None, ans.record.note
    assert ans.value.label == "feature" and ans.record.tokens_out == 45
    assert anthropic.requests[0]["body"]["max_tokens"] >= 256
