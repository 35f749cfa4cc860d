"""`smolbot serve` as a service manager stops it: SIGTERM to its pid alone (not its group) ends
the web and its worker+beat child, and a worker that dies does not leave the web taking
deliveries nobody handles."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import pytest

from tests.e2e.harness import Proc, wait_for
from tests.e2e.test_service import _labels, _signed_issue_opened, _up
from tests.fake_github.plugin import make_settings
from tests.llm.fake_openai import free_port

pytestmark = [pytest.mark.broker, pytest.mark.slow]
REPO = "octo/widgets"


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return found
    for tid in tasks:
        try:
            found.update(
                int(c) for c in Path(f"/proc/{pid}/task/{tid}/children").read_text().split()
            )
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


def _tree(pid: int) -> set[int]:
    """pid's descendants (not pid itself), as /proc shows them now."""
    seen: set[int] = set()
    todo = [pid]
    while todo:
        for child in _children(todo.pop()) - seen:
            seen.add(child)
            todo.append(child)
    return seen


def _alive(pid: int) -> bool:
    """Running, not a zombie (a reaped or re-parented one is gone from /proc or a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _serve_labelling(fake_github, tmp_path: Path) -> tuple[Proc, str, Path]:  # type: ignore[no-untyped-def]
    """`smolbot serve` on a fresh data dir, up and labelling (so the worker is ready too)."""
    import httpx

    fake_github.state.add_installation(1, [REPO])
    fake_github.state.add_issue(REPO, "Crash on start", "It crashes.")
    settings = make_settings(fake_github, tmp_path, data_dir=tmp_path / "data")
    port = free_port()
    log = tmp_path / "serve.log"
    serve = Proc(settings, ["serve", "--port", str(port)], log)
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: _up(base), timeout=90, what="smolbot serve", log=log)
    body, headers = _signed_issue_opened("s-1")
    r = httpx.post(f"{base}/webhook", content=body, headers=headers)
    assert r.status_code == 202, r.text
    wait_for(lambda: "needs-triage" in _labels(fake_github, 1), timeout=120, what="label", log=log)
    return serve, base, log


def _kill_group(serve: Proc, tree: set[int]) -> None:
    """Whatever the test found, leave nothing behind (re-parented ones are not in the group)."""
    for pid in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if serve.proc.poll() is None:
        serve.kill9()


@pytest.mark.parametrize(
    "sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=lambda s: s.name
)
def test_a_signal_to_serve_alone_stops_its_worker_and_beat_too(
    fake_github, tmp_path: Path, sig: signal.Signals
) -> None:  # type: ignore[no-untyped-def]
    serve, _base, log = _serve_labelling(fake_github, tmp_path)
    tree = _tree(serve.proc.pid)
    try:
        assert tree, "serve has no worker child"
        os.kill(serve.proc.pid, sig)  # as systemd or `kill <pid>` does: not to the group
        status = serve.proc.wait(timeout=60)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(map(_alive, tree)):
            time.sleep(0.2)
        left = sorted(p for p in tree if _alive(p))
        assert not left, f"still running after serve stopped: {left}\n{log.read_text()[-3000:]}"
        assert status == 0, log.read_text()[-3000:]
    finally:
        _kill_group(serve, tree)


def test_serve_whose_worker_dies_says_so_and_stops(fake_github, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    serve, base, log = _serve_labelling(fake_github, tmp_path)
    tree = _tree(serve.proc.pid)
    (worker,) = _children(serve.proc.pid)
    try:
        for pid in sorted(tree):  # the worker, its pool and its beat, at once: a crash
            os.kill(pid, signal.SIGKILL)
        status = serve.proc.wait(timeout=60)
        assert status != 0
        text = log.read_text()
        assert f"worker+beat process (pid {worker}) died" in text, text[-3000:]
        assert not _up(base)
    finally:
        _kill_group(serve, tree)


def test_serve_killed_outright_takes_its_worker_and_beat_along(fake_github, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """SIGKILL (or the OOM killer) gives serve no chance to stop its child: the child asked for
    SIGTERM when its parent dies, so it does not run on, re-parented, consuming the broker."""
    serve, _base, log = _serve_labelling(fake_github, tmp_path)
    tree = _tree(serve.proc.pid)
    try:
        assert tree, "serve has no worker child"
        os.kill(serve.proc.pid, signal.SIGKILL)  # the process alone, not its group
        serve.proc.wait(timeout=30)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(map(_alive, tree)):
            time.sleep(0.2)
        left = sorted(p for p in tree if _alive(p))
        assert not left, f"still running after serve was killed: {left}\n{log.read_text()[-3000:]}"
    finally:
        _kill_group(serve, tree)


def test_a_hang_up_to_serve_s_whole_group_stops_its_worker_and_beat_too(
    fake_github, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A closed terminal (or SSH session) sends SIGHUP to the foreground process group. The
    workers were in serve's group: each took the SIGHUP itself and re-exec'd (Celery's restart
    when its output is no terminal, as here: a log file) while the `--split` supervisor died of
    it, and they ran on, orphaned, consuming the broker, one with a beat; serve exited 0. Now the
    worker tree has a process group of its own: serve alone gets the hang-up and stops it."""
    serve, _base, log = _serve_labelling(fake_github, tmp_path)
    tree = _tree(serve.proc.pid)
    try:
        assert len(tree) >= 4, "serve's supervisor and its three workers"
        os.killpg(serve.proc.pid, signal.SIGHUP)  # Proc starts serve as its group's leader
        status = serve.proc.wait(timeout=180)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(map(_alive, tree)):
            time.sleep(0.2)
        left = sorted(p for p in tree if _alive(p))
        assert not left, f"still running after serve stopped: {left}\n{log.read_text()[-3000:]}"
        assert status == 0, log.read_text()[-3000:]
        # the hang-up was serve's alone: no worker took it (and restarted, as Celery does)
        assert "Restarting celery worker" not in log.read_text(), log.read_text()[-3000:]
    finally:
        _kill_group(serve, tree)
