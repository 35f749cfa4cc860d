"""The run's write cap counts what GitHub took, swept over HTTP against the fake GitHub: an
action the Performer skipped (its ping found posted by another sweep since the thread was
read) wrote nothing, so it goes back to the budget, and the cap is never passed all the same.
A dry-run's would-be write counts (the preview predicts what the run would write)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.core.actions import Comment, RemoveLabel
from bot.core.lifecycle import described_as, description_hash
from bot.core.markers import with_marker
from bot.jobs.lifecycle import Budget, _perform
from bot.jobs.perform import Performer, Target
from bot.sandbox.fake_github.model import iso
from bot.sandbox.fake_github.server import FakeGitHubServer
from bot.sandbox.fake_github.state import FakeGitHub as FakeState
from tests.lifecycle.http_world import (
    CLOSE_ON,
    DAY,
    INST,
    REPO,
    asked,
    bot_bodies,
    patch_host,
    reasons,
    sweep,
    world,
)

BOT = "smolbot[bot]"
CAPPED = "operation cap reached: lifecycle.max_operations_per_run"


def ping_mark(at: float) -> str:
    """The marker of the ping to alice, closing on, that `asked` issues get on the day of `at`."""
    text, alone = described_as("Crash", "It crashes."), description_hash("It crashes.")
    return f"lifecycle:ping:{iso(at)[:10]}:author:close7:text{text}:body{alone}"


def another_sweep_pings(st: FakeState, raced: set[int]) -> Any:
    """Another sweep posts the ping on the `raced` issues once this one read their thread: this
    one's Performer reads the comments again, finds it, and skips its own."""

    def change(name: str, host: Any) -> None:
        events = host.issue_events

        def issue_events(number: int) -> Any:  # the thread's last read: then the other posts
            got = events(number)
            if number in raced:
                body = with_marker("Hi @alice, ...", ping_mark(st.now()))
                st.add_comment(REPO, number, body, user=BOT, user_type="Bot")
            return got

        host.issue_events = issue_events

    return change


def test_pings_found_posted_leave_the_cap_to_real_writes(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """A cap of 2: #1 and #2's pings are found posted by another sweep (skipped), #3 to #5 need
    one. The skipped pings took the whole cap, so no ping was written; now #3 and #4 are pinged
    and #5 waits for the next run."""
    st, ctx = world(fake_github, tmp_path, CLOSE_ON + "  max_operations_per_run: 2\n")
    numbers = [asked(st, st.now() - 8 * DAY) for _ in range(5)]
    patch_host(ctx, another_sweep_pings(st, {1, 2}))
    res = sweep(ctx)
    assert len(st.writes()) == 2 and res.operations == 2, (st.writes(), res.counts)
    assert [len(bot_bodies(st, n)) for n in numbers] == [1, 1, 1, 1, 0]
    for n in (1, 2):
        (row,) = [r for r in ctx.store.audit_rows(REPO, n) if r["action"] == "comment"]
        assert row["outcome"] == "skipped" and row["reason"].startswith("already commented")
    assert reasons(ctx, 5)[0].startswith(CAPPED), reasons(ctx, 5)


def test_a_skipped_ping_leaves_the_cap_untouched_for_a_close(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """A cap of 1: #1's ping is skipped, so nothing was written yet and #2's close (its note and
    the close: one whole decision over an untouched cap) is made this run; #3's ping waits."""
    st, ctx = world(fake_github, tmp_path, CLOSE_ON + "  max_operations_per_run: 1\n")
    first = asked(st, st.now() - 8 * DAY)
    due = asked(st, st.now() - 20 * DAY)
    pinged = st.now() - 10 * DAY
    body = with_marker("Hi @alice, ...", ping_mark(pinged))
    st.add_comment(REPO, due, body, user=BOT, user_type="Bot", created_at=pinged)
    last = asked(st, st.now() - 8 * DAY)
    patch_host(ctx, another_sweep_pings(st, {first}))
    res = sweep(ctx)
    assert st.issue(REPO, due).state == "closed", reasons(ctx, due)
    assert len(st.writes()) == 2 and res.operations == 2, (st.writes(), res.counts)
    assert bot_bodies(st, last) == [] and reasons(ctx, last)[0].startswith(CAPPED)


def test_a_dry_run_counts_what_it_would_write_not_what_it_skipped(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """In a dry-run the label not there is skipped as live (given back); the ping it would
    post counts, as the live run's would."""
    st, ctx = world(fake_github, tmp_path)
    number = asked(st, st.now() - 8 * DAY)
    assert ctx.github is not None
    host = ctx.github.repo(INST, REPO)
    target = Target(REPO, number, "lifecycle", dry_run=True, bot_login=BOT)
    budget = Budget(installation_left=5, repo_left=2)
    actions = budget.admit(
        [RemoveLabel("needs-info", "the author answered"), Comment("Hi", ping_mark(st.now()), "")]
    )
    _, results = _perform(Performer(host, ctx.store, target), actions, budget)
    assert results == ["skipped", "dry-run"] and st.writes() == []
    assert (budget.repo_left, budget.installation_left) == (1, 4)
