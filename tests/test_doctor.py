"""`smolbot doctor`'s checks: a ✓ means the thing works, not merely that a setting is present."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import click
import pytest

from bot.cli.doctor import _github, _large
from bot.cli.service import _redact, _require_secret
from bot.github.app import BAD_KEY
from bot.settings import Settings, SettingsError, load_settings
from tests.fake_github.plugin import KeyPair, generate_keypair, make_settings


def _app(tmp_path: Path, key: str, **over: object) -> Settings:
    values: dict[str, object] = {
        "env": "test",
        "data_dir": tmp_path,
        "app_id": 4242,
        "private_key": key,
        "webhook_secret": "whsec",
    }
    return load_settings(**{**values, **over})


def test_the_apps_key_passes_when_github_accepts_it(tmp_path: Path, fake_github: Any) -> None:
    """A ✓ means GitHub took the key: it was given for any key that parsed, GitHub unasked."""
    key_file = tmp_path / "app.pem"
    key_file.write_text(fake_github.private_key_pem)
    fake_github.state.add_installation(1, ["octo/app"])
    for key in (fake_github.private_key_pem, str(key_file)):
        settings = make_settings(fake_github, tmp_path, private_key=key)
        ok, detail = _github(settings)
        assert ok, detail
        assert (
            detail == f"app {fake_github.app_id} at {fake_github.url}: GitHub accepted its key;"
            " installed 1 time"
        )


def test_another_apps_key_or_an_unreachable_github_is_no_tick(
    tmp_path: Path, fake_github: Any
) -> None:
    other = generate_keypair().private_pem
    wrong = make_settings(fake_github, tmp_path, private_key=other)
    ok, detail = _github(wrong)  # well formed, but not the key GitHub knows for this App
    assert not ok and "SMOLBOT_PRIVATE_KEY" in detail, detail
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    away = make_settings(fake_github, tmp_path, github_api_url=f"http://127.0.0.1:{port}")
    ok, detail = _github(away)
    assert not ok and "could not be reached" in detail and "SMOLBOT_GITHUB_API_URL" in detail


def test_a_bot_login_that_is_not_the_apps_is_no_tick(tmp_path: Path, fake_github: Any) -> None:
    """The App is called acme-triage, so its comments are by acme-triage[bot]; the setting left
    at smolbot[bot] would make the bot take its own comments for a person's."""
    fake_github.state.app_slug = "acme-triage"
    ok, detail = _github(make_settings(fake_github, tmp_path))
    assert not ok and "SMOLBOT_BOT_LOGIN=acme-triage[bot]" in detail, detail
    ok, detail = _github(make_settings(fake_github, tmp_path, bot_login="acme-triage[bot]"))
    assert ok, detail


@pytest.mark.parametrize(
    "text",
    [
        "not a key\n",
        "-----BEGIN RSA PRIVATE KEY-----\ngarbage\n-----END RSA PRIVATE KEY-----\n",
    ],
)
def test_a_key_file_that_is_no_key_fails(tmp_path: Path, text: str) -> None:
    key_file = tmp_path / "app.pem"
    key_file.write_text(text)
    assert _github(_app(tmp_path, str(key_file))) == (False, BAD_KEY)


def test_pem_text_that_is_no_key_fails(tmp_path: Path) -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"
    assert _github(_app(tmp_path, pem)) == (False, BAD_KEY)


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_webhook_secret_is_not_set(
    tmp_path: Path, app_keypair: KeyPair, blank: str
) -> None:
    settings = _app(tmp_path, app_keypair.private_pem, webhook_secret=blank)
    assert settings.webhook_secret is None
    ok, detail = _github(settings)
    assert not ok and detail.startswith("not configured: set SMOLBOT_WEBHOOK_SECRET")
    with pytest.raises(click.UsageError, match="SMOLBOT_WEBHOOK_SECRET is not set"):
        _require_secret(settings)  # `smolbot web` and `serve` refuse to start


def test_blank_secrets_from_the_environment_are_not_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("SMOLBOT_WEBHOOK_SECRET", "SMOLBOT_PRIVATE_KEY", "SMOLBOT_DASHBOARD_TOKEN"):
        monkeypatch.setenv(name, " ")
    s = load_settings(env="test", data_dir=tmp_path)
    assert (s.webhook_secret, s.private_key, s.dashboard_token) == (None, None, None)


def test_the_large_model_line_names_provider_and_model_never_the_key(tmp_path: Path) -> None:
    off = load_settings(env="test", data_dir=tmp_path)
    assert _large(off)[1].startswith("off: nothing escalates")
    on = load_settings(
        env="test",
        data_dir=tmp_path,
        large_provider="anthropic",
        large_model="claude-test",
        large_api_key="sk-ant-S3CRET",
    )
    assert _large(on) == (True, "anthropic:claude-test, API key set, at most 200 calls a day")
    local = load_settings(
        env="test",
        data_dir=tmp_path,
        large_provider="openai",
        large_model="local",
        large_base_url="http://127.0.0.1:8001/v1",
    )
    assert _large(local)[1].startswith("openai:local at http://127.0.0.1:8001/v1, no API key")


@pytest.mark.parametrize("model", ["", "  "])
def test_a_large_provider_without_a_model_is_a_settings_error(tmp_path: Path, model: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(
            env="test",
            data_dir=tmp_path,
            large_provider="anthropic",
            large_model=model,
            large_api_key="sk-ant-S3CRET",
        )
    assert str(err.value).startswith(
        "SMOLBOT_LARGE_MODEL is not set: SMOLBOT_LARGE_PROVIDER=anthropic needs the name"
    )
    assert "S3CRET" not in str(err.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql://db:5432/smolbot?user=smolbot&password=S3CRET",
            "postgresql://db:5432/smolbot?user=smolbot&password=***",
        ),
        ("redis://:S3C@RETPW@host:6379/0", "redis://***@host:6379/0"),
        ("amqp://smolbot:S3/C#RET@rabbit:5672/vh", "amqp://***@rabbit:5672/vh"),
        (
            "postgresql://u:S3CRET@db/x?sslmode=require&sslpassword=S3CRET&PWD=S3CRET&x",
            "postgresql://***@db/x?sslmode=require&sslpassword=***&PWD=***&x",
        ),
        ("redis://redis:6379/0", "redis://redis:6379/0"),
        (
            "sqla+sqlite:////var/lib/smolbot/broker.sqlite",
            "sqla+sqlite:////var/lib/smolbot/broker.sqlite",
        ),
        ("/var/lib/smolbot/smolbot.db", "/var/lib/smolbot/smolbot.db"),
    ],
)
def test_printed_urls_show_no_password(url: str, shown: str) -> None:
    assert _redact(url) == shown
