"""A scripted local backend in gpt4all's (or llama's) place: the file checks and load of a real one,
replies from a script, every generation recorded. For the layer's logic, not the model's quality."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from bot.llm import backends
from bot.llm.backends import BackendSpec, Generation
from bot.llm.gpt4all_backend import Gpt4allOptions
from bot.llm.llama_backend import LlamaOptions
from bot.llm.modelfile import LocalFileBackend, check_model_file, load_failed

Reply = str | Callable[["ScriptedBackend", str], str]  # a text, or one made from (backend, user)


@dataclass
class Script:
    """What the scripted model does: `replies` in order (the last repeats), `tokens_out` each."""

    replies: list[Reply] = field(default_factory=lambda: ['{"line": "scripted"}'])
    tokens_out: int = 5
    labels: dict[str, float] = field(default_factory=lambda: {"bug": 0.9})
    calls: list[dict[str, Any]] = field(default_factory=list)
    loads: int = 0

    def next_reply(self) -> Reply:
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


class ScriptedBackend(LocalFileBackend[BaseModel]):
    """Loads like a runtime (the file is checked; a file starting with GGUFBAD does not load)."""

    name = "gpt4all"
    options_type = BaseModel

    def __init__(self, path: Path, options: BaseModel, script: Script) -> None:
        super().__init__(path, options)
        self.script = script

    def _load(self) -> Any:
        if self._model is None:
            check_model_file(self.path, self.runtime)
            self._loading()
            self.script.loads += 1
            if self.path.read_bytes().startswith(b"GGUFBAD"):
                raise load_failed(self.runtime, self.path, ValueError("Unsupported file format"))
            self._model = self.path.read_bytes()  # the "weights": what this load saw
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
        self._load()
        self.script.calls.append({"user": user, "max_tokens": max_tokens, "temp": temperature})
        reply = self.script.next_reply()
        text = reply if isinstance(reply, str) else reply(self, user)
        return Generation(text, 10, self.script.tokens_out)


class ScriptedScorer(ScriptedBackend):
    """The llama backend's label probabilities, scripted."""

    name = "llama"

    def label_probabilities(
        self, system: str, user: str, prefix: str, labels: Sequence[str]
    ) -> tuple[dict[str, float], int]:
        self._load()
        self.script.calls.append({"user": user, "labels": list(labels)})
        rest = {lb: 0.05 for lb in labels}
        probs = {**rest, **{k: v for k, v in self.script.labels.items() if k in labels}}
        return probs, 10


def install(monkeypatch: pytest.MonkeyPatch) -> Script:
    """Put scripted backends in place of gpt4all and llama for this test (nothing loaded yet)."""
    backends._ensure_builtin()
    script = Script()
    monkeypatch.setitem(
        backends._REGISTRY,
        "gpt4all",
        BackendSpec(lambda p, o: ScriptedBackend(p, o, script), Gpt4allOptions),
    )
    monkeypatch.setitem(
        backends._REGISTRY,
        "llama",
        BackendSpec(lambda p, o: ScriptedScorer(p, o, script), LlamaOptions),
    )
    monkeypatch.setattr(backends, "_LOADED", {})
    return script


def restart() -> None:
    """What a worker restart does to the loaded models: forgets them."""
    backends._LOADED.clear()


_versions = itertools.count(1)


def model_file(path: Path, content: bytes) -> Path:
    """A small file that passes the GGUF checks (an unknown name: no size or sha256 to compare).
    Each write gets its own mtime: two writes in one clock tick would otherwise share one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"GGUF" + content + b"\0" * 64)
    stamp = (1_700_000_000 + next(_versions)) * 1_000_000_000
    os.utime(path, ns=(stamp, stamp))
    return path
