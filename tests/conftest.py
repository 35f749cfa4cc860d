"""Shared fixtures: a fresh data dir and store per test, and the fake GitHub plugin."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings, load_settings
from bot.store import Store, open_store

pytest_plugins = ["tests.fake_github.plugin", "tests.pg_fixtures"]

SECRET = "It's a Secret to Everybody"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data", webhook_secret=SECRET, env="test")


@pytest.fixture
def store(settings: Settings) -> Store:
    s = open_store(settings.db_path)
    yield s
    s.close()
