"""Re-pings and closes over simulated days, over HTTP against the fake GitHub: which pings count
for which wait, what a ping announced, a close retried."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.core.markers import markers_in, with_marker
from bot.sandbox.fake_github.model import iso
from bot.sandbox.fake_github.server import FakeGitHubServer
from tests.lifecycle.http_world import (
    DAY,
    REPO,
    asked,
    bot_bodies,
    patch_host,
    reasons,
    sweep,
    world,
)

BOT = "smolbot[bot]"


def old_ping(st: Any, number: int, body: str, at: float) -> None:
    """A ping as the bot wrote it before its marker named whom it pinged."""
    marked = with_marker(body, f"lifecycle:ping:{iso(at)[:10]}")
    st.add_comment(REPO, number, marked, user=BOT, user_type="Bot", created_at=at)


def test_an_author_answer_racing_the_ping_still_gets_the_maintainer_pinged(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """alice answers after the sweep read the thread and before its ping to her is posted: that
    ping counted as "already pinged" for the wait on mia that follows, so mia never was."""
    st, ctx = world(fake_github, tmp_path)
    number = asked(st, st.now() - 8 * DAY)

    def race(name: str, host: Any) -> None:
        post = host.create_comment

        def create_comment(n: int, body: str) -> int:  # her answer lands a second before
            st.add_comment(REPO, n, "v2.3, sorry", user="alice", created_at=st.now() - 1)
            host.create_comment = post
            return int(post(n, body))

        host.create_comment = create_comment

    patch_host(ctx, race)
    sweep(ctx)
    (ping,) = bot_bodies(st, number)
    assert "@alice" in ping and any(m.endswith(":author") for m in markers_in(ping))
    st.advance(8 * DAY)  # it has waited on mia for 8 days
    sweep(ctx)
    bodies = bot_bodies(st, number)
    assert len(bodies) == 2 and bodies[1].startswith("Hi @mia, alice answered on "), reasons(
        ctx, number
    )
    assert any(m.endswith(":maintainer") for m in markers_in(bodies[1]))


def test_old_ping_markers_count_for_whom_their_words_pinged(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """Pings of before (lifecycle:ping:<date>, no party): the words say whom they pinged. An old
    ping to the author does not count for the wait on a maintainer; an old ping to the
    maintainer does."""
    st, ctx = world(fake_github, tmp_path)
    t0 = st.now() - 20 * DAY
    to_author = asked(st, t0)
    old_ping(st, to_author, "Hi @alice, this issue is waiting for your reply.", t0 + 8 * DAY)
    st.add_comment(REPO, to_author, "Sorry: 2.3", user="alice", created_at=t0 + 8 * DAY - 1)
    to_team = asked(st, t0)
    st.add_comment(REPO, to_team, "Sorry: 2.3", user="alice", created_at=t0 + DAY)
    team_words = "Hi @mia, alice answered on x and this issue is waiting for a maintainer's reply."
    old_ping(st, to_team, team_words, t0 + 9 * DAY)
    sweep(ctx)
    assert len(bot_bodies(st, to_author)) == 2  # mia pinged now
    assert bot_bodies(st, to_author)[1].startswith("Hi @mia")
    assert len(bot_bodies(st, to_team)) == 1  # mia was pinged already
