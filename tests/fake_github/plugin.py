"""Pytest fixtures for the fake GitHub: an App key pair, a running server, and Settings aimed at it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.sandbox.fake_github.server import FakeGitHubServer, start_fake_github
from bot.settings import Settings, load_settings

APP_ID = 4242
WEBHOOK_SECRET = "test-webhook-secret"


@dataclass(frozen=True)
class KeyPair:
    private_pem: str
    public_pem: str


def generate_keypair() -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return KeyPair(private, public)


@pytest.fixture(scope="session")
def app_keypair() -> KeyPair:
    """One RSA key pair per test session (generating one takes ~0.1 s)."""
    return generate_keypair()


@pytest.fixture
def fake_github(app_keypair: KeyPair) -> Iterator[FakeGitHubServer]:
    """A fresh fake GitHub on loopback: app id 4242, its PEM at `.private_key_pem`."""
    with start_fake_github(APP_ID, app_keypair.public_pem, app_keypair.private_pem) as server:
        yield server


def make_settings(fake_github: FakeGitHubServer, tmp_path: Path, **overrides: Any) -> Settings:
    """Settings pointed at the fake: API URL, app id, private key, webhook secret, data dir."""
    values: dict[str, Any] = {
        "env": "test",
        "github_api_url": fake_github.url,
        "app_id": fake_github.app_id,
        "private_key": fake_github.private_key_pem,
        "webhook_secret": WEBHOOK_SECRET,
        "data_dir": tmp_path,
        "write_interval_s": 0,
        "github_timeout_s": 5,
    }
    values.update(overrides)
    return load_settings(**values)


def point_cli_at(
    fake_github: FakeGitHubServer, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The `smolbot` CLI, run in this process, against the fake: as the App, data in data_dir."""
    from bot.cli import _register
    from bot.settings import get_settings

    for name, value in {
        "SMOLBOT_DATA_DIR": str(data_dir),
        "SMOLBOT_GITHUB_API_URL": fake_github.url,
        "SMOLBOT_APP_ID": str(fake_github.app_id),
        "SMOLBOT_PRIVATE_KEY": fake_github.private_key_pem,
        "SMOLBOT_ENV": "test",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    _register()
