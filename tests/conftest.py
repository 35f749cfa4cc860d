"""Shared fixtures: a fresh data dir and store per test, and the fake GitHub plugin."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.github.app import GitHubApp
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


@pytest.fixture(autouse=True)
def _close_github_apps(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every GitHubApp a test builds, itself or through the code it runs, is closed after the
    test: its connections to the fake GitHub are released then, not whenever the garbage collector
    gets to them (the whole suite otherwise holds over a thousand sockets at its peak)."""
    made: list[GitHubApp] = []
    init = GitHubApp.__init__

    def tracked(self: GitHubApp, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(GitHubApp, "__init__", tracked)
    yield
    for app in made:
        app.close()
