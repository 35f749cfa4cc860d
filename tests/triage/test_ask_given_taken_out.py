"""A detail the bot's ask struck through as given, and taken out of the report by a later edit
while needs-info is still on, is asked for again in the same comment, edited in place: an open
ask never says something is there that is not, and nothing is asked twice. Once needs-info is
off (the bot's, with everything given, or a person's removal) the ask is closed: such an edit
writes nothing, and the closed ask still shows what was there when it closed (known, left: the
label is what counts, and putting it back would undo a person's removal). Over HTTP against the
fake GitHub, with the real store and model layer."""

from __future__ import annotations

from tests.triage.test_review_ask_progress import asks, edit, form, opened
from tests.triage.test_review_edit_reclassify import REPO, world  # noqa: F401


def test_a_given_detail_taken_out_again_is_asked_for_again_in_the_same_comment(world):  # noqa: F811
    state, ctx = world
    n = opened(state, ctx)
    (first,) = asks(state, n)
    asked_first, comments = first.body, len(state.comments(REPO, n))
    edit(state, ctx, n, "d2", form(version="2.3.1"))
    (ask,) = asks(state, n)
    assert "~~Version~~" in ask.body  # given: struck through
    edit(state, ctx, n, "d3", form())  # the version taken out again
    (ask,) = asks(state, n)
    assert ask.id == first.id and len(state.comments(REPO, n)) == comments
    assert "~~" not in ask.body and "- Version\n" in ask.body
    assert ask.body == asked_first  # word for word the ask first posted
    assert "needs-info" in state.issue(REPO, n).labels
    assert len(state.writes(f"/comments/{ask.id}")) == 2  # struck, then un-struck
    writes = len(state.writes())
    edit(state, ctx, n, "d4", form(intro="It crashes with an exception every time, so broken."))
    assert len(state.writes()) == writes  # nothing given nor taken out: nothing written


def test_once_needs_info_is_off_a_detail_taken_out_writes_nothing(world):  # noqa: F811
    state, ctx = world
    n = opened(state, ctx)
    edit(state, ctx, n, "d2", form(version="2.3.1", steps="1. open\n2. click save"))
    assert "needs-info" not in state.issue(REPO, n).labels  # all given: the bot took it off
    (ask,) = asks(state, n)
    done, writes = ask.body, len(state.writes())
    edit(state, ctx, n, "d3", form(steps="1. open\n2. click save"))
    (ask,) = asks(state, n)
    assert ask.body == done and len(state.writes()) == writes
    assert "needs-info" not in state.issue(REPO, n).labels
