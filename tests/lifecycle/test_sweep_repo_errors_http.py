"""A fault that is not GitHub's, met on one repository's data (a timeline date Python cannot read,
a day count the arithmetic overflows on), stops that repository's sweep only: audited in one line,
and the repositories after it in the installation are swept as on any day."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.sandbox.fake_github.server import FakeGitHubServer
from bot.sandbox.fake_github.state import FakeGitHub as FakeState
from tests.lifecycle.http_world import DAY, INST, REPO, asked, bot_bodies, sweep, world

OTHER = "octo/zzz"  # swept after octo/api


def other_repo(st: FakeState) -> int:
    """octo/zzz, with an issue its maintainer asked about 8 days ago: due a ping."""
    st.add_repo(OTHER, INST)
    st.set_permission(OTHER, "mia", "maintain")
    st.put_file(OTHER, ".github/smolbot.yml", "lifecycle:\n  days_until_ping: 7\n")
    other = st.add_issue(OTHER, "Crash", "It crashes.", user="alice", created_at=st.now() - 9 * DAY)
    st.add_comment(OTHER, other.number, "Which version?", user="mia", created_at=st.now() - 8 * DAY)
    return other.number


def test_a_date_no_one_can_read_stops_that_repository_only(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    bad = asked(st, st.now() - 20 * DAY)
    st.add_raw_event(
        REPO,
        bad,
        {
            "event": "labeled",
            "actor": {"login": "mia", "type": "User"},
            "created_at": "2026-02-30T10:00:00Z",  # no such day
            "label": {"name": "bug"},
        },
    )
    other = other_repo(st)
    res = sweep(ctx)  # must not raise; octo/zzz is swept
    assert (res.status, res.counts.get("repos_failed")) == ("done", 1)
    assert len(bot_bodies(st, other, OTHER)) == 1
    (row,) = [r for r in ctx.store.audit_rows(REPO, None, limit=100) if r["outcome"] == "failed"]
    assert row["reason"] == (
        "sweep of this repository stopped before any of its issues was done (ValueError: day"
        " is out of range for month); the sweep went on with the next repository"
    )


@pytest.mark.parametrize(
    "huge",
    [
        "lifecycle:\n  days_until_ping: 1000000000\n",
        "lifecycle:\n  days_until_ping: 7\n  days_until_close: 5000000\n  close: true\n",
    ],
)
def test_a_huge_day_count_is_refused_or_harmless(
    fake_github: FakeGitHubServer, tmp_path: Path, huge: str
) -> None:
    st, ctx = world(fake_github, tmp_path, huge)
    asked(st, st.now() - 20 * DAY)
    sweep(ctx)  # octo/api's first sweep: pinged when days_until_close is the huge one
    st.advance(8 * DAY)
    other = other_repo(st)
    sweep(ctx)  # must not raise; octo/zzz is swept
    assert len(bot_bodies(st, other, OTHER)) == 1


@pytest.mark.parametrize("status", [410, 404])
def test_a_repository_whose_issues_github_refuses_holds_back_no_other(
    fake_github: FakeGitHubServer, tmp_path: Path, status: int
) -> None:
    """GitHub answers 410 "Issues are disabled for this repo" to the listing of a repository with
    Issues switched off (404: it left the installation since the repositories were listed): one
    audit row, and the repositories after it are swept, today and on the next run."""
    st, ctx = world(fake_github, tmp_path)
    asked(st, st.now() - 9 * DAY)
    other = other_repo(st)
    st.fail_for(30 * DAY, status=status, match=f"/repos/{REPO}/issues")
    res = sweep(ctx)
    assert (res.status, res.counts.get("repos_refused")) == ("done", 1)
    assert len(bot_bodies(st, other, OTHER)) == 1
    (row,) = [r for r in ctx.store.audit_rows(REPO, None, limit=100) if r["action"] == "lifecycle"]
    assert row["outcome"] == "skipped" and "Issues switched off" in row["reason"], row
