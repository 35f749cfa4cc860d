"""Crossed `/smolbot duplicate` commands, #A's on #B and #B's on #A, delivered at once: each
delivery holds its own issue's lock, so only the repository's duplicates lock stops both from
passing the cycle check before either closes, leaving no open issue for the problem."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import bot.jobs.commands as jc
from bot.coord.locks import Locks
from bot.github import GitHubApp
from bot.jobs.context import JobContext
from bot.settings import Settings
from bot.store import open_store
from tests.commands.conftest import REPO, bot_comments, comment_payload


def _worker(settings: Settings, payload: dict[str, Any], done: threading.Event) -> None:
    """Another worker: its own store connection and GitHub client, as a second process has."""
    store = open_store(settings.db_path)
    try:
        ctx = JobContext(settings, store, GitHubApp(settings), None)
        jc.handle_comment_event(ctx, "d2", payload)
    finally:
        store.close()
        done.set()


def test_crossed_duplicate_commands_close_only_one_issue(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """#A's command has passed its check and not closed yet when #B's runs: #B's waits for it
    (or, without the lock, runs to its end), then finds #A closed as its duplicate: refused."""
    state, ctx = world
    a = state.add_issue(REPO, "Crash").number
    b = state.add_issue(REPO, "Crash too").number
    ready = threading.Event()  # the second finished, or is waiting for a lock
    on_b = comment_payload(b, f"/smolbot duplicate #{a}", "maint", on=state)
    second = threading.Thread(target=_worker, args=(ctx.settings, on_b, ready))
    real_spelled, real_hold = jc.spelled, Locks.hold

    def between_check_and_close(*args: Any) -> str:
        if not second.is_alive() and not ready.is_set():
            second.start()
            assert ready.wait(30)
        return real_spelled(*args)

    @contextmanager
    def hold(self: Locks, key: str, wait_s: float = 10.0) -> Iterator[bool]:
        if threading.current_thread() is second:
            ready.set()
        with real_hold(self, key, wait_s) as got:
            yield got

    monkeypatch.setattr(jc, "spelled", between_check_and_close)
    monkeypatch.setattr(Locks, "hold", hold)
    body = f"/smolbot duplicate #{b}"
    jc.handle_comment_event(ctx, "d1", comment_payload(a, body, "maint", on=state))
    second.join(60)
    assert not second.is_alive()
    states = {n: state.issue(REPO, n).state for n in (a, b)}
    assert states == {a: "closed", b: "open"}
    (reply,) = bot_comments(state, b)
    assert f"#{a} is closed as a duplicate of this issue" in reply
