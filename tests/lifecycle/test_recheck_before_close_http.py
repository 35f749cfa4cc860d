"""Right before a close the issue, its comments and timeline are read again and decided again:
(a) a maintainer who closed the issue as completed after the listing gets no "Closing as not
planned" note and keeps the reason; (b) the author's answer arriving after the thread was read
stops the close. The called-off close is audited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def test_an_issue_closed_by_a_maintainer_after_the_listing_is_not_reclosed_as_not_planned(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    number = asked(st, st.now() - 8 * DAY)
    sweep(ctx)  # the ping, close announced
    st.advance(8 * DAY)

    def listing_then_maintainer_closes(name: str, host: Any) -> None:
        real = host.list_issues

        def list_issues(**kw: Any) -> Any:
            got = list(real(**kw))
            issue = st.issue(REPO, number)  # mia fixes it and closes it as completed
            issue.state, issue.state_reason, issue.closed_at = "closed", "completed", st.now()
            st.add_event(REPO, number, "closed", "mia")
            issue.updated_at = st.now()
            return got

        host.list_issues = list_issues

    patch_host(ctx, listing_then_maintainer_closes)
    sweep(ctx)
    issue = st.issue(REPO, number)
    notes = [b for b in bot_bodies(st, number) if b.startswith("Closing as not planned")]
    assert (issue.state_reason, notes) == ("completed", []), reasons(ctx, number)
    assert "not open (closed)" in reasons(ctx, number)


def test_an_answer_after_the_thread_was_read_stops_the_close(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    number = asked(st, st.now() - 8 * DAY)
    sweep(ctx)
    st.advance(8 * DAY)

    def answer_after_read(name: str, host: Any) -> None:
        real = host.issue_events

        def issue_events(n: int) -> Any:
            got = real(n)  # the thread is read; alice answers right then
            st.add_comment(REPO, n, "v2.3, sorry for the delay", user="alice")
            return got

        host.issue_events = issue_events

    patch_host(ctx, answer_after_read)
    sweep(ctx)
    assert st.issue(REPO, number).state == "open", reasons(ctx, number)
    assert "close called off: the issue changed since it was read; decided again" in reasons(
        ctx, number
    )
