"""Background children (the encoder tune, the triage reader): started lower, without preexec_fn."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from bot.llm import child


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
