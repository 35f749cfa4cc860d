"""`smolbot worker --split`: one Celery worker process per queue, each with its own concurrency."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable

from bot.settings import Settings

log = logging.getLogger(__name__)
# Seconds the children have to end after SIGTERM before they are killed: room for a running model
# task to finish, and short of the 2 minutes deploy/ gives a worker to stop (TimeoutStopSec=120,
# stop_grace_period: 2m), so under a service manager this process ends them, says so, and exits.
GRACE_S = 100.0
# What `smolbot serve` gives its worker process (`worker --split`'s supervisor) after SIGTERM: the
# supervisor's GRACE_S, begun up to half a second later, and room for its own kill and exit. With
# the same GRACE_S serve killed the supervisor first, and the worker under it (its parent-death
# signal a SIGTERM: the warm shutdown it was already in) ran on, orphaned, its model in memory.
SERVE_GRACE_S = GRACE_S + 10.0


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def child_of_this(cmd: list[str]) -> subprocess.Popen[bytes]:
    """Start a worker process in a process group of its own, sent SIGTERM (its warm shutdown) if
    this one dies without stopping it.

    Its own group: a terminal's signals (Ctrl-C's SIGINT, a hang-up's SIGHUP) go to the foreground
    group, and they are this process's to act on, which ends its children by SIGTERM. In the same
    group each Celery worker took the hang-up itself and re-exec'd (Celery's restart on SIGHUP
    when its output is no terminal) while this process died of it: the workers ran on, orphaned,
    still consuming the broker, one with a beat. No stdin (a read by a background group stops it),
    SIGTTOU ignored (so does a write to a terminal set `tostop`).

    The parent-death signal (Linux): killed by SIGKILL or the OOM killer, this process cannot stop
    its children, which would run on, re-parented (and a second beat after a restart)."""
    parent = os.getpid()
    linux = sys.platform.startswith("linux")

    def _prepare() -> None:  # in the child, between fork and exec
        signal.signal(signal.SIGTTOU, signal.SIG_IGN)
        if not linux:
            return
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the signal was asked for
            os._exit(1)

    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, process_group=0, preexec_fn=_prepare)


def _stat(pid: int) -> tuple[int, int] | None:
    """A process's parent and start time (with its pid, what tells it from a later process given
    the same pid), from /proc; None if it ended (or there is no /proc)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()  # after "pid (comm)": state ppid ...
        return int(fields[1]), int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def _tree(pid: int) -> list[tuple[int, int]]:
    """(process, its start time) for each process under `pid`, parents before their children."""
    children: dict[int, list[tuple[int, int]]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for name in entries:
        if name.isdigit() and (stat := _stat(int(name))) is not None:
            children.setdefault(stat[0], []).append((int(name), stat[1]))
    found, todo = [], [pid]
    while todo:
        for child, started in children.get(todo.pop(0), []):
            found.append((child, started))
            todo.append(child)
    return found


def descendants(pid: int) -> list[int]:
    """The processes under `pid` (its children, theirs...), from /proc; [] where there is none.
    Read before `pid` is killed: its orphans are re-parented, then no longer found."""
    return [child for child, _ in _tree(pid)]


def kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL `proc`, reap it, and SIGKILL the processes that were under it.

    Each process under it is pinned (a pidfd, Linux 5.3+) before anything is killed, and is
    signalled through it: a Celery prefork child dies at once with its parent, and its pid, freed,
    may be another process's by the time the list is gone through. Where pidfds are missing, the
    bare pid is signalled, as before."""
    pinned: list[tuple[int, int | None]] = []
    for pid, started in _tree(proc.pid):
        try:
            fd: int | None = os.pidfd_open(pid)
        except ProcessLookupError:
            continue  # it ended meanwhile
        except (AttributeError, OSError):  # no pidfd_open here (not Linux, or before 5.3)
            fd = None
        if fd is not None and (_stat(pid) or (0, 0))[1] != started:  # freed, taken since
            os.close(fd)
            continue
        pinned.append((pid, fd))
    try:
        proc.kill()
        proc.wait()
        for pid, fd in pinned:
            with contextlib.suppress(ProcessLookupError):
                if fd is None:
                    os.kill(pid, signal.SIGKILL)
                else:
                    signal.pidfd_send_signal(fd, signal.SIGKILL)
    finally:
        for _, fd in pinned:
            if fd is not None:
                os.close(fd)


def concurrency_for(settings: Settings, queues: Iterable[str]) -> int:
    """Processes for a worker consuming `queues`: the sum of their SMOLBOT_WORKER_CONCURRENCY."""
    return max(1, sum(settings.worker_concurrency.get(q.strip(), 1) for q in queues))


# What stops `worker --split`: a service manager's SIGTERM, Ctrl-C, a closed terminal's SIGHUP;
# SIGQUIT, Celery's cold shutdown, is passed on.
SPLIT_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)


def run_split(
    settings: Settings, queues: list[str], pool: str, beat: bool, *, grace_s: float = GRACE_S
) -> int:
    """Start one `smolbot worker -Q q` per queue and supervise them; the first to exit ends all.

    The others get SIGTERM (Celery's warm shutdown: running tasks finish) and `grace_s` seconds to
    end; one still running then is killed. SIGTERM, SIGINT and SIGHUP (a closed terminal) to this
    process stop them all so; the children, each in a process group of its own, get no terminal
    signal themselves. A second SIGINT (Ctrl-C twice), or a SIGQUIT (`smolbot serve`'s second
    Ctrl-C), is passed on as SIGQUIT: Celery's cold shutdown, the running tasks given up (acks
    late: they run again). Returns the highest exit status of the children, a child ended by a
    signal counting as 128 + its number (as a shell reports it), so a crash by a signal, or a
    kill at the end of the grace period, is not reported as success.
    """
    stop = {"now": False}
    children: list[tuple[str, subprocess.Popen[bytes]]] = []

    def _stop(signum: int, _frame: object) -> None:
        if signum == signal.SIGQUIT or (stop["now"] and signum == signal.SIGINT):
            for _, c in children:
                if c.poll() is None:
                    c.send_signal(signal.SIGQUIT)
        stop["now"] = True

    previous = {sig: signal.signal(sig, _stop) for sig in SPLIT_STOP_SIGNALS}
    # the beat runs in one child: the sweep queue's, or the first when sweep is not among the
    # queues (it was given to none then: no recovery sweep, no daily sweep, and nothing said so)
    beat_at = queues.index("sweep") if "sweep" in queues else 0
    try:
        for i, q in enumerate(queues):
            cmd = [sys.executable, "-m", "bot.cli", "worker", "-Q", q, "--pool", pool]
            cmd += [
                "-c",
                str(concurrency_for(settings, [q])),
                "-n",
                f"smolbot-{q}-{os.getpid()}@%h",
            ]
            if beat and i == beat_at:
                cmd.append("--beat")
            children.append((q, child_of_this(cmd)))
        while not stop["now"] and all(c.poll() is None for _, c in children):
            time.sleep(0.5)
        _stop_all(children, grace_s)
        return max(exit_status(c.returncode) for _, c in children)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stop_all(children: list[tuple[str, subprocess.Popen[bytes]]], grace_s: float) -> None:
    """SIGTERM to the children still running, then up to `grace_s` seconds in all for them to
    end; those still running after that are killed (SIGKILL) and waited for."""
    for _, c in children:
        if c.poll() is None:
            c.terminate()
    deadline = time.monotonic() + grace_s
    for q, c in children:
        try:
            c.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning(
                "the %s worker (pid %d) was still running %.0f s after SIGTERM: killing it;"
                " its unfinished tasks run again (acks late, recovery sweep)",
                q,
                c.pid,
                grace_s,
            )
            c.kill()
            c.wait()


def exit_status(returncode: int) -> int:
    """A child's exit status; one ended by signal N counts as 128 + N."""
    return 128 - returncode if returncode < 0 else returncode
