"""The audit log's filters: what the issue filter takes, and which repositories' rows are seen."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.dashboard import queries
from bot.dashboard.auth import User
from bot.store import Store
from tests.dashboard.conftest import TOKEN


@pytest.fixture
def client(dash_app: FastAPI) -> TestClient:
    c = TestClient(dash_app, follow_redirects=False)
    assert c.post("/login", data={"token": TOKEN}).status_code == 303
    return c


NOT_ISSUE_NUMBERS = [
    "\u00b2",  # isdigit() is true, int() refuses it
    "\u0662\u0662\u0664",  # Arabic-Indic digits: int() takes them, no issue is numbered so
    "99999999999999999999999",  # past 64 bits: SQLite raised OverflowError
    "9" * 19,
    "abc",
    "-1",
    "#224",
]


@pytest.mark.parametrize("issue", NOT_ISSUE_NUMBERS)
def test_an_issue_filter_that_is_no_issue_number_is_a_422_that_says_why(
    client: TestClient, issue: str
) -> None:
    api = client.get("/api/audit", params={"issue": issue})
    assert api.status_code == 422
    assert "issue number" in api.json()["detail"] and "digits 0-9" in api.json()["detail"]
    page = client.get("/audit", params={"issue": issue})
    assert page.status_code == 422 and 'id="error"' in page.text and "issue number" in page.text
    assert 'id="filters"' in page.text and "Nothing recorded" in page.text


@pytest.mark.parametrize(
    ("issue", "reasons"),
    [
        ("224", ["triage: looks like a bug"]),
        (" 224 ", ["triage: looks like a bug"]),
        ("9" * 18, []),
        ("", ["private", "stale: no answer", "triage: looks like a bug", "weekly digest posted"]),
    ],
)
def test_an_issue_number_filters_and_none_shows_all(
    client: TestClient, issue: str, reasons: list[str]
) -> None:
    rows = client.get("/api/audit", params={"issue": issue}).json()["rows"]
    assert sorted(r["reason"] for r in rows) == reasons
    assert client.get("/audit", params={"issue": issue}).status_code == 200


def test_the_token_user_reads_the_audit_log_without_a_list_of_repositories(
    client: TestClient, dash_store: Store
) -> None:
    """It may see every repository: the query names none (a list of all of them was checked
    against itself, 9.4 s at 40,000), and an uninstalled repository's history stays visible."""
    dash_store.audit("comment", "done", "before it was uninstalled", repo="gone/repo", number=3)
    statements: list[str] = []
    dash_store.db.conn.set_trace_callback(statements.append)
    try:
        rows = client.get("/api/audit").json()["rows"]
        one = client.get("/api/audit", params={"repo": "gone/repo"}).json()["rows"]
    finally:
        dash_store.db.conn.set_trace_callback(None)
    reads = [s for s in statements if "from audit" in s]
    assert len(reads) == 2 and not any(" in (" in s for s in reads), reads
    assert "before it was uninstalled" in {r["reason"] for r in rows}
    assert [r["reason"] for r in one] == ["before it was uninstalled"]


def test_a_user_of_many_repositories_sees_only_theirs(dash_store: Store) -> None:
    mine = {f"octo-org/r{i}" for i in range(40_000)} | {"octo-org/sample-app"}
    user = User("octocat", installations=frozenset({4242}))
    assert {r["repo"] for r in queries.audit(dash_store, mine)} == {"octo-org/sample-app"}
    assert queries.audit(dash_store, mine, repo="someone-else/private-thing") == []
    assert queries.audit(dash_store, set(), outcome="done") == []
    assert [r["number"] for r in queries.audit(dash_store, mine, number=224)] == [224]
    assert {r["full_name"] for r in queries.visible_repos(dash_store, user)} < mine
