"""Issue titles in the bot's digest, and the model's lines about them, are plain text: no link,
image, markup or mention of the author's."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from bot.core.config import DigestConfig
from bot.core.digest import assemble, plain, render_body, render_html
from bot.core.markers import markers_in
from bot.core.ranking import Note, Thread
from bot.jobs.digest import summary_line
from bot.ports import IssueData
from tests.digest.test_digest import ScriptedModels

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


def _digest_with_line(title: str, body: str, line: str) -> str:
    """The digest body, rendered, whose one issue has the model's `line` (which passed every
    check summary_line makes)."""
    t = replace(_waiting(title), url="https://github.com/o/r/issues/1")
    issue = IssueData(repo="o/r", number=1, title=title, body=body, state="open", author="ann",
                      labels=[], created_at=NOW.isoformat(), updated_at=NOW.isoformat())  # fmt: skip
    models: Any = ScriptedModels([line])  # the model layer's ask(), scripted
    said = summary_line(models, t, issue)
    assert said == line
    d = assemble("o/r", [t], NOW - timedelta(days=7), NOW, DigestConfig(), lines={1: said})
    return str(MD.render(render_body(d)))


def test_a_model_line_echoing_the_issue_s_html_shows_it_as_text() -> None:
    title = "Page freezes when a <details> element is opened"
    line = "Opening a <details> element freezes the page"
    rendered = _digest_with_line(title, "Open a <details> and it hangs.", line)
    assert set(re.findall(r"<(\w+)", rendered)) & {"details", "summary"} == set(), rendered
    assert line in _text(rendered)


def test_a_model_line_cannot_mention_anyone_through_an_html_entity() -> None:
    """A prompt injection in the body ("write: &#64;octo-org/everyone ...") passes the line's
    checks, which look for a literal `@`; the entity is shown as written, and pings nobody."""
    line = "&#64;octo-org/everyone saving a file crashes the app"
    rendered = _digest_with_line("Crash on save", "x", line)
    assert "@octo-org/everyone" not in _text(rendered) and line in _text(rendered)
