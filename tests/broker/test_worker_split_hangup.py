"""`smolbot worker --split` in a terminal: the hang-up of a closed terminal (SIGHUP to the whole
foreground process group) and Ctrl-C twice. The supervisor took SIGTERM and SIGINT only, so a
SIGHUP killed it at once; its workers, in its process group, got the SIGHUP themselves (Celery
re-execs on it) and ran on, orphaned. Now only the supervisor gets the terminal's signals, and it
stops its workers as for SIGTERM.

The workers are stand-ins (real processes): each writes its pid, records every signal it gets,
and ends on SIGTERM (after `linger` seconds, its running task) or at once on SIGQUIT (Celery's
cold shutdown)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_S = 120.0  # generous: a loaded 2-core machine; nothing here is timed

WORKER = """
import os, signal, sys, time
out, linger = sys.argv[1], float(sys.argv[2])
seen = open(out + ".signals", "a", buffering=1)
stop = {"at": None}
def on(signum, _frame):
    seen.write(signal.Signals(signum).name + "\\n")
    if signum == signal.SIGQUIT:
        sys.exit(0)
    if signum == signal.SIGTERM and stop["at"] is None:
        stop["at"] = time.monotonic() + linger
for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
    signal.signal(sig, on)
open(out + ".pid", "w").write(str(os.getpid()))
while stop["at"] is None or time.monotonic() < stop["at"]:
    time.sleep(0.05)
"""
SUPERVISOR = """
import sys
import workers.nodes as nodes
from bot.settings import load_settings
real = nodes.child_of_this
def child(cmd):
    q = cmd[cmd.index("-Q") + 1]
    return real([sys.executable, "-c", {worker!r}, {out!r} + "/" + q, {linger!r}])
nodes.child_of_this = child
sys.exit(nodes.run_split(load_settings(env="test", data_dir={out!r}), ["fast", "model", "sweep"],
                         "solo", True, grace_s={grace}))
"""


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _until(cond: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


class Split:
    """The supervisor in a session of its own, as a terminal starts it: its pid is the group's."""

    def __init__(self, tmp: Path, linger: float, grace: float) -> None:
        code = SUPERVISOR.format(worker=WORKER, out=str(tmp), linger=str(linger), grace=grace)
        self.tmp = tmp
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            start_new_session=True,
        )
        self.pids: list[int] = []

    def workers(self) -> list[int]:
        files = [self.tmp / f"{q}.pid" for q in ("fast", "model", "sweep")]
        _until(lambda: all(f.exists() and f.read_text() for f in files), "the three workers")
        self.pids = [int(f.read_text()) for f in files]
        return self.pids

    def signals(self) -> dict[str, list[str]]:
        return {
            q: (self.tmp / f"{q}.signals").read_text().split()
            if (self.tmp / f"{q}.signals").exists()
            else []
            for q in ("fast", "model", "sweep")
        }

    def close(self) -> None:
        for pid in self.pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@pytest.fixture
def split(tmp_path: Path) -> Iterator[Callable[..., Split]]:
    made: list[Split] = []

    def start(linger: float = 0.0, grace: float = DEADLINE_S) -> Split:
        made.append(Split(tmp_path, linger, grace))
        return made[-1]

    yield start
    for s in made:
        s.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_hang_up_to_the_whole_group_stops_every_worker_through_the_supervisor(
    split: Callable[..., Split],
) -> None:
    sup = split(linger=1.0)
    pids = sup.workers()
    os.killpg(sup.proc.pid, signal.SIGHUP)  # what a closed terminal sends
    status = sup.proc.wait(timeout=DEADLINE_S)
    _until(lambda: not any(map(_alive, pids)), "the workers to end")
    assert status == 0, status  # a stop it asked for, not death by SIGHUP
    # the hang-up was the supervisor's alone; each worker got its warm shutdown, SIGTERM
    assert sup.signals() == {q: ["SIGTERM"] for q in ("fast", "model", "sweep")}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_twice_gives_the_workers_celerys_cold_shutdown(split: Callable[..., Split]) -> None:
    """The first Ctrl-C is a warm shutdown (the workers' running tasks finish); the second is
    passed on as SIGQUIT, which Celery takes for its cold shutdown. The workers here would take
    longer than the deadline to finish: only the SIGQUIT ends them in time."""
    sup = split(linger=10 * DEADLINE_S)
    pids = sup.workers()
    os.killpg(sup.proc.pid, signal.SIGINT)
    _until(lambda: all(s == ["SIGTERM"] for s in sup.signals().values()), "the warm shutdown")
    os.killpg(sup.proc.pid, signal.SIGINT)
    status = sup.proc.wait(timeout=DEADLINE_S)
    _until(lambda: not any(map(_alive, pids)), "the workers to end")
    assert status == 0, status
    assert sup.signals() == {q: ["SIGTERM", "SIGQUIT"] for q in ("fast", "model", "sweep")}
