"""Optional local backend on llama-cpp-python (`pip install smolbot[llama]`); import guarded.

Beyond the default backend it gives two things: output constrained by the answer's JSON schema (a
grammar, so the model cannot leave the schema's shape), and label probabilities read from the logits
at the last position of the prompt (no `logits_all`, so no extra memory)."""

from __future__ import annotations

import atexit
import contextlib
import math
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.llm.api import ModelUnavailable, PromptTooLong
from bot.llm.backends import CHATML_SYSTEM, CHATML_USER, Generation, register
from bot.llm.modelfile import LocalFileBackend, check_model_file, load_failed, load_key
from bot.llm.native import quiet_native_stderr

INSTALL_HINT = "the llama backend needs llama-cpp-python: pip install 'smolbot[llama]'"
RUNTIME = "llama-cpp-python"


class LlamaOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n_threads: int = Field(default=2, ge=1)  # generation and prompt processing alike
    n_ctx: int = Field(default=4096, ge=512)
    n_batch: int = Field(default=256, ge=1)
    # llama.cpp's extra weight layouts (AMX tiles, CPU repacks). None: on, except on CPUs with AMX
    # (Sapphire Rapids Xeons and later), where llama.cpp's AMX matmul segfaults on this model (Q4_K_M
    # weights; llama.cpp issue 20824): every generation crashed the process on such a machine here.
    extra_buffers: bool | None = None


class LlamaBackend(LocalFileBackend[LlamaOptions]):
    name = "llama"
    runtime_name = RUNTIME
    options_type = LlamaOptions

    def load_options(self) -> dict[str, Any]:
        """load_llama's arguments (its load_key is this backend's runtime)."""
        return {
            "extra_buffers": self.options.extra_buffers,
            "n_ctx": self.options.n_ctx,
            "n_threads": self.options.n_threads,
            # llama-cpp-python's default is every core for prompt processing
            "n_threads_batch": self.options.n_threads,
            "n_batch": self.options.n_batch,
            "chat_format": "chatml",
        }

    def _load(self) -> Any:
        if self._model is None:
            check_model_file(self.path, self.runtime)
            self._loading()
            self._model = load_llama(self.path, **self.load_options())
        return self._model

    def generate(
        self,
        system: str,
        user: str,
        *,
        max_tokens: int,
        temperature: float,
        schema: Mapping[str, Any] | None = None,
    ) -> Generation:
        """One chat completion; the grammar holds it to `schema` (any JSON object without one)."""
        fmt: dict[str, Any] = {"type": "json_object"}
        if schema is not None:
            fmt["schema"] = grammar_schema(schema)
        with self._lock:
            model = self._load()
            seen = TokenLogprobs()
            try:
                out = model.create_chat_completion(
                    messages=[
                        {"role": "system", "content": system},
                        {"role": "user", "content": user},
                    ],
                    max_tokens=max_tokens,
                    temperature=temperature,
                    top_k=1 if temperature <= 0 else 40,
                    response_format=fmt,
                    logits_processor=[seen],
                )
            except ValueError as err:  # llama-cpp-python's "Requested tokens (N) exceed ..."
                raise _too_long(err) from None
        usage = out.get("usage") or {}
        choice = out["choices"][0]
        return Generation(
            choice["message"].get("content") or "",
            int(usage.get("prompt_tokens", 0)),
            int(usage.get("completion_tokens", 0)),
            seen.mean(),
            truncated=choice.get("finish_reason") == "length",
        )

    def label_probabilities(
        self, system: str, user: str, prefix: str, labels: Sequence[str]
    ) -> tuple[dict[str, float], int]:
        """P(label | prompt + answer prefix) from each label's first token, normalised over the labels.

        The prompt is evaluated once (its shared beginning is reused from the last call) and only the
        last position's logits are read. Returns the probabilities and the prompt's token count."""
        text = CHATML_SYSTEM.format(system) + CHATML_USER.format(user) + prefix
        with self._lock:
            model = self._load()
            tokens = model.tokenize(text.encode("utf-8"), add_bos=True, special=True)
            if len(tokens) >= model.n_ctx():
                raise PromptTooLong(len(tokens), model.n_ctx())
            logits = _last_logits(model, tokens)
            firsts = {lb: _first_token(model, lb) for lb in labels}
        chosen = {lb: float(logits[t]) for lb, t in firsts.items()}
        top = max(chosen.values())
        weights = {lb: math.exp(v - top) for lb, v in chosen.items()}
        total = sum(weights.values())
        return {lb: w / total for lb, w in weights.items()}, len(tokens)


TOO_LONG = re.compile(r"Requested tokens \((\d+)\) exceed context window of (\d+)")


def _too_long(err: ValueError) -> Exception:
    """llama-cpp-python's ValueError for a prompt longer than the context as PromptTooLong; any
    other ValueError as it is."""
    found = TOO_LONG.search(str(err))
    return PromptTooLong(int(found[1]), int(found[2])) if found else err


