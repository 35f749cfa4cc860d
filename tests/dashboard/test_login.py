"""Sign-in hardening: the session cookie's flags, odd cookies, and a throttle on wrong tokens."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.dashboard.auth import COOKIE, read_session, sign_session
from bot.settings import Settings, load_settings
from bot.store import Store
from tests.dashboard.conftest import TOKEN, build_app


def _login_cookie(settings: Settings, store: Store, base_url: str) -> str:
    client = TestClient(build_app(settings, store), base_url=base_url, follow_redirects=False)
    response = client.post("/login", data={"token": TOKEN})
    assert response.status_code == 303
    return str(response.headers["set-cookie"]).lower()


@pytest.mark.parametrize(
    ("env", "base_url", "secure"),
    [
        ("production", "http://dash.example.org", True),  # TLS ended at a proxy elsewhere
        ("production", "https://dash.example.org", True),
        ("development", "http://127.0.0.1:8000", False),
        ("development", "https://dash.example.org", True),
    ],
)
def test_the_session_cookie_is_secure_in_production_whatever_the_scheme_seen(
    tmp_path: Path, dash_store: Store, env: str, base_url: str, secure: bool
) -> None:
    settings = load_settings(
        data_dir=tmp_path / "dash",
        dashboard_token=TOKEN,
        webhook_secret="a-real-webhook-secret-for-tests",
        env=env,
    )
    cookie = _login_cookie(settings, dash_store, base_url)
    assert cookie.startswith(COOKIE) and "httponly" in cookie
    assert ("; secure" in cookie) is secure


def test_signing_out_clears_the_cookie_with_the_same_flags(
    tmp_path: Path, dash_store: Store
) -> None:
    settings = load_settings(
        data_dir=tmp_path / "dash",
        dashboard_token=TOKEN,
        webhook_secret="a-real-webhook-secret-for-tests",
        env="production",
    )
    client = TestClient(build_app(settings, dash_store), follow_redirects=False)
    cleared = client.post("/logout").headers["set-cookie"].lower()
    assert 'smolbot_session=""' in cleared and "max-age=0" in cleared and "; secure" in cleared


@pytest.mark.parametrize("raw", [b"abc.d\xe9f", "\u00e9.\u00e9".encode("latin-1"), b"\xff\xfe.x"])
def test_a_cookie_with_non_ascii_bytes_is_not_signed_in(dash_app: FastAPI, raw: bytes) -> None:
    client = TestClient(dash_app, follow_redirects=False)
    cookie = [(b"cookie", COOKIE.encode() + b"=" + raw)]
    assert client.get("/api/overview", headers=cookie).status_code == 401
    page = client.get("/", headers=cookie)
    assert page.status_code == 303 and page.headers["location"] == "/login"


def test_read_session_takes_any_text_as_not_signed_in() -> None:
    assert read_session("abc.d\xe9f", TOKEN) is None
    assert read_session(sign_session("token", TOKEN)[:-1] + "\xe9", TOKEN) is None
    assert read_session(sign_session("token", TOKEN), TOKEN) is not None
