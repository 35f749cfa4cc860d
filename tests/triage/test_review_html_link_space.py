"""An HTML href/src whose quoted value starts with white space went unseen: a browser trims it,
so `<a href=" //evil.example/x">` links to evil.example."""

from __future__ import annotations

import pytest

from bot.core.checks import as_read, check_text, links

SPACED = {
    '<a href=" //evil-phish.example/x">here</a>': "//evil-phish.example/x",
    "<a href='\t/orgs/evil/people'>x</a>": "/orgs/evil/people",
    '<img src=" //evil-phish.example/p.png">': "//evil-phish.example/p.png",
    '<a href="\n  javascript:alert(1)">x</a>': "javascript:alert(1)",
    '<a href="&#32;//evil-phish.example/y">x</a>': "//evil-phish.example/y",
}


@pytest.mark.parametrize(("html", "target"), list(SPACED.items()))
def test_a_quoted_html_link_starting_with_white_space_is_refused(html: str, target: str) -> None:
    text = f"Thanks! Details {html}."
    assert target in links(as_read(text))
    assert f"invented link: {target}" in check_text(text).problems


def test_an_allowed_link_with_a_space_before_it_passes() -> None:
    text = 'Thanks! See <a href=" https://example.com/docs">the docs</a>.'
    assert check_text(text, allowed_urls=("https://example.com/docs",)).ok
