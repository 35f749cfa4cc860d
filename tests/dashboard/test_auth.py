"""Nothing is shown without signing in: pages redirect to /login, JSON answers 401; cookies are signed."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.dashboard.auth import COOKIE, read_session, sign_session, token_ok
from bot.settings import load_settings
from tests.dashboard.conftest import TOKEN, build_app

PAGES = [
    "/",
    "/audit",
    "/audit?repo=octo-org/sample-app&outcome=done",
    "/models",
    "/digests/octo-org/sample-app/2026-w48",
]
JSON = ["/api/overview", "/api/audit", "/api/audit?issue=224", "/api/models"]


@pytest.fixture
def client(dash_app: FastAPI) -> TestClient:
    return TestClient(dash_app, follow_redirects=False)


def signed_in(client: TestClient) -> TestClient:
    response = client.post("/login", data={"token": TOKEN})
    assert response.status_code == 303 and response.headers["location"] == "/"
    return client


@pytest.mark.parametrize("path", PAGES)
def test_pages_redirect_to_login(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 303 and response.headers["location"] == "/login"


@pytest.mark.parametrize("path", JSON)
def test_json_answers_401(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 401 and "octo-org" not in response.text


def test_forged_or_foreign_cookies_are_refused(client: TestClient) -> None:
    client.cookies.set(COOKIE, sign_session("token", "some-other-token"))
    assert client.get("/api/overview").status_code == 401
    client.cookies.set(COOKIE, "dG9rZW58OTk5OTk5OTk5OQ==.deadbeef")
    assert client.get("/").status_code == 303


def test_wrong_token_is_refused_and_right_one_sets_an_httponly_cookie(client: TestClient) -> None:
    wrong = client.post("/login", data={"token": "guess"})
    assert wrong.status_code == 401 and "not right" in wrong.text
    right = client.post("/login", data={"token": TOKEN})
    cookie = right.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert client.get("/").status_code == 200


def test_signed_in_pages_and_json(client: TestClient) -> None:
    signed_in(client)
    for path in PAGES:
        assert client.get(path).status_code == 200, path
    overview = client.get("/api/overview").json()
    assert overview["top"][0]["number"] == 206 and overview["top"][0]["waiting_on"] == "maintainer"
    assert {r["full_name"] for r in overview["repositories"]} == {
        "octo-org/sample-app",
        "someone-else/private-thing",
    }
    rows = client.get(
        "/api/audit", params={"repo": "octo-org/sample-app", "outcome": "dry-run"}
    ).json()["rows"]
    assert [(r["action"], r["number"]) for r in rows] == [("close", 200)]
    rows = client.get("/api/audit", params={"issue": "224"}).json()["rows"]
    assert [r["reason"] for r in rows] == ["triage: looks like a bug"]
    days = client.get("/api/models").json()["days"]
    assert len(days) == 5 and all(0 <= d["cache_rate"] <= 1 for d in days)


def test_logout_ends_the_session(client: TestClient) -> None:
    signed_in(client)
    response = client.post("/logout")
    assert response.status_code == 303
    client.cookies.clear()
    assert client.get("/").status_code == 303


def test_without_a_configured_token_nobody_can_sign_in(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bot.store import open_store

    settings = load_settings(data_dir=tmp_path, env="test")
    client = TestClient(build_app(settings, open_store(settings.db_path)), follow_redirects=False)
    assert "SMOLBOT_DASHBOARD_TOKEN" in client.get("/login").text
    assert client.post("/login", data={"token": ""}).status_code == 401
    assert client.get("/api/overview").status_code == 401


def test_token_and_session_primitives() -> None:
    assert token_ok("abc", "abc") and not token_ok("abd", "abc") and not token_ok("", None)
    cookie = sign_session("token", "k", now=1000.0)
    assert read_session(cookie, "k", now=1001.0) is not None
    assert read_session(cookie, "k", now=1000.0 + 13 * 3600) is None  # expired
    assert read_session(cookie, "other", now=1001.0) is None


def test_every_get_route_is_protected(client: TestClient, dash_settings, dash_store) -> None:  # type: ignore[no-untyped-def]
    """Enumerates the router, so a page added later cannot skip the sign-in."""
    from fastapi.routing import APIRoute

    from bot.dashboard import make_dashboard_router

    routes = make_dashboard_router(dash_settings, dash_store).routes
    fill = {"owner": "octo-org", "name": "sample-app", "week": "2026-w48"}
    paths = [
        r.path.format(**fill) for r in routes if isinstance(r, APIRoute) and "GET" in r.methods
    ]
    assert len(paths) >= 8
    for path in paths:
        if path == "/login":
            continue
        response = client.get(path)
        expected = 401 if path.startswith("/api/") else 303
        assert response.status_code == expected, path


def test_a_user_sees_only_their_installations(dash_store) -> None:  # type: ignore[no-untyped-def]
    from bot.dashboard import queries
    from bot.dashboard.auth import User

    user = User("octocat", installations=frozenset({4242}))
    assert [r["full_name"] for r in queries.visible_repos(dash_store, user)] == [
        "octo-org/sample-app"
    ]
    repos = {r["full_name"] for r in queries.visible_repos(dash_store, user)}
    assert queries.audit(dash_store, repos, repo="someone-else/private-thing") == []
    assert {r["repo"] for r in queries.audit(dash_store, repos)} == {"octo-org/sample-app"}
    assert [i["id"] for i in queries.installations(dash_store, user)] == [4242]
