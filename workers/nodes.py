"""`smolbot worker --split`: one Celery worker process per queue, each with its own concurrency."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable

from bot.settings import Settings


def concurrency_for(settings: Settings, queues: Iterable[str]) -> int:
    """Processes for a worker consuming `queues`: the sum of their SMOLBOT_WORKER_CONCURRENCY."""
    return max(1, sum(settings.worker_concurrency.get(q.strip(), 1) for q in queues))


def run_split(settings: Settings, queues: list[str], pool: str, beat: bool) -> int:
    """Start one `smolbot worker -Q q` per queue and supervise them; the first to exit ends all."""
    children = []
    for q in queues:
        cmd = [sys.executable, "-m", "bot.cli", "worker", "-Q", q, "--pool", pool]
        cmd += ["-c", str(concurrency_for(settings, [q])), "-n", f"smolbot-{q}-{os.getpid()}@%h"]
        if beat and q == "sweep":
            cmd.append("--beat")
        children.append(subprocess.Popen(cmd))
    stop = {"now": False}

    def _stop(*_: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    while not stop["now"] and all(c.poll() is None for c in children):
        time.sleep(0.5)
    for c in children:
        if c.poll() is None:
            c.terminate()
    return max((c.wait(timeout=30) or 0) for c in children)
