"""`smolbot worker` (prefork pool, embedded SQLite broker) ends when its whole process group gets
SIGTERM, as `timeout`, a terminal or systemd's KillMode=control-group send it.

A pool child that took billiard's inqueue lock just as the group's SIGTERM arrived died holding
it, and the main process then waited on that lock forever in its exit cleanup (intermittently:
4 runs in 6). Pool children now act only on a SIGTERM from their parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sandbox.fake_github.server import FakeGitHubServer
from tests.e2e.test_newcomer_serve_stops import _alive
from tests.fake_github.plugin import make_settings

pytestmark = [pytest.mark.broker, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
RUNS = 6
EXIT_BOUND_S = 30.0  # an idle worker's warm shutdown takes a few seconds on a busy machine


class Worker:
    def __init__(self, fake_github: FakeGitHubServer, tmp: Path) -> None:
        settings = make_settings(fake_github, tmp)
        env = {**os.environ, **settings.to_env(), "PYTHONPATH": str(ROOT)}
        self.log = tmp / "worker.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "worker", "-Q", "fast", "-c", "2"],
            env=env,
            cwd=ROOT,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group, as a terminal or a service manager gives it
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while " ready." not in self.log.read_text():
            assert self.proc.poll() is None, self.tail()
            assert time.monotonic() < deadline, self.tail()
            time.sleep(0.2)

    def children(self) -> list[int]:
        return [
            int(c)
            for c in Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
            .read_text()
            .split()
        ]

    def exits_within(self, seconds: float) -> bool:
        try:
            self.proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return False
        return True

    def tail(self) -> str:
        return self.log.read_text()[-3000:]

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


@pytest.fixture
def start_worker(fake_github: FakeGitHubServer, tmp_path: Path) -> Iterator[object]:
    started: list[Worker] = []

    def start(i: int) -> Worker:
        tmp = tmp_path / f"run{i}"
        tmp.mkdir()
        w = Worker(fake_github, tmp)
        started.append(w)
        return w

    yield start
    for w in started:  # never leave a worker behind, whatever the test did
        w.kill()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups, /proc")
def test_sigterm_to_the_whole_group_ends_the_worker_every_time(start_worker) -> None:  # type: ignore[no-untyped-def]
    stuck = []
    for i in range(RUNS):
        w = start_worker(i)
        w.wait_ready()
        time.sleep(3)  # the children idle, one blocked reading the pool's inqueue
        os.killpg(w.proc.pid, signal.SIGTERM)
        if not w.exits_within(EXIT_BOUND_S):
            stuck.append(i)
            w.kill()
    assert not stuck, f"runs {stuck} of {RUNS} never exited after the group's SIGTERM"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups, /proc")
def test_a_pool_child_still_ends_on_its_parents_terminate_not_on_anyone_elses(start_worker) -> None:  # type: ignore[no-untyped-def]
    w = start_worker(0)
    w.wait_ready()
    children = w.children()
    assert len(children) == 2
    os.kill(children[0], signal.SIGTERM)  # not from the parent: the child goes on
    time.sleep(2)
    assert w.children() == children
    # A cold shutdown (SIGQUIT) makes the parent terminate its pool (billiard: SIGTERM each child).
    os.kill(w.proc.pid, signal.SIGQUIT)
    assert w.exits_within(EXIT_BOUND_S), w.tail()
    for pid in children:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()


def test_a_solo_worker_with_beat_ends_on_anyone_s_sigterm_and_takes_its_beat_along(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """The solo pool runs worker_process_init in the worker itself: there SIGTERM stays for
    anyone to send (`kill PID`, a service manager), and the embedded beat it forks gets it too
    (it inherited SIGTERM blocked, with no relay: the demo left it running)."""
    settings = make_settings(fake_github, tmp_path)
    log = tmp_path / "solo.log"
    env = {**os.environ, **settings.to_env(), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "worker", "--pool", "solo", "--beat", "-Q", "fast"],
        env=env, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while " ready." not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        time.sleep(2)  # the embedded beat is up
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        beat = [int(c) for c in children]
        assert beat, "no embedded beat process"
        subprocess.run(["kill", "-TERM", str(proc.pid)], check=True)  # not the parent's signal
        proc.wait(timeout=EXIT_BOUND_S)
        deadline = time.monotonic() + EXIT_BOUND_S
        while time.monotonic() < deadline and any(map(_alive, beat)):
            time.sleep(0.2)
        assert not [p for p in beat if _alive(p)], log.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
