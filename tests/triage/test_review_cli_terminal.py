"""`smolbot triage --repo o/r` typed at a terminal, with no --title: it sat silent until Ctrl-D. It
now says, on stderr, that it reads JSON lines from stdin and how to end them. A real process on a
real pseudo-terminal (the hint goes by stdin being one)."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

pty = pytest.importorskip("pty")  # POSIX only

ROOT = Path(__file__).resolve().parents[2]
HINT = b"smolbot triage: reading issues from stdin, one JSON object a line"


def _read_until(fd: int, want: bytes, seconds: float) -> bytes:
    got, end = b"", time.monotonic() + seconds
    poll = select.poll()  # not select(): deep in the whole suite, fds pass FD_SETSIZE (1024)
    poll.register(fd, select.POLLIN)
    while want not in got and time.monotonic() < end:
        if poll.poll(500):
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            got += chunk
    return got


def test_at_a_terminal_it_says_it_reads_stdin_and_ends_at_ctrl_d(tmp_path: Path) -> None:
    env = {**os.environ, "SMOLBOT_DATA_DIR": str(tmp_path / "data"), "SMOLBOT_ENV": "test"}
    master, slave = pty.openpty()
    err_r, err_w = os.pipe()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "triage", "--repo", "octo/app"],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=err_w,
        env=env,
        cwd=ROOT,
    )
    os.close(slave)
    os.close(err_w)
    try:
        said = _read_until(err_r, b"end with Ctrl-D", 120)  # before anything is typed
        assert HINT in said and b"end with Ctrl-D" in said, said
        os.write(master, b"\x04")  # Ctrl-D: the end of the input
        out, _ = proc.communicate(timeout=120)
        rest = _read_until(err_r, b"no issues on stdin", 10)
        assert proc.returncode == 0 and out == b"", (out, said, rest)
        assert b"no issues on stdin" in said + rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
        os.close(err_r)
