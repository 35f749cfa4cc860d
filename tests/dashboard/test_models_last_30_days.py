"""The models page covers the last 30 days (UTC), not the last 30 days that had calls: months-old
calls are not shown as current statistics, days without calls are gaps in the charts (not
adjacent points), and the query reads only the window (the index on `at`), not the whole log."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.dashboard.charts import PAD, WIDTH
from bot.llm.api import ModelRecord
from bot.llm.records import Records
from bot.store import Store
from tests.dashboard.conftest import TOKEN

DAY = 86400.0


def _calls(store: Store, days_ago: list[float]) -> None:
    store.db.execute("delete from model_calls")
    records = Records(store)
    for i, _ in enumerate(days_ago):
        rec = ModelRecord("triage", "gpt4all", "qwen", "p@1", 0.8, False, 900.0)
        records.log(rec, call_id=f"c{i}", final=True, scope="o/r", status="ok")
    for i, ago in enumerate(days_ago):
        store.db.execute(
            "update model_calls set at = ? where call_id = ?", [time.time() - ago * DAY, f"c{i}"]
        )
    store.db.conn.commit()


def _client(app: FastAPI) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    assert client.post("/login", data={"token": TOKEN}).status_code == 303
    return client


def test_calls_of_months_ago_are_not_shown_as_current(dash_app: FastAPI, dash_store: Store) -> None:
    _calls(dash_store, [100, 100, 100])  # the bot went quiet 100 days ago
    client = _client(dash_app)
    assert client.get("/api/models").json()["days"] == []
    page = client.get("/models").text
    assert "No model calls in the last 30 days" in page
    assert page.count("no data yet") == 3  # the charts too


def test_a_quiet_week_is_a_gap_in_the_charts(dash_app: FastAPI, dash_store: Store) -> None:
    _calls(dash_store, [0, 10, 10])
    client = _client(dash_app)
    days = client.get("/api/models").json()["days"]
    today = datetime.now(UTC)
    expected = [f"{today - timedelta(days=10):%Y-%m-%d}", f"{today:%Y-%m-%d}"]
    assert [d["day"] for d in days] == expected and [d["calls"] for d in days] == [2, 1]
    page = client.get("/models").text
    assert "<th>Day (UTC)</th>" in page
    chart = page[page.index("<svg") : page.index("</svg>")]
    assert chart.count("<circle") == 2 and chart.count("<polyline") == 2  # two runs, a gap between
    cx = [float(x) for x in re.findall(r'<circle cx="([\d.]+)"', chart)]
    start = f"{today - timedelta(days=29):%Y-%m-%d}"
    assert start in chart and f"{today:%Y-%m-%d}" in chart  # the axis spans the 30 days
    step = (WIDTH - 2 * PAD) / 29  # 30 days, 29 steps
    assert abs(cx[1] - cx[0] - 10 * step) < 1  # ten days apart, not neighbours


def test_the_window_is_read_through_the_index_on_at(dash_app: FastAPI, dash_store: Store) -> None:
    client = _client(dash_app)
    statements: list[str] = []
    dash_store.db.conn.set_trace_callback(statements.append)
    try:
        assert client.get("/api/models").status_code == 200
    finally:
        dash_store.db.conn.set_trace_callback(None)
    (sql,) = [s for s in statements if "from model_calls" in s]
    plan = " ".join(str(r[3]) for r in dash_store.db.execute(f"explain query plan {sql}"))
    assert "idx_model_calls_at" in plan and "SCAN model_calls" not in plan, plan
