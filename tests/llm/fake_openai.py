"""An OpenAI-compatible chat server on loopback for tests: scripted, garbage, slow, failing, or the real
small model answering (gpt4all)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


@dataclass
class Behaviour:
    """What the server does next. `replies` are consumed in order; the last one repeats."""

    mode: str = "scripted"  # scripted | garbage | slow | fail | local
    replies: list[str] = field(default_factory=lambda: ['{"label": "bug"}'])
    delay_s: float = 0.0
    model_path: Path | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)

    def next_reply(self) -> str:
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


def make_app(b: Behaviour) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> JSONResponse:
        body = await request.json()
        b.requests.append({"body": body, "auth": request.headers.get("authorization", "")})
        if b.mode == "fail":
            return JSONResponse({"error": {"message": "boom", "type": "server_error"}}, 500)
        if b.mode == "slow":
            time.sleep(b.delay_s)  # blocks this worker thread: the client must time out
        text = _answer(b, body)
        return JSONResponse(_completion(body, text))

    return app


def _answer(b: Behaviour, body: dict[str, Any]) -> str:
    if b.mode == "garbage":
        return "I think it is probably a bug, but who knows!!"
    if b.mode == "local":
        from bot.llm.backends import get_backend

        assert b.model_path is not None
        msgs = body["messages"]
        system = next((m["content"] for m in msgs if m["role"] == "system"), "")
        user = next(m["content"] for m in msgs if m["role"] == "user")
        backend = get_backend("gpt4all", b.model_path, {"n_threads": 1})
        return backend.generate(
            system, user, max_tokens=body.get("max_tokens") or 64, temperature=0
        ).text
    return b.next_reply()


def _completion(body: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "test"),
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(b: Behaviour) -> Iterator[str]:
    """Run the server in a thread; yields its base URL ending in /v1."""
    with serve_app(make_app(b)) as root:
        yield f"{root}/v1"


@contextmanager
def serve_app(app: FastAPI) -> Iterator[str]:
    """Run any ASGI app on a free loopback port in a thread; yields http://127.0.0.1:PORT."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not server.started and time.time() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
