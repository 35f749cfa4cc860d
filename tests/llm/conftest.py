"""Fixtures for the model layer: real model path, a small store, a loopback OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.llm import ModelLayer
from bot.settings import Settings, load_settings
from bot.store import Store, open_store
from tests.llm.examples import seed
from tests.llm.fake_openai import Behaviour, serve


def real_model_path() -> Path:
    """Where the default model lives for this user (SMOLBOT_MODEL_PATH or the default data dir)."""
    return load_settings().effective_model_path


@pytest.fixture
def model_path() -> Path:
    path = real_model_path()
    if not path.is_file():
        pytest.skip(f"the default model is not installed at {path}: run `smolbot models install`")
    return path


@pytest.fixture
def llm_store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "llm.db")
    yield s
    s.close()


def make_settings(tmp_path: Path, **over: object) -> Settings:
    base: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "env": "test",
        "model_path": real_model_path(),
        # one thread: on a shared, oversubscribed CPU two llama.cpp threads spin on each other
        # (measured here: 4x the CPU time per token); bench/models.py --threads 1,2 compares
        "model_threads": 1,
    }
    base.update(over)
    return load_settings(**base)


def escalating_layer(
    tmp_path: Path,
    store: Store,
    large: dict[str, object],
    *,
    timeout: float = 5.0,
    retries: int = 0,
    **over: object,
) -> ModelLayer:
    """A layer whose classifier (seeded) is never sure enough, so every answer goes to `large`
    (settings such as large_provider, large_model, large_base_url; {} for none). The bar, 0.9,
    is one a clean answer of the large model (0.95) clears: under it, that one is not used either."""
    settings = make_settings(
        tmp_path,
        thresholds={"triage": 0.9, "summary": 0.9},
        large_timeout_s=timeout,
        large_max_retries=retries,
        **large,
        **over,
    )
    layer = ModelLayer(settings, store)
    seed(layer)
    return layer


@pytest.fixture
def behaviour() -> Behaviour:
    return Behaviour()


@pytest.fixture
def large_url(behaviour: Behaviour) -> Iterator[str]:
    with serve(behaviour) as url:
        yield url
