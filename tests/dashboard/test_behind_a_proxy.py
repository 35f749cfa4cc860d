"""`smolbot web` behind a proxy (deploy/: a load balancer): with the proxy's address in
SMOLBOT_TRUSTED_PROXIES, the sign-in throttle counts each client by X-Forwarded-For, so a
stranger's wrong tokens do not lock the maintainer out. The proxy here is 127.0.0.2 (any 127.x
address reaches loopback); uvicorn alone trusts only 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bot.settings import SettingsError, load_settings
from tests.dashboard.conftest import TOKEN
from tests.e2e.harness import Proc, wait_for
from tests.llm.fake_openai import free_port

pytestmark = [pytest.mark.slow]


def _web(tmp_path: Path, port: int, **over: str) -> Proc:
    settings = load_settings(
        env="test", data_dir=tmp_path / "data", webhook_secret="a-webhook-secret-for-tests",
        dashboard_token=TOKEN, **over,
    )  # fmt: skip
    return Proc(settings, ["web", "--port", str(port)], tmp_path / f"web-{port}.log")


def _from_proxy(base: str) -> httpx.Client:
    return httpx.Client(
        base_url=base, transport=httpx.HTTPTransport(local_address="127.0.0.2"), timeout=10
    )


def _up(base: str) -> bool:
    try:
        return _from_proxy(base).get("/healthz").status_code in (200, 503)
    except httpx.HTTPError:
        return False


def _sign_ins(base: str) -> tuple[list[int], int]:
    """A stranger's six wrong tokens, then the maintainer's right one, both through the proxy."""
    with _from_proxy(base) as proxy:
        stranger = {"X-Forwarded-For": "203.0.113.7"}
        wrong = [
            proxy.post("/login", data={"token": "guess"}, headers=stranger).status_code
            for _ in range(6)
        ]
        maintainer = {"X-Forwarded-For": "198.51.100.20"}
        right = proxy.post("/login", data={"token": TOKEN}, headers=maintainer).status_code
    return wrong, right


@pytest.mark.parametrize("trusted", [None, "127.0.0.0/8"], ids=["not trusted", "trusted"])
def test_a_stranger_behind_the_same_proxy_does_not_lock_the_maintainer_out(
    tmp_path: Path, trusted: str | None
) -> None:
    port = free_port()
    web = _web(tmp_path, port, **({"trusted_proxies": trusted} if trusted else {}))
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _up(base), timeout=60, what="smolbot web", log=web.log)
        wrong, right = _sign_ins(base)
    finally:
        web.stop()
    assert wrong == [401] * 5 + [429]
    # untrusted, the proxy's address is the client's: everyone behind it shares one throttle
    assert right == (303 if trusted else 429)


@pytest.mark.parametrize("value", ["10.0.0.0/8,127.0.0.1", "*", "::1"])
def test_trusted_proxies_takes_addresses_networks_or_any(value: str) -> None:
    assert load_settings(env="test", trusted_proxies=value).trusted_proxies == value


def test_a_trusted_proxy_that_is_no_address_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"SMOLBOT_TRUSTED_PROXIES.*'lb\.internal'"):
        load_settings(env="test", trusted_proxies="10.0.0.1,lb.internal")
