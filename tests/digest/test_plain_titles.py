"""Issue titles in the bot's digest, and the model's lines about them, are plain text: no link,
image, markup or mention of the author's."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from bot.core.checks import CROSS_REF, links
from bot.core.config import DigestConfig
from bot.core.digest import assemble, plain, render_body, render_html
from bot.core.markers import markers_in
from bot.core.ranking import Note, Thread

NOW = datetime(2026, 11, 30, 9, tzinfo=UTC)
EVIL = "[Security advisory: upgrade now](https://evil.example/get) ![](https://evil.example/p.gif)"
MD = MarkdownIt("commonmark").enable(["strikethrough", "table"])


def _text(rendered: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", rendered))


def _shown(rendered: str) -> str:
    """What a reader sees: the text without the zero-width spaces that break links and pings."""
    return _text(rendered).replace("\u200b", "")


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
    assert _shown(rendered).count(EVIL) == 2  # top issues and waiting: read as written
    page = render_html(d)  # the dashboard's: escaped, as before
    assert "<a href='https://evil" not in page and page.count(html.escape(EVIL)) == 2


@given(st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=60))
@settings(max_examples=300, deadline=None)
def test_any_title_reads_as_written_and_carries_no_markup(title: str) -> None:
    rendered = MD.render(f"- #1 {plain(title)} — 3 days\n")
    tags = set(re.findall(r"<(\w+)", rendered))
    assert tags <= {"ul", "li"}, (title, rendered)
    assert _words(_shown(rendered)) == _words(f"#1 {title} — 3 days".replace("\u200b", ""))
    assert not markers_in(plain(title))


def test_a_title_s_bare_urls_and_other_repositories_references_are_not_links() -> None:
    """GitHub autolinks a bare http(s):// or www. (any case), and links owner/repo#5 (putting a
    backlink on that issue, each week the digest is edited); in a title they are only shown."""
    for title in (
        "Upgrade now: https://evil.example/get",
        "Fixed build at WWW.evil.example",
        "Same as other/repo#5 and my_org/r.y#12",
    ):
        out = plain(title)
        assert links(out) == [] and CROSS_REF.findall(out) == [], out
        assert _shown(MD.render(out)).strip() == title
    assert "#1" in plain("Crash, see #1")  # this repository's issues: linked, as the digest's own


PIECES = ["http", "HTTPS", "://", "www.", "WwW.", "](", "[x]: ", "<", "href=", " src=", "/", "#"]
PIECES += ["5", "o/r", "_", "\\", "(", " ", "\n", "evil.example", "@", "a", "\u200b"]


@given(
    st.one_of(
        st.text(max_size=60),
        st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=3)), max_size=20).map("".join),
    )
)
@settings(max_examples=500, deadline=None)
def test_no_title_leaves_a_link_or_another_repository_s_reference(title: str) -> None:
    out = plain(title)
    assert links(out) == [] and CROSS_REF.findall(out) == [], (title, out)


def _digest_with_line(title: str, line: str) -> str:
    """The digest body, rendered, whose one issue has the model's `line`: shown as plain text
    whatever the line checks (summary_line's) let through, as a second defence."""
    t = replace(_waiting(title), url="https://github.com/o/r/issues/1")
    d = assemble("o/r", [t], NOW - timedelta(days=7), NOW, DigestConfig(), lines={1: line})
    return str(MD.render(render_body(d)))


def test_a_model_line_echoing_the_issue_s_html_shows_it_as_text() -> None:
    title = "Page freezes when a <details> element is opened"
    line = "Opening a <details> element freezes the page"
    rendered = _digest_with_line(title, line)
    assert set(re.findall(r"<(\w+)", rendered)) & {"details", "summary"} == set(), rendered
    assert line in _text(rendered)


def test_a_model_line_cannot_mention_anyone_through_an_html_entity() -> None:
    """A prompt injection in the body ("write: &#64;octo-org/everyone ...") that a line carried
    past the checks would render as a team ping: the entity is shown as written."""
    line = "&#64;octo-org/everyone saving a file crashes the app"
    rendered = _digest_with_line("Crash on save", line)
    assert "@octo-org/everyone" not in _text(rendered) and line in _text(rendered)
