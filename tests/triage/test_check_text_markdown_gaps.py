"""check_text against markdown GitHub renders that the checks read differently: a code span that
CommonMark never forms (across a blank line, a heading or a table cell, inside an HTML block or an
attribute) hid a ping; a reference inside emphasis (`_#12_`), an `ftp://` autolink, a reference
definition whose label spans lines or holds an escaped bracket, and an inline-link target on a
block quote's next line or after `< ` went unseen; `patched`, `solved`, `landed` and `deployed`
were no claims."""

from __future__ import annotations

import pytest

from bot.core.actions import Comment
from bot.core.checks import CROSS_REF, ISSUE_REF, check_text, links, unsupported_claims
from bot.core.config import Kind
from bot.core.triage import IssueSnapshot, first_response_actions

ISSUE = IssueSnapshot("o/r", 7, "Crash on save", "It crashes when I save.", "alice")

# each pings @octocat on GitHub: the backticks around the mention pair with no code span there
PINGS = {
    "blank_line": "Thanks `for the report.\n\n@octocat please look.\n\nA maintainer` will follow up.",
    "html_block": "Thanks.\n\n<div>`@octocat`</div>\n\nA maintainer will look.",
    "attributes": 'Thanks <span title="`">@octocat</span><span title="`"></span> will look.',
    # an ATX heading ends the paragraph: `b` c `` and `` d` `` pair, @octocat is plain text
    "heading": "Thanks `for this\n# report` we `@octocat` will` look.",
    "list_item": "Thanks `for this\n- report` we `@octocat` will` look.",
    "quote": "Thanks `for this\n> report` we `@octocat` will` look.",
    # a table splits its cells before code spans: @octocat is a cell of its own
    "table_cells": "Thanks!\n\n| `a | @octocat | b` |\n| - | - | - |\n| 1 | 2 | 3 |",
    "cr_line_ends": "Thanks `for the report.\r\r@octocat please look.\r\rA maintainer` will.",
    "html_comment": "Thanks <!-- ` -->@octocat will look `soon`.",
}


@pytest.mark.parametrize("text", list(PINGS.values()), ids=list(PINGS))
def test_a_mention_between_backticks_that_form_no_code_span_is_refused(text: str) -> None:
    problems = check_text(text).problems
    assert "mentions someone not in the thread: @octocat" in problems, problems


@pytest.mark.parametrize("text", list(PINGS.values()), ids=list(PINGS))
def test_a_first_response_pinging_past_backticks_is_not_posted(text: str) -> None:
    actions = first_response_actions(
        text, issue=ISSUE, related=(), people=(), enabled=True, kind=Kind.BUG
    )
    assert not [a for a in actions if isinstance(a, Comment)]


@pytest.mark.parametrize(
    "text",
    [
        "Thanks! The `@decorator` on save raises; a maintainer will look.",
        "Thanks! `@a` and ``@b ` c`` and `@d`\n\non two lines `@e`: a maintainer will look.",
        "Thanks! | `@decorator` | raises |\n| - | - |",
    ],
)
def test_a_mention_in_a_code_span_within_a_line_still_passes(text: str) -> None:
    assert check_text(text).ok, check_text(text).problems


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Same as _#12_ I think.", 12),
        ("Likely _see #12_.", 12),
        ("Like __GH-12__.", 12),
        ("Like #12_ here.", 12),
        ("Like *gh-3*.", 3),
    ],
)
def test_an_issue_reference_inside_emphasis_is_found(text: str, number: int) -> None:
    assert ISSUE_REF.findall(text) == [str(number)]
    assert f"invented issue number: #{number}" in check_text(text).problems
    assert check_text(text, allowed_numbers=(number,)).ok


def test_a_cross_reference_inside_emphasis_is_found() -> None:
    text = "Probably _see other/repo#5_ upstream."
    assert CROSS_REF.findall(text) == ["other/repo#5"]
    assert not check_text(text).ok
    assert check_text(text, allowed_refs=("other/repo#5",)).ok


@pytest.mark.parametrize("text", ["issue#12", "v1.2#3", "#12abc", "a/#4", "sha#1f"])
def test_what_github_does_not_link_is_still_no_reference(text: str) -> None:
    assert not ISSUE_REF.findall(text)


INVENTED_LINKS = {
    "ftp": "Download it from FTP://evil.example.com/x",
    "label_over_lines": "see [the\nguide] for it.\n\n[the\nguide]: //evil.example.com",
    "escaped_bracket": "see [a\\]] for it.\n\n[a\\]]: //evil.example.com",
    "quote_next_line": "> see [the guide](\n> //evil.example.com/x)",
    "angle_space": "see [x](< //evil.example.com>)",
}


@pytest.mark.parametrize("text", list(INVENTED_LINKS.values()), ids=list(INVENTED_LINKS))
def test_a_link_github_renders_is_reported(text: str) -> None:
    found = links(text)
    assert any("evil.example.com" in link for link in found), found
    problems = check_text(text).problems
    assert any(p.startswith("invented link:") and "evil.example.com" in p for p in problems)


def test_claims_in_other_words_are_claims() -> None:
    text = "This has already been patched and solved in the latest build"
    assert unsupported_claims(text) == ["patched", "solved"]
    assert unsupported_claims("It landed and was deployed.") == ["landed", "deployed"]
    # the thread said so: the bot may repeat it; a word only containing one is none
    assert not unsupported_claims(text, said="Patched upstream, solved for me.")
    assert not unsupported_claims("Still unsolved; the patcher is deployable.")
    actions = first_response_actions(
        text, issue=ISSUE, related=(), people=(), enabled=True, kind=Kind.BUG
    )
    assert not [a for a in actions if isinstance(a, Comment)]
