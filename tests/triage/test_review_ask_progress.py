"""Nothing is asked twice: an edit that gives part of what the bot's needs-info comment asked for
edits that comment (what is there now, what is still missing; its marker kept) instead of
posting another; needs-info stays until everything is there; an edit that gives nothing writes
nothing. Over HTTP against the fake GitHub, with the real store and model layer."""

from __future__ import annotations

from typing import Any

from bot.core.actions import AddLabels, Comment, RemoveLabel, UpsertComment
from bot.core.config import Kind, RepoConfig
from bot.core.markers import markers_in
from bot.core.templates import Need
from bot.core.triage import ASK_MARKER, IssueSnapshot, ask_body, asked_items, info_actions
from bot.jobs.triage import handle_issue_event
from tests.triage.test_e2e_http import TEMPLATE
from tests.triage.test_review_edit_reclassify import REPO, edited, world  # noqa: F401
from tests.triage.test_review_first_responder import payload

TITLE = "App crashes with an exception when I click save button"
INTRO = "It crashes with an exception every time, this is broken."


def form(version: str = "_No response_", steps: str = "_No response_", intro: str = INTRO) -> str:
    return f"{intro}\n\n### Version\n\n{version}\n\n### Steps to reproduce\n\n{steps}"


def asks(state, n: int) -> list[Any]:  # type: ignore[no-untyped-def]
    return [c for c in state.comments(REPO, n) if ASK_MARKER in markers_in(c.body)]


def opened(state, ctx) -> int:  # type: ignore[no-untyped-def]
    state.put_file(REPO, ".github/ISSUE_TEMPLATE/bug.yml", TEMPLATE)
    n = state.add_issue(REPO, TITLE, form()).number
    handle_issue_event(ctx, "d1", payload(state, n))
    assert set(state.issue(REPO, n).labels) == {"bug", "needs-info"}
    (ask,) = asks(state, n)
    assert "- Version" in ask.body and "- Steps to reproduce" in ask.body
    return n


def edit(state, ctx, n: int, delivery: str, body: str) -> None:  # type: ignore[no-untyped-def]
    old = state.issue(REPO, n).body
    state.issue(REPO, n).body = body
    handle_issue_event(ctx, delivery, edited(state, n, body=old))


def test_a_partial_answer_edits_the_ask_and_keeps_needs_info(world):  # noqa: F811
    state, ctx = world
    n = opened(state, ctx)
    comments = len(state.comments(REPO, n))
    edit(state, ctx, n, "d2", form(version="2.3.1"))
    assert len(state.comments(REPO, n)) == comments  # no new comment
    (ask,) = asks(state, n)  # the same comment, found again by its marker
    assert "~~Version~~" in ask.body
    assert "- Steps to reproduce\n" in ask.body and "~~Steps to reproduce~~" not in ask.body
    assert "needs-info" in state.issue(REPO, n).labels
    assert len(state.writes(f"/comments/{ask.id}")) == 1
    # the rest given: needs-info goes, and the comment says everything is there
    edit(state, ctx, n, "d3", form(version="2.3.1", steps="1. open\n2. click save"))
    assert "needs-info" not in state.issue(REPO, n).labels
    (ask,) = asks(state, n)
    assert "~~Version~~" in ask.body and "~~Steps to reproduce~~" in ask.body
    assert len(state.comments(REPO, n)) == comments


def test_an_edit_that_gives_nothing_writes_nothing(world):  # noqa: F811
    state, ctx = world
    n = opened(state, ctx)
    before = len(state.writes())
    edit(state, ctx, n, "d2", form(intro=INTRO + " Still broken, please look."))
    assert len(state.writes()) == before
    edit(state, ctx, n, "d3", form(version="2.3.1"))  # progress: one edit of the ask
    after = len(state.writes())
    assert after == before + 1
    edit(state, ctx, n, "d4", form(version="2.3.1", intro=INTRO + " Still broken."))  # nothing new
    assert len(state.writes()) == after


NEEDS = (Need("version", "Version", ()), Need("steps", "Steps to reproduce", ()))
ISSUE = IssueSnapshot("o/r", 7, "t", "b", "alice", ("bug", "needs-info"))


def test_the_ask_lists_what_it_asked_for_before_and_after_progress():
    first = ask_body(NEEDS)
    assert asked_items(first) == ("Version", "Steps to reproduce")
    later = ask_body(NEEDS[1:], asked=asked_items(first))
    assert asked_items(later) == ("Version", "Steps to reproduce")
    assert ask_body(NEEDS, asked=asked_items(first)) == first  # nothing given: the same ask


def test_policy_edits_its_ask_only_on_progress():
    cfg = RepoConfig()
    asked = ("Version", "Steps to reproduce")
    acts = info_actions(Kind.BUG, NEEDS, ISSUE, cfg, asked=True, asked_for=asked)
    assert [type(a) for a in acts] == [AddLabels, Comment]  # nothing given: the ask as it was
    acts = info_actions(Kind.BUG, NEEDS[1:], ISSUE, cfg, asked=True, asked_for=asked)
    assert [type(a) for a in acts] == [AddLabels, UpsertComment]
    assert acts[1].marker == ASK_MARKER  # type: ignore[union-attr]
    acts = info_actions(Kind.BUG, (), ISSUE, cfg, asked=True, asked_for=asked)
    assert [type(a) for a in acts] == [RemoveLabel, UpsertComment]


def test_a_maintainer_s_edit_of_the_ask_is_not_overwritten(world):  # noqa: F811
    """A maintainer added a line to the bot's ask: it is no longer the bot's text, so the
    reporter's partial answer neither strikes that line through as given nor rewrites it."""
    state, ctx = world
    n = opened(state, ctx)
    (ask,) = asks(state, n)
    added = "- Steps to reproduce\n- The full log of `app --debug`"
    ask.body = ask.body.replace("- Steps to reproduce", added)
    before = len(state.writes())
    edit(state, ctx, n, "d2", form(version="2.3.1"))
    (ask,) = asks(state, n)
    assert added in ask.body and "~~" not in ask.body
    assert len(state.writes()) == before
    assert "needs-info" in state.issue(REPO, n).labels


def test_an_ask_naming_what_today_s_template_does_not_is_left_as_it_is() -> None:
    """The ask listed "Version"; the template now asks for "App version": whether the old item
    was given cannot be told, so it is not struck through as given."""
    first = ask_body((Need("version", "Version", ()),))
    today = (Need("version", "App version", ()),)
    assert asked_items(first, today) == ()
    assert asked_items(first, (Need("version", "Version", ()), *today)) == ("Version",)
    snapshot = IssueSnapshot("o/r", 7, "t", "b", "alice", ("bug", "needs-info"))
    acts = info_actions(
        Kind.BUG, today, snapshot, RepoConfig(), asked=True, asked_for=asked_items(first, today)
    )
    assert not any(isinstance(a, UpsertComment) for a in acts)
