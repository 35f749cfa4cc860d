"""What native runtimes print to the process's stderr while they load, minus the known noise.

gpt4all's loader tries each of its GPU builds before the CPU one and writes one line per build it
cannot open to file descriptor 2, from C++, at every model load:

    Failed to load libllamamodel-mainline-cuda.so: dlopen: libcudart.so.11.0: cannot open ...

On a machine without CUDA that is expected, and the CPU build loads next; but it is the first thing
a maintainer sees from `smolbot demo` or `smolbot draft`, and it reads like an error. llama.cpp
likewise says, at each load, that the triage reader set the pooling it asked for. Python's
`sys.stderr` never sees these writes, so the descriptor itself is redirected for the duration of the
load, through a pipe that a thread reads: lines that match NOISE go to the debug log, every other
line goes on to stderr as it arrives, so nothing else the runtime (or another thread) wrote in
that window is lost, nor held back should the load crash the process.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger(__name__)

NOISE = re.compile(
    # a GPU build of gpt4all's backend whose runtime library is absent: the loader goes on to the next
    r"^Failed to load libllamamodel-mainline-(cuda|kompute|vulkan)[\w.-]*: dlopen: "
    # llama.cpp, at each load of a model whose pooling the triage reader sets on purpose (none: a
    # state per token); printed whatever llama-cpp-python's verbose says
    r"|^llama_init_from_model: model default pooling_type is \[-?\d+\], but \[-?\d+\] was specified$"
)
RELAY_WAIT_S = 1.0  # for the relay to pass the last lines on once the block has ended
# fd 2 and sys.stderr are the process's: two loads in threads at once (the chat model and the
# reader's) would each save the other's pipe as "the real stderr" and restore them out of order
# (a closed descriptor, sys.stderr left wrapped). One window at a time; reentrant for nesting.
_WINDOW = threading.RLock()


@contextmanager
def quiet_native_stderr(captured: list[str] | None = None) -> Iterator[None]:
    """Run the block with fd 2 going through a pipe: a thread passes every line but the NOISE on
    to the real stderr as it comes (so a native crash in the block loses at most a line) and
    appends it to `captured`; the block's end, or its exception, restores fd 2. A block that
    starts while another thread's runs waits for it to end."""
    with _WINDOW, _redirected(captured):
        yield


@contextmanager
def _redirected(captured: list[str] | None) -> Iterator[None]:
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no descriptor 2 (a daemon that closed it): nothing to quiet
        yield
        return
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)  # fd 2 is now the pipe's only writer: restoring it ends the thread
    relay = threading.Thread(
        target=_relay, args=(read_end, saved, captured), name="native-stderr", daemon=True
    )
    relay.start()
    # llama-cpp-python hands llama.cpp's log lines to Python's sys.stderr (which a test runner or
    # a worker's log redirection may have replaced): those are filtered the same way
    python_stderr = sys.stderr
    sys.stderr = _Filtered(python_stderr, captured)
    try:
        yield
    finally:
        if isinstance(sys.stderr, _Filtered):
            sys.stderr.end()
        sys.stderr = python_stderr
        os.dup2(saved, 2)  # `saved` stays open: the relay writes to it, and closes it at the end
        # A child process started by another thread in the window holds the pipe as its stderr
        # until it exits: the relay then goes on passing its lines, and the load does not wait.
        relay.join(RELAY_WAIT_S)


def _noise(line: str) -> bool:
    if NOISE.match(line):
        log.debug("native loader: %s", line)
        return True
    return False


class _Filtered:
    """Python's sys.stderr for the block: whole lines but the NOISE go on to `out`."""

    def __init__(self, out: Any, captured: list[str] | None) -> None:
        self._out, self._captured, self._pending = out, captured, ""
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            *lines, self._pending = (self._pending + text).split("\n")
            for line in lines:
                self._emit(line, "\n")
        return len(text)

    def end(self) -> None:
        with self._lock:
            if self._pending:
                self._emit(self._pending, "")
            self._pending = ""
        self._out.flush()

    def _emit(self, line: str, newline: str) -> None:
        if not _noise(line):
            self._out.write(line + newline)
            if self._captured is not None:
                self._captured.append(line)

    def __getattr__(self, name: str) -> Any:  # flush, fileno, encoding, isatty: the stream's
        return getattr(self._out, name)


def _relay(read_end: int, out: int, captured: list[str] | None) -> None:
    try:
        with os.fdopen(read_end, "rb") as pipe:
            for raw in pipe:
                line = raw.decode("utf-8", errors="replace").rstrip("\n")
                if _noise(line):
                    continue
                os.write(out, raw)
                if captured is not None:
                    captured.append(line)
    finally:
        os.close(out)
