"""The ping to a maintainer dates what it waits on: "alice answered on <the answer's day>" (or
"bob asked something on <the question's day>"), not the wait's clock, which a label a maintainer
added days later moves."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.sandbox.fake_github.server import FakeGitHubServer
from tests.lifecycle.http_world import DAY, REPO, bot_bodies, sweep, world


@pytest.mark.parametrize(
    ("second", "said"),
    [
        (("2.3.1", "alice"), "alice answered on"),
        (("Does it happen on 2.4 too?", "bob"), "bob asked something on"),
    ],
)
def test_the_maintainer_ping_dates_the_answer_it_waits_on(
    fake_github: FakeGitHubServer, tmp_path: Path, second: tuple[str, str], said: str
) -> None:
    st, ctx = world(fake_github, tmp_path)
    t0 = st.now() - 20 * DAY
    issue = st.add_issue(REPO, "Crash", "It crashes.", user="alice", created_at=t0)
    n = issue.number
    st.add_comment(REPO, n, "Thanks, looking.", user="mia", created_at=t0 + 60)
    body, user = second
    answer = st.add_comment(REPO, n, body, user=user, created_at=t0 + DAY)
    st.add_event(REPO, n, "labeled", "mia", label="bug", created_at=t0 + 3 * DAY)
    issue.labels = ["bug"]
    sweep(ctx)
    (ping,) = bot_bodies(st, n)
    day = datetime.fromtimestamp(answer.created_at, UTC).date().isoformat()
    assert f"{said} {day}" in ping, ping.splitlines()[0]
