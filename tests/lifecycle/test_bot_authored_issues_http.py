"""An issue opened by a bot (smolbot's own digest or config-error issue, github-actions[bot], an
account GitHub types "Bot") never waits on its author: the bot is neither pinged nor is its issue
closed, whatever the thread says."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.sandbox.fake_github.server import FakeGitHubServer
from tests.lifecycle.http_world import DAY, REPO, bot_bodies, reasons, sweep, world


@pytest.mark.parametrize("labels", [["digest"], ["digest", "needs-info"]])
@pytest.mark.parametrize("author", ["smolbot[bot]", "github-actions[bot]", "Copilot"])
def test_a_bot_authored_issue_is_never_pinged_nor_closed(
    fake_github: FakeGitHubServer, tmp_path: Path, author: str, labels: list[str]
) -> None:
    st, ctx = world(fake_github, tmp_path)
    t0 = st.now() - 8 * DAY
    issue = st.add_issue(
        REPO, "Weekly digest", "Top issues this week ...", user=author, user_type="Bot",
        labels=labels, created_at=t0,
    )  # fmt: skip
    st.add_comment(REPO, issue.number, "Can we look at #3 first?", user="mia", created_at=t0 + DAY)
    sweep(ctx)
    st.advance(8 * DAY)
    sweep(ctx)
    pings = [b for b in bot_bodies(st, issue.number) if f"@{author}" in b]
    assert pings == [], reasons(ctx, issue.number)
    assert st.issue(REPO, issue.number).state == "open", reasons(ctx, issue.number)
    assert f"not waiting: opened by a bot ({author})" in reasons(ctx, issue.number)


def test_a_question_on_a_bot_authored_issue_waits_on_the_team(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    t0 = st.now() - 20 * DAY
    issue = st.add_issue(
        REPO, "Weekly digest", "Top issues ...", user="smolbot[bot]", user_type="Bot", created_at=t0
    )
    st.add_comment(REPO, issue.number, "Looks good.", user="mia", created_at=t0 + DAY)
    st.add_comment(REPO, issue.number, "Why is #3 first?", user="bob", created_at=t0 + 2 * DAY)
    sweep(ctx)
    (ping,) = [b for b in bot_bodies(st, issue.number) if "lifecycle:ping" in b]
    assert ping.startswith("Hi @mia, bob asked something"), ping
    st.advance(30 * DAY)
    sweep(ctx)
    assert st.issue(REPO, issue.number).state == "open", reasons(ctx, issue.number)
