"""The overview's "Waiting on" column is the digest's snapshot (days counted to the end of the
digest's week), so it says of which day: six days after the digest, an issue that waited 8 days
then reads "8 days, as of 2026-11-23", not "8 days" as if current."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.dashboard import add_signin_redirect, make_dashboard_router
from bot.settings import Settings
from bot.store import Store
from tests.dashboard.conftest import TOKEN


def test_waiting_days_say_the_day_they_were_counted_to(
    dash_settings: Settings, dash_store: Store
) -> None:
    row = next(dash_store.rows("select posted_at, json from digests"))
    until = json.loads(row["json"])["until"][:10]
    later = datetime.fromtimestamp(row["posted_at"], UTC) + timedelta(days=6)
    app = FastAPI()
    app.include_router(make_dashboard_router(dash_settings, dash_store, now=lambda: later))
    add_signin_redirect(app)
    client = TestClient(app, follow_redirects=False)
    assert client.post("/login", data={"token": TOKEN}).status_code == 303

    top = client.get("/api/overview").json()["top"]
    assert {t["as_of"] for t in top} == {until} == {"2026-11-23"}
    page = client.get("/").text
    table = page[page.index('<table id="top-issues">') : page.index("</table>")]
    row_206 = next(r for r in table.split("<tr>") if ">#206<" in r)
    waiting = re.search(r"a maintainer · ([^<]+)</td>", row_206)
    assert waiting is not None and waiting.group(1) == f"8 days, as of {until}"
    quiet = next(r for r in table.split("<tr>") if ">#222<" in r)  # waiting on nobody
    assert "as of" not in quiet
