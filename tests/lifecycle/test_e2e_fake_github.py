"""End to end over real HTTP: the sweep through the GitHub adapter against the fake GitHub, simulated days."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.markers import markers_in
from bot.github import GitHubApp
from bot.jobs.context import JobContext
from bot.jobs.lifecycle import sweep_installation
from bot.ports import RateLimited
from bot.store import open_store
from tests.fake_github import FakeGitHubServer
from tests.fake_github.plugin import make_settings

INST, DAY = 7, 86400.0
REPOS = ("octo/api", "octo/web")
CONFIG = "lifecycle:\n  days_until_ping: 7\n  days_until_close: 7\n  close: true\n"


def seed(gh: FakeGitHubServer) -> None:
    """Per repo: #1 asked by a maintainer, #2 answered by its author, #3 pinned, #4 needs-info answered."""
    st = gh.state
    t0 = st.now() - 8.5 * DAY
    for repo in REPOS:
        st.add_repo(repo, INST)
        st.set_permission(repo, "mia", "maintain")
        st.put_file(repo, ".github/smolbot.yml", CONFIG)
        st.add_issue(repo, "Crash on start", "It crashes.", user="alice", created_at=t0)
        st.add_comment(repo, 1, "Which version do you run?", user="mia", created_at=t0 + 0.1 * DAY)
        st.add_issue(repo, "Slow export", "Takes minutes.", user="carl", created_at=t0)
        st.add_comment(repo, 2, "Profile please?", user="mia", created_at=t0 + 0.1 * DAY)
        st.add_comment(repo, 2, "Attached.", user="carl", created_at=t0 + 0.2 * DAY)
        st.add_issue(repo, "Roadmap", "Plans.", user="mia", labels=["pinned"], created_at=t0)
        st.add_issue(
            repo, "Login fails", "No details.", user="finn", labels=["needs-info"], created_at=t0
        )
        st.add_comment(repo, 4, "Here is the log.", user="finn", created_at=t0 + 8 * DAY)


def bot_bodies(gh: FakeGitHubServer, repo: str, number: int) -> list[str]:
    return [c.body for c in gh.state.comments(repo, number) if c.user_type == "Bot"]


def test_sweeps_over_http_ping_close_and_survive_a_rate_limit(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st = fake_github.state
    seed(fake_github)
    settings = make_settings(fake_github, tmp_path)
    store = open_store(settings.db_path)

    def clock() -> datetime:
        return datetime.fromtimestamp(st.now(), UTC)

    ctx = JobContext(settings, store, github=GitHubApp(settings, clock=st.now), now=clock)
    st.secondary_limit(1, retry_after=60, match="/comments")  # the first comment write is refused
    with pytest.raises(RateLimited) as err:
        sweep_installation(ctx, INST)
    assert err.value.retry_after_s == 60
    assert next(store.rows("select status from sweeps"))["status"] == "paused"
    st.advance(61)
    res = sweep_installation(ctx, INST)
    assert res.status == "done"
    for repo in REPOS:
        (ping,) = bot_bodies(fake_github, repo, 1)
        assert "@alice" in ping and any(m.startswith("lifecycle:ping:") for m in markers_in(ping))
        (maint,) = bot_bodies(fake_github, repo, 2)
        assert "@mia" in maint
        assert bot_bodies(fake_github, repo, 3) == []
        assert "needs-info" not in st.issue(repo, 4).labels

    st.advance(3 * DAY)
    before = len(st.requests())
    sweep_installation(ctx, INST)
    reads = st.log[before:]
    thread_reads = {e.path for e in reads if e.path.endswith(("/comments", "/timeline"))}
    assert {p.split("/")[-2] for p in thread_reads} == {"1", "2", "4"}  # only what the bot changed
    st.advance(1 * DAY)
    before = len(st.requests())
    sweep_installation(ctx, INST)
    assert len(st.requests()) - before <= 6  # nothing changed: the listing alone decides

    st.advance(4 * DAY)
    sweep_installation(ctx, INST)
    for repo in REPOS:
        assert (
            st.issue(repo, 1).state == "closed" and st.issue(repo, 1).state_reason == "not_planned"
        )
        assert st.issue(repo, 2).state == "open"  # waits on a maintainer: never closed
        assert len(bot_bodies(fake_github, repo, 1)) == 2  # the ping and the closing note
    rows = store.audit_rows("octo/api", 3)
    assert rows and {r["reason"] for r in rows} == {"exempt: label pinned"}


def test_an_issue_deleted_during_the_sweep_is_skipped_and_the_rest_are_swept(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """A maintainer deletes octo/api#1 after the sweep listed it: its thread answers 404. That
    issue is skipped and audited; the others, and the next repository, are still swept."""
    st = fake_github.state
    seed(fake_github)
    settings = make_settings(fake_github, tmp_path)
    store = open_store(settings.db_path)
    app = GitHubApp(settings, clock=st.now)
    listed = app.repo

    def repo(inst: int, name: str):  # type: ignore[no-untyped-def]
        host = listed(inst, name)
        real = host.list_issues

        def listing(*a, **kw):  # type: ignore[no-untyped-def]
            out = list(real(*a, **kw))
            if name == "octo/api":
                st.delete_issue(name, 1)
            return iter(out)

        host.list_issues = listing  # type: ignore[method-assign]
        return host

    app.repo = repo  # type: ignore[method-assign]
    ctx = JobContext(settings, store, github=app, now=lambda: datetime.fromtimestamp(st.now(), UTC))
    res = sweep_installation(ctx, INST)
    assert res.status == "done" and res.counts["gone"] == 1
    (row,) = store.audit_rows("octo/api", 1)
    assert row["outcome"] == "skipped" and "deleted or transferred" in row["reason"]
    assert "@mia" in bot_bodies(fake_github, "octo/api", 2)[0]  # after it, in the same repo
    assert "@alice" in bot_bodies(fake_github, "octo/web", 1)[0]  # and the next repository
