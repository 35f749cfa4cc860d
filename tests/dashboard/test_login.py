"""Sign-in hardening: the session cookie's flags, odd cookies, and a throttle on wrong tokens."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.dashboard import make_dashboard_router
from bot.dashboard.auth import COOKIE, HTTPS_PROBE, LoginThrottle, read_session, sign_session
from bot.settings import Settings, load_settings
from bot.store import Store
from tests.dashboard.conftest import TOKEN, build_app


def _login_cookie(
    settings: Settings, store: Store, base_url: str, cookies: dict[str, str] | None = None
) -> str:
    client = TestClient(
        build_app(settings, store), base_url=base_url, follow_redirects=False, cookies=cookies
    )
    response = client.post("/login", data={"token": TOKEN})
    assert response.status_code == 303
    return str(response.headers["set-cookie"]).lower()


@pytest.mark.parametrize(
    ("env", "base_url", "secure"),
    [
        # TLS ended at a proxy not trusted: the browser, on https, sends back the login page's probe
        ("production", "http://dash.example.org", True),
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
    probe = {HTTPS_PROBE: "1"} if base_url.startswith("http:") and env == "production" else None
    cookie = _login_cookie(settings, dash_store, base_url, probe)
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


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _throttled(settings: Settings, store: Store, clock: Clock, **over: int) -> TestClient:
    throttle = LoginThrottle(clock=clock, **over)  # type: ignore[arg-type]
    app = FastAPI()
    app.include_router(make_dashboard_router(settings, store, throttle=throttle))
    return TestClient(app, follow_redirects=False, client=("203.0.113.9", 50000))


def test_after_five_wrong_tokens_an_address_waits_out_the_minute(
    dash_settings: Settings, dash_store: Store
) -> None:
    clock = Clock()
    client = _throttled(dash_settings, dash_store, clock)
    wrong = [client.post("/login", data={"token": f"guess-{i}"}).status_code for i in range(5)]
    assert wrong == [401] * 5
    refused = client.post("/login", data={"token": "guess-6"})
    assert refused.status_code == 429 and refused.headers["retry-after"] == "60"
    assert "Too many wrong tokens" in refused.text
    # the right token waits too: else a guess would be told apart by its answer
    assert client.post("/login", data={"token": TOKEN}).status_code == 429
    clock.now += 59.5
    assert client.post("/login", data={"token": TOKEN}).headers["retry-after"] == "1"
    other = TestClient(client.app, follow_redirects=False, client=("198.51.100.7", 1))
    assert other.post("/login", data={"token": TOKEN}).status_code == 303  # per address
    clock.now += 0.5
    assert client.post("/login", data={"token": TOKEN}).status_code == 303


def test_a_right_token_forgets_the_failures(dash_settings: Settings, dash_store: Store) -> None:
    client = _throttled(dash_settings, dash_store, Clock())
    for _ in range(4):
        assert client.post("/login", data={"token": "guess"}).status_code == 401
    assert client.post("/login", data={"token": TOKEN}).status_code == 303
    codes = [client.post("/login", data={"token": "guess"}).status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]


def test_failures_older_than_the_window_do_not_count(
    dash_settings: Settings, dash_store: Store
) -> None:
    clock = Clock()
    client = _throttled(dash_settings, dash_store, clock)
    for _ in range(4):
        assert client.post("/login", data={"token": "guess"}).status_code == 401
        clock.now += 20  # one guess every 20 s: never 5 within a minute
    assert client.post("/login", data={"token": "guess"}).status_code == 401
    clock.now += 1
    assert client.post("/login", data={"token": "guess"}).status_code == 401


def test_the_throttle_remembers_a_bounded_number_of_addresses() -> None:
    clock = Clock()
    throttle = LoginThrottle(limit=2, max_clients=3, clock=clock)
    for address in ("a", "b", "c", "d"):
        throttle.failed(address)
        throttle.failed(address)
    assert len(throttle) == 3
    assert throttle.wait_s("a") == 0.0  # the least recently failed was forgotten
    assert throttle.wait_s("d") == 60.0
    clock.now += 60
    assert [throttle.wait_s(a) for a in "bcd"] == [0.0] * 3 and len(throttle) == 0


def test_an_ipv6_client_is_counted_by_its_slash_64(
    dash_settings: Settings, dash_store: Store
) -> None:
    """One home or cloud machine has a whole /64: a new address of it every five guesses was a
    new client each time, and the guesses unlimited."""
    clock = Clock()
    client = _throttled(dash_settings, dash_store, clock)
    codes = []
    for i in range(6):
        one = TestClient(client.app, follow_redirects=False, client=(f"2001:db8:1:2::{i + 1}", 1))
        codes.append(one.post("/login", data={"token": f"guess-{i}"}).status_code)
    assert codes == [401] * 5 + [429]
    elsewhere = TestClient(client.app, follow_redirects=False, client=("2001:db8:1:3::1", 1))
    assert elsewhere.post("/login", data={"token": TOKEN}).status_code == 303  # another /64
