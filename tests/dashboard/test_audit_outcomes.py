"""The audit page's Outcome filter offers the outcomes the bot wrote (a parked delivery, a started
job, not only done/skipped/dry-run/failed) and keeps the one in the link; a row of no repository
shows an empty cell, not "None"."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.dashboard import queries
from bot.jobs.runtime import Runtime
from bot.settings import Settings
from bot.store import Store
from tests.dashboard.conftest import TOKEN


@pytest.fixture
def client(dash_app: FastAPI) -> TestClient:
    c = TestClient(dash_app, follow_redirects=False)
    assert c.post("/login", data={"token": TOKEN}).status_code == 303
    return c


def _offered(page: str) -> tuple[list[str], list[str]]:
    """The Outcome select's options, and the selected ones."""
    select = re.search(r'<select name="outcome">(.*?)</select>', page, re.S)
    assert select is not None
    options = re.findall(r"<option([^>]*)>([^<]*)</option>", select.group(1))
    return [text for _, text in options], [text for attrs, text in options if "selected" in attrs]


def test_a_parked_delivery_can_be_picked_in_the_outcome_filter(
    client: TestClient, dash_settings: Settings, dash_store: Store
) -> None:
    dash_store.record_delivery(
        "d-1", "issues", "{}", action="opened", installation_id=4242, repo="octo-org/hello",
        number=7,
    )  # fmt: skip
    Runtime(dash_settings, dash_store).fail("d-1", "GitHub refused it for good")

    rows = client.get("/api/audit", params={"outcome": "parked"}).json()["rows"]
    assert [r["outcome"] for r in rows] == ["parked"]
    offered, selected = _offered(client.get("/audit").text)
    assert {"parked", "done", "dry-run"} <= set(offered)
    assert offered[0] == "any" and selected == []
    offered, selected = _offered(client.get("/audit", params={"outcome": "parked"}).text)
    assert selected == ["parked"]  # pressing Filter again keeps it


def test_the_outcome_in_the_link_stays_selected_even_with_no_row_of_it(
    client: TestClient,
) -> None:
    page = client.get("/audit", params={"outcome": "resumed"}).text
    offered, selected = _offered(page)
    assert selected == ["resumed"] and "resumed" in offered
    assert "Nothing recorded for these filters." in page


def test_a_row_of_no_repository_does_not_say_none(client: TestClient, dash_store: Store) -> None:
    # what bot.jobs.scheduled writes when the weekly schedule starts the triage reader
    dash_store.audit("triage_reader", "started", "weekly", task="triage", detail={"by": "beat"})
    page = client.get("/audit", params={"outcome": "started"}).text
    row = page[page.index("<tr><td>", page.index('<table id="audit">')) :].split("</tr>")[0]
    assert "triage_reader" in row
    assert "None" not in row, row


def test_the_filter_reads_the_outcomes_of_the_newest_rows_only(dash_store: Store) -> None:
    dash_store.audit("deliver", "parked", "long ago", repo="octo-org/hello")
    for i in range(3):
        dash_store.audit("add_labels", "done", f"since {i}", repo="octo-org/hello")
    assert queries.outcomes(dash_store, rows=3) == ["done"]
    assert queries.outcomes(dash_store, "parked", rows=3) == ["done", "parked"]
    assert "parked" in queries.outcomes(dash_store)
