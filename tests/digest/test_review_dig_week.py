"""A week over real HTTP (the GitHub adapter against the fake GitHub): an issue closed and reopened
in the week is not counted closed, 👎 and 😕 rank nothing, and the digest's dates are the
repository's (Tokyo's Monday-08:00 week said Sunday to Sunday, its UTC dates)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.github import GitHubApp
from bot.jobs.context import JobContext
from bot.jobs.digest import run_due_digests
from bot.store import open_store
from tests.fake_github import FakeGitHubServer
from tests.fake_github.plugin import make_settings

INST, REPO = 7, "octo/app"
DAY = 86400.0
SLOT = datetime(2026, 11, 22, 23, tzinfo=UTC)  # Monday 2026-11-23 08:00 in Tokyo
CONFIG = "digest:\n  weekday: 0\n  hour: 8\n  timezone: Asia/Tokyo\n"


def test_a_tokyo_week_with_a_reopened_issue_and_down_votes(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st = fake_github.state
    st.advance(SLOT.timestamp() - 6 * DAY - st.now())  # Tuesday of the week
    st.add_repo(REPO, INST)
    st.put_file(REPO, ".github/smolbot.yml", CONFIG)
    old = st.now() - 60 * DAY
    crash = st.add_issue(REPO, "Crash on start", "It crashes.", created_at=old)
    st.add_event(REPO, crash.number, "closed", "mia")  # closed by mistake on Tuesday ...
    st.advance(DAY)
    st.add_event(REPO, crash.number, "reopened", "mia")  # ... reopened on Wednesday: open
    crash.updated_at = st.now()
    downvoted = {"-1": 40, "confused": 3}
    st.add_issue(
        REPO, "Proposal: drop Windows", "Let us.", created_at=old, reaction_kinds=downvoted
    )
    st.add_issue(REPO, "Data loss on NFS", "Saving loses data.", created_at=old, reactions=12)
    st.advance(SLOT.timestamp() + 1800 - st.now())
    settings = make_settings(fake_github, tmp_path)
    store = open_store(settings.db_path)
    store.upsert_installation(INST, "octo")
    store.add_repositories(INST, [{"full_name": REPO, "id": 1}])
    ctx = JobContext(
        settings,
        store,
        github=GitHubApp(settings, clock=st.now),
        now=lambda: datetime.fromtimestamp(st.now(), UTC),
    )

    (run,) = run_due_digests(ctx)

    d = run.digest
    assert d.counts["closed"] == 0 and d.counts["open_total"] == 3
    ranked = [i.number for i in d.top]
    assert ranked.index(3) < ranked.index(2)  # 12 👍 above 40 👎 and 3 😕
    assert d.top[ranked.index(3)].why[0] == "12 👍"
    assert not any("reaction" in w or "👎" in w for w in d.top[ranked.index(2)].why)
    body = st.issue(REPO, run.number).body
    assert "From 2026-11-16 to 2026-11-23." in body  # Monday to Monday, Tokyo's dates
    assert "- closed: 0" in body
