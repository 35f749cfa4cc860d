"""Sign-out takes a POST from the dashboard's own pages only: another site's form (a cross-site
request, by the browser's Sec-Fetch-Site or, without it, the Origin header) cannot sign the
maintainer out."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.dashboard.conftest import TOKEN


@pytest.fixture
def client(dash_app: FastAPI) -> TestClient:
    c = TestClient(dash_app, follow_redirects=False)
    assert c.post("/login", data={"token": TOKEN}).status_code == 303
    return c


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
    ],
)
def test_another_site_cannot_sign_you_out(client: TestClient, headers: dict[str, str]) -> None:
    refused = client.post("/logout", headers=headers)
    assert refused.status_code == 403 and "Sign out" in refused.json()["detail"]
    assert "set-cookie" not in refused.headers
    assert client.get("/api/overview").status_code == 200  # still signed in


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"},
        {"Origin": "http://testserver"},
        {},  # curl, a script: no browser to trick
    ],
)
def test_the_dashboard_s_own_button_signs_you_out(
    client: TestClient, headers: dict[str, str]
) -> None:
    response = client.post("/logout", headers=headers)
    assert response.status_code == 303
    client.cookies.clear()
    assert client.get("/").status_code == 303
