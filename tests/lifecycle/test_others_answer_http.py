"""Someone other than the author answers the maintainer's question (a co-worker of the author,
another user hitting the same bug): the wait on the author starts again from their comment, so the
issue is not closed "nobody answered"; a close needs a fresh ping nobody answered."""

from __future__ import annotations

from pathlib import Path

from bot.sandbox.fake_github.server import FakeGitHubServer
from tests.lifecycle.http_world import DAY, REPO, asked, bot_bodies, reasons, sweep, world


def test_an_answer_from_a_co_reporter_restarts_the_wait(
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
    sweep(ctx)  # day 16: the close announced for day 15 is off; carol spoke 4 days ago
    assert (st.issue(REPO, number).state, len(bot_bodies(st, number))) == ("open", 1), reasons(
        ctx, number
    )
    st.advance(4 * DAY)
    sweep(ctx)  # day 20: a week after carol, quiet again: a new ping, close announced again
    assert len(bot_bodies(st, number)) == 2, reasons(ctx, number)
    assert st.issue(REPO, number).state == "open"
    st.advance(8 * DAY)
    sweep(ctx)  # nobody spoke since that ping: now it closes
    assert st.issue(REPO, number).state == "closed", reasons(ctx, number)
