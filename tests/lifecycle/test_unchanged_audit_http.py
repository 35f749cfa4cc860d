"""An issue unchanged since the last look is not read again; the audit row says until when its
decision holds, or that nothing is due until it changes (not "next decision due 9999-12-31")."""

from __future__ import annotations

from pathlib import Path

from bot.sandbox.fake_github.server import FakeGitHubServer
from tests.lifecycle.http_world import DAY, REPO, asked, reasons, sweep, world


def test_an_unchanged_issue_waiting_on_nobody_says_nothing_is_due(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    issue = st.add_issue(REPO, "Idea", "Dark mode.", user="alice", created_at=st.now() - 3 * DAY)
    st.add_comment(REPO, issue.number, "Sounds good.", user="mia", created_at=st.now() - 2 * DAY)
    sweep(ctx)
    st.advance(DAY)
    sweep(ctx)
    assert reasons(ctx, issue.number)[-1] == (
        "unchanged since the last look; nothing due until it changes"
    ), reasons(ctx, issue.number)


def test_an_unchanged_issue_with_a_ping_due_says_when(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    n = asked(st, st.now() - 2 * DAY)
    sweep(ctx)
    st.advance(DAY)
    sweep(ctx)
    assert reasons(ctx, n)[-1].startswith("unchanged since the last look; next decision due 20")
