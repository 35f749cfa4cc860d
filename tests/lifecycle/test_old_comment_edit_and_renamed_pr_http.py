"""Two edges of the lifecycle's reading of a thread. A pull request of this repository after a
rename is still this repository's (the timeline and the issue's own address name it as it is
named now; a job queued before the rename has the old name). A typo fixed in a comment from
before the needs-info request answers nothing: needs-info stays on (a maintainer is asked to
look, as the answer may have been edited in)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.core import lifecycle as lc
from bot.ports import EventData, IssueData
from bot.sandbox.fake_github.server import FakeGitHubServer
from tests.lifecycle.http_world import DAY, REPO, reasons, sweep, world

NEW = REPO.split("/")[0] + "/api-renamed"


def test_this_repository_s_pr_after_a_rename_still_holds_the_close() -> None:
    issue = IssueData(
        repo=REPO, number=1, title="Crash", body="", state="open", author="alice",
        labels=[], created_at="2026-12-01T00:00:00Z", updated_at="2026-12-01T00:00:00Z",
        html_url=f"https://github.com/{NEW}/issues/1",
    )  # fmt: skip
    link = EventData(
        kind="cross-referenced", actor="alice", created_at="2026-12-03T00:00:00Z",
        source_number=58, source_is_pull_request=True, source_repo=NEW,
    )  # fmt: skip
    thread = lc.Thread(issue, (), (link,))
    asked_at = datetime(2026, 12, 2, tzinfo=UTC)
    assert lc._linked_after(thread, "smolbot[bot]", asked_at) is link
    other = EventData(**{**link.__dict__, "source_repo": "someone/fork"})
    assert lc._linked_after(lc.Thread(issue, (), (other,)), "smolbot[bot]", asked_at) is None


def test_a_typo_fixed_in_a_comment_from_before_the_question_keeps_needs_info(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    t0 = st.now() - 3 * DAY
    issue = st.add_issue(
        REPO, "Crash", "It crashes.", user="alice", created_at=t0, labels=["needs-info"]
    )
    old = st.add_comment(REPO, issue.number, "Log: segfualt", user="alice", created_at=t0 + 60)
    st.add_comment(REPO, issue.number, "Which version?", user="mia", created_at=t0 + 0.1 * DAY)
    old.body, old.updated_at = "Log: segfault", st.now()
    issue.updated_at = st.now()
    sweep(ctx)
    labels = [lb if isinstance(lb, str) else lb.name for lb in st.issue(REPO, issue.number).labels]
    assert "needs-info" in labels, (labels, reasons(ctx, issue.number)[-3:])
    assert any("from before the needs-info request" in r for r in reasons(ctx, issue.number))
