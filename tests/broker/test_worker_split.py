"""`smolbot worker --split`'s supervisor with fake children: real processes standing in for the
per-queue Celery workers (one ignoring SIGTERM for a while, one killed by a signal)."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import workers.nodes as nodes
from bot.settings import Settings, load_settings

# A worker in warm shutdown with a long model task: SIGTERM does not end it (within the test).
STUBBORN = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
# A worker that stops at once on SIGTERM, as an idle Celery worker does.
OBEDIENT = (
    "import signal, sys, time; signal.signal(signal.SIGTERM, lambda *_: sys.exit(0));"
    " time.sleep(60)"
)
EXITS_SOON = "import time; time.sleep(0.5)"
KILLED_SOON = "import os, signal, time; time.sleep(0.5); os.kill(os.getpid(), signal.SIGKILL)"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data", webhook_secret="x", env="test")


@pytest.fixture
def fake_workers(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run `programs[queue]` (Python source) instead of the real worker of each queue."""
    started: list[subprocess.Popen[bytes]] = []
    real = subprocess.Popen

    def install(programs: dict[str, str]) -> list[subprocess.Popen[bytes]]:
        def popen(cmd: list[str], **kw: Any) -> subprocess.Popen[bytes]:
            queue = cmd[cmd.index("-Q") + 1]
            p = real([sys.executable, "-c", programs[queue]], **kw)
            started.append(p)
            return p

        monkeypatch.setattr(nodes.subprocess, "Popen", popen)
        return started

    yield install
    for p in started:  # never leave a process behind, whatever the test did
        if p.poll() is None:
            p.kill()
            p.wait()


def test_a_child_still_running_after_the_grace_period_is_killed_and_reported(
    settings: Settings, fake_workers: Any, caplog: pytest.LogCaptureFixture
) -> None:
    started = fake_workers({"fast": EXITS_SOON, "model": STUBBORN})
    t0 = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="workers.nodes"):
        status = nodes.run_split(settings, ["fast", "model"], "prefork", False, grace_s=1.0)
    assert time.monotonic() - t0 < 15
    assert [p.poll() is not None for p in started] == [True, True]  # nothing left running
    assert started[1].returncode == -signal.SIGKILL
    assert status == 128 + signal.SIGKILL  # a stop that had to kill is not a clean one
    assert any(
        "model worker" in r.getMessage() and "killing it" in r.getMessage() for r in caplog.records
    )


def test_a_child_killed_by_a_signal_makes_the_supervisor_fail(
    settings: Settings, fake_workers: Any
) -> None:
    started = fake_workers({"fast": KILLED_SOON, "model": OBEDIENT})
    status = nodes.run_split(settings, ["fast", "model"], "prefork", False, grace_s=10.0)
    assert started[0].returncode == -signal.SIGKILL
    assert started[1].returncode == 0
    assert status == 128 + signal.SIGKILL


def test_children_that_stop_cleanly_give_a_clean_exit(
    settings: Settings, fake_workers: Any
) -> None:
    started = fake_workers({"fast": EXITS_SOON, "model": OBEDIENT, "sweep": OBEDIENT})
    status = nodes.run_split(settings, ["fast", "model", "sweep"], "prefork", False, grace_s=10.0)
    assert [p.returncode for p in started] == [0, 0, 0]
    assert status == 0


def test_the_grace_period_has_a_default_and_the_signal_handlers_are_given_back(
    settings: Settings, fake_workers: Any
) -> None:
    assert 30 < nodes.GRACE_S < 120  # the deploy files give a worker 2 minutes to stop
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    fake_workers({"fast": EXITS_SOON})
    assert nodes.run_split(settings, ["fast"], "prefork", False) == 0
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
