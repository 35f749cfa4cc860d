"""`python -m bot.llm.llama_server --model FILE …`: llama-cpp-python's OpenAI-style server, with the
llama backend's guard for CPUs with AMX (llama.cpp's AMX matmul segfaults there on the default
model, so the server would die at its first request). Every argument goes to llama_cpp.server.

It is the way to try escalation without an account: serve the local model on loopback and point
SMOLBOT_LARGE_BASE_URL at it (README, "Run").
"""

from __future__ import annotations

import runpy
import sys

from bot.llm.llama_backend import INSTALL_HINT, cpu_has_amx, without_extra_buffers


def main() -> None:
    try:
        import llama_cpp.llama_cpp as lib
        import llama_cpp.server  # its extra: fastapi, uvicorn, sse-starlette
    except ImportError:
        sys.exit(f"smolbot: {INSTALL_HINT}")
    if cpu_has_amx():  # for the life of this process: every model the server loads
        lib.llama_model_default_params = without_extra_buffers(lib.llama_model_default_params)
    sys.argv[0] = "llama_cpp.server"
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
