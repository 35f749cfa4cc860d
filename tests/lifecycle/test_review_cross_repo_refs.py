"""A thread that names another repository's issue (`upstream/lib#12`) still gets a summary: the
check allows the `owner/repo#N` references the thread itself contains, and only those."""

from __future__ import annotations

from pathlib import Path

from bot.core import summary as S
from bot.core.checks import CheckResult
from bot.core.lifecycle import Thread
from bot.jobs.summarize import write_summary
from bot.ports import CommentData, IssueData
from bot.settings import load_settings

BODY = "The app crashes on resize, same as upstream/lib#12. It happens on 2.1."


def thread() -> Thread:
    issue = IssueData(
        "o/r",
        7,
        "Crash on resize",
        BODY,
        "open",
        "alice",
        [],
        "2024-01-01T00:00:00Z",
        "2024-01-02T00:00:00Z",
        html_url="https://github.com/o/r/issues/7",
    )
    comments = tuple(
        CommentData(
            i,
            "bob",
            f"I tried reinstalling, still the same crash {i}.",
            f"2024-01-0{i + 1}T00:00:00Z",
            html_url=f"https://github.com/o/r/issues/7#c{i}",
        )
        for i in range(1, 4)
    )
    return Thread(issue, comments)


def test_a_thread_quoting_another_repository_s_issue_gets_a_summary(tmp_path: Path) -> None:
    written = write_summary(None, thread(), load_settings(env="test", data_dir=tmp_path))
    assert written.body is not None, (written.how, written.problems)
    assert "upstream/lib#12" in written.body


def test_the_model_may_repeat_the_thread_s_reference_but_not_invent_one() -> None:
    t = thread()
    items = S.entries(t, "smolbot[bot]")

    def check(text: str) -> CheckResult:
        return S.check_summary(S.ThreadSummary.model_validate({"problem": [text]}), t, items)

    assert check("Crashes on resize, as in upstream/lib#12 [0]").ok
    assert check("Crashes on resize, as in Upstream/Lib#12 [0]").ok  # GitHub ignores the case
    for invented in ("upstream/lib#13", "other/lib#12", "evil/repo#1"):
        result = check(f"Crashes on resize, as in {invented} [0]")
        assert not result.ok and any(invented in p for p in result.problems), result.problems


def test_the_model_may_name_the_thread_s_commit_but_not_invent_one() -> None:
    """GitHub links a bare SHA to the repository's commit: a summary naming one nobody wrote
    points readers at a change that may fix nothing, or not exist."""
    t = thread()
    fixed = CommentData(9, "carol", "Fixed by 3f9a2c1b.", "2024-01-05T00:00:00Z")
    t = Thread(t.issue, (*t.comments, fixed))
    items = S.entries(t, "smolbot[bot]")

    def check(text: str) -> CheckResult:
        return S.check_summary(S.ThreadSummary.model_validate({"state": [text]}), t, items)

    assert check("Fixed by 3f9a2c1b [4]").ok
    assert check("Fixed by 3F9A2C1 [4]").ok  # an abbreviation of it, in any case
    result = check("Fixed by 7be41d09 [4]")
    assert not result.ok and any("7be41d09" in p for p in result.problems), result.problems
