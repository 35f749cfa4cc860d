"""Background children (the encoder tune, the triage reader): started lower, without preexec_fn."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bot.llm import child

ROOT = Path(__file__).resolve().parents[2]


def test_a_child_runs_at_the_asked_niceness_and_logs(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "child.log"
    proc = child.spawn("this", [], log, 7)  # `python -m this`: prints and exits
    assert proc.wait(timeout=60) == 0
    assert "Beautiful is better than ugly." in log.read_text()
    probe = child.spawn("timeit", ["-n", "1", "-r", "1", "import time; time.sleep(5)"], log, 7)
    try:
        deadline = time.monotonic() + 10
        seen = None
        while time.monotonic() < deadline and seen is None:
            try:
                stat = Path(f"/proc/{probe.pid}/stat").read_text()
                argv0 = Path(f"/proc/{probe.pid}/cmdline").read_text().split("\0")[0]
                if argv0 == sys.executable:  # `nice` has exec'd the interpreter
                    seen = int(stat.rsplit(")", 1)[1].split()[16])  # field 19: nice
            except (FileNotFoundError, ProcessLookupError):
                break
            time.sleep(0.05)
        assert seen == os.getpriority(os.PRIO_PROCESS, 0) + 7
    finally:
        probe.kill()
        probe.wait(timeout=10)


def _spawned_with_sigterm_blocked(code: str) -> subprocess.Popen[bytes]:
    """A process started as a prefork pool child starts it: with SIGTERM blocked in its thread."""
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def test_a_spawned_job_takes_sigterm_though_its_worker_blocks_it() -> None:
    """A blocked SIGTERM is inherited across fork and exec: the tune or reader job outlived the
    stop that ended its worker. as_child(), first in their main(), takes it again."""
    sleep = "import time; print('up', flush=True); time.sleep(60)"
    kept = _spawned_with_sigterm_blocked(sleep)
    ends = _spawned_with_sigterm_blocked(f"from bot.llm.child import as_child; as_child(); {sleep}")
    try:
        time.sleep(2)  # both started (the import included)
        for proc in (kept, ends):
            proc.send_signal(signal.SIGTERM)
        assert ends.wait(timeout=20) == -signal.SIGTERM
        time.sleep(1)
        assert kept.poll() is None  # the premise: without it, SIGTERM does nothing
    finally:
        for proc in (kept, ends):
            proc.kill()
            proc.wait()
