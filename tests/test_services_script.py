"""scripts/services.sh: a service the caller needs that stays down fails at once (naming it and
what to do), one it does not need is only said. Run in a network namespace of its own (`unshare
-n`) where only a stand-in Redis listens, and with a PATH lacking the servers' start commands
(as on a machine without them), so the machine's own services are out of sight."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _services(tmp_path: Path, *needed: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs unshare and root for a network namespace")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in ("bash", "timeout", "seq", "sleep", "ls", "mkdir", "python3"):
        if not (bin_dir / tool).exists():
            os.symlink(shutil.which(tool) or tool, bin_dir / tool)
    listen = (
        "import socket,time;s=socket.socket();s.bind(('127.0.0.1',6379));s.listen();time.sleep(30)"
    )
    args = " ".join(needed)
    script = (
        f'ip link set lo up; python3 -c "{listen}" & sleep 1;'
        f" PATH={bin_dir} bash {ROOT}/scripts/services.sh {args}; echo rc=$?; kill %1"
    )
    return subprocess.run(
        ["unshare", "-n", "bash", "-c", script], capture_output=True, text=True, timeout=120
    )


def test_only_redis_needed_and_up_goes_on(tmp_path: Path) -> None:
    out = _services(tmp_path, "redis")  # make bench
    assert "services: redis up" in out.stdout and "rc=0" in out.stdout, out.stdout + out.stderr
    assert "rabbitmq DOWN (not needed here)" in out.stdout


def test_a_needed_service_down_stops_with_what_to_do(tmp_path: Path) -> None:
    out = _services(tmp_path)  # make test: all three
    assert "rc=1" in out.stdout, out.stdout + out.stderr
    assert "rabbitmq DOWN on 127.0.0.1:5672: install it" in out.stderr
    assert "postgresql DOWN on 127.0.0.1:5432" in out.stderr
