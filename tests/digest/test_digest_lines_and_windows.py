"""Review fixes of the digest: checked lines, counts, windows, the digest issue itself, labels,
titles."""

from __future__ import annotations

from bot.core.ranking import Thread
from bot.jobs.digest import line_problems
from tests.digest.sample_data import NOW, REPO


def _thread() -> Thread:
    return Thread(7, "Crash on save", "open", "ann", NOW, url=f"https://github.com/{REPO}/issues/7")


def test_a_model_line_may_not_invent_a_version_or_a_count() -> None:
    line = "Saving crashes since version 3.2 for about 400 users."
    problems = list(line_problems(line, _thread(), "It crashes when I save."))
    assert any("3.2" in p for p in problems) and any("400" in p for p in problems), problems


def test_a_model_line_may_repeat_the_thread_s_numbers() -> None:
    line = "Saving in 3.2 crashes (#7) for 400 users."
    said = "It crashes when I save, since 3.2. We are 400 here."
    assert list(line_problems(line, _thread(), said)) == []
