"""The overview of a repository with no digest yet says when the weekly job stores its first one
(from the digest config the store last read), not to run `smolbot digest`, which only prints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.core.config import parse_config
from bot.core.digest import due
from bot.dashboard import add_signin_redirect, make_dashboard_router
from bot.jobs.digest import week_slot
from bot.settings import Settings, load_settings
from bot.store import Store, open_store
from tests.dashboard.conftest import TOKEN

MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
BERLIN = "digest:\n  weekday: 2\n  hour: 9\n  timezone: Europe/Berlin\n"


def signed_in(app: FastAPI) -> TestClient:
    c = TestClient(app, follow_redirects=False)
    assert c.post("/login", data={"token": TOKEN}).status_code == 303
    return c


def app_at(settings: Settings, store: Store, now: datetime) -> TestClient:
    app = FastAPI()
    app.include_router(make_dashboard_router(settings, store, now=lambda: now))
    add_signin_redirect(app)
    return signed_in(app)


@pytest.fixture
def fresh(tmp_path: Path) -> tuple[Settings, Store]:
    """A new installation: repositories, one config read by a delivery, no digest."""
    settings = load_settings(data_dir=tmp_path / "dash", dashboard_token=TOKEN, env="test")
    store = open_store(settings.db_path)
    store.upsert_installation(7, "octo", "Organization")
    store.add_repositories(
        7, [{"full_name": "octo/new", "id": 1}, {"full_name": "octo/off", "id": 2}]
    )
    store.upsert_installation(8, "paused", "User")
    store.add_repositories(8, [{"full_name": "paused/app", "id": 3}])
    store.set_installation_suspended(8, True)
    for repo, text in (("octo/new", BERLIN), ("octo/off", "digest:\n  enabled: false\n")):
        store.db.table("repo_configs").upsert(
            {"repo": repo, "good_text": text, "error": None, "updated_at": 0.0}, pk="repo"
        )
    return settings, store


def test_a_new_installation_is_told_when_its_first_digest_is_due(
    fresh: tuple[Settings, Store],
) -> None:
    client = app_at(*fresh, MONDAY)
    page = client.get("/")
    assert page.status_code == 200
    assert "smolbot digest owner/repo</code> or wait" not in page.text  # it never stored one
    assert "it stores nothing" in page.text
    assert "octo/new: first digest due Wed 2026-11-25 09:00 Europe/Berlin (08:00 UTC)" in page.text
    assert "octo/off: no digest: digest.enabled is false" in page.text
    assert "paused/app: no digest while its installation is suspended" in page.text
    first = {d["repo"]: d for d in client.get("/api/overview").json()["first_digests"]}
    assert first["octo/new"]["due_at"] == "2026-11-25T08:00:00+00:00"
    assert first["octo/off"]["due_at"] is None

    later = app_at(*fresh, MONDAY + timedelta(days=3)).get("/")  # Thursday: the slot passed
    assert "octo/new: first digest due now (this week&#39;s slot was Wed 2026-11-25" in later.text


def test_repositories_with_a_digest_are_not_listed_and_the_top_issues_stay(
    dash_settings: Settings, dash_store: Store
) -> None:
    early = MONDAY - timedelta(hours=3)  # 07:00 UTC, before the default slot
    overview = app_at(dash_settings, dash_store, early).get("/api/overview").json()
    assert overview["top"]  # the sample's digest
    first = {d["repo"]: d["note"] for d in overview["first_digests"]}
    assert first == {"someone-else/private-thing": "first digest due Mon 2026-11-23 08:00 UTC"}


@pytest.mark.parametrize(
    "text",
    [
        "",
        BERLIN,
        "digest:\n  weekday: 6\n  hour: 23\n  timezone: Asia/Kolkata\n",
        "digest:\n  weekday: 0\n  hour: 2\n  timezone: America/New_York\n",
    ],
)
def test_the_slot_shown_is_when_the_job_finds_the_digest_due(text: str) -> None:
    cfg = parse_config(text).digest
    for day in range(7):
        now = MONDAY + timedelta(days=day, hours=day * 5)
        slot = week_slot(now, cfg)
        assert not due(slot - timedelta(seconds=1), cfg) and due(slot, cfg)
        assert due(now, cfg) == (now >= slot)
