"""The run's write cap when the summary after a ping fails, swept over HTTP against the fake
GitHub: the ping was written, so it counts, whatever the summary step did after it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.core.markers import marker
from bot.core.summary import SUMMARY_MARK
from bot.jobs.context import JobContext
from bot.jobs.lifecycle import SweepResult, sweep_installation
from bot.jobs.summarize import auto_summarize
from bot.ports import NotFound, Unavailable
from bot.sandbox.fake_github.server import FakeGitHubServer
from bot.sandbox.fake_github.state import FakeGitHub as FakeState
from tests.lifecycle.http_world import CLOSE_OFF, DAY, INST, REPO, bot_bodies, patch_host, world

OTHER = "octo/web"
SUMMARIES = "summaries:\n  auto_after_comments: 2\n"


def long_asked(st: FakeState, repo: str, n: int) -> None:
    """n issues alice opened 8 days ago, each with two comments of mia's, the last a question:
    each is due a ping, and long enough for a summary."""
    t0 = st.now() - 8 * DAY
    for _ in range(n):
        i = st.add_issue(repo, "Crash", "It crashes on start.", user="alice", created_at=t0)
        st.add_comment(repo, i.number, "Thanks for the report.", user="mia", created_at=t0 + 60)
        st.add_comment(repo, i.number, "Which version?", user="mia", created_at=t0 + 120)


def fails_once(
    ctx: JobContext, error: Exception, on: tuple[str, int], summary: bool = True
) -> None:
    """GitHub fails a comment on issue `on` once: the summary (posted after the ping there was
    written), or (summary False) the ping itself."""
    failed: list[bool] = []

    def change(name: str, host: Any) -> None:
        post = host.create_comment

        def create_comment(number: int, body: str) -> int:
            said = (marker(SUMMARY_MARK) in body) == summary
            if (name, number) == on and said and not failed:
                failed.append(True)
                raise error
            return int(post(number, body))

        host.create_comment = create_comment

    patch_host(ctx, change)


def pings(st: FakeState, repo: str) -> int:
    return sum(
        1 for n in st.repos[repo].issues for b in bot_bodies(st, n, repo) if b.startswith("Hi @")
    )


def run(ctx: JobContext, run_id: str, **kw: Any) -> SweepResult:
    return sweep_installation(ctx, INST, run_id=run_id, summarize=auto_summarize, **kw)


@pytest.mark.parametrize("cap", [1, 2])
def test_a_ping_whose_summary_failed_counts_against_the_repository_cap(
    fake_github: FakeGitHubServer, tmp_path: Path, cap: int
) -> None:
    """The summary after #1's ping answers 502: the run pauses for a retry, and its tally did not
    have the ping, so the retried run pinged `cap` more issues: cap + 1 writes."""
    config = f"{CLOSE_OFF}  max_operations_per_run: {cap}\n{SUMMARIES}"
    st, ctx = world(fake_github, tmp_path, config)
    long_asked(st, REPO, 3)
    fails_once(ctx, Unavailable("GitHub answered 502"), on=(REPO, 1))
    with pytest.raises(Unavailable):
        run(ctx, "day-1")
    assert pings(st, REPO) == 1
    res = run(ctx, "day-1")  # the queue's retry of the same run
    assert res.status == "done"
    assert pings(st, REPO) == cap and res.operations == cap


def test_a_ping_whose_issue_went_before_its_summary_counts_against_the_installation_cap(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """#1 on octo/api is gone (transferred) by the time its summary is posted, after its ping:
    the sweep goes on, and octo/web had the whole installation cap of 2 left."""
    st, ctx = world(fake_github, tmp_path, CLOSE_OFF + SUMMARIES)
    st.add_repo(OTHER, INST)
    st.set_permission(OTHER, "mia", "maintain")
    st.put_file(OTHER, ".github/smolbot.yml", CLOSE_OFF + SUMMARIES)
    long_asked(st, REPO, 1)
    long_asked(st, OTHER, 2)
    fails_once(ctx, NotFound("GitHub answered 404: Not Found"), on=(REPO, 1))
    res = run(ctx, "day-1", max_operations=2)
    assert res.status == "done" and res.counts["gone"] == 1
    assert (pings(st, REPO), pings(st, OTHER)) == (1, 1) and res.operations == 2


def test_a_ping_github_failed_is_not_counted_twice_when_the_run_is_retried(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """The ping on #1 answers 502 (nothing written): the retried run writes it and one more,
    under a cap of 2; a failed write that counted would leave room for the first only."""
    st, ctx = world(fake_github, tmp_path, f"{CLOSE_OFF}  max_operations_per_run: 2\n")
    long_asked(st, REPO, 3)
    fails_once(ctx, Unavailable("GitHub answered 502"), on=(REPO, 1), summary=False)
    with pytest.raises(Unavailable):
        sweep_installation(ctx, INST, run_id="day-1")
    assert pings(st, REPO) == 0
    res = sweep_installation(ctx, INST, run_id="day-1")
    assert res.status == "done" and pings(st, REPO) == 2 and res.operations == 2
