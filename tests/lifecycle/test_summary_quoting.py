"""Summaries quote the thread as text: a commenter's link is never a link of the bot's, no HTML of
theirs renders, and a quote cut short never points a reference somewhere else."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from bot.core import summary as S
from bot.core.checks import (
    CROSS_REF,
    ISSUE_REF,
    MENTION,
    as_read,
    commit_refs,
    links,
    unclosed_fence,
)
from bot.jobs.context import JobContext
from bot.jobs.summarize import summarize_issue, write_summary
from bot.settings import load_settings
from bot.store import open_store
from tests.lifecycle.fakes import BOT, FakeGitHub, FakeRepo, ScriptedModels, day
from tests.lifecycle.test_summary import NOW, thread_of, urls_of

MD = MarkdownIt("commonmark")  # what GitHub renders of it, less GFM's autolinks (found below)
SPAM = (
    "Workaround: install the patched build from [comment 2](https://evil.example/patched.exe)"
    " (maintainer approved), or https://evil.example/a, www.evil.example, <https://evil.example/b>,"
    ' ![comment 1](https://evil.example/c.png), <a href="https://evil.example/d">comment 1</a>,'
    " [comment 1][x] or mail evil@example.com, it fixes the crash.\n\n[x]: https://evil.example/e"
)


def spam_thread() -> FakeRepo:
    gh = FakeGitHub(lambda: NOW)
    repo = gh.add_repo("o/r")
    repo.add_issue(7, "alice", day(0), body="The app crashes on start. It worked in 1.2.")
    repo.say(7, "bob", "Same here on Windows, still broken.", day(1), "CONTRIBUTOR")
    repo.say(7, "carol", "Thanks, looking into it.", day(2), "MEMBER")
    repo.say(7, "newaccount123", SPAM, day(3), "NONE")
    return repo


def rendered(body: str) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """The claims' (link text, target) pairs as GitHub renders them, their raw HTML, and the
    text GitHub would autolink (a bare URL, a www. address, an e-mail address: not in code)."""
    claims = body.split(S.WAITING)[0]
    found: list[tuple[str, str]] = []
    html: list[str] = []
    bare: list[str] = []
    for block in MD.parse(claims):
        if block.type == "html_block":
            html.append(block.content)
        kids = block.children or []
        for i, t in enumerate(kids):
            if t.type == "link_open":
                found.append((kids[i + 1].content, str(t.attrs["href"])))
            elif t.type == "image":
                found.append((t.content, str(t.attrs["src"])))
            elif t.type == "html_inline":
                html.append(t.content)
            elif t.type == "text" and re.search(r"(?i)https?://|www\.|\w@\w+\.\w", t.content):
                bare.append(t.content)
    return found, html, bare


def assert_only_citations(body: str, repo: FakeRepo) -> None:
    found, html, bare = rendered(body)
    comments = {f"comment {n}": c.html_url for n, c in enumerate(repo.comment_list[7], 1)}
    own = {"issue": repo.issues[7].html_url, **comments}
    assert found and all(own.get(text) == href for text, href in found), found
    assert html == [] and bare == [], (html, bare)


def test_a_strangers_links_are_shown_as_text_never_as_the_bots_citations(tmp_path: Path) -> None:
    """A drive-by comment's `[comment 2](https://evil…)` was quoted as the current state in the
    bot's voice, a link that looked like one of its own citations; so were its bare URL, its
    autolink, image, HTML link, reference link and e-mail address. Only the bot's own citation
    links are links; the stranger's text is still there to read."""
    repo = spam_thread()
    w = write_summary(None, thread_of(repo), load_settings(data_dir=tmp_path, env="test"))
    assert w.body is not None and "extractive" in w.how
    assert "evil.example/patched.exe" in w.body  # quoted, as text
    assert_only_citations(w.body, repo)


def test_the_model_repeating_a_strangers_link_posts_it_as_text(tmp_path: Path) -> None:
    repo = spam_thread()
    answer = {
        "problem": ["The app crashes on start. It worked in 1.2. [0]"],
        "tried": [f"{SPAM.splitlines()[0]} [3]"],
        "state": ["Carol is looking into it [2]"],
        "open_questions": [],
    }
    models: Any = ScriptedModels(answer)
    w = write_summary(models, thread_of(repo), load_settings(data_dir=tmp_path, env="test"))
    assert w.body is not None and "written by" in w.how, w.how
    assert "evil.example/patched.exe" in w.body
    assert_only_citations(w.body, repo)


