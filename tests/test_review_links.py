"""Every link GitHub would render in model-written text must be one the input contains: bare
www. (autolinked), markdown targets `](…)` incl. protocol-relative `//host`, reference
definitions, autolinks `<…>` and HTML href=/src= values, not only http(s)://."""

from __future__ import annotations

import pytest

from bot.core.actions import Comment
from bot.core.checks import check_text, links
from bot.core.config import Kind
from bot.core.triage import IssueSnapshot, first_response_actions
from bot.llm.confidence import grounded

INVENTED = (
    "A fix is at www.evil-phish.example/login, a maintainer will follow up.",
    "A fix is at WWW.Evil-Phish.example/login.",
    "See [the fix](//evil-phish.example/x); a maintainer will follow up.",
    "See ![screenshot](//evil-phish.example/x.png).",
    "See [the fix][1].\n\n[1]: //evil-phish.example/x",
    "See <https://evil-phish.example/x>.",
    "See <a href='//evil-phish.example/x'>the fix</a>.",
    'See <a href="https://evil-phish.example/x">the fix</a>.',
    "See <img src=//evil-phish.example/x.png>.",
    "See [the fix](docs/../../evil).",
)


@pytest.mark.parametrize("text", INVENTED)
def test_a_first_response_with_any_invented_link_is_not_posted(text: str) -> None:
    issue = IssueSnapshot("o/r", 7, "Crash", "It crashes", "alice")
    actions = first_response_actions(
        text, issue=issue, related=(), people=(), enabled=True, kind=Kind.BUG
    )
    assert not any(isinstance(a, Comment) for a in actions), text


@pytest.mark.parametrize("text", INVENTED)
def test_check_text_rejects_links_not_in_the_input(text: str) -> None:
    result = check_text(text, allowed_urls=["https://github.com/o/r/issues/7"])
    assert not result.ok
    assert any(p.startswith("invented link") for p in result.problems), result.problems


def test_links_present_in_the_input_pass_in_any_rendered_form() -> None:
    source = (
        "Docs at https://example.org/docs/setup and www.example.net/faq; "
        "see also [the guide](guide/install.md)."
    )
    allowed = links(source)
    for text in (
        "The docs are at https://example.org/docs/setup.",
        "See [setup](https://example.org/docs/setup) and [the guide](guide/install.md).",
        "See <https://example.org/docs/setup>.",
        "The FAQ is at www.example.net/faq, or https://www.example.net/faq.",
        "See [faq](//www.example.net/faq).",
    ):
        result = check_text(text, allowed_urls=allowed)
        assert result.ok, (text, result.problems)


def test_a_link_to_the_same_path_on_another_host_is_still_invented() -> None:
    allowed = links("https://example.org/docs/setup")
    assert not check_text("www.evil.example/docs/setup", allowed_urls=allowed).ok
    assert not check_text("[x](//example.org.evil.example/docs/setup)", allowed_urls=allowed).ok


def test_grounded_sees_www_and_markdown_links() -> None:
    from pydantic import BaseModel

    class A(BaseModel):
        text: str

    source = {"body": "It crashes; the log is at https://example.org/log.txt"}
    assert grounded(A(text="The log is at [log](https://example.org/log.txt)."), source)
    assert not grounded(A(text="A fix is at www.evil-phish.example/login."), source)
    assert not grounded(A(text="A fix is [here](//evil-phish.example/x)."), source)


def test_text_without_links_has_none() -> None:
    assert links("It crashes on resize since 2.1 (see the log above); no idea why.") == []
