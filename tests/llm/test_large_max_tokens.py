"""The answer-length bound reaches the OpenAI-compatible servers the README names for escalation."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from bot.llm.large import LargeModel, compatible_server
from bot.settings import load_settings
from tests.llm.fake_openai import Behaviour, serve


class Line(BaseModel):
    line: str


def test_llama_cpp_python_server_reads_the_max_tokens_the_bot_sends(tmp_path: Path) -> None:
    """`python -m bot.llm.llama_server` is llama-cpp-python's server, which (like Ollama) reads
    only `max_tokens`; langchain sends the bound as `max_completion_tokens`, so without the
    extra field the server read no bound at all. The body the client really sent is parsed with
    that server's own request model."""
    types = pytest.importorskip("llama_cpp.server.types")
    b = Behaviour(replies=['{"line": "x"}'])
    with serve(b) as url:
        s = load_settings(
            env="test",
            data_dir=tmp_path,
            large_provider="openai",
            large_model="local",
            large_base_url=url,
            large_max_retries=0,
        )
        LargeModel(s).complete("system", "user", Line, 77)
    body = b.requests[0]["body"]
    seen_by_server = types.CreateChatCompletionRequest.model_validate(body)
    assert seen_by_server.max_tokens == 77, {k: v for k, v in body.items() if k != "messages"}
    assert body["max_completion_tokens"] == 77  # what OpenAI itself reads, still sent


def test_openai_itself_gets_only_max_completion_tokens() -> None:
    """OpenAI's reasoning models refuse max_tokens: it is added only for other servers."""
    assert not compatible_server(None)
    assert not compatible_server("https://api.openai.com/v1")
    assert compatible_server("http://127.0.0.1:8080/v1")
    assert compatible_server("http://localhost:11434/v1")  # Ollama
