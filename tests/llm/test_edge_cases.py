"""Edge cases of escalation: a bar of 0 with no local answer, and a large model that refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from bot.llm import ModelLayer
from bot.settings import load_settings
from bot.store import Store
from tests.llm import fake_local
from tests.llm.fake_openai import Behaviour, _completion, serve, serve_app


class Line(BaseModel):
    line: str


VARS = {"title": "t", "body": "b"}


def large_settings(tmp_path: Path, url: str, **over: Any) -> dict[str, Any]:
    return {
        "data_dir": tmp_path / "d",
        "env": "test",
        "large_provider": "openai",
        "large_model": "big",
        "large_base_url": url,
        "large_max_retries": 0,
        **over,
    }


def test_a_bar_of_zero_without_a_local_model_asks_the_large_one(
    tmp_path: Path, llm_store: Store
) -> None:
    behaviour = Behaviour(replies=['{"line": "x"}'])
    with serve(behaviour) as url:
        over = {"thresholds": {"digest": 0.0}, "model_path": tmp_path / "missing.gguf"}
        layer = ModelLayer(load_settings(**large_settings(tmp_path, url, **over)), llm_store)
        ans = layer.ask("digest", "digest_line", VARS, Line)
    assert ans.status == "escalated" and ans.value == Line(line="x")
    assert len(behaviour.requests) == 1


def test_a_bar_of_zero_does_not_accept_a_local_non_answer(
    tmp_path: Path, llm_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = fake_local.install(monkeypatch)
    script.replies = ["I cannot answer that"]
    path = fake_local.model_file(tmp_path / "m.gguf", b"qwen")
    with serve(Behaviour(replies=['{"line": "x"}'])) as url:
        over = {"thresholds": {"digest": 0.0}, "model_path": path}
        layer = ModelLayer(load_settings(**large_settings(tmp_path, url, **over)), llm_store)
        ans = layer.ask("digest", "digest_line", VARS, Line)
    assert ans.status == "escalated" and ans.value == Line(line="x")
    assert [a.backend for a in ans.attempts] == ["gpt4all", "openai"]


def test_a_refusal_is_noted_in_its_own_words_and_not_retried(
    tmp_path: Path, llm_store: Store
) -> None:
    app = FastAPI()
    seen: list[dict[str, Any]] = []

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> JSONResponse:
        body = await request.json()
        seen.append(body)
        reply = _completion(body, "")
        reply["choices"][0]["message"].update(content=None, refusal="I can't help with that.")
        return JSONResponse(reply)

    with serve_app(app) as root:
        over = {"model_path": tmp_path / "missing.gguf"}
        layer = ModelLayer(
            load_settings(**large_settings(tmp_path, f"{root}/v1", **over)), llm_store
        )
        ans = layer.ask("digest", "digest_line", VARS, Line)
    assert ans.status == "no_answer" and not ans.ok
    assert ans.record.note == "openai:big refused: I can't help with that."
    assert len(seen) == 1 and layer.records.budget_used("openai:big") == 1
