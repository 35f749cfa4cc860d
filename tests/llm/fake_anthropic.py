"""An Anthropic Messages API (`POST /v1/messages`) on loopback for tests: scripted answers as text or as a
forced tool call, slow answers, and scripted HTTP failures (500, 529 overloaded) before succeeding."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.llm.fake_openai import serve_app

ERRORS = {
    500: ("api_error", "Internal server error"),
    529: ("overloaded_error", "Overloaded"),
}


@dataclass
class AnthropicBehaviour:
    """`fail_with` statuses are answered first, one per request; then `replies` in order (last repeats)."""

    replies: list[str] = field(default_factory=lambda: ['{"label": "bug"}'])
    fail_with: list[int] = field(default_factory=list)
    delay_s: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    # output tokens a forced tool call costs (the tool_use block's own, beyond its input), as a
    # real model counts them; None: the fixed 5 of every answer
    tool_call_tokens: int | None = None

    def next_reply(self) -> str:
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


def make_app(b: AnthropicBehaviour) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/messages")
    async def messages(request: Request) -> JSONResponse:
        body = await request.json()
        b.requests.append({"body": body, "headers": dict(request.headers)})
        if b.fail_with:
            status = b.fail_with.pop(0)
            kind, message = ERRORS.get(status, ("api_error", "error"))
            return JSONResponse(
                {"type": "error", "error": {"type": kind, "message": message}}, status
            )
        if b.delay_s:
            time.sleep(b.delay_s)  # blocks this worker thread: the client must time out
        return JSONResponse(_message(body, b.next_reply(), b.tool_call_tokens))

    return app


def _message(body: dict[str, Any], reply: str, tool_tokens: int | None = None) -> dict[str, Any]:
    tools = body.get("tools") or []
    out = 5
    if tools and tool_tokens is not None:
        out = tool_tokens + len(reply) // 4
        if out > body["max_tokens"]:  # cut at the limit: the call's input comes incomplete
            out, reply = body["max_tokens"], "{}"
    if tools:  # structured output: answer with a call of the (forced) tool, input = the reply
        content: list[dict[str, Any]] = [
            {
                "type": "tool_use",
                "id": "toolu_test",
                "name": tools[0]["name"],
                "input": json.loads(reply),
            }
        ]
        stop = "tool_use" if out < body.get("max_tokens", out + 1) else "max_tokens"
    else:
        content, stop = [{"type": "text", "text": reply}], "end_turn"
    return {
        "id": "msg_test",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "test"),
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": 13, "output_tokens": out},
    }


@contextmanager
def serve(b: AnthropicBehaviour) -> Iterator[str]:
    """Yields the base URL to give ChatAnthropic (the SDK appends /v1/messages)."""
    with serve_app(make_app(b)) as root:
        yield root
