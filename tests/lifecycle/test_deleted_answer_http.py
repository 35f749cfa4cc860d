"""The author answers, the sweep takes needs-info off ("the author answered"), then the author
deletes that comment (it held a token, say). The bot's own removal of needs-info records the
answer: the ping from before it no longer counts, so the issue is pinged again before any close,
instead of being closed at once "nobody answered"."""

from __future__ import annotations

from pathlib import Path

from bot.sandbox.fake_github.server import FakeGitHubServer
from tests.lifecycle.http_world import DAY, REPO, awaiting_info, bot_bodies, reasons, sweep, world


def test_a_deleted_answer_gets_a_new_ping_before_any_close(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    t0 = st.now() - 8 * DAY
    n = awaiting_info(st, t0, question="Which version do you run?").number
    sweep(ctx)  # day 8: the ping to alice, close in 7 days
    st.advance(2 * DAY)
    answer = st.add_comment(REPO, n, "2.3.1, log: GH_TOKEN=ghp_xxx ...", user="alice")
    st.advance(DAY)
    sweep(ctx)  # day 11: needs-info comes off: "the author answered"
    assert "needs-info" not in st.issue(REPO, n).labels
    st.advance(DAY)  # alice deletes her comment (it held a token)
    del st.repos[REPO].comments[answer.id]
    st.issue(REPO, n).comment_ids.remove(answer.id)
    st.advance(4 * DAY)
    sweep(ctx)  # day 16: the close the first ping announced is off
    assert (st.issue(REPO, n).state, len(bot_bodies(st, n))) == ("open", 1), reasons(ctx, n)[-2:]
    st.advance(3 * DAY)
    sweep(ctx)  # day 19: a week after needs-info came off, a new ping, the close announced
    assert (st.issue(REPO, n).state, len(bot_bodies(st, n))) == ("open", 2), reasons(ctx, n)[-2:]
    st.advance(8 * DAY)
    sweep(ctx)
    assert st.issue(REPO, n).state == "closed", reasons(ctx, n)[-2:]
