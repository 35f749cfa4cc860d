"""Optional local backend on llama-cpp-python (`pip install smolbot[llama]`); import guarded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.llm.api import ModelUnavailable
from bot.llm.backends import Generation, register
from bot.llm.modelfile import LocalFileBackend, check_model_file

INSTALL_HINT = "the llama backend needs llama-cpp-python: pip install 'smolbot[llama]'"


class LlamaOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n_threads: int = Field(default=2, ge=1)
    n_ctx: int = Field(default=4096, ge=512)
    n_batch: int = Field(default=256, ge=1)


class LlamaBackend(LocalFileBackend[LlamaOptions]):
    name = "llama"
    options_type = LlamaOptions

    def _load(self) -> Any:
        if self._model is None:
            check_model_file(self.path)
            try:
                from llama_cpp import Llama
            except ImportError:
                raise ModelUnavailable(INSTALL_HINT) from None
            self._model = Llama(
                model_path=str(self.path),
                n_ctx=self.options.n_ctx,
                n_threads=self.options.n_threads,
                n_batch=self.options.n_batch,
                chat_format="chatml",
                verbose=False,
            )
        return self._model

    def generate(
        self, system: str, user: str, *, max_tokens: int, temperature: float
    ) -> Generation:
        with self._lock:
            model = self._load()
            out = model.create_chat_completion(
                messages=[
                    {"role": "system", "content": system},
                    {"role": "user", "content": user},
                ],
                max_tokens=max_tokens,
                temperature=temperature,
                top_k=1 if temperature <= 0 else 40,
                # every prompt of the layer answers one JSON object: let the grammar enforce it
                response_format={"type": "json_object"},
            )
        usage = out.get("usage") or {}
        text = out["choices"][0]["message"].get("content") or ""
        return Generation(
            text, int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))
        )


def make(path: Path, options: BaseModel) -> LlamaBackend:
    return LlamaBackend(path, options)


def register_self() -> None:
    register("llama", make, LlamaOptions)
