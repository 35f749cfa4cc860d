"""The author answers the needs-info request by editing the issue body (the ping says "you can
edit the issue"): no comment or event says so, but the ping's marker holds a hash of the title
and description as they were. The lifecycle never closes then: the wait moves to the team (a
maintainer is pinged if one asked, else the digest shows it), audited."""

from __future__ import annotations

from pathlib import Path

from bot.sandbox.fake_github.server import FakeGitHubServer
from tests.lifecycle.http_world import DAY, REPO, awaiting_info, bot_bodies, reasons, sweep, world


def test_an_answer_edited_into_the_body_keeps_the_issue_open(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    t0 = st.now() - 8 * DAY
    issue = awaiting_info(st, t0)
    sweep(ctx)
    assert any("@alice" in b for b in bot_bodies(st, issue.number))
    st.advance(2 * DAY)  # alice edits the body with what was asked (GitHub bumps updated_at)
    issue.body = "It crashes.\n\n**Version:** 2.3.1\n**OS:** Ubuntu 24.04\n**Log:** ..."
    issue.updated_at = st.now()
    for _ in range(3):
        st.advance(6 * DAY)
        sweep(ctx)
    assert st.issue(REPO, issue.number).state == "open", reasons(ctx, issue.number)
    assert len(bot_bodies(st, issue.number)) == 1
    said = reasons(ctx, issue.number)
    assert any("description was edited after the ping" in r for r in said), said


def test_an_update_the_bot_s_own_comment_explains_does_not_hold_the_close(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    t0 = st.now() - 8 * DAY
    issue = awaiting_info(st, t0)
    sweep(ctx)  # the ping bumps updated_at: its own comment says why
    st.advance(8 * DAY)
    sweep(ctx)
    assert st.issue(REPO, issue.number).state == "closed", reasons(ctx, issue.number)
