"""A generation cut off at max_tokens is not an answer: no repair closes it into one; the layer
tries again (asking for a shorter one), then escalates or takes the cautious path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from bot.llm import ModelLayer
from bot.llm.llama_backend import LlamaBackend, LlamaOptions
from bot.settings import load_settings
from bot.store import Store
from tests.llm import fake_local

CUT = '{"comment": "Thanks for the report! The settings page in dark mode shows dark grey text'


class Comment(BaseModel):
    comment: str


VARS = {
    "repo": "o/r",
    "kind": "bug",
    "next_steps": "a maintainer will look at it",
    "related": "none",
    "title": "Dark mode",
    "body": "Unreadable settings page",
}


def layer_for(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> tuple[ModelLayer, fake_local.Script]:
    script = fake_local.install(monkeypatch)
    path = fake_local.model_file(tmp_path / "m.gguf", b"qwen")
    settings = load_settings(data_dir=tmp_path / "d", env="test", model_path=path)
    return ModelLayer(settings, store), script


def test_an_answer_cut_at_max_tokens_is_not_accepted(
    tmp_path: Path, llm_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    layer, script = layer_for(tmp_path, llm_store, monkeypatch)
    script.replies, script.tokens_out = [CUT], 96
    ans = layer.ask("comment", "first_response_triage", VARS, Comment, max_tokens=96)
    assert not ans.ok and ans.value is None and ans.status == "no_answer"
    assert "cut off at 96 tokens" in ans.record.note
    assert len(script.calls) == 2  # tried again once, asked for a shorter answer
    assert "write a shorter one" in script.calls[1]["user"]


def test_a_shorter_answer_on_the_retry_is_used(
    tmp_path: Path, llm_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    layer, script = layer_for(tmp_path, llm_store, monkeypatch)
    whole = '{"comment": "Thanks for the report! A maintainer will look at it."}'

    def short_on_retry(_backend: fake_local.ScriptedBackend, user: str) -> str:
        script.tokens_out = 20 if "shorter" in user else 96
        return whole if "shorter" in user else CUT

    script.replies = [short_on_retry]
    ans = layer.ask("comment", "first_response_triage", VARS, Comment, max_tokens=96)
    assert ans.value is not None and ans.value.comment.endswith("look at it.")


def test_llama_says_when_it_stopped_at_the_limit(tmp_path: Path) -> None:
    """llama-cpp-python also cuts max_tokens to what the context has left: its finish_reason."""

    class Stopped:
        def create_chat_completion(self, **_: Any) -> Any:
            usage = {"prompt_tokens": 4000, "completion_tokens": 40}
            message = {"content": CUT}
            return {"choices": [{"message": message, "finish_reason": "length"}], "usage": usage}

    backend = LlamaBackend(tmp_path / "m.gguf", LlamaOptions())
    backend._model = Stopped()
    gen = backend.generate("s", "u", max_tokens=96, temperature=0)
    assert gen.truncated and gen.tokens_out == 40
