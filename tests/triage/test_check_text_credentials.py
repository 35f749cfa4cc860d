"""A credential pasted in an issue (a token in a log) and repeated by the model is never posted:
the reporter who edits the token out of the issue could not delete the bot's copy. check_text
refuses text that looks like one, with the patterns the commit drafter keeps diffs local by."""

from __future__ import annotations

from typing import Any

from bot.core.actions import Comment, NoOp
from bot.core.checks import check_text
from bot.core.config import Kind
from bot.core.triage import IssueSnapshot, first_response_actions
from tests.digest.test_digest import ScriptedModels, sample_digest

TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
ISSUE = IssueSnapshot("o/r", 7, "Auth fails", f"Log:\nAuthorization: token {TOKEN}\n401", "alice")


def test_first_response_echoing_a_token_is_not_posted() -> None:
    text = f"Thanks! The request with token {TOKEN} gets a 401; a maintainer will look."
    actions = first_response_actions(
        text, issue=ISSUE, related=(), people=(), enabled=True, kind=Kind.BUG
    )
    assert not [a for a in actions if isinstance(a, Comment)], actions
    (why,) = [a.reason for a in actions if isinstance(a, NoOp)]
    assert "looks like a credential: GitHub token" in why and TOKEN not in why


def test_a_token_split_by_an_invisible_character_is_still_one() -> None:
    split = TOKEN[:10] + "\u200b" + TOKEN[10:]
    assert check_text(f"Try {split}").problems == ("looks like a credential: GitHub token",)
    assert check_text("Thanks! The login fails with a 401; a maintainer will look.").ok


def test_digest_line_echoing_a_token_falls_back_to_the_title(store: Any) -> None:
    d = sample_digest(store, ScriptedModels([f"Login fails with token {TOKEN}"]), top=1)
    assert TOKEN not in d.top[0].line, d.top[0].line
    assert d.top[0].line == d.top[0].title
