"""The overview of many repositories: the token user's queries name no repository (PostgreSQL
takes at most 65,535 parameters: past that many repositories the overview was a 500), each
repository's newest digest is found in the primary key's index, its best score in another, and
only the rows shown are read in full (a window over every stored digest's row took seconds at
2,000 repositories x 52 weeks; parsing each newest one's JSON, 2 s at 10,000), and the page
lists each repository's best top issues, 100 rows in all (it had 20,000 rows, 7 MB; then one
row per repository, 6 MB at 10,000)."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.dashboard import queries
from bot.dashboard.auth import TOKEN_USER, User
from bot.settings import Settings
from bot.store import Store, open_store
from tests.dashboard.conftest import TOKEN

TOKEN_SEES_ALL = User(TOKEN_USER, all_repos=True)


def _top(repo: str, n: int) -> list[dict[str, Any]]:
    """n top issues, scores in no order: issue k scores k * 7 % n."""
    return [
        {"number": k, "title": f"{repo} #{k}", "url": f"https://github.com/{repo}/issues/{k}",
         "score": float(k * 7 % n), "why": ["new"], "line": f"line {k}", "waiting_on": None,
         "waiting_days": 0}
        for k in range(1, n + 1)
    ]  # fmt: skip


def _digests(store: Store, repos: list[str], weeks: int, top: int) -> None:
    rows = (
        {"repo": repo, "week": f"2026-w{w:02d}", "number": 100 + w, "posted_at": w * 1e6 + i,
         "title": f"{repo} week {w}", "markdown": "m", "best_score": float(top - 1),
         "json": json.dumps({"top": _top(repo, top), "until": "2026-11-23T09:00:00+00:00"})}
        for i, repo in enumerate(repos) for w in range(1, weeks + 1)
    )  # fmt: skip
    store.db.table("digests").insert_all(rows)


@pytest.fixture
def org(dash_settings: Settings, dash_store: Store) -> list[str]:
    """150 repositories of one installation, three weeks of digests each, 10 top issues each."""
    repos = [f"bigorg/r{i:03d}" for i in range(150)]
    dash_store.upsert_installation(7, "bigorg", "Organization")
    dash_store.add_repositories(
        7, [{"full_name": r, "id": 10_000 + i} for i, r in enumerate(repos)]
    )
    _digests(dash_store, repos, weeks=3, top=10)
    return repos


def _client(app: FastAPI) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    assert client.post("/login", data={"token": TOKEN}).status_code == 303
    return client


def test_the_token_user_s_overview_binds_no_repository_name(
    dash_app: FastAPI, dash_store: Store, org: list[str]
) -> None:
    """SQLite told to take at most 100 parameters, as PostgreSQL takes at most 65,535."""
    conn = dash_store.db.conn
    assert isinstance(conn, sqlite3.Connection)
    statements: list[str] = []
    limit = conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 100)
    conn.set_trace_callback(statements.append)
    try:
        client = _client(dash_app)
        assert client.get("/").status_code == 200
        assert client.get("/api/overview").status_code == 200
    finally:
        conn.set_trace_callback(None)
        conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, limit)
    reads = [s for s in statements if "from digests" in s]
    assert reads and not any("bigorg/r0" in s for s in reads), reads


def test_only_each_repository_s_newest_digest_is_read_in_full(
    dash_app: FastAPI, dash_store: Store, org: list[str]
) -> None:
    statements: list[str] = []
    dash_store.db.conn.set_trace_callback(statements.append)
    try:
        top = _client(dash_app).get("/api/overview").json()["top"]
    finally:
        dash_store.db.conn.set_trace_callback(None)
    assert len(top) == queries.TOP_ROWS and {t["repo"] for t in top} < {*org, "octo-org/sample-app"}
    assert {t["week"] for t in top if t["repo"] in org} == {"2026-w03"}
    (sql,) = [s for s in statements if "from digests" in s and "json" in s and "max(" in s]
    plan = [str(r[3]) for r in dash_store.db.execute(f"explain query plan {sql}")]
    scans = [step for step in plan if re.match(r"SCAN (digests|d|n)\b", step)]
    assert scans and all("COVERING INDEX" in step for step in scans), plan  # no row read ...
    assert any(re.match(r"SEARCH n USING COVERING INDEX .*\(repo=\?", s) for s in plan), plan
    assert any(re.match(r"SEARCH d USING INDEX .*\(repo=\? AND week=\?\)", s) for s in plan), plan
    assert len(dash_store.db.execute(sql).fetchall()) <= queries.TOP_ROWS  # ... but those shown


def test_each_repository_shows_its_best_issues_and_links_to_the_rest(
    dash_app: FastAPI, org: list[str]
) -> None:
    client = _client(dash_app)
    top = client.get("/api/overview").json()["top"]
    mine = [t for t in top if t["repo"] == "bigorg/r149"]  # all score 9 at best: the newest
    assert len(top) == queries.TOP_ROWS  # 151 repositories: one row each, of 100 of them
    assert [t["score"] for t in mine] == [9.0]  # its best
    assert mine[-1]["more"] == 9
    page = client.get("/").text
    table = page[page.index('<table id="top-issues">') : page.index("</table>")]
    assert table.count('<a href="https://github.com/') == len(top)
    assert '<a href="/digests/bigorg/r149/2026-w03">9 more' in table


def test_one_repository_shows_all_its_top_issues(dash_app: FastAPI) -> None:
    top = _client(dash_app).get("/api/overview").json()["top"]
    assert len(top) == 8 and "more" not in top[-1]  # the sample digest's 8, all of them


def test_a_user_of_some_installations_sees_their_digests_on_postgres(
    pg_url: str, tmp_path: Path
) -> None:
    store = open_store(pg_url)
    try:
        for inst in (7, 8):
            store.upsert_installation(inst, f"org{inst}", "Organization")
            names = [f"org{inst}/r{i}" for i in range(3)]
            store.add_repositories(
                inst, [{"full_name": n, "id": inst * 100 + i} for i, n in enumerate(names)]
            )
            _digests(store, names, weeks=2, top=2)
        user = User("octocat", installations=frozenset({7}))
        newest = queries.newest_digests(store, user)
        assert sorted((d["repo"], d["week"]) for d in newest) == [
            (f"org7/r{i}", "2026-w02") for i in range(3)
        ]
        latest = queries.latest_digests(store, user, limit=4)
        assert [d["repo"] for d in latest] == ["org7/r2", "org7/r1", "org7/r0", "org7/r2"]
        assert queries.newest_digests(store, User("nobody")) == []
        assert len(queries.newest_digests(store, TOKEN_SEES_ALL)) == 6
    finally:
        store.close()


def test_a_digest_of_a_repository_no_longer_installed_is_not_on_the_overview(
    dash_app: FastAPI, dash_store: Store
) -> None:
    _digests(dash_store, ["gone/repo"], weeks=1, top=1)
    data = _client(dash_app).get("/api/overview").json()
    assert "gone/repo" not in {t["repo"] for t in data["top"]}
    assert "gone/repo" not in {d["repo"] for d in data["digests"]}
