"""The audit log shows the newest rows a page at a time: past the page's length, /api/audit says
where the next page starts (next_before) and the page links to the older rows, filters kept, so
an issue with a long history keeps every decision reachable."""

from __future__ import annotations

import re
from html import unescape

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.dashboard.queries import AUDIT_LIMIT
from bot.store import Store
from tests.dashboard.conftest import TOKEN

REPO = "octo-org/hello"
ROWS = AUDIT_LIMIT + 50


@pytest.fixture
def client(dash_app: FastAPI, dash_store: Store) -> TestClient:
    with dash_store.db.conn:
        for i in range(ROWS):
            dash_store.audit(
                "add_labels", "done", f"decision {i}", task="triage", repo=REPO, number=9
            )
    c = TestClient(dash_app, follow_redirects=False)
    assert c.post("/login", data={"token": TOKEN}).status_code == 303
    return c


def _older(page: str) -> str | None:
    link = re.search(r'<a id="older" href="([^"]+)"', page)
    return unescape(link.group(1)) if link else None


def test_the_api_pages_through_every_row_newest_first(client: TestClient) -> None:
    filters = {"repo": REPO, "issue": "9"}
    first = client.get("/api/audit", params=filters).json()
    assert len(first["rows"]) == AUDIT_LIMIT and first["next_before"] == first["rows"][-1]["id"]
    second = client.get("/api/audit", params={**filters, "before": first["next_before"]}).json()
    assert second["next_before"] is None  # the last page
    reasons = [r["reason"] for r in first["rows"] + second["rows"]]
    assert reasons == [f"decision {i}" for i in reversed(range(ROWS))]


def test_the_page_links_to_the_older_rows_with_its_filters(client: TestClient) -> None:
    page = client.get("/audit", params={"repo": REPO, "issue": "9", "outcome": "done"}).text
    assert "decision 49" not in page
    older = _older(page)
    assert older is not None and "repo=octo-org%2Fhello" in older and "outcome=done" in older
    rest = client.get(older)
    assert rest.status_code == 200
    assert "decision 49<" in rest.text and "decision 0<" in rest.text
    assert "decision 50<" not in rest.text
    assert _older(rest.text) is None
    assert 'href="/audit?repo=octo-org%2Fhello&amp;issue=9&amp;outcome=done"' in rest.text  # newest


def test_a_short_log_has_no_older_page(dash_app: FastAPI) -> None:
    client = TestClient(dash_app, follow_redirects=False)
    assert client.post("/login", data={"token": TOKEN}).status_code == 303
    assert client.get("/api/audit").json()["next_before"] is None
    assert _older(client.get("/audit").text) is None


@pytest.mark.parametrize("before", ["abc", "-1", "9" * 30])
def test_a_before_that_is_no_row_id_is_a_422_that_says_why(client: TestClient, before: str) -> None:
    api = client.get("/api/audit", params={"before": before})
    assert api.status_code == 422 and "Older link" in api.json()["detail"]
    page = client.get("/audit", params={"before": before})
    assert page.status_code == 422 and 'id="error"' in page.text
