"""max_operations_per_run counts writes, and a close is two (its note and the close): a cap of 1
refused every close for ever. A cap nothing was spent under yet this run takes one whole decision
over it; the next waits for the next run, and a cap of 0 still writes nothing."""

from __future__ import annotations

from pathlib import Path

from bot.sandbox.fake_github.server import FakeGitHubServer
from tests.lifecycle.http_world import CLOSE_ON, DAY, REPO, asked, bot_bodies, reasons, sweep, world


def test_a_cap_of_one_write_closes_one_issue_a_run(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path, CLOSE_ON + "  max_operations_per_run: 1\n")
    first, second = (asked(st, st.now() - 8 * DAY) for _ in range(2))
    sweep(ctx)  # the first ping: one write, the cap
    sweep(ctx)  # the second
    assert [len(bot_bodies(st, n)) for n in (first, second)] == [1, 1]
    st.advance(8 * DAY)
    res = sweep(ctx)  # both are due to close: the first takes the run, the second waits
    assert res.operations == 2, res.counts
    states = [st.issue(REPO, n).state for n in (first, second)]
    assert states == ["closed", "open"], reasons(ctx, second)
    assert reasons(ctx, second)[0].startswith("operation cap reached: lifecycle.max_operations")
    sweep(ctx)
    assert st.issue(REPO, second).state == "closed", reasons(ctx, second)


def test_a_cap_of_zero_writes_nothing(fake_github: FakeGitHubServer, tmp_path: Path) -> None:
    st, ctx = world(fake_github, tmp_path, CLOSE_ON + "  max_operations_per_run: 0\n")
    number = asked(st, st.now() - 20 * DAY)
    for _ in range(3):
        sweep(ctx)
        st.advance(8 * DAY)
    assert (bot_bodies(st, number), st.writes()) == ([], [])
