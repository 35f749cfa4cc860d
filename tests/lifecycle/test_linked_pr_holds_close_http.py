"""A pull request linked to the issue after the question (a `cross-referenced` event from a PR,
"Fixes #1", or a `connected` one from the sidebar), or a commit pushed to the repository whose
message names it (`referenced`, "Refs #1"), by anyone but a bot is an answer of sorts: the wait
leaves the author, so the issue is never closed as "nobody answered"."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.sandbox.fake_github.server import FakeGitHubServer
from tests.lifecycle.http_world import DAY, REPO, asked, bot_bodies, reasons, sweep, world


def test_a_pull_request_the_author_linked_after_the_ping_stops_the_close(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    number = asked(st, st.now() - 8 * DAY)
    sweep(ctx)  # the ping to alice, close announced 7 days on
    assert any("@alice" in b for b in bot_bodies(st, number))
    st.advance(2 * DAY)
    pr = st.add_issue(REPO, "Fix crash on 2.3", f"Fixes #{number}", user="alice", is_pr=True)
    st.add_event(REPO, number, "cross-referenced", "alice", source_number=pr.number)
    st.advance(6 * DAY)
    sweep(ctx)
    assert st.issue(REPO, number).state == "open", reasons(ctx, number)[-3:]
    assert any("linked pull request" in r for r in reasons(ctx, number)), reasons(ctx, number)
    for _ in range(3):
        st.advance(7 * DAY)
        sweep(ctx)
    assert st.issue(REPO, number).state == "open", reasons(ctx, number)[-3:]
    pings = bot_bodies(st, number)
    assert "@mia" in pings[-1] and "linked pull request" in pings[-1], pings


def test_a_pull_request_someone_connected_in_the_sidebar_stops_the_close(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    number = asked(st, st.now() - 8 * DAY)
    sweep(ctx)
    st.advance(2 * DAY)
    st.add_event(REPO, number, "connected", "bob")
    st.advance(6 * DAY)
    sweep(ctx)
    assert st.issue(REPO, number).state == "open", reasons(ctx, number)[-3:]


def test_a_link_from_a_bot_or_from_a_plain_issue_does_not_hold_the_close(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """A bot's PR (a dependency bump naming the issue) and another issue's mention ("same as
    #1") answer nothing: the close announced by the ping goes ahead."""
    st, ctx = world(fake_github, tmp_path)
    number = asked(st, st.now() - 8 * DAY)
    sweep(ctx)
    st.advance(2 * DAY)
    bump = st.add_issue(REPO, "Bump lib", f"Refs #{number}", user="dependabot[bot]", is_pr=True)
    st.add_event(REPO, number, "cross-referenced", "dependabot[bot]", source_number=bump.number)
    other = st.add_issue(REPO, "Also crashes", f"Same as #{number}?", user="bob")
    st.add_event(REPO, number, "cross-referenced", "bob", source_number=other.number)
    st.advance(6 * DAY)
    sweep(ctx)
    assert st.issue(REPO, number).state == "closed", reasons(ctx, number)[-3:]


def test_a_question_asked_after_the_pull_request_waits_on_the_author_again(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """mia reviews alice's PR and asks on the issue for the log: the link came before the
    question, so it is alice's turn (pinged, then closed if she stays silent)."""
    st, ctx = world(fake_github, tmp_path)
    t0 = st.now() - 20 * DAY
    issue = st.add_issue(REPO, "Crash", "It crashes.", user="alice", created_at=t0)
    pr = st.add_issue(REPO, "Fix crash", f"Fixes #{issue.number}", user="alice", is_pr=True)
    st.add_event(REPO, issue.number, "cross-referenced", "alice", source_number=pr.number)
    st.repos[REPO].timeline[issue.number][-1]["created_at"] = t0 + DAY
    st.add_comment(
        REPO, issue.number, "Can you attach the log?", user="mia", created_at=t0 + 2 * DAY
    )
    sweep(ctx)
    assert any("@alice" in b for b in bot_bodies(st, issue.number)), reasons(ctx, issue.number)


def test_a_pull_request_of_another_repository_neither_holds_the_close_nor_is_named_as_ours(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """bob's PR downstream/app#57 mentions octo/api#1 (a downstream workaround): it fixes nothing
    here, so alice's close still comes; and no comment names "#57", which GitHub would link to
    octo/api#57, some other issue."""
    st, ctx = world(fake_github, tmp_path)
    number = asked(st, st.now() - 8 * DAY)
    sweep(ctx)  # the ping to alice, close announced
    st.advance(2 * DAY)
    source = {
        "number": 57,
        "title": "Work around octo/api#1",
        "html_url": "https://github.com/downstream/app/pull/57",
        "pull_request": {"url": "https://api.github.com/repos/downstream/app/pulls/57"},
        "repository": {"full_name": "downstream/app"},
    }
    at = datetime.fromtimestamp(st.now(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    event = {
        "event": "cross-referenced",
        "actor": {"login": "bob", "type": "User"},
        "created_at": at,
        "source": {"type": "issue", "issue": source},
    }
    st.add_raw_event(REPO, number, event)
    st.advance(6 * DAY)
    sweep(ctx)
    assert st.issue(REPO, number).state == "closed", reasons(ctx, number)[-3:]
    assert not any("#57" in b for b in bot_bodies(st, number)), bot_bodies(st, number)


def test_a_pull_request_of_this_repository_named_by_its_repository_still_holds_the_close(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """GitHub's source names the repository (octo/api itself): the PR is this repository's."""
    st, ctx = world(fake_github, tmp_path)
    number = asked(st, st.now() - 8 * DAY)
    sweep(ctx)
    st.advance(2 * DAY)
    source = {
        "number": 58,
        "html_url": f"https://github.com/{REPO}/pull/58",
        "pull_request": {"url": f"https://api.github.com/repos/{REPO}/pulls/58"},
        "repository": {"full_name": REPO},
    }
    at = datetime.fromtimestamp(st.now(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    event = {
        "event": "cross-referenced",
        "actor": {"login": "alice", "type": "User"},
        "created_at": at,
        "source": {"type": "issue", "issue": source},
    }
    st.add_raw_event(REPO, number, event)
    for _ in range(3):
        st.advance(7 * DAY)
        sweep(ctx)
    assert st.issue(REPO, number).state == "open", reasons(ctx, number)[-3:]
    assert "alice linked pull request #58" in bot_bodies(st, number)[-1], bot_bodies(st, number)


def test_a_commit_referencing_the_issue_after_the_ping_stops_the_close(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """mia pushes "Refs #1: guard the parser" to a branch: the work is under way, so alice is
    not closed out, and the team's reminder names the commit (GitHub links its short hash)."""
    st, ctx = world(fake_github, tmp_path)
    number = asked(st, st.now() - 8 * DAY)
    sweep(ctx)  # the ping to alice, close announced 7 days on
    st.advance(2 * DAY)
    st.add_event(REPO, number, "referenced", "mia", commit_id="1a2b3c4d5e6f70819a0b")
    for _ in range(3):
        st.advance(7 * DAY)
        sweep(ctx)
    assert st.issue(REPO, number).state == "open", reasons(ctx, number)[-3:]
    assert any("mia linked commit 1a2b3c4 after the question" in r for r in reasons(ctx, number))
    pings = bot_bodies(st, number)
    assert "@mia" in pings[-1] and "linked commit 1a2b3c4" in pings[-1], pings


def test_a_commit_in_a_fork_or_by_a_bot_does_not_hold_the_close(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """A commit in someone's fork names the issue (GitHub records it here too) but fixes nothing
    in this repository; a bot's commit (a release script, a bump) answers nothing."""
    st, ctx = world(fake_github, tmp_path)
    number = asked(st, st.now() - 8 * DAY)
    sweep(ctx)
    st.advance(2 * DAY)
    st.add_event(REPO, number, "referenced", "bob", commit_id="ab12cd34", commit_repo="bob/api")
    st.add_event(REPO, number, "referenced", "release-bot[bot]", commit_id="ef56ab78")
    st.add_event(REPO, number, "referenced", "carol")  # no commit named: not a link
    st.advance(6 * DAY)
    sweep(ctx)
    assert st.issue(REPO, number).state == "closed", reasons(ctx, number)[-3:]
