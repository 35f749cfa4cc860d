"""An answer the author edits into her earlier comment after the question (no new comment) is
her answer, whether or not a ping came between: she is not pinged, nor the issue closed as "nobody
answered" (a follow-up answered by an edit included)."""

from __future__ import annotations

from pathlib import Path

from bot.sandbox.fake_github.server import FakeGitHubServer
from tests.lifecycle.http_world import DAY, REPO, awaiting_info, reasons, sweep, world


def test_an_answer_edited_in_after_the_question_before_the_ping_is_not_closed_unanswered(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """mia asks; alice edits the version into her earlier comment the next day (no new
    comment). It is her answer."""
    st, ctx = world(fake_github, tmp_path)
    t0 = st.now() - DAY
    issue = st.add_issue(REPO, "Crash", "It crashes.", user="alice", created_at=t0)
    mine = st.add_comment(REPO, issue.number, "Log below.", user="alice", created_at=t0 + 60)
    st.add_comment(REPO, issue.number, "Which version?", user="mia", created_at=t0 + 0.1 * DAY)
    mine.body, mine.updated_at = "Log below.\n\nEdit: version 2.3.1.", st.now()
    issue.updated_at = st.now()
    for _ in range(16):
        sweep(ctx)
        st.advance(DAY)
    assert st.issue(REPO, issue.number).state == "open", reasons(ctx, issue.number)[-3:]


def test_a_follow_up_answered_by_editing_the_answer_is_not_closed_as_unanswered(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """needs-info; alice answers; mia asks a follow-up; alice edits the OS into her answer (no
    new comment). That is her answer to
    the follow-up: the label comes off and the team is asked to look."""
    st, ctx = world(fake_github, tmp_path)
    t0 = st.now() - 2 * DAY
    issue = awaiting_info(st, t0, by="smolbot[bot]")
    answer = st.add_comment(
        REPO, issue.number, "Version 2.3.", user="alice", created_at=t0 + 0.5 * DAY
    )
    st.add_comment(REPO, issue.number, "Thanks. Which OS, though?", user="mia", created_at=t0 + DAY)
    answer.body, answer.updated_at = "Version 2.3.\n\nEdit: on Linux (Fedora 41).", st.now()
    issue.updated_at = st.now()
    for _ in range(16):
        sweep(ctx)
        st.advance(DAY)
    assert st.issue(REPO, issue.number).state == "open", reasons(ctx, issue.number)[-3:]