def load_llama(path: Path, extra_buffers: bool | None = None, **params: Any) -> Any:
    """A llama_cpp.Llama over `path` with `params`; a missing file, runtime or unloadable GGUF is
    one ModelUnavailable line (a load that failed is not tried again with the same options while
    the file is the same; other options, say a smaller context, are). `extra_buffers` None: on,
    except on CPUs with AMX (see above)."""
    key = load_key(RUNTIME, {"extra_buffers": extra_buffers, **params})
    check_model_file(path, key)
    try:
        from llama_cpp import Llama
    except ImportError:
        raise ModelUnavailable(INSTALL_HINT) from None
    extra = not cpu_has_amx() if extra_buffers is None else extra_buffers
    try:
        with _model_params(use_extra_bufts=extra), quiet_native_stderr():
            model = Llama(model_path=str(path), verbose=False, **params)
    except Exception as err:  # a GGUF it cannot load: one line, not a stack trace
        raise load_failed(key, path, err) from None
    # free it before interpreter shutdown: Llama.__del__ fails once llama_cpp is torn down
    atexit.register(model.close)
    return model


def cpu_has_amx(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether the CPU has AMX int8 tiles, which llama.cpp uses for weights when built natively."""
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return False
    return any(
        "amx_int8" in line.split(":", 1)[1].split()
        for line in text.splitlines()
        if line.startswith("flags") and ":" in line
    )


_PARAMS_LOCK = threading.Lock()


def without_extra_buffers(default: Callable[[], Any]) -> Callable[[], Any]:
    """llama_model_default_params, returning its parameters with use_extra_bufts off."""

    def params() -> Any:
        p = default()
        p.use_extra_bufts = False
        return p

    return params


@contextlib.contextmanager
def _model_params(*, use_extra_bufts: bool) -> Iterator[None]:
    """Llama() takes no argument for llama_model_params.use_extra_bufts, and builds its model
    parameters from llama_model_default_params(): that function sets the flag meanwhile."""
    if use_extra_bufts:
        yield
        return
    import llama_cpp.llama_cpp as lib  # the module Llama() calls llama_model_default_params on

    with _PARAMS_LOCK:
        default = lib.llama_model_default_params
        lib.llama_model_default_params = without_extra_buffers(default)
        try:
            yield
        finally:
            lib.llama_model_default_params = default


# Bounds a grammar would spell out as nested repetitions: llama.cpp refuses (and aborts the process
# on) a grammar with too many, e.g. a 4,000-character body. The layer validates them after parsing.
UNBOUNDED = frozenset({"maxLength", "minLength", "maxItems", "minItems", "pattern", "format"})


def grammar_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The answer's JSON schema for the grammar: its shape (keys, types, enums) without the bounds."""

    def strip(node: Any) -> Any:
        if isinstance(node, Mapping):
            return {k: strip(v) for k, v in node.items() if k not in UNBOUNDED}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    result: dict[str, Any] = strip(schema)
    return result


class TokenLogprobs:
    """A logits processor that only watches: the log-probability the model gave each token it chose.

    It sees the raw logits of every step (before the grammar) and learns the chosen token from the
    next step's input, so the final (end-of-answer) token is not counted."""

    def __init__(self) -> None:
        self.logprobs: list[float] = []
        self._pending: Any = None

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import numpy as np

        if self._pending is not None and len(input_ids):
            self.logprobs.append(float(self._pending[int(input_ids[-1])]))
        s = np.asarray(scores, dtype=np.float64)
        top = s.max()
        self._pending = s - (top + math.log(float(np.exp(s - top).sum())))
        return scores

    def mean(self) -> float | None:
        return sum(self.logprobs) / len(self.logprobs) if self.logprobs else None


def _first_token(model: Any, label: str) -> int:
    ids = model.tokenize(label.encode("utf-8"), add_bos=False, special=False)
    if not ids:
        raise ValueError(f"label {label!r} has no tokens")
    return int(ids[0])


def _last_logits(model: Any, tokens: list[int]) -> Any:
    """Evaluate tokens (reusing the cached common prefix) and return the last position's logits."""
    import numpy as np
    from llama_cpp import llama_get_logits

    cached = list(model.input_ids[: model.n_tokens])
    keep = 0
    for a, b in zip(cached, tokens, strict=False):
        if a != b:
            break
        keep += 1
    keep = min(keep, len(tokens) - 1)  # evaluate at least the last token: its logits are the answer
    model.n_tokens = keep
    model.eval(tokens[keep:])
    return np.ctypeslib.as_array(llama_get_logits(model.ctx), shape=(model.n_vocab(),)).copy()


def make(path: Path, options: BaseModel) -> LlamaBackend:
    return LlamaBackend(path, options)


def register_self() -> None:
    register("llama", make, LlamaOptions)
