"""`/smolbot duplicate #N` where #N was closed as a duplicate of this issue: closing this one too
would leave no open issue for the problem, each a closed "duplicate of" the other. Refused with
one reply; #N closed for another reason, or as another issue's duplicate, is no obstacle."""

from __future__ import annotations

from typing import Any

from bot.jobs.commands import handle_comment_event
from tests.commands.conftest import REPO, bot_comments, comment_payload


def test_closing_an_issue_as_a_duplicate_of_its_own_duplicate_is_refused(world: Any) -> None:
    """#b was closed by the bot as a duplicate of #a; `/smolbot duplicate #b` on #a is refused."""
    state, ctx = world
    a = state.add_issue(REPO, "Crash on start").number
    b = state.add_issue(REPO, "Crash on start again").number
    handle_comment_event(
        ctx, "c1", comment_payload(b, f"/smolbot duplicate #{a}", "maint", on=state)
    )
    assert state.issue(REPO, b).state == "closed"
    payload = comment_payload(a, f"/smolbot duplicate #{b}", "maint", on=state)
    handle_comment_event(ctx, "c2", payload)
    assert state.issue(REPO, a).state == "open", bot_comments(state, a)
    (reply,) = bot_comments(state, a)
    assert f"#{b} is closed as a duplicate of this issue" in reply
    audited = ctx.store.audit_rows(REPO, a)
    assert any("closed as a duplicate of this issue" in r["reason"] for r in audited), audited
    handle_comment_event(ctx, "c2", payload)
    assert len(bot_comments(state, a)) == 1  # a redelivery: still one reply


def test_an_issue_a_maintainer_closed_as_its_duplicate_on_github_is_refused(world: Any) -> None:
    """GitHub's own way: a maintainer comments "Duplicate of #a" on #b and closes it as a
    duplicate (the bot did not close it, so only the comments tell)."""
    state, ctx = world
    a = state.add_issue(REPO, "Crash on start").number
    b = state.add_issue(REPO, "Crash on start again", state="closed", state_reason="duplicate")
    state.add_comment(REPO, b.number, f"Duplicate of #{a}", user="maint")
    handle_comment_event(
        ctx, "c2", comment_payload(a, f"/smolbot duplicate #{b.number}", "maint", on=state)
    )
    assert state.issue(REPO, a).state == "open", bot_comments(state, a)


def test_someone_else_s_duplicate_claim_does_not_stop_the_close(world: Any) -> None:
    """Only a maintainer's or the bot's word counts (as in the digest's duplicate links): an
    outsider's "Duplicate of #a" on a closed #b does not keep #a open."""
    state, ctx = world
    a = state.add_issue(REPO, "Crash on start").number
    b = state.add_issue(REPO, "Crash on start again", state="closed", state_reason="completed")
    state.add_comment(REPO, b.number, f"Duplicate of #{a}", user="stranger")
    handle_comment_event(
        ctx, "c2", comment_payload(a, f"/smolbot duplicate #{b.number}", "maint", on=state)
    )
    assert state.issue(REPO, a).state == "closed"


def test_an_issue_closed_as_a_duplicate_of_another_is_no_obstacle(world: Any) -> None:
    """#b was closed as a duplicate of #c, not of #a: #a may be closed as a duplicate of #b."""
    state, ctx = world
    a = state.add_issue(REPO, "Crash on start").number
    b = state.add_issue(REPO, "Crash on start again").number
    c = state.add_issue(REPO, "Crash when starting").number
    handle_comment_event(
        ctx, "c1", comment_payload(b, f"/smolbot duplicate #{c}", "maint", on=state)
    )
    handle_comment_event(
        ctx, "c2", comment_payload(a, f"/smolbot duplicate #{b}", "maint", on=state)
    )
    assert state.issue(REPO, a).state == "closed"


def test_closing_into_a_three_issue_cycle_is_refused(world: Any) -> None:
    """#c closed as a duplicate of #a, #b as a duplicate of #c; `/smolbot duplicate #b` on #a
    would close the last open one: a -> b -> c -> a, every issue closed. Refused, with one reply
    naming the chain."""
    state, ctx = world
    a = state.add_issue(REPO, "Crash on start").number
    b = state.add_issue(REPO, "Crash on start again").number
    c = state.add_issue(REPO, "Crash when starting").number
    handle_comment_event(
        ctx, "c1", comment_payload(c, f"/smolbot duplicate #{a}", "maint", on=state)
    )
    handle_comment_event(
        ctx, "c2", comment_payload(b, f"/smolbot duplicate #{c}", "maint", on=state)
    )
    handle_comment_event(
        ctx, "c3", comment_payload(a, f"/smolbot duplicate #{b}", "maint", on=state)
    )
    assert state.issue(REPO, a).state == "open", bot_comments(state, a)
    (reply,) = bot_comments(state, a)
    assert f"#{b} is closed as a duplicate of #{c}, a duplicate of this issue" in reply, reply
    assert f"reopen #{b} first" in reply, reply


def test_a_cycle_of_other_issues_is_no_obstacle(world: Any) -> None:
    """#b and #c closed on GitHub each as a duplicate of the other (a cycle not through #a):
    following the chain stops where it comes round, and #a may be closed as #b's duplicate."""
    state, ctx = world
    a = state.add_issue(REPO, "Crash on start").number
    b = state.add_issue(REPO, "Crash on start again", state="closed", state_reason="duplicate")
    c = state.add_issue(REPO, "Crash when starting", state="closed", state_reason="duplicate")
    state.add_comment(REPO, b.number, f"Duplicate of #{c.number}", user="maint")
    state.add_comment(REPO, c.number, f"Duplicate of #{b.number}", user="maint")
    handle_comment_event(
        ctx, "c2", comment_payload(a, f"/smolbot duplicate #{b.number}", "maint", on=state)
    )
    assert state.issue(REPO, a).state == "closed"
