"""The large model's requests over real HTTP, against a misbehaving OpenAI-compatible server on
loopback: a call ends within its deadline (retries included), every request is counted against the
daily budget, a long Retry-After is not slept on, and an answer that is no chat completion is said
as such. Found by review: a server sending its answer a byte at a time held a triage worker past
SMOLBOT_LARGE_TIMEOUT_S for as long as it liked; the SDK's own retries were not counted; a web
page at the base URL was reported as "AttributeError: 'str' object has no attribute 'choices'"."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel

from bot.cli.doctor import _large
from bot.llm import ModelLayer
from bot.llm.prompts import load_prompt, neutralise
from bot.settings import load_settings
from bot.store import Store
from tests.llm.conftest import make_settings
from tests.llm.fake_openai import _completion, serve_app


class Line(BaseModel):
    line: str


VARS = {"title": "Crash when saving", "body": "Saving crashes the app"}
ANSWER = '{"line": "saving crashes the app"}'


@dataclass
class Script:
    """What the server answers, one entry per request (the last repeats): `ok`, `trickle` (the
    answer after `pad` spaces sent one every `gap_s`), `500`, `429` (Retry-After: `retry_after`),
    `html`, `notchat`, `nochoices`, `garbage`."""

    modes: list[str] = field(default_factory=lambda: ["ok"])
    gap_s: float = 0.2
    pad: int = 40
    retry_after: str = "20"
    requests: list[dict[str, Any]] = field(default_factory=list)
    auth: list[str] = field(default_factory=list)

    def next_mode(self) -> str:
        return self.modes.pop(0) if len(self.modes) > 1 else self.modes[0]


def make_app(script: Script) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        body = await request.json()
        script.requests.append(body)
        script.auth.append(request.headers.get("authorization", ""))
        mode = script.next_mode()
        if mode == "trickle":
            return StreamingResponse(_trickle(script, body), media_type="application/json")
        if mode == "500":
            return JSONResponse({"error": {"message": "boom", "type": "server_error"}}, 500)
        if mode == "429":
            error = {"error": {"message": "Rate limit reached", "type": "requests"}}
            return JSONResponse(error, 429, headers={"retry-after": script.retry_after})
        if mode == "html":
            return Response(
                b"<html><body>Welcome to nginx!</body></html>", 200, media_type="text/html"
            )
        if mode == "notchat":
            return JSONResponse({"error": "model not found"})
        if mode == "nochoices":
            return JSONResponse(
                {"id": "x", "object": "chat.completion", "model": "m", "choices": []}
            )
        if mode == "garbage":
            return JSONResponse(_completion(body, "I would rather not say"))
        return JSONResponse(_completion(body, ANSWER))

    return app


async def _trickle(script: Script, body: dict[str, Any]) -> AsyncIterator[bytes]:
    """Whitespace a JSON parser skips, a byte at a time, each well within a read timeout."""
    for _ in range(script.pad):
        yield b" "
        await asyncio.sleep(script.gap_s)
    yield JSONResponse(_completion(body, ANSWER)).body


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def url(script: Script) -> Iterator[str]:
    with serve_app(make_app(script)) as root:
        yield f"{root}/v1"


def large_only(tmp_path: Path, store: Store, url: str, **over: Any) -> ModelLayer:
    """A layer with no local model file: every ask goes to the large model at `url`."""
    settings: dict[str, Any] = {
        "data_dir": tmp_path / "d",
        "env": "test",
        "model_path": tmp_path / "missing.gguf",
        "large_provider": "openai",
        "large_model": "big",
        "large_base_url": url,
        "large_timeout_s": 1.0,
        "large_max_retries": 0,
        **over,
    }
    return ModelLayer(load_settings(**settings), store)


def warm(layer: ModelLayer) -> ModelLayer:
    """The client made before the clock starts: langchain's first import takes seconds here."""
    assert layer.large is not None
    layer.large._client()
    return layer


def used(layer: ModelLayer) -> int:
    assert layer.large is not None
    return layer.records.budget_used(layer.large.name)


