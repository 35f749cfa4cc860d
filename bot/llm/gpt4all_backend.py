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
PROMPT_RESERVE = 4  # context tokens a prompt leaves free at least (gpt4all's own check)
# An answer stops this many tokens before the context is full: gpt4all erases the oldest tokens
# (the system prompt first) to go on, and may evaluate a token or two before it reports them.
ANSWER_MARGIN = 4

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
        """The system prompt, then the user's, as GPT4All.chat_session and generate send them to
        its LLModel, with every prompt token counted: gpt4all checks each part alone against the
        context, and when the whole does not fit it erases the oldest tokens (the system prompt,
        the data rule, a fence's opening) and answers from the rest. Here a prompt that does not
        fit is PromptTooLong, and an answer stops (truncated) before it would fill the context.
        A prompt holding a NUL character is refused (GenerationFailed) before the model is
        loaded or asked: see _refuse_nul."""
        _refuse_nul(system=system, user=user)
        n_ctx = self.options.n_ctx
        with self._lock:  # one generation at a time per loaded model
            llm = self._load().model  # gpt4all's LLModel
            prompt_tokens = 0
            pieces: list[str] = []  # the answer, as the runtime reports it
            count = 0  # answer tokens evaluated (a character may be several: an emoji, 3)
            failed = ""
            cut = False
            stop, stopped = stop_check(), False
            ask_at = time.monotonic() + STOP_EVERY_S

            def on_prompt(token_id: int) -> bool:  # each prompt token, once evaluated
                nonlocal prompt_tokens
                prompt_tokens += 1
                return prompt_tokens <= n_ctx - PROMPT_RESERVE  # else: stop before an answer

            def on_system(token_id: int, text: str) -> bool:
                nonlocal failed
                if token_id < 0:  # the system prompt alone is over the context
                    failed = text
                return False

            def on_token(token_id: int, text: str) -> bool:  # each whole character or more
                nonlocal failed, stopped, ask_at
                if token_id < 0:  # gpt4all's way of saying the prompt was refused, in words
                    failed = text
                    return False
                pieces.append(text)
                if stop is not None and time.monotonic() >= ask_at:
                    ask_at = time.monotonic() + STOP_EVERY_S
                    stopped = stop()
                return not stopped

            decode = llm._callback_decoder

            def counting_decoder(callback: Any) -> Any:
                """gpt4all's decoder calls the callback only once a token completes a UTF-8
                character (a hieroglyph is 3 tokens, 1 call): each raw token is counted here."""
                raw = decode(callback)

                def on_raw(token_id: int, data: bytes) -> bool:
                    nonlocal count, cut
                    if token_id < 0:
                        return bool(raw(token_id, data))
                    count += 1
                    go_on = bool(raw(token_id, data))
                    if prompt_tokens + count >= n_ctx - ANSWER_MARGIN:  # the next would erase
                        cut = True  # the start
                        return False
                    return go_on

                return on_raw

            llm._prompt_callback = on_prompt  # prompt_model hands it to the runtime
            llm._callback_decoder = counting_decoder  # and this the answer's callback
            try:
                # "%1%2": the system prompt without gpt4all's implicit whitespace; special: its
                # ChatML markers are the model's own tokens (the user's text is not read so)
                llm.prompt_model(
                    CHATML_SYSTEM.format(system),
                    "%1%2",
                    on_system,
                    n_batch=self.options.n_batch,
                    n_predict=0,
                    reset_context=True,
                    special=True,
                )
                if failed or prompt_tokens > n_ctx - PROMPT_RESERVE:
                    raise _refused(failed, n_ctx)
                llm.prompt_model(
                    user,
                    CHATML_USER.format("%1"),
                    on_token,
                    n_predict=max_tokens,
                    temp=temperature,
                    top_k=1 if temperature <= 0 else 40,
                    top_p=0.4,  # GPT4All.generate's defaults, as before
                    min_p=0.0,
                    repeat_penalty=1.18,
                    repeat_last_n=64,
                    n_batch=self.options.n_batch,
                )
            finally:
                del llm._prompt_callback, llm._callback_decoder
            if failed or prompt_tokens > n_ctx - PROMPT_RESERVE:
                raise _refused(failed, n_ctx)
            if stopped:
                raise Stopped(f"stopped by the caller after {count} tokens")
            # gpt4all's max_tokens (n_predict) counts every token, as count does
            truncated = cut or count >= max_tokens
            return Generation("".join(pieces), prompt_tokens, count, truncated=truncated)


def _refuse_nul(**parts: str) -> None:
    """GenerationFailed for a prompt part holding a NUL character: gpt4all hands the runtime each
    part as ctypes.c_char_p(prompt.encode()), a C string that ends at the first NUL, so the rest
    (the closing fence, the instructions after it) would never be read and the model would
    follow whatever the text before the NUL says. bot.llm.prompts.neutralise takes control
    characters out of every variable; this is the net under it (a prompt file, a caller that
    does not render one). The layer records the failure as it does any other of this source."""
    for part, text in parts.items():
        at = text.find("\x00")
        if at >= 0:
            raise GenerationFailed(
                f"gpt4all: the {part} prompt holds a NUL character (at {at} of {len(text)}),"
                " where the runtime would cut it: not sent"
            )


def _refused(message: str, n_ctx: int) -> GenerationFailed:
    """gpt4all's refusal of a prompt: one longer than the context (it checks each part against
    n_ctx - 4 and prints the count to stderr only; "" when the whole was over it, counted here),
    or another error in its words."""
    if not message or "context window" in message:
        return PromptTooLong(None, n_ctx, reserve=PROMPT_RESERVE)
    return GenerationFailed(f"gpt4all: {message}")


def make(path: Path, options: BaseModel) -> Gpt4allBackend:
    return Gpt4allBackend(path, options)


def register_self() -> None:
    register("gpt4all", make, Gpt4allOptions)
