"""Every number standing alone on a `/smolbot duplicate` line is an issue it names, not only one
first on the line: `12 or 13?`, `12 13` and `#12 or 13` name two issues and close nothing, as
`#12 or #13?` does. They used to close as a duplicate of #12, the second number unseen. Digits
of a word, a version, a time, a date or a link are not issues."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.commands import Command, conflicting_duplicates, parse_commands
from bot.jobs.commands import handle_comment_event
from tests.commands.conftest import REPO, bot_comments, comment_payload


@pytest.mark.parametrize(
    "rest",
    [
        "12 or 13?",
        "12 13",
        "#12 or 13",
        "12 or #13",
        "12, 13",
        "12,13",
        "of 12 (or 13)",
        "12 and 13",
    ],
)
def test_two_bare_numbers_or_a_bare_one_beside_a_hash_one_are_a_conflict(rest: str) -> None:
    commands, rejected = parse_commands(f"/smolbot duplicate {rest}", REPO)
    to_run, named = conflicting_duplicates(commands, rejected)
    assert to_run == [] and named == ("#12", "#13")


@pytest.mark.parametrize(
    "rest",
    [
        "12",
        "#12",
        "#12 or 12",
        "12 (same as #12)",
        "issue 12.",
        "(12)",
        "#12 +1",
        "#12, fixed in v2",
        "#12, fixed in 1.2.3",
        "#12 since 12.0",
        "#12 at 10:30",
        "#12 on 2024-01-01",
        "#12, see commit abc123#L10",
        "#12 (1st report)",
        "https://github.com/octo/app/issues/12#issuecomment-99",
        "[#12](https://github.com/octo/app/issues/12)",
        "#12 see https://example.com/page?id=13&n=14",
        "#12 see www.example.com/13",
    ],
)
def test_digits_in_words_versions_times_dates_and_links_are_no_target(rest: str) -> None:
    assert parse_commands(f"/smolbot duplicate {rest}", REPO) == ([Command("duplicate", 12)], [])


@pytest.mark.parametrize("rest", ["v2", "12.0", "1.2.3", "10:30", "GH-12"])
def test_a_line_with_no_number_standing_alone_names_no_issue(rest: str) -> None:
    commands, (rejected,) = parse_commands(f"/smolbot duplicate {rest}", REPO)
    assert commands == [] and "needs an issue" in rejected.why


def test_two_bare_numbers_on_one_line_close_nothing(world: Any) -> None:
    state, ctx = world
    a = state.add_issue(REPO, "Crash").number
    b = state.add_issue(REPO, "Crash too").number
    n = state.add_issue(REPO, "Crash again").number
    handle_comment_event(
        ctx, "c1", comment_payload(n, f"/smolbot duplicate {a} or {b}?", "maint", on=state)
    )
    assert state.issue(REPO, n).state == "open"
    (reply,) = bot_comments(state, n)
    assert f"#{a}, #{b}" in reply
