"""Dashboard fixtures: a store seeded by a real digest run, and a FastAPI app with the router."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi import FastAPI

from bot.core.config import parse_config
from bot.dashboard import add_signin_redirect, make_dashboard_router
from bot.jobs.digest import parse_ts, post_weekly_digest
from bot.samples import SAMPLE_REPO, load_sample
from bot.samples.host import SampleHost
from bot.settings import Settings, load_settings
from bot.store import Store, open_store

TOKEN = "a-long-dashboard-token-for-tests"
DAY = 86400.0


def seed(store: Store) -> None:
    data = load_sample()
    store.upsert_installation(4242, "octo-org", "Organization")
    store.add_repositories(4242, [{"full_name": SAMPLE_REPO, "id": 555001}])
    store.upsert_installation(99, "someone-else", "User")
    store.add_repositories(99, [{"full_name": "someone-else/private-thing", "id": 9}])
    host = SampleHost(data)
    post_weekly_digest(
        host, store, SAMPLE_REPO, parse_config(data["config"]), lambda: parse_ts(data["now"])
    )
    store.audit(
        "add_labels",
        "done",
        "triage: looks like a bug",
        task="triage",
        repo=SAMPLE_REPO,
        number=224,
    )
    store.audit(
        "close", "dry-run", "stale: no answer", task="lifecycle", repo=SAMPLE_REPO, number=200
    )
    store.audit(
        "comment", "done", "private", task="triage", repo="someone-else/private-thing", number=1
    )
    now = time.time()
    rows = [
        {
            "at": now - d * DAY - i,
            "call_id": f"c{d}-{i}",
            "final": 1,
            "task": "triage",
            "backend": "gpt4all",
            "model": "qwen",
            "prompt_version": "p@1",
            "status": "ok",
            "confidence": 0.8,
            "escalated": int(i % 4 == 0),
            "latency_ms": 400.0 + 50 * d,
            "tokens_in": 100,
            "tokens_out": 10,
            "cache_hit": int(i % 3 == 0),
            "note": "",
        }
        for d in range(5)
        for i in range(6)
    ]
    if "model_calls" in store.db.table_names():
        store.db.table("model_calls").insert_all(rows)


@pytest.fixture
def dash_settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "dash", dashboard_token=TOKEN, env="test")


@pytest.fixture
def dash_store(dash_settings: Settings) -> Store:
    s = open_store(dash_settings.db_path)
    seed(s)
    return s


def build_app(settings: Settings, store: Store) -> FastAPI:
    app = FastAPI()
    app.include_router(make_dashboard_router(settings, store))
    add_signin_redirect(app)
    return app


@pytest.fixture
def dash_app(dash_settings: Settings, dash_store: Store) -> FastAPI:
    return build_app(dash_settings, dash_store)
