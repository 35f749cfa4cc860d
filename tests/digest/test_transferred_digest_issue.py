"""Over real HTTP: the pinned digest issue was transferred to another repository (GitHub answers
301 to its PATCH); the next digest opens a new issue instead of failing every week."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.core.config import parse_config
from bot.github import GitHubApp
from bot.jobs.digest import post_weekly_digest
from bot.store import open_store
from tests.fake_github import FakeGitHubServer
from tests.fake_github.plugin import make_settings

INST, REPO = 7, "octo/app"


def test_a_transferred_pinned_digest_issue_gets_a_new_one(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st = fake_github.state
    st.add_repo(REPO, INST)
    st.add_repo("octo/archive", INST)
    st.add_issue(REPO, "Weekly digest", "the old digest", user="smolbot[bot]", user_type="Bot")
    st.add_issue(REPO, "Export is slow", "Takes minutes.")
    st.transfer_issue(REPO, 1, "octo/archive")  # a maintainer moved the pinned digest away
    settings = make_settings(fake_github, tmp_path)
    store = open_store(settings.db_path)
    host = GitHubApp(settings).repo(INST, REPO)
    cfg = parse_config("digest:\n  pinned_issue: 1\n")

    run = post_weekly_digest(host, store, REPO, cfg, lambda: datetime.now(UTC))

    assert run.created and run.number not in (None, 1)
    assert "digest" in st.issue(REPO, run.number).labels
    assert st.issue("octo/archive", 1).body == "the old digest"  # left as it was
