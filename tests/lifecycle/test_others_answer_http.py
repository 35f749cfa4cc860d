"""Someone other than the author and the team replies after the maintainer's question (a co-worker
of the author, another user hitting the same bug): the details may be there, so the wait moves to
the team, as a question from outside the team does. The author is not pinged again, and the issue
is never closed saying nobody answered."""

from __future__ import annotations

from pathlib import Path

from bot.sandbox.fake_github.server import FakeGitHubServer
from tests.lifecycle.http_world import (
    DAY,
    REPO,
    asked,
    awaiting_info,
    bot_bodies,
    reasons,
    sweep,
    world,
)


def test_an_answer_from_a_co_reporter_moves_the_wait_to_the_team(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    number = asked(st, st.now() - 8 * DAY)  # mia: "Which version?" to alice
    sweep(ctx)  # day 8: alice pinged, close announced for 7 days on
    (ping,) = bot_bodies(st, number)
    assert "@alice" in ping
    # the next days, two other people answer the question, with the details asked for
    st.advance(2 * DAY)
    st.add_comment(REPO, number, "Same here: v2.3 on Ubuntu 24.04, log below.", user="bob")
    st.advance(2 * DAY)
    st.add_comment(REPO, number, "alice is on leave; we run 2.3.1 (same team).", user="carol")
    st.advance(4 * DAY)
    sweep(ctx)  # day 16: the close announced for day 15 is off; the team is waited on
    assert (st.issue(REPO, number).state, len(bot_bodies(st, number))) == ("open", 1), reasons(
        ctx, number
    )
    assert "carol replied after the question" in reasons(ctx, number)[-1]
    st.advance(4 * DAY)
    sweep(ctx)  # day 20: a week after carol, quiet: mia (who asked) is pinged, not alice
    pings = bot_bodies(st, number)
    assert len(pings) == 2 and "@mia" in pings[-1] and "carol replied on" in pings[-1], pings
    assert "@alice" not in pings[-1]
    for _ in range(3):  # nobody from the team answers: left for the digest, never closed
        st.advance(8 * DAY)
        sweep(ctx)
    assert (st.issue(REPO, number).state, len(bot_bodies(st, number))) == ("open", 2), reasons(
        ctx, number
    )


def test_a_co_reporter_s_reply_under_needs_info_moves_the_wait_to_the_team(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    t0 = st.now() - 8 * DAY
    issue = awaiting_info(st, t0)
    st.add_comment(REPO, issue.number, "Same here on 2.3.1, log attached.", user="bob")
    for _ in range(3):
        sweep(ctx)
        st.advance(8 * DAY)
    assert (st.issue(REPO, issue.number).state, bot_bodies(st, issue.number)) == ("open", [])
    assert any("bob replied after the question" in r for r in reasons(ctx, issue.number))
