"""A 5xx that persists on one repository's config or issue listing is handled as one on an issue:
the run pauses for the queue's retry (its row says "paused", not "running"), and the
UNAVAILABLE_TRIES-th in a row on that repository audits it as failed and the sweep goes on with
the next. It used to raise out of every retry at the same repository: the repositories after it
were never swept, and nothing said why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.jobs.lifecycle import UNAVAILABLE_TRIES, sweep_installation
from bot.ports import GitHubError, Unavailable
from bot.sandbox.fake_github.server import FakeGitHubServer
from tests.lifecycle.http_world import DAY, INST, REPO, asked, bot_bodies, patch_host, world

OTHER = "octo/web"  # swept after octo/api


def _two_repos(fake_github: FakeGitHubServer, tmp_path: Path) -> tuple[Any, Any, int, int]:
    """octo/api and octo/web, an issue each whose maintainer asked its author 8 days ago."""
    st, ctx = world(fake_github, tmp_path)
    st.add_repo(OTHER, INST)
    st.set_permission(OTHER, "mia", "maintain")
    st.put_file(OTHER, ".github/smolbot.yml", st.repos[REPO].files[".github/smolbot.yml"])
    mine = asked(st, st.now() - 9 * DAY)
    i = st.add_issue(OTHER, "Crash", "It crashes.", user="alice", created_at=st.now() - 9 * DAY)
    st.add_comment(OTHER, i.number, "Which version?", user="mia", created_at=st.now() - 8.9 * DAY)
    return st, ctx, mine, i.number


def _failed_rows(ctx: Any) -> list[str]:
    rows = ctx.store.audit_rows(REPO, None, limit=100)
    return [r["reason"] for r in rows if r["outcome"] == "failed" and r["number"] is None]


@pytest.mark.parametrize(
    "match", [f"/repos/{REPO}/issues?", f"/repos/{REPO}/contents/.github/smolbot.yml"]
)
def test_a_5xx_that_persists_on_one_repository_fails_it_and_the_others_are_swept(
    fake_github: FakeGitHubServer, tmp_path: Path, match: str
) -> None:
    st, ctx, mine, other = _two_repos(fake_github, tmp_path)
    st.fail_for(DAY, status=502, match=match)
    for _ in range(UNAVAILABLE_TRIES - 1):  # the job queue's retries of the same run
        with pytest.raises(Unavailable):
            sweep_installation(ctx, INST, run_id="today")
        (row,) = ctx.store.db.execute("select status, repo from sweeps").fetchall()
        assert tuple(row) == ("paused", REPO)
    res = sweep_installation(ctx, INST, run_id="today")
    assert res.status == "done" and res.counts["repos_failed"] == 1
    assert bot_bodies(st, mine) == [] and len(bot_bodies(st, other, OTHER)) == 1
    (why,) = _failed_rows(ctx)
    assert why.startswith(
        f"GitHub failed this repository's config or issue listing {UNAVAILABLE_TRIES} times"
        " this run (GitHub answered 502"
    ), why


def test_a_passing_5xx_on_the_listing_is_retried_by_the_same_run(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx, mine, other = _two_repos(fake_github, tmp_path)
    st.fail_for(30, status=502, match=f"/repos/{REPO}/issues?")
    with pytest.raises(Unavailable):
        sweep_installation(ctx, INST, run_id="today")
    st.advance(31)
    res = sweep_installation(ctx, INST, run_id="today")
    assert res.status == "done" and res.counts.get("repos_failed", 0) == 0
    assert len(bot_bodies(st, mine)) == 1 and len(bot_bodies(st, other, OTHER)) == 1
    assert _failed_rows(ctx) == []


def test_a_listing_refused_for_good_fails_that_repository_only(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """A 403 on one repository's listing (a permission the App lost there): audited once, the
    others swept in the same call, nothing retried."""
    st, ctx, _, other = _two_repos(fake_github, tmp_path)

    def refuse(name: str, host: Any) -> None:
        if name == REPO:

            def list_issues(**kw: Any) -> Any:
                raise GitHubError("GitHub answered 403: Resource not accessible by integration")

            host.list_issues = list_issues

    patch_host(ctx, refuse)
    res = sweep_installation(ctx, INST, run_id="today")
    assert res.status == "done" and res.counts["repos_failed"] == 1
    assert len(bot_bodies(st, other, OTHER)) == 1
    (why,) = _failed_rows(ctx)
    assert "issue listing (GitHub answered 403: Resource not accessible" in why, why


def test_a_5xx_on_the_installation_s_repositories_leaves_the_run_paused_not_running(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx, _, _ = _two_repos(fake_github, tmp_path)
    st.fail_for(30, status=502, match="/installation/repositories")
    with pytest.raises(Unavailable):
        sweep_installation(ctx, INST, run_id="today")
    (row,) = ctx.store.db.execute("select status, error from sweeps").fetchall()
    assert row[0] == "paused" and "502" in row[1], tuple(row)
