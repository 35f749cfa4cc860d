"""`smolbot serve`'s stop when a worker's task outlasts the grace period: no Celery worker is left
running after serve exits. serve gave its `worker --split` supervisor the same GRACE_S the
supervisor gives its workers, so serve's SIGKILL of the supervisor came first, and the worker
under it (its parent-death signal a SIGTERM, the warm shutdown it was already in) ran on,
orphaned, with its model copy in memory."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.llm.fake_openai import free_port

ROOT = Path(__file__).resolve().parents[2]

# a Celery worker in its warm shutdown, its model task still running: SIGTERM changes nothing
BUSY_WORKER = (
    "import os, signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
    " open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(60)"
)
SUPERVISOR = """
import sys
import workers.nodes as nodes
from bot.settings import load_settings
real = nodes.child_of_this
nodes.child_of_this = lambda cmd: real([sys.executable, "-c", {busy!r}, {pidfile!r}])
sys.exit(nodes.run_split(load_settings(env="test", data_dir={data!r}), ["model"], "solo", False,
                         grace_s={grace}))
"""


def _running(pid: int) -> bool:
    state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True)
    return bool(state.stdout.strip()) and not state.stdout.strip().startswith("Z")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_supervisor_killed_at_the_end_of_the_grace_takes_its_workers_along(
    tmp_path: Path,
) -> None:
    """Even when serve's patience ends first (the supervisor hung, or gave the same grace), the
    processes under the supervisor are killed with it."""
    from bot.cli.service import _stop_worker

    grace = 2.0  # both levels the same: serve's kill comes first
    pidfile = tmp_path / "worker.pid"
    code = SUPERVISOR.format(
        busy=BUSY_WORKER, pidfile=str(pidfile), data=str(tmp_path), grace=grace
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    sup = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT)
    for _ in range(200):
        if pidfile.exists() and pidfile.read_text():
            break
        time.sleep(0.1)
    pid = int(pidfile.read_text())
    try:
        assert _stop_worker(sup, grace) == 128 + signal.SIGKILL
        time.sleep(0.5)
        assert not _running(pid), f"worker {pid} still running"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def serve_stops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """run_serve with a sleeping child for its worker and a web that returns at once: the grace
    it then gives `_stop_worker`."""
    import bot.cli.service as service
    import workers.nodes as nodes
    from bot.settings import load_settings

    waited: list[float] = []

    def stop_worker(child: subprocess.Popen[bytes], grace_s: float) -> int:
        waited.append(grace_s)
        child.kill()
        child.wait()
        return 0

    class Server:
        started = True

        def run(self) -> None:
            return None

    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    monkeypatch.setattr(nodes, "child_of_this", lambda cmd: subprocess.Popen(sleeper))
    monkeypatch.setattr(service, "_frozen_app", lambda settings: None)
    monkeypatch.setattr(service, "_serve_server", lambda config: Server())
    monkeypatch.setattr(service, "_stop_worker", stop_worker)
    settings = load_settings(env="test", data_dir=tmp_path)

    def run(**kw: Any) -> float:
        assert service.run_serve(settings, free_port(), None, **kw) == 0
        (grace,) = waited
        return grace

    return run


def test_serve_waits_longer_for_its_supervisor_than_the_supervisor_for_its_workers(
    serve_stops: Any,
) -> None:
    """The supervisor kills a worker still running after GRACE_S and exits; serve waits beyond
    that (and within the 2 minutes deploy/ gives `smolbot serve` to stop)."""
    import workers.nodes as nodes

    assert nodes.GRACE_S + 5 <= serve_stops() < 120


def test_an_explicit_grace_is_kept(serve_stops: Any) -> None:
    assert serve_stops(grace_s=3.0) == 3.0


# serve's worker+beat child, standing in for Celery: records each signal it gets; SIGTERM starts
# its warm shutdown (a task that outlasts the test), SIGQUIT is its cold shutdown (it ends)
CELERY_LIKE = """
import signal, sys, time
seen = open(sys.argv[1], "a", buffering=1)
def on(signum, _frame):
    seen.write(signal.Signals(signum).name + "\\n")
    if signum == signal.SIGQUIT:
        sys.exit(0)
for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
    signal.signal(sig, on)
seen.write("ready\\n")
time.sleep(600)
"""


def test_ctrl_c_twice_gives_serve_s_worker_celerys_cold_shutdown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker has a process group of its own (no terminal signal reaches it), so Ctrl-C
    twice reaches serve alone: the first is the worker's SIGTERM (warm shutdown), the second its
    SIGQUIT (Celery's cold shutdown: the running tasks given up), not a wait for the grace."""
    import bot.cli.service as service
    import workers.nodes as nodes
    from bot.settings import load_settings

    seen = tmp_path / "signals"
    real = nodes.child_of_this
    monkeypatch.setattr(
        nodes, "child_of_this", lambda cmd: real([sys.executable, "-c", CELERY_LIKE, str(seen)])
    )
    monkeypatch.setattr(service, "_frozen_app", lambda settings: None)

    class Server:
        started = True
        should_exit = force_exit = False

        def run(self) -> None:  # the web, up: Ctrl-C twice (serve's own handlers take it)
            deadline = time.monotonic() + 120
            while "ready" not in (seen.read_text() if seen.exists() else ""):
                assert time.monotonic() < deadline, "the stand-in worker never started"
                time.sleep(0.05)
            for _ in range(2):
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.2)  # the handler runs in this thread, between two bytecodes

    monkeypatch.setattr(service, "_serve_server", lambda config: Server())
    settings = load_settings(env="test", data_dir=tmp_path)
    status = service.run_serve(settings, free_port(), None, grace_s=150.0)
    assert seen.read_text().split() == ["ready", "SIGTERM", "SIGQUIT"]
    assert status == 0