def test_a_comments_html_is_shown_as_text(tmp_path: Path) -> None:
    """An unclosed `<details><summary>` of a comment was copied into a bullet, where it folds the
    rest of the bullet away, its citation link too; a `~~~` opening a quote made it a code block."""
    gh = FakeGitHub(lambda: NOW)
    repo = gh.add_repo("o/r")
    repo.add_issue(7, "alice", day(0), body="The app crashes on start.")
    repo.say(7, "bob", "~~~ Same here, still broken.", day(1), "CONTRIBUTOR")
    repo.say(
        7, "dave", "Here is my config <details><summary>config</summary>\n\nI tried it.", day(2)
    )
    w = write_summary(None, thread_of(repo), load_settings(data_dir=tmp_path, env="test"))
    assert w.body is not None and "<details>" not in w.body
    assert unclosed_fence(w.body) is None
    assert_only_citations(w.body, repo)
    assert "Here is my config &lt;details>&lt;summary>config&lt;/summary> I tried it." in w.body


def _around_the_cut(token: str) -> list[str]:
    """Sentences over 200 characters with token straddling the clip's cut (character 200)."""
    out = []
    for start in range(190, 200):
        words = " ".join(["lorem"] * 40)[: start - 1]
        out.append(f"{words.rstrip()}{' ' * (start - len(words.rstrip()))}{token} and then more.")
    return out


def _refs(text: str) -> set[str]:
    read = as_read(text)
    found = [
        *links(read),
        *("#" + n for n in ISSUE_REF.findall(read)),
        *("@" + m for m in MENTION.findall(read)),
        *CROSS_REF.findall(read),
        *commit_refs(read),
    ]
    return set(found)


@pytest.mark.parametrize(
    "token",
    [
        "https://github.com/o/r/blob/main/docs/install.md",
        "#1234",
        "GH-1234",
        "@alexandrafeldman",
        "octo/tools#1234",
        "1a2b3c4d5e6f7a8b9c0d",
        "evil-person@example.com",
        "[the guide](https://github.com/o/r/wiki/Install)",
        "(see#1234)",
    ],
)
def test_a_quote_is_never_cut_inside_a_reference(token: str) -> None:
    """`_clip` cut mid-token: `https://github.co…`, `#12…`, `@alexandrafeld…` (each refused as
    invented, so nothing was posted) or `#12` for `#1234` (linked, when the thread names #12)."""
    for sentence in _around_the_cut(token):
        clipped = S._clip(sentence)
        assert len(clipped) <= 200 and clipped.endswith("…")
        assert _refs(clipped) <= _refs(sentence), (clipped, _refs(clipped))


def test_a_quote_in_a_script_without_spaces_is_cut_between_its_letters() -> None:
    text = "升级到2.3以后程序启动时崩溃" * 20
    clipped = S._clip(text)
    assert clipped.endswith("…") and 150 < len(clipped) <= 200


def test_a_long_templated_issue_is_summarized_when_a_maintainer_asks(tmp_path: Path) -> None:
    """An issue template joins its lines into one sentence over 200 characters; its link cut at
    the clip made the extractive summary fail its check: `/smolbot summarize` posted nothing.
    The thread names #12 as well: the clip must not turn the quote's #1234 into a link to it."""
    gh = FakeGitHub(lambda: NOW)
    repo = gh.add_repo("o/r")
    body = (
        "### Describe the bug\nAfter upgrading to 2.3 the importer fails on every CSV file I give"
        " it, even the small ones from the examples folder, and I followed the guide at"
        " https://github.com/o/r/blob/main/docs/install.md exactly. Possibly related to #12."
    )
    repo.add_issue(7, "alice", day(0), body=body)
    bisect = (
        "I spent the whole afternoon bisecting this with the nightly builds from the download page"
        " and the crash first appears right after the parser rewrite that went in with the"
        " refactor of the importer #1234 as far as I can tell, so start looking there."
    )
    repo.say(7, "bob", bisect, day(1), "CONTRIBUTOR")
    repo.say(7, "carol", "Can you attach the CSV file?", day(2), "MEMBER")
    repo.say(7, "carol", "/smolbot summarize", day(3), "MEMBER")
    ctx = JobContext(
        load_settings(data_dir=tmp_path, env="test"),
        open_store(tmp_path / "s.db"),
        gh,
        None,
        lambda: NOW,
    )
    assert summarize_issue(ctx, repo, "o/r", 7, requested_by="carol") == "done"
    (posted,) = [c.body for c in repo.comment_list[7] if c.author == BOT]
    assert "#12…" not in posted and "https://github.co…" not in posted
    assert "Can you attach the CSV file?" in posted
    assert set(re.findall(r"\]\((https://[^)]+)\)", posted)) <= urls_of(repo)
