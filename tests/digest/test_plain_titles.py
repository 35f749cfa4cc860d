"""Issue titles in the bot's digest are plain text: no link, image or markup of the author's."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from bot.core.config import DigestConfig
from bot.core.digest import assemble, plain, render_body, render_html
from bot.core.markers import markers_in
from bot.core.ranking import Note, Thread

NOW = datetime(2026, 11, 30, 9, tzinfo=UTC)
EVIL = "[Security advisory: upgrade now](https://evil.example/get) ![](https://evil.example/p.gif)"
MD = MarkdownIt("commonmark").enable(["strikethrough", "table"])


def _text(rendered: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", rendered))


def _words(text: str) -> list[str]:
    return text.split()


def _waiting(title: str) -> Thread:
    """Open, new, and a user asked twice: waiting on a maintainer, and in the top issues."""
    asked = Note("bob", NOW - timedelta(days=3), False, False, "Same here")
    return Thread(1, title, "open", "ann", NOW - timedelta(days=4), comments=(asked,))


def test_a_title_s_link_and_image_are_shown_as_text() -> None:
    d = assemble("o/r", [_waiting(EVIL)], NOW - timedelta(days=7), NOW, DigestConfig())
    assert [i.number for i in d.top] == [1] and [i.number for i in d.waiting] == [1]
    rendered = MD.render(render_body(d))
    assert "<a " not in rendered and "<img" not in rendered
    assert _text(rendered).count(EVIL) == 2  # top issues and waiting: read as written
    page = render_html(d)  # the dashboard's: escaped, as before
    assert "<a href='https://evil" not in page and page.count(html.escape(EVIL)) == 2


@given(st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=60))
@settings(max_examples=300, deadline=None)
def test_any_title_reads_as_written_and_carries_no_markup(title: str) -> None:
    rendered = MD.render(f"- #1 {plain(title)} — 3 days\n")
    tags = set(re.findall(r"<(\w+)", rendered))
    assert tags <= {"ul", "li"}, (title, rendered)
    quiet = re.sub(r"@(?=[A-Za-z0-9])", "@\u200b", title)  # mentions never ping
    assert _words(_text(rendered)) == _words(f"#1 {quiet} — 3 days")
    assert not markers_in(plain(title))
