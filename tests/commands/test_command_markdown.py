"""What is a command, read as GitHub shows the comment's Markdown: code is recognised before
HTML comments, so a `<!--` in code is text and hides nothing; a code block in a list item and a
<pre> block show their lines as examples, which do not run."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.commands import Command, parse_commands
from bot.jobs.commands import handle_comment_event
from tests.commands.conftest import REPO, comment_payload


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Our template uses `<!--` for hints.\n/smolbot ignore", [Command("ignore")]),
        ("```html\n<!-- hint\n```\n/smolbot duplicate #12", [Command("duplicate", 12)]),
        ("~~~\n<!--\n~~~\n/smolbot ignore", [Command("ignore")]),
        ("    <!-- indented: code\n\n/smolbot ignore", [Command("ignore")]),
        # not at a line's start and never closed: shown as text, the command below runs
        ("It starts with <!-- and is never closed\n/smolbot ignore", [Command("ignore")]),
        ("Unclosed <!-- here\n\n/smolbot ignore\n\nclosed later -->", [Command("ignore")]),
        # still hidden: an unclosed comment starting a line hides the rest (an HTML block) ...
        ("<!-- /smolbot ignore", []),
        ("text\n<!-- hint\n/smolbot ignore", []),
        ("- <!-- hint\n  /smolbot ignore", []),
        # ... and a comment closed further down its paragraph hides what is between
        ("see <!-- hint\n/smolbot ignore\n--> above", []),
        ("a <!-- x\ny --> /smolbot ignore", []),  # what follows --> goes on a's line
        ("<!--\n/smolbot ignore\n-->\n/smolbot summarize", [Command("summarize")]),
    ],
)
def test_an_html_comment_opener_in_code_or_text_hides_nothing(
    body: str, expected: list[Command]
) -> None:
    assert parse_commands(body)[0] == expected


@pytest.mark.parametrize(
    "body",
    [
        "- ```\n  /smolbot ignore\n  ```",
        "1. ```\n   /smolbot ignore\n   ```",
        "* ~~~\n  /smolbot ignore\n  ~~~",
        "2) ```sh\n   /smolbot ignore\n   ```",
        "<pre>\n/smolbot ignore\n</pre>",
        "<PRE lang=sh>\n/smolbot ignore\n</pre>",
        "- <pre>\n  /smolbot ignore\n  </pre>",
        "<script>\n/smolbot ignore\n</script>",
    ],
)
def test_an_example_in_a_list_item_code_block_or_a_pre_block_does_not_run(body: str) -> None:
    assert parse_commands(f"{body}\n/smolbot summarize")[0] == [Command("summarize")]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # a line indented less than the item's text ends the item, and its code block with it
        ("- ```\n  /smolbot ignore\n/smolbot summarize", [Command("summarize")]),
        ("- <!--\n  /smolbot ignore\n/smolbot summarize", [Command("summarize")]),
        ("<pre>/smolbot ignore</pre>\n/smolbot summarize", [Command("summarize")]),
        ("- item\n  ```\n  /smolbot ignore\n  ```\n/smolbot summarize", [Command("summarize")]),
    ],
)
def test_a_list_item_or_pre_block_ends_where_github_ends_it(
    body: str, expected: list[Command]
) -> None:
    assert parse_commands(body)[0] == expected


@pytest.mark.parametrize(
    ("body", "ignored"),
    [
        ("Our template uses `<!--` for hints.\n/smolbot ignore", True),
        ("```html\n<!-- hint\n```\n/smolbot ignore", True),
        ("- ```\n  /smolbot ignore\n  ```", False),
        ("<pre>\n/smolbot ignore\n</pre>", False),
    ],
)
def test_a_maintainers_comment_runs_what_github_shows_as_a_command(
    world: Any, body: str, ignored: bool
) -> None:
    state, ctx = world
    n = state.add_issue(REPO, "Crash").number
    handle_comment_event(ctx, "c1", comment_payload(n, body, "maint", on=state))
    assert ctx.store.ignored_by(REPO, n) == ("maint" if ignored else None)
