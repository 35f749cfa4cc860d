"""A first response could hide the "I am a bot" footer put after it (review, defect B): raw HTML
(`<details><summary>` ending the text collapses the footer, `<sub><sup>` shrinks it, `<h1>`) and
an unclosed code fence (the footer shown as code) passed the checks; and so did a commit SHA the
issue never named (`1a2b…`, `octo/app@1a2b3c4`): GitHub links it when the commit exists, an
invented reference as an invented link is. check_text checks commit references only for a caller
that says which the thread names (`allowed_commits`); its other callers are unchanged."""

from __future__ import annotations

import pytest

from bot.core.actions import Comment, NoOp
from bot.core.checks import check_text, commit_refs, raw_html, unclosed_fence
from bot.core.config import Kind
from bot.core.triage import FIRST_RESPONSE_FOOTER, IssueSnapshot, first_response_actions

ISSUE = IssueSnapshot("octo/app", 7, "App crashes", "It crashes", "alice")
ACK = "Thanks for the report! A maintainer will look at it."


def respond(text: str, issue: IssueSnapshot = ISSUE) -> list[object]:
    return list(
        first_response_actions(
            text, issue=issue, related=(), people=(), enabled=True, kind=Kind.BUG
        )
    )


def refused(text: str, issue: IssueSnapshot = ISSUE) -> str:
    (action,) = respond(text, issue)
    assert isinstance(action, NoOp), action
    assert "first response failed the check" in action.reason
    return action.reason


HIDING = {
    "details-at-the-end": f"{ACK}\n\n<details><summary>Thanks!</summary>",
    "details-unclosed-tag": f"{ACK}\n\n<details",
    "sub-sup": "<h1>Thanks for the report!</h1> A maintainer will look at it. <sub><sup>",
    "heading": "Thanks for the report! <h1>URGENT</h1> A maintainer will look at it.",
    "closed-details": f"{ACK}\n\n<details><summary>x</summary>hidden</details>",
    "comment": f"{ACK} <!-- the rest -->",
    "closing-tag-only": f"{ACK} </div>",
}


@pytest.mark.parametrize("text", list(HIDING.values()), ids=list(HIDING))
def test_raw_html_in_a_first_response_is_refused(text: str) -> None:
    assert "raw HTML" in refused(text)


FENCES = {
    "backticks": f"{ACK}\n\n```text",
    "tildes": f"{ACK}\n\n~~~",
    "closed-by-the-other-kind": f"{ACK}\n\n~~~\nx\n```",
    "closed-by-a-shorter-one": f"{ACK}\n\n````\nx\n```",
    "closer-with-text": f"{ACK}\n\n```\nx\n``` not a closer",
    "indented-four": f"{ACK}\n\n```\nx\n    ```",
    "in-a-list-item": f"{ACK}\n\n- ```",
}


@pytest.mark.parametrize("text", list(FENCES.values()), ids=list(FENCES))
def test_an_unclosed_code_block_is_refused(text: str) -> None:
    assert unclosed_fence(text)
    assert "does not close" in refused(text)


@pytest.mark.parametrize(
    "text",
    [
        ACK,
        f"{ACK}\n\n```\nTypeError: boom\n```",
        f"{ACK}\n\n~~~~\n```\n~~~~",
        "Thanks! The ```inline``` span is fine; a maintainer will look at it.",
        "Thanks! When a < b and 3 > 2 it crashes; a maintainer will look at it <3",
        "Thanks! Pressing <Ctrl+S> crashes it; a maintainer will look at it.",
    ],
)
def test_a_plain_acknowledgement_is_posted_with_its_footer_last(text: str) -> None:
    assert not raw_html(text) and not unclosed_fence(text)
    (action,) = respond(text)
    assert isinstance(action, Comment), action
    assert action.body.startswith(f"{text}\n\n{FIRST_RESPONSE_FOOTER}")


COMMITS = {
    "full-sha": "Thanks! See commit 1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b for context.",
    "short-sha": "Thanks! It may come from 1a2b3c4, a maintainer will look.",
    "repo-at-sha": "Thanks! A maintainer will look at it. octo/app@1a2b3c4",
    "owner-at-sha": "Thanks! A maintainer will look at it. octo@1a2b3c4",
    "upper-case": "Thanks! A maintainer will look at it. 1A2B3C4D",
    "character-reference": "Thanks! A maintainer will look at it. &#49;a2b3c4",
}


@pytest.mark.parametrize("text", list(COMMITS.values()), ids=list(COMMITS))
def test_a_commit_the_issue_never_named_is_refused(text: str) -> None:
    assert "invented commit reference" in refused(text)


def test_a_commit_the_issue_names_may_be_repeated_also_abbreviated() -> None:
    sha = "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"
    issue = IssueSnapshot("octo/app", 7, "App crashes since 1a2b3c4d", f"Bisected to {sha}.", "al")
    for text in [f"Thanks! Bisecting to {sha} helps.", "Thanks! Since 1a2b3c4 it crashes."]:
        (action,) = respond(text, issue)
        assert isinstance(action, Comment), action


@pytest.mark.parametrize(
    "text",
    [
        "Thanks! Version 2.3.1 crashed 1234567 times; a maintainer will look.",  # a number
        "Thanks! The defaced facade; a maintainer will look.",  # words of a-f letters
        "Thanks! The `1a2b3c4` in the log; a maintainer will look.",  # a code span: no link
        "Thanks! 0x1a2b3c4d overflows; a maintainer will look.",
    ],
)
def test_what_github_links_as_no_commit_passes(text: str) -> None:
    (action,) = respond(text)
    assert isinstance(action, Comment), action


def test_check_text_checks_commits_only_for_a_caller_naming_the_threads() -> None:
    text = "Fixed by 1a2b3c4 upstream."
    assert commit_refs(text) == ["1a2b3c4"]
    assert check_text(text).ok  # summaries, digest lines, grounding: unchanged
    assert not check_text(text, allowed_commits=()).ok
    assert check_text(text, allowed_commits=("1A2B3C4D5E",)).ok
    assert check_text("<h1>x</h1>").ok  # raw HTML is the first response's own rule
