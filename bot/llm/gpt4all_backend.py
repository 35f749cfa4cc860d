"""The default local backend: a GGUF model run by gpt4all on CPU, loaded lazily once per process."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.llm.api import GenerationFailed, PromptTooLong, Stopped, stop_check
from bot.llm.backends import CHATML_SYSTEM, CHATML_USER, Generation, register
from bot.llm.modelfile import LocalFileBackend, check_model_file, load_failed
from bot.llm.native import quiet_native_stderr

STOP_EVERY_S = 1.0  # how often a generation asks its caller whether it is still wanted

log = logging.getLogger(__name__)


class Gpt4allOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n_threads: int = Field(default=2, ge=1)
    n_ctx: int = Field(default=4096, ge=512)
    n_batch: int = Field(default=64, ge=1)  # prompt tokens per step: 8 (its default) is slower
    device: Literal["cpu"] = "cpu"


class Gpt4allBackend(LocalFileBackend[Gpt4allOptions]):
    name = "gpt4all"
    runtime_name = "gpt4all"
    options_type = Gpt4allOptions

    def load_options(self) -> dict[str, Any]:
        o = self.options
        return {"device": o.device, "n_threads": o.n_threads, "n_ctx": o.n_ctx}

    def _load(self) -> Any:
        if self._model is None:
            check_model_file(self.path, self.runtime)  # a load that failed is not tried again
            self._loading()
            from gpt4all import GPT4All

            log.info("loading %s with gpt4all", self.path)
            try:
                with quiet_native_stderr():  # its GPU builds' dlopen failures (bot/llm/native.py)
                    self._model = GPT4All(
                        self.path.name,
                        model_path=str(self.path.parent),
                        allow_download=False,  # True fetches a model list from the internet
                        verbose=False,
                        **self.load_options(),
                    )
            except Exception as err:  # a GGUF it cannot load: one line, not a stack trace
                raise load_failed(self.runtime, self.path, err) from None
        return self._model

    def generate(
        self,
        system: str,
        user: str,
        *,
        max_tokens: int,
        temperature: float,
        schema: Mapping[str, Any] | None = None,  # gpt4all cannot constrain output: ignored
    ) -> Generation:
        with self._lock:  # one generation at a time per loaded model
            model = self._load()
            count = 0
            failed = ""
            stop, stopped = stop_check(), False
            ask_at = time.monotonic() + STOP_EVERY_S

            def on_token(token_id: int, text: str) -> bool:
                nonlocal count, failed, stopped, ask_at
                if token_id < 0:  # gpt4all's way of saying the prompt was refused, in words
                    failed = text
                    return False
                count += 1
                if stop is not None and time.monotonic() >= ask_at:
                    ask_at = time.monotonic() + STOP_EVERY_S
                    stopped = stop()
                return not stopped

            with model.chat_session(CHATML_SYSTEM.format(system), CHATML_USER):
                text = model.generate(
                    user,
                    max_tokens=max_tokens,
                    temp=temperature,
                    top_k=1 if temperature <= 0 else 40,
                    n_batch=self.options.n_batch,
                    callback=on_token,
                )
            if failed:
                raise _refused(failed, self.options.n_ctx)
            if stopped:
                raise Stopped(f"stopped by the caller after {count} tokens")
            n_past = int(getattr(model.model.context, "n_past", 0) or 0)
            return Generation(str(text), max(n_past - count, 0), count)


def _refused(message: str, n_ctx: int) -> GenerationFailed:
    """gpt4all's refusal of a prompt: one longer than the context (it checks the prompt against
    n_ctx - 4 and prints the count to stderr only), or another error in its words."""
    if "context window" in message:
        return PromptTooLong(None, n_ctx, reserve=4)
    return GenerationFailed(f"gpt4all: {message}")


def make(path: Path, options: BaseModel) -> Gpt4allBackend:
    return Gpt4allBackend(path, options)


def register_self() -> None:
    register("gpt4all", make, Gpt4allOptions)
