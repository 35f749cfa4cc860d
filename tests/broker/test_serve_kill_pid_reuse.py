"""`smolbot serve` killing its worker tree at the end of the grace period listed the pids under the
supervisor, killed and reaped the supervisor, then sent SIGKILL to each listed pid. A Celery
prefork child dies with its parent at once (its parent-death signal), its pid is freed and can be
another process's by then: serve could kill a process that was never its own. The processes under
the supervisor are now pinned (pidfds) before anything is killed, and signalled through them."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NS_LAST_PID = Path("/proc/sys/kernel/ns_last_pid")

# a `worker --split` supervisor in its hang (SIGTERM ignored) over a worker that dies with it
SUPERVISOR = """
import ctypes, signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
def die_with_parent():
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG, as Celery's prefork children
w = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                     preexec_fn=die_with_parent)
print(w.pid, flush=True)
time.sleep(60)
"""

# In a process of its own (it becomes the orphaned worker's reaper): serve's _stop_worker, with
# the worker's pid given to an unrelated process between the supervisor's reaping and the kills.
SCENARIO = """
import ctypes, json, os, subprocess, sys
ctypes.CDLL(None).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER: the orphaned worker comes here
from bot.cli.service import _stop_worker
sup = subprocess.Popen([sys.executable, "-c", {supervisor!r}], stdout=subprocess.PIPE)
worker = int(sup.stdout.readline())
other = []
real_wait = sup.wait
def wait(timeout=None):
    rc = real_wait(timeout)  # the supervisor reaped; its worker died with it
    os.waitpid(worker, 0)  # and is reaped: its pid is free
    for _ in range(100):
        with open({ns_last_pid!r}, "w") as f:
            f.write(str(worker - 1))
        p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        if p.pid == worker:
            other.append(p)
            break
        p.kill()
        p.wait()
    return rc
sup.wait = wait
status = _stop_worker(sup, 0.5)
alive = bool(other)
try:
    if other:
        other[0].wait(timeout=1)  # a SIGKILL takes a moment to end it
        alive = False
except subprocess.TimeoutExpired:
    pass
for p in other:
    p.kill()
    p.wait()
print(json.dumps({{"status": status, "reused": bool(other), "alive": alive}}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux pids and prctl")
def test_serve_does_not_kill_a_process_that_took_a_dead_worker_s_pid(tmp_path: Path) -> None:
    if not os.access(NS_LAST_PID, os.W_OK):
        pytest.skip("needs to choose the next pid (root in a pid namespace)")
    code = SCENARIO.format(supervisor=SUPERVISOR, ns_last_pid=str(NS_LAST_PID))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    if not got["reused"]:
        pytest.skip("another process took the freed pid first")
    assert got["status"] == 128 + 9
    assert got["alive"], "serve killed a process that took its dead worker's pid"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_without_pidfds_the_processes_under_it_are_still_killed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Before Linux 5.3 (no pidfd_open) the bare pids are signalled, as before."""
    import time

    from workers.nodes import descendants, kill_tree

    monkeypatch.delattr(os, "pidfd_open")
    sup = subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR.replace("preexec_fn=die_with_parent", "")],
        stdout=subprocess.PIPE,
    )
    assert sup.stdout is not None
    worker = int(sup.stdout.readline())  # it does not die with the supervisor
    try:
        assert descendants(sup.pid) == [worker]
        kill_tree(sup)
        for _ in range(50):
            if not Path(f"/proc/{worker}").exists() or "Z" in _state(worker):
                break
            time.sleep(0.1)
        else:
            pytest.fail(f"worker {worker} still running")
    finally:
        sup.stdout.close()
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker, 9)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"
