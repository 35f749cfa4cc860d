"""Signing out ends the session on the server, not only in the browser that asked: a copy of the
cookie (another profile, a proxy's log, a shared machine's cookie jar) is refused from then on,
while other sign-ins go on. And no dashboard answer may be shown in another site's frame."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.dashboard.auth import COOKIE
from bot.dashboard.router import PAGE_HEADERS
from bot.store import Store
from tests.dashboard.conftest import TOKEN


def _signed_in(app: FastAPI) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    assert client.post("/login", data={"token": TOKEN}).status_code == 303
    return client


def test_a_copy_of_the_cookie_is_refused_after_sign_out(dash_app: FastAPI) -> None:
    browser = _signed_in(dash_app)
    copy = TestClient(dash_app, follow_redirects=False)
    copy.cookies.set(COOKIE, browser.cookies[COOKIE])
    assert copy.get("/api/overview").status_code == 200

    assert browser.post("/logout").status_code == 303

    assert copy.get("/api/overview").status_code == 401
    page = copy.get("/")
    assert page.status_code == 303 and page.headers["location"] == "/login"


def test_signing_out_one_session_leaves_the_others(dash_app: FastAPI) -> None:
    laptop, phone = _signed_in(dash_app), _signed_in(dash_app)
    assert laptop.cookies[COOKIE] != phone.cookies[COOKIE]  # each sign-in its own session id
    assert laptop.post("/logout").status_code == 303
    assert phone.get("/api/overview").status_code == 200
    # and signing in again after signing out works
    assert _signed_in(dash_app).get("/api/overview").status_code == 200


def test_a_sign_out_is_kept_until_the_cookie_would_expire_anyway(any_store: Store) -> None:
    any_store.sign_out("early", expires=100.0, now=50.0)
    any_store.sign_out("late", expires=1000.0, now=60.0)
    assert any_store.signed_out("early") and any_store.signed_out("late")
    any_store.sign_out("later", expires=2000.0, now=200.0)  # "early" has expired by now
    assert not any_store.signed_out("early")
    assert any_store.signed_out("late") and any_store.signed_out("later")
    assert not any_store.signed_out("never-signed-out")


def test_no_dashboard_answer_can_be_framed(dash_app: FastAPI) -> None:
    anon = TestClient(dash_app, follow_redirects=False)
    answers = [
        anon.get("/login"),  # the page a frame would lay a fake form over
        anon.post("/login", data={"token": "wrong"}),  # a refused sign-in: the page again
        anon.get("/api/overview"),  # 401, an HTTPException
    ]
    signed = _signed_in(dash_app)
    answers += [signed.get("/"), signed.get("/audit"), signed.get("/api/overview")]
    answers.append(signed.get("/digests/nobody/nothing/2026-W01"))  # 404
    assert [a.status_code for a in answers] == [200, 401, 401, 200, 200, 200, 404]
    for answer in answers:
        for name, value in PAGE_HEADERS.items():
            assert answer.headers.get(name) == value, (answer.request.url, name)
