"""`smolbot web` in production over plain HTTP (deploy/compose.yaml publishes port 8000 so): the
session cookie is Secure there, so a browser on plain http dropped it and every sign-in landed
back on /login without a word. Now the sign-in says the dashboard needs HTTPS, and it works
where the browser is on HTTPS: through a trusted proxy (X-Forwarded-Proto), or through one not
trusted (the login page's Secure probe comes back). The proxy is 127.0.0.2 (any 127.x address
reaches loopback); the web process trusts it alone."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bot.dashboard.auth import COOKIE, HTTPS_PROBE
from bot.settings import load_settings
from tests.dashboard.conftest import TOKEN
from tests.e2e.harness import Proc, wait_for
from tests.llm.fake_openai import free_port

pytestmark = [pytest.mark.slow]
PROXY = "127.0.0.2"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("https")
    port = free_port()
    settings = load_settings(
        env="production", data_dir=tmp / "data", webhook_secret="a-webhook-secret-for-tests",
        dashboard_token=TOKEN, trusted_proxies=PROXY,
    )  # fmt: skip
    web = Proc(settings, ["web", "--port", str(port)], tmp / "web.log")
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{url}/healthz", timeout=5).status_code in (200, 503)
        except httpx.HTTPError:
            return False

    try:
        wait_for(up, timeout=60, what="smolbot web", log=web.log)
        yield url
    finally:
        web.stop()


def _client(base: str, via_proxy: bool = False) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=PROXY) if via_proxy else None
    return httpx.Client(base_url=base, transport=transport, timeout=10, follow_redirects=False)


def test_a_sign_in_over_plain_http_says_the_dashboard_needs_https(base: str) -> None:
    with _client(base) as browser:  # httpx, like a browser, sends no Secure cookie over http
        page = browser.get("/login")
        probe = page.headers["set-cookie"].lower()
        assert probe.startswith(HTTPS_PROBE) and "; secure" in probe
        answer = browser.post("/login", data={"token": TOKEN})
    assert answer.status_code == 403
    assert "needs HTTPS in production" in answer.text
    assert "SMOLBOT_TRUSTED_PROXIES" in answer.text
    assert COOKIE not in answer.headers.get("set-cookie", "")  # no session to drop


def test_a_trusted_proxy_that_ended_tls_signs_in(base: str) -> None:
    with _client(base, via_proxy=True) as proxy:
        https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.20"}
        answer = proxy.post("/login", data={"token": TOKEN}, headers=https)
        assert answer.status_code == 303, answer.text
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith(COOKIE) and "; secure" in cookie.lower()
        session = cookie.split(";", 1)[0]  # the browser on https sends it back
        overview = proxy.get("/", headers={**https, "Cookie": session})
    assert overview.status_code == 200 and "Sign in" not in overview.text


def test_a_proxy_not_trusted_that_ended_tls_signs_in_with_the_probe(base: str) -> None:
    """The app sees http (127.0.0.1 is not trusted here), but the browser is on https: it kept the
    login page's Secure probe and sends it back."""
    with _client(base) as proxy:
        https = {"X-Forwarded-Proto": "https"}
        assert proxy.post("/login", data={"token": TOKEN}, headers=https).status_code == 403
        probe = {"Cookie": f"{HTTPS_PROBE}=1"}
        answer = proxy.post("/login", data={"token": TOKEN}, headers={**https, **probe})
    assert answer.status_code == 303, answer.text
    assert answer.headers["set-cookie"].startswith(COOKIE)
