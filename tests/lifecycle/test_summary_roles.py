"""Whose words a summary repeats: each cited comment says whether its writer is the author, a
maintainer or another user, and a thread only strangers answered has no stranger's words as its
Current state, but says that neither the author nor a maintainer has replied."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.core import summary as S
from bot.jobs.summarize import write_summary
from bot.llm.prompts import load_prompt
from bot.settings import load_settings
from tests.lifecycle.fakes import FakeGitHub, FakeRepo, ScriptedModels, day
from tests.lifecycle.test_summary import NOW, thread_of

URL = "https://github.com/o/r/issues/7"
FIXED = "Fixed in 2.3, please upgrade."


def entry(n: int, author: str, role: str, text: str) -> S.Entry:
    return S.Entry(n, author, role, text, URL if n == 0 else f"{URL}#issuecomment-{n}")


def section(body: str, title: str) -> list[str]:
    return body.split(f"**{title}**\n")[1].split("\n\n")[0].splitlines()


def rendered(summary: S.ThreadSummary, items: list[S.Entry]) -> str:
    return S.render(summary, items, None, "test", "h", "model")


def test_each_cited_comment_says_whose_words_it_is() -> None:
    """A maintainer's "fixed in 2.3" and a stranger's read alike: both only linked a comment."""
    items = [
        entry(0, "alice", S.AUTHOR, "The app crashes on start."),
        entry(1, "zed", S.OTHER, FIXED),
        entry(2, "bob", S.MAINTAINER, FIXED),
        entry(3, "alice", S.AUTHOR, "Upgraded, it works."),
    ]
    summary = S.ThreadSummary(
        problem=["The app crashes on start. [0]"],
        tried=[f"{FIXED} [1]"],
        state=[f"{FIXED} [2] [3]"],
    )
    body = rendered(summary, items)
    assert section(body, "Problem") == [f"- The app crashes on start. ([issue]({URL}))"]
    assert section(body, "What was tried") == [
        f"- {FIXED} ([comment 1]({URL}#issuecomment-1) by another user)"
    ]
    assert section(body, "Current state") == [
        f"- {FIXED} ([comment 2]({URL}#issuecomment-2) by a maintainer,"
        f" [comment 3]({URL}#issuecomment-3) by the author)"
    ]


def strangers_only() -> FakeRepo:
    repo = FakeGitHub(lambda: NOW).add_repo("o/r")
    repo.add_issue(7, "alice", day(0), body="The app crashes on start. It worked in 1.2.")
    repo.say(7, "zed", "I tried a reinstall, still the same crash.", day(1))
    repo.say(7, "yan", "Me too, any update on this?", day(2), "CONTRIBUTOR")
    return repo


def test_with_only_strangers_replying_the_state_says_nobody_answered(tmp_path: Path) -> None:
    """The newest stranger's "me too, any update?" was the Current state: a maintainer took it
    for where things stand. What a stranger tried is still quoted, under What was tried."""
    w = write_summary(
        None, thread_of(strangers_only()), load_settings(data_dir=tmp_path, env="test")
    )
    assert w.body is not None and w.kind == "extractive"
    assert section(w.body, "Current state") == [f"- {S.NOBODY_ANSWERED}"], w.body
    assert "reinstall" in "\n".join(section(w.body, "What was tried")), w.body
    assert "by another user" in w.body


def test_with_only_strangers_replying_the_models_state_gives_way_too(tmp_path: Path) -> None:
    answer = {
        "problem": ["The app crashes on start. [0]"],
        "tried": ["Zed tried a reinstall, still the same crash. [1]"],
        "state": ["Yan asks for any update on this. [2]"],
    }
    models: Any = ScriptedModels(answer)
    settings = load_settings(data_dir=tmp_path, env="test")
    w = write_summary(models, thread_of(strangers_only()), settings)
    assert w.body is not None and w.kind == "model", w.how
    assert section(w.body, "Current state") == [f"- {S.NOBODY_ANSWERED}"], w.body
    assert "any update" not in w.body and "reinstall" in w.body


def test_the_authors_own_reply_is_still_the_state() -> None:
    items = [
        entry(0, "alice", S.AUTHOR, "The app crashes on start."),
        entry(1, "zed", S.OTHER, "Me too, any update?"),
        entry(2, "alice", S.AUTHOR, "It also crashes in safe mode."),
    ]
    assert not S.unanswered(items)
    summary = S.extractive(items)
    assert summary.state == ["It also crashes in safe mode. [2]"]
    assert section(rendered(summary, items), "Current state") == [
        f"- It also crashes in safe mode. ([comment 2]({URL}#issuecomment-2) by the author)"
    ]


def test_a_chunk_of_strangers_has_no_state_of_theirs() -> None:
    """A later chunk (no issue entry) cannot tell that nobody answered: the author may have in an
    earlier one; its extractive piece just has no stranger's words as the state."""
    part = [
        entry(5, "zed", S.OTHER, "Still the same crash in 2.4."),
        entry(6, "yan", S.OTHER, "+1"),
    ]
    assert S.extractive(part).state == []


def test_the_prompts_say_the_state_comes_from_the_author_or_a_maintainer() -> None:
    for name in ("summary_thread", "summary_chunk"):
        system = load_prompt(name).render({"title": "t", "thread": "x", "count": "1"}).system
        assert "(author), (maintainer) or (other)" in system, name
        assert "author's or a maintainer's words" in system, name


def test_a_replys_role_is_part_of_what_the_summary_was_made_from() -> None:
    """The summary shows each reply's role: a writer who joined the team since makes it stale."""
    before = [entry(0, "alice", S.AUTHOR, "It crashes."), entry(1, "bob", S.OTHER, FIXED)]
    after = [before[0], entry(1, "bob", S.MAINTAINER, FIXED)]
    assert S.content_hash(before) != S.content_hash(after)
    assert S.content_hash(before) == S.content_hash(list(before))


def test_a_pull_requests_state_does_not_say_nobody_answered() -> None:
    """A pull request's reviews are not read: a maintainer's "changes requested" may be there."""
    items = [
        entry(0, "alice", S.AUTHOR, "Adds a dark theme."),
        entry(1, "zed", S.OTHER, "Looks great, any update on this?"),
    ]
    assert S.unanswered(items)
    summary = S.extractive(items)
    assert S.NOBODY_ANSWERED not in S.render(summary, items, None, "test", "h", "model")
    assert S.NOBODY_ANSWERED in rendered_issue(summary, items)


def rendered_issue(summary: S.ThreadSummary, items: list[S.Entry]) -> str:
    waiting = S.Waiting(on="maintainer", who=(), since=NOW, reason="test")
    return S.render(summary, items, waiting, "test", "h", "model")


def test_an_authors_log_only_reply_leaves_no_stranger_as_the_models_state() -> None:
    """The author answered with only a traceback (no words to quote), then a stranger asked for
    news: the model's "Zed asks for any update" was kept as the state; the extractive summary
    of the same thread has none."""
    items = [
        entry(0, "alice", S.AUTHOR, "The app crashes on start."),
        entry(1, "alice", S.AUTHOR, "```\nTraceback (most recent call last):\nKeyError: 'x'\n```"),
        entry(2, "zed", S.OTHER, "Me too, any update on this?"),
    ]
    model = S.ThreadSummary(
        problem=["The app crashes on start. [0]"], state=["Zed asks for any update on this. [2]"]
    )
    assert S.extractive(items).state == []
    assert S.owned_state(model, items).state == []
