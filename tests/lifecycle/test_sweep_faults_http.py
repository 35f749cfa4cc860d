"""The sweep when GitHub refuses one issue, over HTTP against the fake GitHub."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from bot.jobs.lifecycle import UNAVAILABLE_TRIES, sweep_installation
from bot.ports import GitHubError, Unavailable
from bot.sandbox.fake_github.server import FakeGitHubServer
from tests.lifecycle.http_world import (
    DAY,
    INST,
    REPO,
    bot_bodies,
    patch_host,
    reasons,
    sweep,
    world,
)

OTHER = "octo/web"


def two_repos(fake_github: FakeGitHubServer, tmp_path: Path) -> tuple[Any, Any]:
    """octo/api and octo/web, three asked issues each."""
    st, ctx = world(fake_github, tmp_path)
    st.add_repo(OTHER, INST)
    st.set_permission(OTHER, "mia", "maintain")
    st.put_file(OTHER, ".github/smolbot.yml", st.repos[REPO].files[".github/smolbot.yml"])
    t0 = st.now() - 8 * DAY
    for repo in (REPO, OTHER):
        for _ in range(3):
            i = st.add_issue(repo, "Crash", "It crashes.", user="alice", created_at=t0)
            st.add_comment(repo, i.number, "Which version?", user="mia", created_at=t0 + DAY / 10)
    return st, ctx


def test_a_write_refused_for_good_fails_that_issue_and_the_sweep_goes_on(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """GitHub answers 403 to the ping on octo/api#1 (a comment limit, a missing permission):
    that raised out of the whole sweep, before the issues after it and every repository after
    it, on every day's run. Now #1 is audited as failed and the rest are swept."""
    st, ctx = two_repos(fake_github, tmp_path)

    def refuse(name: str, host: Any) -> None:
        post = host.create_comment

        def create_comment(number: int, body: str) -> int:
            if name == REPO and number == 1:
                raise GitHubError("GitHub answered 403: Resource not accessible by integration")
            return int(post(number, body))

        host.create_comment = create_comment

    patch_host(ctx, refuse)
    res = sweep(ctx)
    assert res.status == "done" and res.counts["failed"] == 1
    assert {f"{r}#{n}": len(bot_bodies(st, n, r)) for r in (REPO, OTHER) for n in (1, 2, 3)} == {
        f"{REPO}#1": 0,
        f"{REPO}#2": 1,
        f"{REPO}#3": 1,
        f"{OTHER}#1": 1,
        f"{OTHER}#2": 1,
        f"{OTHER}#3": 1,
    }
    (why,) = [r for r in reasons(ctx, 1) if "failed" in r]
    assert "403: Resource not accessible by integration" in why
    rows = ctx.store.audit_rows(REPO, 1)
    assert any(r["outcome"] == "failed" for r in rows)


def test_a_5xx_that_persists_on_one_issue_fails_it_after_the_run_s_retries(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """A 502 on one issue's timeline: the run pauses for the queue's retry (a 5xx passes), and the
    UNAVAILABLE_TRIES-th in a row on that issue fails it and the run goes on."""
    st, ctx = two_repos(fake_github, tmp_path)
    st.fail_for(10 * DAY, status=502, match=f"/repos/{REPO}/issues/2/timeline")
    for _ in range(UNAVAILABLE_TRIES - 1):
        with pytest.raises(Unavailable):
            sweep_installation(ctx, INST, run_id="today")
        (row,) = ctx.store.db.execute("select status, issue from sweeps").fetchall()
        assert tuple(row) == ("paused", 1)
    res = sweep_installation(ctx, INST, run_id="today")
    assert res.status == "done" and res.counts["failed"] == 1
    assert bot_bodies(st, 2) == [] and len(bot_bodies(st, 3)) == 1
    assert len(bot_bodies(st, 1, OTHER)) == 1
    assert any(f"failed this issue {UNAVAILABLE_TRIES} times" in r for r in reasons(ctx, 2))


def test_a_passing_5xx_is_retried_by_the_same_run(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = two_repos(fake_github, tmp_path)
    st.fail_for(30, status=502, match=f"/repos/{REPO}/issues/2/timeline")
    with contextlib.suppress(Unavailable):
        sweep_installation(ctx, INST, run_id="today")
    st.advance(31)
    res = sweep_installation(ctx, INST, run_id="today")
    assert res.status == "done" and res.counts.get("failed", 0) == 0
    assert [len(bot_bodies(st, n)) for n in (1, 2, 3)] == [1, 1, 1]
