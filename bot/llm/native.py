"""What native runtimes print to the process's stderr while they load, minus the known noise.

gpt4all's loader tries each of its GPU builds before the CPU one and writes one line per build it
cannot open to file descriptor 2, from C++, at every model load:

    Failed to load libllamamodel-mainline-cuda.so: dlopen: libcudart.so.11.0: cannot open ...

On a machine without CUDA that is expected, and the CPU build loads next; but it is the first thing
a maintainer sees from `smolbot demo` or `smolbot draft`, and it reads like an error. Python's
`sys.stderr` never sees these writes, so the descriptor itself is redirected for the duration of the
load. Lines that match NOISE go to the debug log; every other line is written back to stderr
afterwards, so nothing else the runtime (or another thread) wrote in that window is lost.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

# a GPU build of gpt4all's backend whose runtime library is absent: the loader goes on to the next
NOISE = re.compile(r"^Failed to load libllamamodel-mainline-(cuda|kompute|vulkan)[\w.-]*: dlopen: ")


@contextmanager
def quiet_native_stderr(captured: list[str] | None = None) -> Iterator[None]:
    """Run the block with fd 2 sent to a temporary file; afterwards (also when the block raises)
    drop the NOISE lines, write the others back to fd 2, and append them to `captured`."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no descriptor 2 (a daemon that closed it): nothing to quiet
        yield
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            text = sink.read().decode("utf-8", errors="replace")
            kept = [line for line in text.splitlines() if not _noise(line)]
            if kept:
                os.write(2, ("\n".join(kept) + "\n").encode())
            if captured is not None:
                captured.extend(kept)


def _noise(line: str) -> bool:
    if NOISE.match(line):
        log.debug("native loader: %s", line)
        return True
    return False
