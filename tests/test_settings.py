"""Settings: what a malformed SMOLBOT_* variable says (one line naming it), and what is accepted."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No SMOLBOT_* variable or .env file of the machine running the tests reaches these."""
    for name in list(os.environ):
        if name.startswith("SMOLBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(
    "url",
    [
        "/var/lib/smolbot/smolbot.db",
        "relative.db",
        ":memory:",
        "sqlite:////var/lib/smolbot/smolbot.db",
        "postgresql://smolbot:pw@db:5432/smolbot",
        "postgres://smolbot@db/smolbot",
    ],
)
def test_database_url_forms_the_store_opens_are_accepted(url: str) -> None:
    assert load_settings(env="test", database_url=url).effective_database_url == url


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://u:S3CRET@h:5432/db",
        "mysql://u:S3CRET@h:5432/db",
        "sqlite://relative.db",
    ],
)
def test_other_database_urls_are_refused_without_showing_the_password(url: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(env="test", database_url=url)
    msg = str(err.value)
    assert msg.startswith("SMOLBOT_DATABASE_URL: expected")
    assert "sqlite:///PATH" in msg and "postgresql://" in msg
    assert "S3CRET" not in msg
