"""The scaffolding check refused any first response with a line starting `Related issues:`, the
natural way to list them (the prompt's template shows it), so a good comment was thrown away.
Only the template's own filling is a copy: `Related issues: none`, a variable (`$related`,
`{related}`), or several of its field names together."""

from __future__ import annotations

import pytest

from bot.core.actions import Comment, NoOp
from bot.core.config import Kind
from bot.core.triage import IssueSnapshot, first_response_actions

ISSUE = IssueSnapshot("o/r", 7, "Editor crashes on save", "The editor crashes on save.", "alice")


def _posted(text: str, related: tuple[int, ...] = (12,)) -> bool:
    actions = first_response_actions(
        text, issue=ISSUE, related=related, people=(), enabled=True, kind=Kind.BUG
    )
    return any(isinstance(a, Comment) for a in actions)


@pytest.mark.parametrize(
    "text",
    [
        "Thanks for the report!\nRelated issues: #12.\nA maintainer will look at it.",
        "Thanks for the report! This looks like a bug; a maintainer will look at it.\n\n"
        "Related issues: #12",
        "Thanks for the report!\n\n**Related issues:** #12\n\nA maintainer will look at it.",
        "Thanks for the report! What happens next: a maintainer will look at it.",
    ],
)
def test_a_first_response_listing_related_issues_is_posted(text: str) -> None:
    assert _posted(text), text


@pytest.mark.parametrize(
    "text",
    [
        "Thanks for the report!\nRelated issues: none\nA maintainer will look at it.",
        "Thanks! Related issues: None. A maintainer will look at it.",
        "Thanks for the report!\nRelated issues: $related\nA maintainer will look at it.",
        "Thanks for the report!\nRelated issues: {related}\nA maintainer will look at it.",
        "Thanks for the report! A maintainer will look at ${title}.",
        "Thanks! What happens next: a maintainer will look. Related issues: #12.",
        "Thanks!\nRelated issues: #12\nKind: bug",
    ],
)
def test_the_template_s_filling_is_refused(text: str) -> None:
    actions = first_response_actions(
        text, issue=ISSUE, related=(12,), people=(), enabled=True, kind=Kind.BUG
    )
    (noop,) = actions
    assert isinstance(noop, NoOp) and "copies the prompt's own words" in noop.reason, actions
