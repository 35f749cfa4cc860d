"""A large-model answer cut off at max_tokens is no answer: an Anthropic tool call (whose input
arrives parsed, so it looks whole) with stop_reason "max_tokens", and an OpenAI-compatible reply
with finish_reason "length", are refused, not cached, and the caller takes its cautious path.
An answer with nothing in it (`{}` for a schema whose fields all have defaults) is refused too."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import SecretStr

from bot.core.summary import ThreadSummary
from bot.llm import ModelLayer
from bot.llm.large import _stopped, _truncated
from bot.llm.parse import parse_answer
from bot.settings import load_settings
from bot.store import open_store
from tests.llm.fake_openai import serve_app

VARIABLES = {
    "title": "Crash on resize",
    "thread": "[0] alice (author):\nThe app crashes on resize",
    "count": "1",
}


def anthropic_app(seen: list[dict[str, Any]], tool_input: dict[str, Any], stop: str) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/messages")
    async def messages(request: Request) -> JSONResponse:
        body = await request.json()
        seen.append(body)
        tool = body["tools"][0]["name"]
        out = body["max_tokens"] if stop == "max_tokens" else 20
        return JSONResponse(
            {
                "id": "msg",
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": [{"type": "tool_use", "id": "t", "name": tool, "input": tool_input}],
                "stop_reason": stop,
                "stop_sequence": None,
                "usage": {"input_tokens": 100, "output_tokens": out},
            }
        )

    return app


def openai_app(seen: list[dict[str, Any]], text: str, finish: str) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> JSONResponse:
        body = await request.json()
        seen.append(body)
        return JSONResponse(
            {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "test"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": finish,
                    }
                ],
                # fewer than max_tokens: the server's finish_reason is what says it was cut
                "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
            }
        )

    return app


def layer(tmp_path: Path, provider: str, url: str) -> ModelLayer:
    settings = load_settings(
        env="test",
        data_dir=tmp_path / "d",
        model_path=tmp_path / "none.gguf",  # no local model: the large one answers
        large_provider=provider,
        large_model="big-test",
        large_base_url=url,
        large_api_key=SecretStr("k"),
        large_max_retries=0,
    )
    return ModelLayer(settings, open_store(tmp_path / "s.db"))


def test_an_anthropic_tool_call_cut_off_at_max_tokens_is_refused_and_not_cached(
    tmp_path: Path,
) -> None:
    seen: list[dict[str, Any]] = []
    half = {"problem": [{"text": "The app crashes on resize", "source": 0}]}
    with serve_app(anthropic_app(seen, half, "max_tokens")) as url:
        models = layer(tmp_path, "anthropic", url)
        first = models.ask("summary", "summary_thread", VARIABLES, ThreadSummary)
        calls = len(seen)
        again = models.ask("summary", "summary_thread", VARIABLES, ThreadSummary)
    assert seen and seen[0]["max_tokens"] == 1024  # the summary's 320, raised to LARGE_MIN_TOKENS
    assert not first.ok and first.value is None, (first.status, first.confidence, first.value)
    assert "cut off" in first.attempts[-1].note, [a.note for a in first.attempts]
    assert not again.ok and len(seen) > calls  # nothing was cached: asked again
    assert all(not a.cache_hit for a in again.attempts)


def test_a_whole_anthropic_tool_call_is_still_accepted(tmp_path: Path) -> None:
    seen: list[dict[str, Any]] = []
    whole = {"problem": [{"text": "The app crashes on resize", "source": 0}]}
    with serve_app(anthropic_app(seen, whole, "tool_use")) as url:
        ans = layer(tmp_path, "anthropic", url).ask(
            "summary", "summary_thread", VARIABLES, ThreadSummary
        )
    assert ans.ok and ans.value is not None, [a.note for a in ans.attempts]
    assert "The app crashes on resize" in ans.value.model_dump_json()


def test_an_empty_anthropic_tool_call_is_no_answer(tmp_path: Path) -> None:
    seen: list[dict[str, Any]] = []
    with serve_app(anthropic_app(seen, {}, "tool_use")) as url:
        ans = layer(tmp_path, "anthropic", url).ask(
            "summary", "summary_thread", VARIABLES, ThreadSummary
        )
    assert not ans.ok and ans.value is None, (ans.status, ans.value)
    assert "empty" in ans.attempts[-1].note, [a.note for a in ans.attempts]


def test_an_openai_reply_cut_off_by_length_is_refused(tmp_path: Path) -> None:
    seen: list[dict[str, Any]] = []
    cut = (
        '{"problem": [{"text": "The app crashes on resize", "source": 0}], "tried": [{"text": "Rein'
    )
    with serve_app(openai_app(seen, cut, "length")) as root:
        ans = layer(tmp_path, "openai", f"{root}/v1").ask(
            "summary", "summary_thread", VARIABLES, ThreadSummary
        )
    assert seen
    assert not ans.ok and ans.value is None, (ans.status, ans.confidence, ans.value)
    # the openai SDK's structured output refuses it itself (LengthFinishReasonError); a reply
    # that got through would be refused by the layer's cut-off parse (finish_reason "length")
    note = ans.attempts[-1].note
    assert "cut off" in note or "length" in note.lower(), [a.note for a in ans.attempts]


def test_providers_stop_reasons() -> None:
    assert _stopped({"stop_reason": "refusal"}) and _stopped({"finish_reason": "content_filter"})
    assert not _stopped({"stop_reason": "end_turn"}) and not _stopped({"finish_reason": "stop"})
    assert _truncated({"stop_reason": "max_tokens"})
    assert _truncated({"finish_reason": "length"})
    assert not _truncated({"stop_reason": "tool_use"})
    assert not _truncated({"finish_reason": "stop"})
    assert not _truncated({})


def test_an_answer_with_nothing_in_it_does_not_parse() -> None:
    for text in ("{}", '{"problem": [], "tried": []}', '{"problem": [{"text": "  "}]}'):
        parsed = parse_answer(text, ThreadSummary)
        assert parsed.value is None and "empty" in parsed.error, text
    ok = parse_answer('{"state": [{"text": "Fixed in 2.2", "source": 3}]}', ThreadSummary)
    assert ok.value is not None


def test_a_refusal_or_a_content_filter_stop_is_refused_not_repaired(tmp_path: Path) -> None:
    """Anthropic's stop_reason "refusal" stops an answer partway (its tool input, parsed, looks
    whole) and was used; OpenAI's finish_reason "content_filter" is refused (by the SDK's
    structured output, and by the layer for a reply that gets past it)."""
    seen: list[dict[str, Any]] = []
    half = '{"problem": [{"text": "The app crashes on resize", "source": 0}], "tried": [{"te'
    with serve_app(openai_app(seen, half, "content_filter")) as root:
        ans = layer(tmp_path / "o", "openai", f"{root}/v1").ask(
            "summary", "summary_thread", VARIABLES, ThreadSummary
        )
    assert seen and not ans.ok and ans.value is None, (ans.status, ans.value)
    assert "content filter" in ans.attempts[-1].note.replace("_", " ")
    seen.clear()
    whole = {"problem": [{"text": "The app crashes on resize", "source": 0}]}
    with serve_app(anthropic_app(seen, whole, "refusal")) as url:
        ans = layer(tmp_path / "a", "anthropic", url).ask(
            "summary", "summary_thread", VARIABLES, ThreadSummary
        )
    assert seen and not ans.ok and ans.value is None, (ans.status, ans.value)
    assert "refus" in ans.attempts[-1].note, [a.note for a in ans.attempts]
