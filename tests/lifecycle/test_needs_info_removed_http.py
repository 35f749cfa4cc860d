"""A maintainer takes needs-info off (they reproduced it themselves; the info is no longer needed):
the wait on the author for the question before it ends, so the author is neither pinged again nor
the issue closed. The bot's own removal (the author answered) or a newer question does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.lifecycle import Thread, waiting_on
from bot.ports import CommentData, EventData
from bot.sandbox.fake_github.server import FakeGitHubServer
from tests.lifecycle.fakes import BOT, comment, day, iso, issue
from tests.lifecycle.http_world import DAY, REPO, awaiting_info, bot_bodies, reasons, sweep, world


def test_removing_needs_info_ends_the_wait_on_the_author(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    t0 = st.now() - 8 * DAY
    issue = awaiting_info(st, t0, question="Which version do you run?")
    n = issue.number
    sweep(ctx)
    assert len(bot_bodies(st, n)) == 1  # the ping to alice, close announced
    st.advance(DAY)  # mia reproduces it on 2.3 herself and takes needs-info off
    issue.labels = []
    st.add_event(REPO, n, "unlabeled", "mia", label="needs-info")
    issue.updated_at = st.now()
    for _ in range(3):
        st.advance(8 * DAY)
        sweep(ctx)
    assert (st.issue(REPO, n).state, len(bot_bodies(st, n))) == ("open", 1), reasons(ctx, n)
    assert "not waiting: needs-info was taken off after mia's last comment" in reasons(ctx, n)


ASKED = comment(1, "mia", "Which version do you run?", 1, "MEMBER")


@pytest.mark.parametrize(
    ("comments", "actor", "kind", "on"),
    [
        ([ASKED], "mia", "User", "nobody"),  # a maintainer took it off after the question
        ([ASKED], BOT, "Bot", "author"),  # the bot's own removal decides nothing
        ([ASKED, comment(2, "mia", "And the OS?", 3, "MEMBER")], "mia", "User", "author"),
    ],
)
def test_who_waits_after_needs_info_comes_off(
    comments: list[CommentData], actor: str, kind: str, on: str
) -> None:
    events = (
        EventData("labeled", "mia", iso(day(1.1)), label="needs-info"),
        EventData("unlabeled", actor, iso(day(2)), kind, label="Needs-Info"),
    )
    t = Thread(issue(), tuple(comments), events)
    assert waiting_on(t, BOT).on == on
