"""check_text against the other spellings of a ping, a reference or a link: what GitHub renders
from a comment, not only the plain `@login`, `#N` and `https://`. A model's text written in one of
them must be refused as the plain spelling is (a first response is not posted, a digest line falls
back to the issue's title)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.actions import Comment
from bot.core.checks import check_text
from bot.core.config import Kind
from bot.core.digest import render_body
from bot.core.markers import quiet
from bot.core.triage import IssueSnapshot, first_response_actions
from tests.digest.test_digest import ScriptedModels, sample_digest

ISSUE = IssueSnapshot("o/r", 7, "Crash on save", "It crashes when I save.", "alice")

# GitHub decodes character references before it looks for mentions and references
# (github/cmark-gfm#181: `&#64;github`, `&commat;github`, `&#35;181`, `&num;181` still mention /
# link); GFM autolinks bare e-mail addresses (mailto:); a code span ends before `@login` starts.
PINGS_OR_LINKS = [
    "Thanks for the report! &#64;octocat will take a look soon.",
    "Thanks for the report! &commat;octocat will take a look soon.",
    "Thanks for the report! &#x40;octo\u200bcat will take a look soon.",
    "Thanks for the report! a\u200b@octocat will take a look soon.",
    "Thanks for the report! This looks like #\ufe0f99, a maintainer will follow up.",  # invisible
    "Thanks for the report! This looks like &#35;99, a maintainer will follow up.",
    "Thanks for the report! This looks like &num;99, a maintainer will follow up.",
    "Thanks for the report! For a faster fix, write to security@evil-phish.example.",
    "Thanks for the report! Ask on xmpp:help@evil-phish.example.",
    "Thanks for the report about `save`@octocat will take a look soon.",
    "Thanks for the report about \\`x\\`@octocat will take a look soon.",
    # link reference definitions CommonMark takes anywhere (in a block quote, in a list item,
    # with the destination on the next line); each renders [the fix] as a link
    "Thanks! See [the fix][1].\n\n> [1]: //evil-phish.example/x",
    "Thanks! See [the fix][1].\n\n- [1]: //evil-phish.example/x",
    "Thanks! See [the fix][1].\n\n1. > [1]: //evil-phish.example/x",
    "Thanks! See [the fix][].\n\n[the fix]:\n  //evil-phish.example/x",
]


@pytest.mark.parametrize("text", PINGS_OR_LINKS)
def test_first_response_that_pings_or_links_in_another_spelling_is_not_posted(text: str) -> None:
    actions = first_response_actions(
        text, issue=ISSUE, related=(), people=(), enabled=True, kind=Kind.BUG
    )
    posted = [a for a in actions if isinstance(a, Comment)]
    assert not posted, f"posted: {posted[0].body!r}"


@pytest.mark.parametrize(
    "text",
    [
        "Thanks! The `@decorator` on save raises; a maintainer will look.",
        "Thanks &amp; welcome! A maintainer will look.",
        "Thanks! Saving crashes since the upgrade; a maintainer will look.",
    ],
)
def test_what_renders_no_ping_or_link_still_passes(text: str) -> None:
    """A mention inside a code span pings nobody; a decoded `&amp;` is no link."""
    assert check_text(text, allowed_numbers=(7,), allowed_people=("alice",)).ok


def test_an_allowed_address_passes_and_the_quoted_spelling_of_a_mention_is_quiet() -> None:
    assert check_text("Write to bob@example.com.", allowed_urls=("mailto:bob@example.com",)).ok
    assert check_text("Write to bob@example.com.", allowed_urls=("bob@example.com",)).ok
    # someone's text quoted by the bot (a summary, a digest line): no spelling of @ pings
    for said in ("&#64;octocat", "&#x40;octocat", "&#0064;octocat", "&commat;octocat", "@&#98;ob"):
        assert not check_text(as_shown := quiet(said)).problems, as_shown


ENTITY_LINES = [
    "Saving crashes the app; &#64;octocat knows the code",
    "Saving crashes the app, like &#35;999 did",
]


@pytest.mark.parametrize("line", ENTITY_LINES)
def test_digest_line_with_entity_mention_or_reference_falls_back_to_the_title(
    store: Any, line: str
) -> None:
    d = sample_digest(store, ScriptedModels([line]), top=1)
    body = render_body(d)
    assert d.top[0].line == d.top[0].title, f"line kept: {d.top[0].line!r}"
    assert "&#64;octocat" not in body and "&#35;999" not in body
