"""Native loaders' stderr: gpt4all's GPU-build dlopen failures and llama.cpp's pooling line are
not shown; everything else is."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.llm.native import quiet_native_stderr

CUDA = (
    "Failed to load libllamamodel-mainline-cuda-avxonly.so: dlopen: libcudart.so.11.0: "
    "cannot open shared object file: No such file or directory\n"
)

POOLING = "llama_init_from_model: model default pooling_type is [-1], but [0] was specified\n"


def test_noise_dropped_and_the_rest_written_back(capfd: pytest.CaptureFixture[str]) -> None:
    kept: list[str] = []
    with quiet_native_stderr(kept):
        os.write(2, CUDA.encode())
        os.write(2, b"gguf_init_from_file: failed to read header\n")
        os.write(2, CUDA.replace("cuda-avxonly", "kompute").encode())
        os.write(2, POOLING.encode())
        os.write(2, POOLING.replace("[0] was specified", "[0] was specified twice").encode())
    err = capfd.readouterr().err
    assert "Failed to load" not in err
    twice = POOLING.replace("[0] was specified", "[0] was specified twice")
    assert err == "gguf_init_from_file: failed to read header\n" + twice
    assert kept == ["gguf_init_from_file: failed to read header", twice.rstrip()]
    os.write(2, b"after\n")  # the descriptor is back where it was
    assert capfd.readouterr().err == "after\n"


def test_python_level_lines_are_filtered_too(capsys: pytest.CaptureFixture[str]) -> None:
    """llama-cpp-python prints llama.cpp's log to sys.stderr, in pieces, flushing each."""
    kept: list[str] = []
    before = sys.stderr
    with quiet_native_stderr(kept):
        for piece in (POOLING[:20], POOLING[20:], "llama_model_load: error ", "loading model\n"):
            print(piece, end="", flush=True, file=sys.stderr)
        print("no newline at the end", end="", file=sys.stderr)
    assert sys.stderr is before
    err = capsys.readouterr().err
    assert err == "llama_model_load: error loading model\nno newline at the end"
    assert kept == ["llama_model_load: error loading model", "no newline at the end"]


def test_a_raising_block_still_restores_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(RuntimeError, match="load failed"), quiet_native_stderr():
        os.write(2, b"why it failed\n" + CUDA.encode())
        raise RuntimeError("load failed")
    assert capfd.readouterr().err == "why it failed\n"


def test_lines_go_on_while_the_block_still_runs(capfd: pytest.CaptureFixture[str]) -> None:
    """Passed on as written, not held to the end: a native crash mid-load keeps its last words."""
    seen: list[str] = []
    with quiet_native_stderr(seen):
        os.write(2, CUDA.encode() + b"loading layer 1 of 24\n")
        deadline = time.monotonic() + 30
        while not seen and time.monotonic() < deadline:
            time.sleep(0.01)
        assert seen == ["loading layer 1 of 24"]  # while the block has not ended
    assert capfd.readouterr().err == "loading layer 1 of 24\n"


def test_a_child_started_in_the_window_does_not_hold_the_load(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """A process another thread starts during the load inherits the pipe as its stderr; the block
    ends without waiting for it, and its lines still arrive, filtered, when it writes them."""
    waits = (
        "import select, sys; select.select([sys.stdin], [], [], 20)\n"
        f"sys.stderr.write({CUDA!r} + 'child done\\n')\n"
    )
    with quiet_native_stderr():
        child = subprocess.Popen([sys.executable, "-c", waits], stdin=subprocess.PIPE)
    assert child.poll() is None  # the block ended while the child still held the pipe
    assert child.stdin is not None
    child.stdin.close()
    assert child.wait(timeout=60) == 0
    deadline = time.monotonic() + 30
    err = ""
    while "child done" not in err and time.monotonic() < deadline:
        time.sleep(0.01)
        err += capfd.readouterr().err
    assert err == "child done\n"


def test_loads_in_two_threads_at_once_leave_stderr_as_it_was(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """The chat model and the reader's model loading in two job threads: each window is whole,
    fd 2 and sys.stderr are the process's own again after both, and both windows' lines arrive."""
    before, python_stderr = os.fstat(2), sys.stderr
    errors: list[BaseException] = []

    def load(delay: float, hold: float, line: bytes) -> None:
        time.sleep(delay)
        try:
            with quiet_native_stderr():
                os.write(2, CUDA.encode() + line)
                time.sleep(hold)
        except BaseException as err:  # collected for the assertion below
            errors.append(err)

    threads = [
        threading.Thread(target=load, args=(0.0, 0.3, b"chat model loaded\n")),
        threading.Thread(target=load, args=(0.1, 0.3, b"reader loaded\n")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    after = os.fstat(2)
    assert (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino)
    assert sys.stderr is python_stderr
    err = capfd.readouterr().err
    assert sorted(err.splitlines()) == ["chat model loaded", "reader loaded"]


def test_a_cpu_load_line_that_merely_mentions_cuda_is_kept(
    capfd: pytest.CaptureFixture[str],
) -> None:
    with quiet_native_stderr():
        os.write(2, b"Failed to load libllamamodel-mainline-cpu.so: dlopen: missing symbol\n")
    assert "mainline-cpu.so" in capfd.readouterr().err  # the CPU build failing is news


def test_loading_the_real_model_prints_nothing(model_path: Path) -> None:
    """A fresh process (fd 2 is its own) loads the default model with gpt4all and generates."""
    code = (
        "import sys; from pathlib import Path\n"
        "from bot.llm.backends import get_backend\n"
        "b = get_backend('gpt4all', Path(sys.argv[1]), {'n_threads': 1})\n"
        "print(b.generate('Be terse.', 'Say hi', max_tokens=3, temperature=0).tokens_out)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(model_path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "3"
    assert run.stderr == ""
