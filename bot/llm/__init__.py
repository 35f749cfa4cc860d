"""The model layer: the only place smolbot talks to models (local, large, classifier)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from bot.llm.api import (
    Answer,
    Classification,
    ModelRecord,
    ModelUnavailable,
    PromptError,
    UnknownBackend,
)

if TYPE_CHECKING:
    from bot.llm.layer import ModelLayer
    from bot.settings import Settings
    from bot.store import Store

_LAYERS: dict[tuple[str, str, int], ModelLayer] = {}
_LOCK = threading.Lock()


def get_model_layer(settings: Settings, store: Store) -> ModelLayer:
    """The process-wide layer for this data dir, model file and store (weights are shared too)."""
    from bot.llm.layer import ModelLayer

    key = (str(settings.data_dir), str(settings.effective_model_path), id(store))
    with _LOCK:
        layer = _LAYERS.get(key)
        if layer is None or layer.records.store is not store:
            layer = _LAYERS[key] = ModelLayer(settings, store)
        return layer


def __getattr__(name: str) -> object:
    if name == "ModelLayer":
        from bot.llm.layer import ModelLayer

        return ModelLayer
    raise AttributeError(name)


__all__ = [
    "Answer",
    "Classification",
    "ModelLayer",
    "ModelRecord",
    "ModelUnavailable",
    "PromptError",
    "UnknownBackend",
    "get_model_layer",
]
