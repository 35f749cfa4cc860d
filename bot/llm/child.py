"""What the background model jobs share (bot/llm/tune.py, bot/llm/reader.py): a lock file held for
a whole run, a low-priority child process, and the labeled examples handed to it in a file."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from bot.llm.records import Example


@contextlib.contextmanager
def exclusive(lock: Path) -> Iterator[bool]:
    """Hold `lock` without waiting; yields False when another process holds it. The kernel drops
    the lock when its holder dies, so a killed child never blocks the next run."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def held(lock: Path) -> bool:
    """True while any process of this machine holds `lock`."""
    with exclusive(lock) as got:
        return not got


def as_child() -> None:
    """First thing in a spawned job (tune, reader): take SIGTERM again. A prefork pool child
    blocks it in every thread (workers/celery_app.py: only its parent's SIGTERM ends it), and a
    blocked signal stays blocked across fork and exec, so the job outlived a stop that ends the
    worker. One already sent while it was blocked is taken now."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})


def spawn(module: str, args: list[str], log: Path, nice: int) -> subprocess.Popen[bytes]:
    """`python -m MODULE ARGS` at `nice`, its output appended to `log`; returns at once. The
    `nice` command lowers it, not a preexec_fn: a worker has threads, and Python's documentation
    warns that preexec_fn can deadlock the child of a threaded parent."""
    log.parent.mkdir(parents=True, exist_ok=True)
    niced = shutil.which("nice")
    command = [sys.executable, "-m", module, *args]
    with log.open("ab") as logf:
        proc = subprocess.Popen(
            [niced, "-n", str(nice), *command] if niced else command,
            stdout=logf,
            stderr=subprocess.STDOUT,
        )
    if not niced:  # no `nice` on PATH: lowered just after it started
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, proc.pid, os.getpriority(os.PRIO_PROCESS, 0) + nice)
    threading.Thread(target=proc.wait, name=f"{module}-reaper", daemon=True).start()  # no zombie
    return proc


def write_examples(examples: Sequence[Example], folder: Path) -> Path:
    """The examples as JSON lines in a new `.examples-*.jsonl` file in `folder` (the child needs
    no store or settings to read them)."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".examples-", suffix=".jsonl", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        for e in examples:
            fh.write(json.dumps({"scope": e.scope, "text": e.text, "label": e.label}) + "\n")
    return Path(name)


def read_examples(path: Path, source: str) -> list[Example]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [Example(r["scope"], r["text"], r["label"], source) for r in rows]
