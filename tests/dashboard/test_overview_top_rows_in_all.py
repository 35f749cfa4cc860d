"""The overview at many repositories: 100 top-issue rows in all, of the repositories whose newest
digest scores highest (it had a row for each: 10,000 rows, 6 MB, 5 s), the repositories table a
page at a time, each row linking its newest digest; the waiting days dated in the repository's
time zone; an issue linked only when its address is a web one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.core.digest import Digest, TopIssue
from bot.dashboard import queries
from bot.jobs.digest import parse_ts, save_digest
from bot.settings import Settings, load_settings
from bot.store import Store, open_store
from bot.store.migrations import m240_digest_best_score
from tests.dashboard.conftest import TOKEN, build_app

UNTIL = "2026-11-22T23:00:00+00:00"  # Monday 08:00 in Tokyo, Sunday in UTC


def _digest(repo: str, best: float, tz: str = "UTC", url: str = "") -> Digest:
    top = [
        TopIssue(k, f"{repo} #{k}", url or f"https://github.com/{repo}/issues/{k}", best - k + 1,
                 ["new this week"], f"line {k}", "maintainer", 3)
        for k in range(1, 4)
    ]  # fmt: skip
    return Digest(repo, "2026-w48", "2026-11-15T23:00:00+00:00", UNTIL, {}, top, [], timezone=tz)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "d", dashboard_token=TOKEN, env="test")


@pytest.fixture
def store(settings: Settings) -> Store:
    return open_store(settings.db_path)


def _client(settings: Settings, store: Store) -> TestClient:
    client = TestClient(build_app(settings, store), follow_redirects=False)
    assert client.post("/login", data={"token": TOKEN}).status_code == 303
    return client


def _org(store: Store, n: int) -> list[str]:
    repos = [f"big/r{i:03d}" for i in range(n)]
    store.upsert_installation(7, "big", "Organization")
    store.add_repositories(7, [{"full_name": r, "id": 1000 + i} for i, r in enumerate(repos)])
    for i, repo in enumerate(repos):  # as the weekly job stores them; r{i}'s best scores i
        save_digest(store, _digest(repo, float(i)), 40 + i, parse_ts(UNTIL))
    return repos


def test_the_top_table_has_100_rows_of_the_best_repositories(
    settings: Settings, store: Store
) -> None:
    repos = _org(store, 300)
    client = _client(settings, store)
    data = client.get("/api/overview").json()
    top = data["top"]
    assert len(top) == queries.TOP_ROWS
    assert [t["repo"] for t in top] == repos[::-1][:100]  # the best first, one each
    assert top[0]["score"] == 299.0 and top[0]["more"] == 2
    assert data["top_more_repositories"] == 200
    page = client.get("/").text
    assert "200 more repositories have a digest" in page
    assert page.count('<span class="tag">new this week') == 100


def test_a_few_repositories_share_the_100_rows(settings: Settings, store: Store) -> None:
    _org(store, 40)  # 100 // 40: two rows each, of their three
    top = _client(settings, store).get("/api/overview").json()["top"]
    assert len(top) == 80 and all(t["more"] == 1 for t in top[1::2])


def test_the_repositories_table_is_paged_and_links_each_newest_digest(
    settings: Settings, store: Store
) -> None:
    repos = _org(store, 450)
    store.add_repositories(7, [{"full_name": "big/zz-no-digest", "id": 9}])
    client = _client(settings, store)
    first = client.get("/api/overview").json()
    assert len(first["repositories"]) == queries.REPOS_PAGE
    assert (first["repositories_total"], first["repositories_pages"]) == (451, 3)
    assert first["repositories"][0] == {**first["repositories"][0], "full_name": repos[0],
                                        "newest_week": "2026-w48"}  # fmt: skip
    last = client.get("/api/overview?page=3").json()["repositories"]
    assert [r["full_name"] for r in last] == [*repos[400:], "big/zz-no-digest"]
    assert last[-1]["newest_week"] is None
    assert client.get("/api/overview?page=99").json()["repositories_page"] == 3
    html = client.get("/?page=2").text
    assert "Repositories 201–400 of 451" in html
    assert '<a href="/digests/big/r250/2026-w48">2026-w48</a>' in html
    assert '<a id="previous" href="/?page=1">' in html and '<a id="next" href="/?page=3">' in html
    assert client.get("/?page=0").status_code == 422


def test_an_older_digest_gets_its_best_score_from_its_json(store: Store) -> None:
    _org(store, 2)
    store.db.execute("update digests set best_score = null")
    m240_digest_best_score(store.db)  # as at the upgrade
    rows = store.rows("select repo, best_score from digests order by repo")
    assert [(r["repo"], r["best_score"]) for r in rows] == [("big/r000", 0.0), ("big/r001", 1.0)]


def test_waiting_days_are_dated_in_the_repository_s_time_zone(
    settings: Settings, store: Store
) -> None:
    store.upsert_installation(7, "big", "Organization")
    store.add_repositories(7, [{"full_name": "o/tokyo", "id": 1}, {"full_name": "o/utc", "id": 2}])
    save_digest(store, _digest("o/tokyo", 9, "Asia/Tokyo"), 5, parse_ts(UNTIL))
    save_digest(store, _digest("o/utc", 8), 6, parse_ts(UNTIL))
    top = _client(settings, store).get("/api/overview").json()["top"]
    assert {t["repo"]: t["as_of"] for t in top} == {"o/tokyo": "2026-11-23", "o/utc": "2026-11-22"}


def test_only_a_web_address_is_linked(settings: Settings, store: Store) -> None:
    store.upsert_installation(7, "big", "Organization")
    store.add_repositories(7, [{"full_name": "o/r", "id": 1}])
    d = _digest("o/r", 9, url="javascript:alert(1)")
    store.db.table("digests").insert(
        {"repo": "o/r", "week": "2026-w48", "number": 5, "posted_at": 1.0, "title": "t",
         "markdown": "m", "json": json.dumps({"top": [vars(i) for i in d.top], "until": UNTIL})}
    )  # fmt: skip
    client = _client(settings, store)
    assert {t["url"] for t in client.get("/api/overview").json()["top"]} == {""}
    page = client.get("/").text
    assert "javascript:" not in page and "<td>#1 o/r #1</td>" in page
    assert queries.web_url("https://github.com/o/r/issues/1") == "https://github.com/o/r/issues/1"
    assert queries.web_url(" https://x") == queries.web_url("data:text/html,x") == ""
