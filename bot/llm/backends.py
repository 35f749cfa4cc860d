"""The registry of local model backends by name, their options, and the Generation they return."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel

from bot.llm.api import UnknownBackend

# Qwen2.5's ChatML template; gpt4all ignores the one in the GGUF, so it is passed explicitly.
CHATML_SYSTEM = "<|im_start|>system\n{0}<|im_end|>\n"
CHATML_USER = "<|im_start|>user\n{0}<|im_end|>\n<|im_start|>assistant\n"


@dataclass(frozen=True)
class Generation:
    text: str
    tokens_in: int
    tokens_out: int
    mean_logprob: float | None = None  # of the generated tokens, where the runtime gives logits
    truncated: bool = False  # stopped by a length limit (llama also cuts max_tokens to the context)


class LocalBackend(Protocol):
    name: str
    runtime: str  # the runtime whose failed loads are remembered (modelfile.check_model_file)

    @property
    def model_name(self) -> str: ...

    @property
    def model_id(self) -> str: ...  # the weights that answer: name and file fingerprint

    def generate(
        self,
        system: str,
        user: str,
        *,
        max_tokens: int,
        temperature: float,
        schema: Mapping[str, Any] | None = None,  # the answer's JSON schema, for runtimes that
        # can constrain output to it (llama); others rely on the layer's validation alone
    ) -> Generation: ...


@runtime_checkable
class LabelScorer(Protocol):
    """A backend that can read label probabilities from its logits (llama, not gpt4all)."""

    def label_probabilities(
        self, system: str, user: str, prefix: str, labels: Sequence[str]
    ) -> tuple[dict[str, float], int]: ...


BackendFactory = Callable[[Path, BaseModel], LocalBackend]


@dataclass(frozen=True)
class BackendSpec:
    factory: BackendFactory
    options: type[BaseModel]


_REGISTRY: dict[str, BackendSpec] = {}
_LOADED: dict[tuple[str, str, str], LocalBackend] = {}
_LOCK = threading.Lock()


def register(name: str, factory: BackendFactory, options: type[BaseModel]) -> None:
    _REGISTRY[name] = BackendSpec(factory, options)


def backend_names() -> list[str]:
    _ensure_builtin()
    return sorted(_REGISTRY)


def _ensure_builtin() -> None:
    if not _REGISTRY:
        from bot.llm import gpt4all_backend, llama_backend

        gpt4all_backend.register_self()
        llama_backend.register_self()


def spec(name: str) -> BackendSpec:
    _ensure_builtin()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise UnknownBackend(f"unknown model backend {name!r}; known: {known}") from None


def get_backend(name: str, path: Path, options: dict[str, object]) -> LocalBackend:
    """One backend object per (name, file, options) per process: weights load once, lazily."""
    s = spec(name)
    opts = s.options.model_validate(options)  # unknown keys are rejected (extra="forbid")
    key = (name, str(path), opts.model_dump_json())
    with _LOCK:
        if key not in _LOADED:
            _LOADED[key] = s.factory(path, opts)
        return _LOADED[key]
