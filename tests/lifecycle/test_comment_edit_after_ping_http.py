"""An answer edited into a person's earlier comment after the ping holds the close, as a
description edit does: the comment's own updated_at (GitHub's, by its writer) says it changed
after the ping. The bot's own edits and `/smolbot` command comments say nothing."""

from __future__ import annotations

from pathlib import Path

from bot.sandbox.fake_github.server import FakeGitHubServer
from tests.lifecycle.http_world import DAY, INST, REPO, asked, bot_bodies, reasons, sweep, world


def test_the_adapter_reads_a_comment_s_updated_at(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    issue = st.add_issue(REPO, "Crash", "It crashes.", user="alice")
    c = st.add_comment(REPO, issue.number, "Log below.", user="alice")
    st.advance(DAY)
    c.body, c.updated_at = "Log below. v2.3.1", st.now()
    assert ctx.github is not None
    (got,) = ctx.github.repo(INST, REPO).comments(issue.number)
    assert got.updated_at and got.updated_at > got.created_at, got


def test_an_answer_the_author_edits_into_her_comment_after_the_ping_stops_the_close(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    t0 = st.now() - 8 * DAY
    issue = st.add_issue(REPO, "Crash", "It crashes.", user="alice", created_at=t0)
    mine = st.add_comment(
        REPO, issue.number, "Log below.", user="alice", created_at=t0 + 0.05 * DAY
    )
    st.add_comment(REPO, issue.number, "Which version?", user="mia", created_at=t0 + 0.1 * DAY)
    sweep(ctx)  # the ping to alice
    assert any("@alice" in b for b in bot_bodies(st, issue.number))
    st.advance(2 * DAY)
    mine.body, mine.updated_at = "Log below.\n\nEdit: version 2.3.1, sorry.", st.now()
    issue.updated_at = st.now()  # as GitHub bumps it on a comment edit
    st.advance(6 * DAY)
    sweep(ctx)
    assert st.issue(REPO, issue.number).state == "open", reasons(ctx, issue.number)[-3:]
    # her edit is her answer as of the edit (waiting_on reads updated_at): the team's turn
    assert any("the author answered" in r for r in reasons(ctx, issue.number))
    for _ in range(3):
        st.advance(7 * DAY)
        sweep(ctx)
    pings = bot_bodies(st, issue.number)
    assert st.issue(REPO, issue.number).state == "open", reasons(ctx, issue.number)[-3:]
    assert len(pings) == 2 and "@mia" in pings[-1], pings  # 7 days after the edit, once
    assert "alice answered on" in pings[-1], pings


def test_a_command_comment_edited_after_the_ping_does_not_hold_the_close(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    t0 = st.now() - 8 * DAY
    issue = st.add_issue(REPO, "Crash", "It crashes.", user="alice", created_at=t0)
    st.add_comment(REPO, issue.number, "Which version?", user="mia", created_at=t0 + 0.1 * DAY)
    cmd = st.add_comment(REPO, issue.number, "/smolbot summarize", user="mia")
    cmd.created_at = cmd.updated_at = t0 + 0.2 * DAY
    sweep(ctx)
    st.advance(2 * DAY)
    cmd.body, cmd.updated_at = "/smolbot summarise", st.now()
    st.advance(6 * DAY)
    sweep(ctx)
    assert st.issue(REPO, issue.number).state == "closed", reasons(ctx, issue.number)[-3:]


def test_a_maintainer_fixing_a_typo_in_her_own_question_is_not_pinged_about_it(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """mia edits her question after the ping to alice: a team member's edit answers nothing
    alice owes, so the close still comes and mia is not pinged about her own edit."""
    st, ctx = world(fake_github, tmp_path)
    number = asked(st, st.now() - 8 * DAY)
    sweep(ctx)  # the ping to alice, close announced
    st.advance(2 * DAY)
    (question,) = [c for c in st.comments(REPO, number) if c.user == "mia"]
    question.body, question.updated_at = "Which version do you use?", st.now()
    st.issue(REPO, number).updated_at = st.now()  # as GitHub bumps it on a comment edit
    for _ in range(4):
        st.advance(7 * DAY)
        sweep(ctx)
    pings = bot_bodies(st, number)
    assert st.issue(REPO, number).state == "closed", reasons(ctx, number)[-2:]
    assert not any(p.startswith("Hi @mia, mia edited a comment") for p in pings), pings


def test_someone_else_s_comment_edited_after_the_ping_holds_the_close_too(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """README: a comment by someone outside the team edited after the ping holds the close (bob,
    a co-reporter, may have edited the details in); the ping to the team names him."""
    st, ctx = world(fake_github, tmp_path)
    t0 = st.now() - 8 * DAY
    issue = st.add_issue(REPO, "Crash", "It crashes.", user="alice", created_at=t0)
    bob = st.add_comment(REPO, issue.number, "Seeing it too.", user="bob", created_at=t0 + 60)
    st.add_comment(REPO, issue.number, "Which version?", user="mia", created_at=t0 + 0.1 * DAY)
    sweep(ctx)  # the ping to alice, close announced
    st.advance(DAY)
    bob.body, bob.updated_at = "Seeing it too, on 2.3.1.", st.now()
    issue.updated_at = st.now()
    st.advance(7 * DAY)
    sweep(ctx)
    assert st.issue(REPO, issue.number).state == "open", reasons(ctx, issue.number)[-2:]
    pings = bot_bodies(st, issue.number)
    assert len(pings) == 2 and pings[-1].startswith("Hi @mia, bob edited a comment after the"), (
        pings
    )
