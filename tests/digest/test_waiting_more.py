"""The "Waiting on a maintainer" list shows the longest waits, `top` of them, and says how many
more there are."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.core.config import DigestConfig
from bot.core.digest import assemble, render_body, render_html, render_json, render_markdown
from bot.core.ranking import Note, Thread

NOW = datetime(2026, 11, 30, 9, tzinfo=UTC)


def _waiting(n: int) -> Thread:
    """Open, asked by a user, nobody answered: waiting on a maintainer for n + 1 days."""
    asked = Note("bob", NOW - timedelta(days=n + 1), False, False, "Any news?")
    opened = NOW - timedelta(days=n + 1, hours=1)
    return Thread(n, f"Issue {n}", "open", "ann", opened, comments=(asked,))


def _section(markdown: str) -> list[str]:
    part = markdown.split("## Waiting on a maintainer\n\n")[1].split("\n\n")[0]
    return part.splitlines()


def test_fifteen_waiting_ten_listed_and_five_more() -> None:
    d = assemble("o/r", [_waiting(n) for n in range(1, 16)], NOW - timedelta(days=7), NOW,
                 DigestConfig(top=10))  # fmt: skip
    assert len(d.waiting) == 10 and d.waiting_total == 15 and d.waiting_more == 5
    lines = _section(render_markdown(d))
    assert lines[0].startswith("- #15 Issue 15 — 16 days") and len(lines) == 11
    assert lines[-1] == "- and 5 more"
    assert "<li>and 5 more</li>" in render_html(d)
    assert json.loads(render_json(d))["waiting_total"] == 15
    assert "- and 5 more" in render_body(d)


def test_all_listed_says_no_more() -> None:
    d = assemble("o/r", [_waiting(n) for n in range(1, 4)], NOW - timedelta(days=7), NOW,
                 DigestConfig(top=10))  # fmt: skip
    assert d.waiting_total == 3 and d.waiting_more == 0
    assert _section(render_markdown(d))[-1].startswith("- #1 Issue 1")
    assert "more" not in render_html(d)
