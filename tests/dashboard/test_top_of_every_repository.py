"""The overview's top issues come from each repository's newest digest, however many there are:
they came from the 20 latest digests of all, so with 25 repositories 5 had no top issues shown."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.store import Store
from tests.dashboard.conftest import TOKEN, build_app


def _digest(store: Store, repo: str, week: int, at: float, title: str) -> None:
    top = [{"number": 1, "title": title, "url": "", "score": 1, "why": [], "line": "x",
            "waiting_on": None, "waiting_days": 0}]  # fmt: skip
    store.db.table("digests").upsert(
        {"repo": repo, "week": f"2026-W{week}", "number": 5, "posted_at": at, "title": "t",
         "markdown": "m", "json": json.dumps({"top": top})},
        pk=("repo", "week"),
    )  # fmt: skip


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_top_issues_of_every_repository_s_newest_digest(
    request: pytest.FixtureRequest, backend: str, tmp_path: Any
) -> None:
    from bot.settings import load_settings
    from bot.store import open_store

    url = request.getfixturevalue("pg_url") if backend == "postgres" else None
    settings = load_settings(
        data_dir=tmp_path / "d", dashboard_token=TOKEN, env="test", database_url=url
    )
    store = open_store(settings.effective_database_url)
    store.upsert_installation(1, "org", "Organization")
    repos = [f"org/r{i:02d}" for i in range(25)]
    store.add_repositories(1, [{"full_name": r, "id": i + 1} for i, r in enumerate(repos)])
    for week in (47, 48):
        for i, repo in enumerate(repos):
            _digest(store, repo, week, week * 1e6 + i, f"{repo} in week {week}")
    client = TestClient(build_app(settings, store), follow_redirects=False)
    assert client.post("/login", data={"token": TOKEN}).status_code == 303
    data = client.get("/api/overview").json()
    assert sorted(t["repo"] for t in data["top"]) == repos  # one repository, one newest digest
    assert {t["title"] for t in data["top"]} == {f"{r} in week 48" for r in repos}
    assert len(data["digests"]) == 20  # the latest-digests table keeps its length
