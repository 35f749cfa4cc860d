"""The models page's escalation share is the one `smolbot stats` and /metrics give: the share of
answers whose status is "escalated" (the large model's answer was used). A large-model answer
that is itself under the bar ends "not_escalated": its call record has escalated=1, but it was
not acted on, so it is not counted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.llm import ModelLayer
from bot.llm.metrics import render_metrics
from bot.store import Store, open_store
from tests.dashboard.conftest import TOKEN, build_app
from tests.llm.conftest import make_settings
from tests.llm.examples import LABELS, seed
from tests.llm.fake_openai import Behaviour, serve

ISSUE = "Tooltip flickers\n\nThe tooltip flickers when hovering over the chart legend"


@pytest.fixture
def large_url() -> Iterator[str]:
    with serve(Behaviour(replies=['{"label": "bug"}'])) as url:
        yield url


def test_a_large_answer_under_the_bar_is_not_escalated_on_the_dashboard_either(
    tmp_path: Path, large_url: str
) -> None:
    store: Store = open_store(tmp_path / "s.db")
    large = {"large_provider": "openai", "large_model": "big-test", "large_base_url": large_url}
    # a bar above the most a large model's answer can get (0.95): it is not asked (no paid call
    # whose answer could not be used), and the first stage's answer is not acted on either
    settings = make_settings(
        tmp_path, thresholds={"triage": 0.99}, large_max_retries=0, dashboard_token=TOKEN, **large
    )
    layer = ModelLayer(settings, store)
    seed(layer)
    ans = layer.classify("triage", "o/r", ISSUE, LABELS)
    assert ans.status == "not_escalated" and not ans.ok  # the answer was not acted on

    stats_share = layer.stats()["escalation_share"]
    assert stats_share == 0.0
    assert 'smolbot_escalation_share{task="triage"} 0.0' in render_metrics(store).decode()

    client = TestClient(build_app(settings, store), follow_redirects=False)
    assert client.post("/login", data={"token": TOKEN}).status_code == 303
    days = client.get("/api/models").json()["days"]
    assert days[-1]["calls"] >= 1
    assert days[-1]["escalation_share"] == stats_share
    page = client.get("/models").text
    assert "<td>0 %</td></tr>" in page  # the table's Escalated column


def test_an_escalated_answer_counts_alike_everywhere(tmp_path: Path, large_url: str) -> None:
    store: Store = open_store(tmp_path / "s.db")
    large = {"large_provider": "openai", "large_model": "big-test", "large_base_url": large_url}
    settings = make_settings(
        tmp_path, thresholds={"triage": 0.9}, large_max_retries=0, dashboard_token=TOKEN, **large
    )
    layer = ModelLayer(settings, store)
    seed(layer)
    assert layer.classify("triage", "o/r", ISSUE, LABELS).status == "escalated"

    client = TestClient(build_app(settings, store), follow_redirects=False)
    assert client.post("/login", data={"token": TOKEN}).status_code == 303
    days = client.get("/api/models").json()["days"]
    assert days[-1]["escalation_share"] == layer.stats()["escalation_share"] == 1.0
