"""The digest's re-review (dg2): numbers written differently, stored decisions, unread waits,
windows after a change of the slot, old dry-run previews."""

from __future__ import annotations

from bot.core.ranking import Thread
from bot.jobs.digest import line_problems
from tests.digest.sample_data import NOW, REPO


def _numbers_thread() -> tuple[Thread, str]:
    t = Thread(
        7, "Crash on save in 3.2.0", "open", "ann", NOW, url=f"https://github.com/{REPO}/issues/7"
    )
    return t, "Since v3.2.0 saving crashes on macOS 14.1. About 1,000 of our users hit it."


def test_a_line_may_write_a_version_shorter_or_a_count_without_its_comma() -> None:
    t, body = _numbers_thread()
    for line in (
        "Saving crashes since version 3.2",
        "Saving crashes on macOS 14",
        "About 1000 users hit a crash when saving",
        "About 1,000 users hit a crash when saving",
    ):
        assert list(line_problems(line, t, body)) == [], line


def test_a_number_the_thread_does_not_write_is_still_refused() -> None:
    t, body = _numbers_thread()
    for line, n in (
        ("Saving crashes since version 3.3", "3.3"),
        ("Saving crashes since version 3.2.1", "3.2.1"),
        ("About 100 users hit a crash when saving", "100"),
        ("Saving crashes on macOS 1", "1"),
    ):
        problems = list(line_problems(line, t, body))
        assert any(f"invented number: {n} " in p for p in problems), (line, problems)