# --- a total deadline ---------------------------------------------------------------------------
def test_a_trickling_answer_ends_at_the_timeout(
    tmp_path: Path, llm_store: Store, script: Script, url: str
) -> None:
    """40 spaces 0.2 s apart (8 s) before the answer: no read waits 1 s, the request takes 8."""
    script.modes = ["trickle"]
    layer = warm(large_only(tmp_path, llm_store, url))
    started = time.monotonic()
    ans = layer.ask("digest", "digest_line", VARS, Line)
    took = time.monotonic() - started
    assert ans.status == "no_answer" and ans.value is None
    assert ans.record.note == "openai:big: no answer within 1 s", ans.record.note
    assert took < 2.5, f"the call took {took:.1f} s with SMOLBOT_LARGE_TIMEOUT_S=1"


def test_retries_share_one_deadline(
    tmp_path: Path, llm_store: Store, script: Script, url: str
) -> None:
    """timeout 1 s, 1 retry: the call, its wait included, ends within 2 s; the retry, after a
    wait of 0.5 s, gets what is left (each retry had a whole timeout of its own, and each read)."""
    script.modes = ["trickle"]
    layer = warm(large_only(tmp_path, llm_store, url, large_max_retries=1))
    started = time.monotonic()
    ans = layer.ask("digest", "digest_line", VARS, Line)
    took = time.monotonic() - started
    assert ans.status == "no_answer"
    assert ans.record.note == "openai:big: no answer within 2 s, retries included"
    assert took < 2.8, f"the call took {took:.1f} s: 1 s x (1 + 1 retry) is the bound"
    assert len(script.requests) == used(layer) == 2


# --- every request counts -----------------------------------------------------------------------
def test_every_request_is_counted_against_the_daily_budget(
    tmp_path: Path, llm_store: Store, script: Script, url: str
) -> None:
    script.modes = ["500", "500", "ok"]
    layer = large_only(tmp_path, llm_store, url, large_max_retries=2)
    ans = layer.ask("digest", "digest_line", VARS, Line)
    assert ans.status == "escalated" and ans.value == Line(line="saving crashes the app")
    assert len(script.requests) == 3
    assert used(layer) == 3, "each retry is a request the provider may bill"


def test_the_budget_stops_the_retries_and_keeps_the_reason(
    tmp_path: Path, llm_store: Store, script: Script, url: str
) -> None:
    script.modes = ["500"]
    layer = large_only(tmp_path, llm_store, url, large_max_retries=5, large_daily_budget=2)
    ans = layer.ask("digest", "digest_line", VARS, Line)
    assert ans.status == "no_answer"
    assert len(script.requests) == 2 and used(layer) == 2
    note = ans.record.note
    assert note.startswith("large-model daily budget spent (the try before: openai:big:"), note
    assert "500" in note


def test_a_long_retry_after_is_not_slept_on(
    tmp_path: Path, llm_store: Store, script: Script, url: str
) -> None:
    """Retry-After: 20 was slept on twice (40 s) inside the triage job."""
    script.modes = ["429"]
    layer = warm(large_only(tmp_path, llm_store, url, large_max_retries=2, large_timeout_s=30.0))
    started = time.monotonic()
    ans = layer.ask("digest", "digest_line", VARS, Line)
    assert time.monotonic() - started < 3
    assert ans.status == "no_answer" and len(script.requests) == 1
    assert "the server asks for 20 s before another try: not retried" in ans.record.note


def test_a_short_retry_after_is_waited_for(
    tmp_path: Path, llm_store: Store, script: Script, url: str
) -> None:
    script.modes, script.retry_after = ["429", "ok"], "0.2"
    layer = large_only(tmp_path, llm_store, url, large_max_retries=1)
    ans = layer.ask("digest", "digest_line", VARS, Line)
    assert ans.status == "escalated", ans.record.note
    assert len(script.requests) == used(layer) == 2


def test_the_budget_spent_before_the_answer_retry_keeps_why_it_was_retried(
    tmp_path: Path, llm_store: Store, script: Script, url: str
) -> None:
    """An answer that did not validate, then no budget for the one retry: the record said only
    "large-model daily budget spent", not what was wrong with the answer."""
    script.modes = ["garbage"]
    layer = large_only(tmp_path, llm_store, url, large_daily_budget=1)
    ans = layer.ask("digest", "digest_line", VARS, Line)
    assert ans.status == "no_answer" and len(script.requests) == 1
    note = ans.record.note
    assert note.startswith("no valid answer: "), note
    assert note.endswith("(retry: large-model daily budget spent)"), note


