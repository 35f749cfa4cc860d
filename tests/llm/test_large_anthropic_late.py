"""A late Anthropic request is ended, not only abandoned, as an OpenAI-compatible one is: its
thread and its connection go when the call returns. Found by review: ChatAnthropic made its own
HTTP client, so only OpenAI requests had a connection to cut; a late Anthropic request's thread
ran on until its server stopped, one more thread and open connection for every call."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.llm import ModelLayer
from bot.store import Store
from tests.llm.fake_anthropic import AnthropicBehaviour, _message, serve
from tests.llm.fake_openai import serve_app
from tests.llm.test_large_late_requests import (
    VARS,
    Line,
    Streams,
    settle,
    started_since,
    trickling_app,
)
from tests.llm.test_large_requests import large_only


@pytest.fixture
def streams() -> Streams:
    return Streams()


@pytest.fixture
def trickling(streams: Streams) -> Iterator[str]:
    with serve_app(trickling_app(streams, "/v1/messages")) as root:
        yield root


def anthropic_only(tmp_path: Path, store: Store, url: str) -> ModelLayer:
    return large_only(
        tmp_path,
        store,
        url,
        large_provider="anthropic",
        large_model="claude-test",
        large_api_key=SecretStr("sk-ant-test"),
    )


def test_late_anthropic_requests_leave_no_thread_and_no_connection_behind(
    tmp_path: Path, llm_store: Store, streams: Streams, trickling: str
) -> None:
    """Three calls to a Messages API trickling its answer for 90 s: each gives up at its 1 s
    deadline, and each request's thread and connection end with it."""
    layer = anthropic_only(tmp_path, llm_store, trickling)
    before = set(threading.enumerate())
    for _ in range(3):
        ans = layer.ask("digest", "digest_line", VARS, Line)
        assert ans.status == "no_answer", ans.record.note
        assert ans.record.note == "anthropic:claude-test: no answer within 1 s", ans.record.note
    assert settle(lambda: not started_since(before) and streams.open == 0), (
        f"threads {started_since(before)} and {streams.open} trickling connection(s) still"
        " open after their calls gave up"
    )


def test_an_answer_in_time_still_comes_as_a_forced_tool_call(
    tmp_path: Path, llm_store: Store
) -> None:
    """On a connection of its own, the request is the same Messages API call: the key, the
    read timeout, the forced tool, and the tool's input as the answer."""
    behaviour = AnthropicBehaviour(replies=['{"line": "Saving crashes"}'])
    with serve(behaviour) as url:
        layer = anthropic_only(tmp_path, llm_store, url)
        ans = layer.ask("digest", "digest_line", VARS, Line)
    assert ans.status == "escalated" and ans.value == Line(line="Saving crashes"), ans.record.note
    [request] = behaviour.requests
    headers = request["headers"]  # the SDK sends the key as x-api-key or (newer) a bearer token
    sent = {headers.get("x-api-key"), headers.get("authorization", "").removeprefix("Bearer ")}
    assert "sk-ant-test" in sent
    assert headers["x-stainless-read-timeout"] == "1.0"  # large_timeout_s
    assert request["body"]["tool_choice"]["name"] == "Line"


@pytest.fixture
def proxy() -> Iterator[tuple[str, list[str]]]:
    """A plain HTTP proxy answering every request itself with a forced tool call; yields its
    URL and the request lines it was sent (a proxy's: the absolute URL)."""
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[str] = []

    def answer(conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as reader:
            seen.append(reader.readline().decode().strip())
            length = 0
            while (line := reader.readline().strip()) != b"":
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            body = json.loads(reader.read(length))
            out = json.dumps(_message(body, '{"line": "by the proxy"}')).encode()
            head = (
                f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(out)}"
            )
            conn.sendall(head.encode() + b"\r\nconnection: close\r\n\r\n" + out)

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", seen
    finally:
        listener.close()


def test_the_request_goes_by_anthropic_proxy_as_before(
    tmp_path: Path, llm_store: Store, proxy: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ChatAnthropic gives its own client the proxy ANTHROPIC_PROXY names: the connection made
    for the request goes by it too."""
    url, seen = proxy
    monkeypatch.setenv("ANTHROPIC_PROXY", url)
    layer = anthropic_only(tmp_path, llm_store, "http://anthropic.invalid")
    ans = layer.ask("digest", "digest_line", VARS, Line)
    assert ans.status == "escalated" and ans.value == Line(line="by the proxy"), ans.record.note
    assert seen == ["POST http://anthropic.invalid/v1/messages HTTP/1.1"]
