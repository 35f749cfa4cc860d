"""Timeline items with no time (a pull request's `committed`, `line-commented`) over real HTTP:
the digest is posted, and pull requests cost no detail requests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.github import GitHubApp
from bot.jobs.context import JobContext
from bot.jobs.digest import run_due_digests
from bot.store import open_store
from tests.digest.test_digest_fake_github import DAY, INST, REPO, seed
from tests.fake_github import FakeGitHubServer
from tests.fake_github.plugin import make_settings

# what GitHub's timeline API answers for a commit pushed to a pull request: no created_at, no actor
COMMITTED = {
    "sha": "0a1b2c3d",
    "node_id": "C_kwDOAAAB",
    "url": f"https://api.github.com/repos/{REPO}/git/commits/0a1b2c3d",
    "html_url": f"https://github.com/{REPO}/commit/0a1b2c3d",
    "author": {"name": "Ann", "email": "ann@example.com", "date": "2026-11-20T10:00:00Z"},
    "committer": {"name": "Ann", "email": "ann@example.com", "date": "2026-11-20T10:00:00Z"},
    "message": "Fix the export",
    "tree": {"sha": "ffff", "url": "https://api.github.com/x"},
    "parents": [],
    "verification": {"verified": False, "reason": "unsigned"},
    "event": "committed",
}
LINE_COMMENTED = {"event": "line-commented", "node_id": "PRRC_x", "comments": []}


def _ctx(gh: FakeGitHubServer, tmp_path: Path) -> JobContext:
    st = gh.state
    settings = make_settings(gh, tmp_path)
    store = open_store(settings.db_path)
    store.upsert_installation(INST, "octo")
    store.add_repositories(INST, [{"full_name": REPO, "id": 1}])

    def clock() -> datetime:
        return datetime.fromtimestamp(st.now(), UTC)

    return JobContext(settings, store, github=GitHubApp(settings), now=clock)


def test_a_pull_request_with_commits_does_not_stop_the_digest_nor_cost_detail_requests(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    seed(fake_github)
    st = fake_github.state
    now = st.now()
    pr = st.add_issue(REPO, "Fix export", "Fixes #2", is_pr=True, created_at=now - DAY).number
    st.add_comment(REPO, pr, "Looks good", user="mia", created_at=now - DAY / 2)
    st.add_raw_event(REPO, pr, COMMITTED)
    st.add_raw_event(REPO, pr, LINE_COMMENTED)
    ctx = _ctx(fake_github, tmp_path)
    st.advance(3600)
    (run,) = run_due_digests(ctx)
    assert run.created and run.digest.week == "2026-w48"
    assert pr not in [i.number for i in run.digest.top]
    assert not st.requests("GET", f"/repos/{REPO}/issues/{pr}/timeline")
    assert not st.requests("GET", f"/repos/{REPO}/issues/{pr}/comments")
    assert st.requests("GET", f"/repos/{REPO}/issues/1/timeline")  # issues still get theirs


def test_a_timeline_item_without_a_time_is_skipped_on_an_issue_too(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    seed(fake_github)
    st = fake_github.state
    st.add_raw_event(REPO, 1, COMMITTED)  # e.g. a commit referencing the issue, served bare
    st.add_event(REPO, 1, "labeled", "mia", label="security")
    ctx = _ctx(fake_github, tmp_path)
    st.advance(3600)
    (run,) = run_due_digests(ctx)
    assert run.created and [i.number for i in run.digest.top][:1] == [1]
