"""An edit whose only change is inside a hidden HTML comment (a template's instructions, a note
to self) asks no classifier: the model never reads HTML comments, nor does policy. A change of
text people see still classifies, and so does a body change whose old value the delivery does not
give. Over HTTP against the fake GitHub, with the real store and model layer: the layer's call
records say whether the classifier was asked."""

from __future__ import annotations

from bot.core.triage import UNSEEN_EDIT
from bot.jobs.triage import handle_issue_event
from tests.triage.test_review_edit_reclassify import (  # noqa: F401
    REPO,
    VAGUE,
    edited,
    skips,
    triage_calls,
    world,
)
from tests.triage.test_review_first_responder import payload

BODY = "see title\n\n<!-- Please describe the bug and how to reproduce it. -->\n"


def opened(state, ctx) -> int:  # type: ignore[no-untyped-def]
    n = state.add_issue(REPO, VAGUE[0], BODY).number
    handle_issue_event(ctx, "d1", payload(state, n))
    assert state.issue(REPO, n).labels == ["needs-triage"]  # unsure: untriaged, edits classify
    return n


def test_an_edit_inside_a_hidden_comment_asks_no_model(world):  # noqa: F811
    state, ctx = world
    n = opened(state, ctx)
    asked, reads, writes = len(triage_calls(ctx)), len(state.requests("GET")), len(state.writes())
    state.issue(REPO, n).body = BODY.replace("it. -->", "it. TODO: add the logs tonight -->")
    handle_issue_event(ctx, "d2", edited(state, n, body=BODY))
    assert len(triage_calls(ctx)) == asked  # the classifier was not asked again
    assert len(state.requests("GET")) == reads  # decided from the delivery alone
    assert len(state.writes()) == writes
    assert UNSEEN_EDIT in skips(ctx, n)


def test_an_edit_of_seen_text_beside_a_hidden_comment_still_asks_the_model(world):  # noqa: F811
    state, ctx = world
    n = opened(state, ctx)
    asked = len(triage_calls(ctx))
    new = BODY.replace("see title", "see title, it crashes").replace("it. -->", "it, thanks -->")
    state.issue(REPO, n).body = new
    handle_issue_event(ctx, "d2", edited(state, n, body=BODY))
    assert len(triage_calls(ctx)) == asked + 1
    assert UNSEEN_EDIT not in skips(ctx, n)


def test_a_body_change_without_its_old_value_still_asks_the_model(world):  # noqa: F811
    """GitHub's `changes.body.from` missing: what changed is not known, so it is classified."""
    state, ctx = world
    n = opened(state, ctx)
    asked = len(triage_calls(ctx))
    state.issue(REPO, n).body = BODY.replace("it. -->", "it. TODO: add the logs tonight -->")
    out = payload(state, n, "edited")
    out["changes"] = {"body": {}}
    handle_issue_event(ctx, "d2", out)
    assert len(triage_calls(ctx)) == asked + 1
