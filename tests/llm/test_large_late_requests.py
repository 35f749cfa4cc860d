"""A large-model request past its deadline is ended, not only abandoned: its thread and its
connection go when the call returns. Found by review: the late request's daemon thread ran on
until its server stopped (its answer thrown away), so a server trickling its answer a byte at a
time piled up one thread and one open connection for every call."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from bot.llm.large import Connection, build_chat
from bot.settings import load_settings
from bot.store import Store
from tests.llm.fake_openai import serve_app
from tests.llm.test_large_requests import large_only

VARS = {"title": "Crash when saving", "body": "Saving crashes the app"}
GONE_WITHIN_S = 30.0  # generous: the servers below hold a request for 90 s or more


class Line(BaseModel):
    line: str


@dataclass
class Streams:
    """The trickling answers the server is sending now."""

    open: int = 0


def trickling_app(streams: Streams, path: str = "/v1/chat/completions") -> FastAPI:
    """A server (OpenAI-compatible; Anthropic's Messages API with its `path`) sending a space
    every 0.2 s for 90 s: every read is well within the SDK's read timeout, so nothing but the
    client ends the request."""
    app = FastAPI()

    @app.post(path)
    async def chat(request: Request) -> StreamingResponse:
        await request.json()
        return StreamingResponse(_trickle(streams), media_type="application/json")

    return app


async def _trickle(streams: Streams) -> AsyncIterator[bytes]:
    streams.open += 1
    try:
        for _ in range(450):
            yield b" "
            await asyncio.sleep(0.2)
    finally:
        streams.open -= 1


@pytest.fixture
def streams() -> Streams:
    return Streams()


@pytest.fixture
def trickling(streams: Streams) -> Iterator[str]:
    with serve_app(trickling_app(streams)) as root:
        yield f"{root}/v1"


@dataclass
class Silent:
    """A server that reads each request and never answers; `open` counts the connections the
    client has not closed."""

    url: str
    open: int = 0
    accepted: int = 0


@pytest.fixture
def silent() -> Iterator[Silent]:
    listener = socket.create_server(("127.0.0.1", 0))
    server = Silent(url=f"http://127.0.0.1:{listener.getsockname()[1]}/v1")
    lock = threading.Lock()

    def hold(conn: socket.socket) -> None:
        with conn:
            try:
                while conn.recv(65536):  # the request, then nothing until the client closes
                    pass
            except OSError:
                pass
        with lock:
            server.open -= 1

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with lock:
                server.open += 1
                server.accepted += 1
            threading.Thread(target=hold, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield server
    finally:
        listener.close()


def started_since(before: set[threading.Thread]) -> list[str]:
    """The threads running now that were not before: the requests' own, and langchain's (the
    request itself runs in a pool thread of its, which the interpreter waits for at exit)."""
    return [t.name for t in threading.enumerate() if t not in before and t.is_alive()]


def settle(done: Callable[[], bool]) -> bool:
    """Whether `done` holds within GONE_WITHIN_S (polled)."""
    deadline = time.monotonic() + GONE_WITHIN_S
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_late_requests_leave_no_thread_and_no_connection_behind(
    tmp_path: Path, llm_store: Store, streams: Streams, trickling: str
) -> None:
    """Three calls to a server trickling its answer for 90 s: each gives up at its 1 s
    deadline, and each request's thread and connection end with it."""
    layer = large_only(tmp_path, llm_store, trickling)
    before = set(threading.enumerate())
    for _ in range(3):
        ans = layer.ask("digest", "digest_line", VARS, Line)
        assert ans.status == "no_answer", ans.record.note
        assert ans.record.note == "openai:big: no answer within 1 s", ans.record.note
    assert settle(lambda: not started_since(before) and streams.open == 0), (
        f"threads {started_since(before)} and {streams.open} trickling connection(s) still"
        " open after their calls gave up"
    )


def test_a_cut_ends_a_read_waiting_on_a_silent_server(tmp_path: Path, silent: Silent) -> None:
    """A server that never answers, and a read timeout of 120 s: closing the client alone
    leaves the read waiting that long; the cut wakes it, and the server sees the close."""
    settings = load_settings(
        env="test",
        data_dir=tmp_path / "d",
        large_provider="openai",
        large_model="big",
        large_base_url=silent.url,
        large_timeout_s=120.0,
        large_max_retries=0,
    )
    connection = Connection()
    chat = build_chat(settings, connection.http)
    ended: list[BaseException] = []

    def call() -> None:
        try:
            chat.invoke([("human", "hello")])
        except BaseException as err:  # the cut request's error: what ends the thread
            ended.append(err)

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    assert settle(lambda: silent.accepted == 1), "the request never reached the server"
    connection.cut()
    assert settle(lambda: not thread.is_alive()), "the read still waits after the cut"
    assert ended, "the cut request ended without an error"
    assert settle(lambda: silent.open == 0), "the server still holds the connection"
