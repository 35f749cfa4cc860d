"""The sweep when GitHub refuses one issue, over HTTP against the fake GitHub."""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.coord.jobs import get_job
from bot.core.lifecycle import described_as, description_hash
from bot.core.markers import with_marker
from bot.jobs.lifecycle import UNAVAILABLE_TRIES, SweepBusy, sweep_installation, sweep_lock_key
from bot.ports import GitHubError, Unavailable
from bot.sandbox.fake_github.model import iso
from bot.sandbox.fake_github.server import FakeGitHubServer
from bot.settings import get_settings
from tests.fake_github.plugin import point_cli_at
from tests.lifecycle.http_world import (
    DAY,
    INST,
    REPO,
    asked,
    bot_bodies,
    context,
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


def test_smolbot_sweep_refuses_while_another_sweep_holds_the_lock(
    fake_github: FakeGitHubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`smolbot sweep` took no lock: beside the daily job it pinged the same authors twice. It
    takes the job's lock now (sweep:<installation>), and says so in one line when it is held."""
    st, ctx = world(fake_github, tmp_path)
    asked(st, st.now() - 60 * DAY)
    monkeypatch.chdir(tmp_path)  # no .env of the checkout's
    for name in ("SMOLBOT_DATABASE_URL", "SMOLBOT_DASHBOARD_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    point_cli_at(fake_github, tmp_path, monkeypatch)
    assert get_job("lifecycle_sweep").lock({"installation_id": INST}) == sweep_lock_key(INST)
    ctx.store.db.execute(  # the scheduled job's worker, in another process, holds it
        "insert into coord_locks (key, owner, expires_at) values (?, ?, ?)",
        [sweep_lock_key(INST), "worker-1", time.time() + 600],
    )
    ctx.store.db.conn.commit()
    try:
        out = CliRunner().invoke(cli, ["sweep", "--installation", str(INST)])
        assert out.exit_code == 1
        assert out.output.strip().splitlines() == [
            f"Error: a lifecycle sweep of installation {INST} is running (the daily job or"
            " another smolbot sweep); run this again once it has finished"
        ]
        assert st.writes() == [] and bot_bodies(st, 1) == []
        ctx.store.db.execute("delete from coord_locks")
        ctx.store.db.conn.commit()
        out = CliRunner().invoke(cli, ["sweep", "--installation", str(INST)])
        assert out.exit_code == 0, out.output
        assert len(bot_bodies(st, 1)) == 1
    finally:
        get_settings.cache_clear()


def test_two_sweeps_at_once_ping_once(fake_github: FakeGitHubServer, tmp_path: Path) -> None:
    """Two sweeps of one installation at once, each with its own store connection and GitHub
    client as two processes have: one runs, the other is refused (SweepBusy)."""
    st, _ = world(fake_github, tmp_path)
    asked(st, st.now() - 8 * DAY)
    st.slow(0.5, "/timeline")
    refused: list[BaseException] = []

    def other_process(run_id: str) -> None:
        try:
            sweep_installation(context(fake_github, tmp_path), INST, run_id=run_id)
        except SweepBusy as err:
            refused.append(err)

    runs = [threading.Thread(target=other_process, args=(r,)) for r in ("daily", "cli")]
    for t in runs:
        t.start()
    for t in runs:
        t.join()
    assert len(bot_bodies(st, 1)) == 1 and len(refused) == 1


def test_the_ping_is_not_posted_when_another_sweep_posted_it_since_the_thread_was_read(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """Another sweep (or a retried job beside a re-queued one) posts the same ping after this one
    read the thread: the check for the ping's marker read that copy, and posted a second ping.
    It reads the comments again just before posting."""
    st, ctx = world(fake_github, tmp_path)
    asked(st, st.now() - 8 * DAY)
    day = iso(st.now())[:10]

    def the_other_sweep_posts(name: str, host: Any) -> None:
        events = host.issue_events

        def issue_events(number: int) -> Any:  # the thread's last read: then the other posts
            got = events(number)
            # the issue as the other sweep saw it
            text, alone = described_as("Crash", "It crashes."), description_hash("It crashes.")
            mark = f"lifecycle:ping:{day}:author:close7:text{text}:body{alone}"
            body = with_marker("Hi @alice, ...", mark)
            st.add_comment(REPO, number, body, user="smolbot[bot]", user_type="Bot")
            return got

        host.issue_events = issue_events

    patch_host(ctx, the_other_sweep_posts)
    sweep(ctx)
    assert len(bot_bodies(st, 1)) == 1
    (row,) = [r for r in ctx.store.audit_rows(REPO, 1) if r["action"] == "comment"]
    assert row["outcome"] == "skipped" and row["reason"].startswith("already commented ("), row


def test_a_sweep_whose_lock_was_taken_over_stops(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """The lock's lease is renewed after every issue; a sweep that lost it (paused past the lease,
    and another sweep took the key) stops instead of sweeping beside the new holder: here taken
    while the first issue was read, so not even its ping is written (it is the new holder's)."""
    st, ctx = world(fake_github, tmp_path)
    first, second = asked(st, st.now() - 8 * DAY), asked(st, st.now() - 8 * DAY)

    def taken_over(name: str, host: Any) -> None:
        events = host.issue_events

        def issue_events(number: int) -> Any:
            other = context(fake_github, tmp_path).store
            other.db.execute("update coord_locks set owner = 'worker-2' where key like 'sweep:%'")
            other.db.conn.commit()
            return events(number)

        host.issue_events = issue_events

    patch_host(ctx, taken_over)
    with pytest.raises(SweepBusy, match="another sweep took it"):
        sweep(ctx)
    assert bot_bodies(st, first) == [] and bot_bodies(st, second) == []


def test_a_sweep_whose_lock_was_taken_after_an_issue_stops_before_the_next(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """Taken over once the first issue's ping was written: the renewal after that issue says so."""
    st, ctx = world(fake_github, tmp_path)
    first, second = asked(st, st.now() - 8 * DAY), asked(st, st.now() - 8 * DAY)

    def taken_over(name: str, host: Any) -> None:
        create = host.create_comment

        def create_comment(number: int, body: str) -> Any:
            made = create(number, body)
            other = context(fake_github, tmp_path).store
            other.db.execute("update coord_locks set owner = 'worker-2' where key like 'sweep:%'")
            other.db.conn.commit()
            return made

        host.create_comment = create_comment

    patch_host(ctx, taken_over)
    with pytest.raises(SweepBusy, match="lease ran out and another sweep took it"):
        sweep(ctx)
    assert len(bot_bodies(st, first)) == 1 and bot_bodies(st, second) == []
