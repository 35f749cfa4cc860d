"""The closing note: it @-mentions no deleted account (GitHub's `ghost`: README, "never
pinged"), and a note GitHub refuses because the issue was locked between the re-read and the
post is not followed by the close (the issue would close with no note saying why)."""

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


def test_the_closing_note_mentions_no_deleted_account(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    n = asked(st, st.now() - 8 * DAY)
    sweep(ctx)  # the ping to alice, close announced
    st.advance(DAY)
    st.issue(REPO, n).user = "ghost"  # alice deleted her account: GitHub shows @ghost
    st.issue(REPO, n).updated_at = st.now()
    st.advance(6 * DAY + 60)
    sweep(ctx)
    assert st.issue(REPO, n).state == "closed", reasons(ctx, n)[-2:]
    note = bot_bodies(st, n)[-1]
    assert note.startswith("Closing as not planned") and "@ghost" not in note, note
    assert "after the reminder. If this still matters, reopen the issue" in note, note


def test_the_closing_note_names_the_author_otherwise(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    n = asked(st, st.now() - 8 * DAY)
    sweep(ctx)
    st.advance(7 * DAY + 60)
    sweep(ctx)
    assert "@alice, if this still matters, reopen the issue" in bot_bodies(st, n)[-1]


def test_no_close_after_a_closing_note_refused_because_the_issue_was_locked(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    n = asked(st, st.now() - 8 * DAY)
    sweep(ctx)
    st.advance(7 * DAY + 60)

    def locked_meanwhile(name: str, host: Any) -> None:
        post = host.create_comment

        def create_comment(number: int, body: str) -> int:
            st.issue(REPO, number).locked = True  # a maintainer locks it this very moment
            return int(post(number, body))

        host.create_comment = create_comment

    patch_host(ctx, locked_meanwhile)
    sweep(ctx)
    assert st.issue(REPO, n).state == "open", reasons(ctx, n)[-3:]
    assert len(bot_bodies(st, n)) == 1  # the ping only: GitHub refused the note
    assert any(
        r.startswith("close called off: the closing note was not posted, the issue is locked")
        for r in reasons(ctx, n)
    ), reasons(ctx, n)[-3:]