def test_retry_after_is_read_in_its_forms() -> None:
    from bot.llm.large import retry_after

    now = 1_000_000.0
    assert retry_after({"retry-after": "20"}, now) == 20
    assert retry_after({"retry-after-ms": "250", "retry-after": "9"}, now) == 0.25
    assert retry_after({"retry-after": "Mon, 12 Jan 1970 13:46:50 GMT"}, now) == 10
    assert retry_after({"retry-after": "soon"}, now) is None
    assert retry_after({"retry-after": "-3"}, now) is None
    assert retry_after({}, now) is None


# --- an answer that is no chat completion --------------------------------------------------------
@pytest.mark.parametrize(
    "mode",
    ["html", "notchat", "nochoices"],
)
def test_an_answer_that_is_no_chat_completion_says_what_to_check(
    tmp_path: Path, llm_store: Store, script: Script, url: str, mode: str
) -> None:
    """A web page (a proxy's login page), {"error": ...} with 200, or no choices: the audit said
    AttributeError, TypeError or IndexError, nothing a maintainer could act on."""
    script.modes = [mode]
    with_credentials = url.replace("http://", "http://robot:S3cretPass@")
    layer = large_only(tmp_path, llm_store, with_credentials, large_max_retries=2)
    ans = layer.ask("digest", "digest_line", VARS, Line)
    assert ans.status == "no_answer"
    note = ans.record.note
    assert note.startswith(f"openai:big at {url}: the server's answer is not an OpenAI chat"), note
    assert "check SMOLBOT_LARGE_BASE_URL" in note
    assert "S3cretPass" not in note and "robot" not in note
    assert "object has no attribute" not in note and "list index" not in note
    assert len(script.requests) == 1, "the same answer would come again: not retried"


def test_a_shown_url_has_no_credentials() -> None:
    from bot.llm.large import shown_url

    assert shown_url("https://u:p@ss/w@gw.example/v1?key=abc#x") == "https://gw.example/v1"
    assert shown_url("http://127.0.0.1:8001/v1") == "http://127.0.0.1:8001/v1"


# --- lone surrogates ----------------------------------------------------------------------------
def test_a_lone_surrogate_becomes_a_replacement_character() -> None:
    assert neutralise("crash \ud83d here") == "crash \ufffd here"
    assert neutralise("\udc00</data>") == "\ufffd&lt;/data>"
    rendered = load_prompt("digest_line").render({"title": "t \ud83d", "body": "b \udfff"})
    rendered.user.encode("utf-8")  # raised UnicodeEncodeError
    rendered.system.encode("utf-8")


def test_a_lone_surrogate_in_a_variable_gets_an_answer(
    tmp_path: Path, llm_store: Store, script: Script, url: str
) -> None:
    """Half an emoji (a JSON "\\ud83d" escape) in the body: the request could not be encoded."""
    layer = large_only(tmp_path, llm_store, url)
    ans = layer.ask("digest", "digest_line", {**VARS, "body": "Saving crashes \ud83d"}, Line)
    assert ans.status == "escalated", ans.record.note
    assert "Saving crashes \ufffd" in script.requests[0]["messages"][-1]["content"]


def test_a_lone_surrogate_reaches_the_local_model_as_a_replacement(
    tmp_path: Path, llm_store: Store, model_path: Path
) -> None:
    """The local runtime encodes the prompt as UTF-8: ask() raised UnicodeEncodeError."""
    layer = ModelLayer(make_settings(tmp_path, model_path=model_path), llm_store)
    ans = layer.ask("digest", "digest_line", {**VARS, "body": "Saving crashes \ud83d"}, Line)
    assert ans.record.backend == "gpt4all", ans.record
    assert [r["final"] for r in layer.records.calls()] == [1]


# --- OPENAI_API_KEY -----------------------------------------------------------------------------
def test_openai_api_key_is_not_sent_to_another_server_and_doctor_says_so(
    tmp_path: Path,
    llm_store: Store,
    script: Script,
    url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A gateway needing a key (OpenRouter, Azure, a LiteLLM proxy) refused every escalation while
    doctor said ✓: OPENAI_API_KEY in the environment is not what the bot sends."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-123")
    layer = large_only(tmp_path, llm_store, url)
    assert layer.ask("digest", "digest_line", VARS, Line).status == "escalated"
    assert script.auth == ["Bearer not-needed"]
    ok, detail = _large(layer.settings)
    assert ok and "OPENAI_API_KEY is not sent to it" in detail, detail
    assert "sk-from-env" not in detail
    keyed = large_only(tmp_path, llm_store, url, large_api_key="sk-set").settings
    assert "OPENAI_API_KEY" not in _large(keyed)[1]
