"""End to end over real HTTP: the GitHub adapter against the fake GitHub, a simulated week, beat's sweep."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.core.markers import markers_in
from bot.github import GitHubApp
from bot.jobs.context import JobContext
from bot.jobs.digest import post_weekly_digest, repo_config, run_due_digests
from bot.store import open_store
from tests.fake_github import FakeGitHubServer
from tests.fake_github.plugin import make_settings

INST, REPO = 7, "octo/app"
DAY = 86400.0
START = datetime(2026, 11, 23, 7, 30, tzinfo=UTC)  # Monday 08:30 in Berlin, before the 09:00 slot
CONFIG = "digest:\n  weekday: 0\n  hour: 9\n  timezone: Europe/Berlin\n  top: 5\n"


def seed(gh: FakeGitHubServer) -> None:
    st = gh.state
    st.advance(START.timestamp() - st.now())  # the fake's clock is the week's clock
    now = st.now()
    st.add_repo(REPO, INST)
    st.set_permission(REPO, "mia", "maintain")
    st.put_file(REPO, ".github/smolbot.yml", CONFIG)
    st.add_issue(
        REPO,
        "Token leaks into logs",
        "Tokens appear in debug logs.",
        labels=["security"],
        created_at=now - 3 * DAY,
    )
    st.add_comment(REPO, 1, "Confirmed on 1.2.", user="bob", created_at=now - 2 * DAY)
    st.add_issue(REPO, "Export is slow", "Takes minutes.", created_at=now - 12 * DAY, reactions=7)
    st.add_issue(REPO, "Logs show my token", "Same thing.", created_at=now - 2 * DAY)
    st.add_comment(REPO, 3, "Duplicate of #1", user="mia", created_at=now - 1 * DAY)
    st.issue(REPO, 3).state = "closed"
    st.issue(REPO, 3).closed_at = now - DAY


def test_a_simulated_week_posts_once_edits_on_rerun_and_posts_again_next_week(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    seed(fake_github)
    st = fake_github.state
    settings = make_settings(fake_github, tmp_path)
    store = open_store(settings.db_path)
    store.upsert_installation(INST, "octo")
    store.add_repositories(INST, [{"full_name": REPO, "id": 1}])

    def clock() -> datetime:
        return datetime.fromtimestamp(st.now(), UTC)

    ctx = JobContext(settings, store, github=GitHubApp(settings, clock=st.now), now=clock)
    assert run_due_digests(ctx) == []  # 08:30 Berlin: not yet
    st.advance(3600)
    (run,) = run_due_digests(ctx)  # 09:30: due
    assert run.created and run.digest.week == "2026-w48"
    assert [i.number for i in run.digest.top][:1] == [1]
    assert "1 duplicate" in run.digest.top[0].why
    body = st.issue(REPO, run.number).body
    assert "digest:2026-w48" in markers_in(body) and "digest" in st.issue(REPO, run.number).labels

    st.advance(3600)
    assert run_due_digests(ctx) == []  # already posted this week
    host = ctx.github.repo(INST, REPO)  # type: ignore[union-attr]
    forced = post_weekly_digest(host, store, REPO, repo_config(host), clock)
    assert (forced.created, forced.number) == (False, run.number)
    assert len(st.requests("POST", f"/repos/{REPO}/issues")) == 1  # never a second issue
    assert len(st.requests("PATCH", f"/repos/{REPO}/issues/{run.number}")) == 1

    st.advance(7 * DAY)
    (later,) = run_due_digests(ctx)
    assert later.created and later.digest.week == "2026-w49" and later.number != run.number
    assert run.number not in [i.number for i in later.digest.top]


def test_the_digest_is_about_people_s_issues_and_one_repository_cannot_stop_the_rest(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """Issues bots opened are not the week's issues; a title cannot carry next week's marker
    (it made next week edit this week's digest); a repository that fails is audited, and the
    others still get theirs."""
    seed(fake_github)
    st = fake_github.state
    settings = make_settings(fake_github, tmp_path)
    now = st.now()
    bot_issue = st.add_issue(
        REPO, "smolbot: .github/smolbot.yml is invalid", "x", user=settings.bot_login,
        created_at=now - DAY,
    ).number  # fmt: skip
    st.add_issue(REPO, "Dependency Dashboard", "y", user="renovate[bot]", created_at=now - DAY)
    sly = st.add_issue(
        REPO, "Crash <!-- smolbot:digest:2026-w49 --> on start", "z", created_at=now - DAY
    ).number
    store = open_store(settings.db_path)
    store.upsert_installation(INST, "octo")
    store.add_repositories(INST, [{"full_name": REPO, "id": 1}])
    store.upsert_installation(99, "gone")  # uninstalled on GitHub's side: reading it fails
    store.add_repositories(99, [{"full_name": "gone/aaa", "id": 2}])  # sorted before octo/app
    store.upsert_installation(98, "paused")  # suspended: no token is even asked for
    store.add_repositories(98, [{"full_name": "paused/aaa", "id": 3}])
    store.set_installation_suspended(98, True)

    def clock() -> datetime:
        return datetime.fromtimestamp(st.now(), UTC)

    ctx = JobContext(settings, store, github=GitHubApp(settings, clock=st.now), now=clock)
    st.advance(3600)
    (run,) = run_due_digests(ctx)
    (gone,) = store.audit_rows("gone/aaa", None)  # skipped, and said once
    assert gone["outcome"] == "skipped" and "installation does not exist" in gone["reason"]
    assert store.audit_rows("paused/aaa") == []
    assert not st.requests("POST", "/app/installations/98/access_tokens")
    numbers = [i.number for i in run.digest.top]
    assert sly in numbers and bot_issue not in numbers
    assert run.digest.counts["opened"] == 3  # #1, #3 and the sly one; not the two bots'
    assert markers_in(st.issue(REPO, run.number).body) >= {"digest:2026-w48"}
    assert "digest:2026-w49" not in markers_in(st.issue(REPO, run.number).body)
    st.advance(7 * DAY)
    (later,) = run_due_digests(ctx)
    assert later.created and later.number != run.number  # its own issue, last week's kept


def test_a_dry_run_digest_is_built_once_a_week_and_posts_nothing(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    seed(fake_github)
    st = fake_github.state
    st.put_file(REPO, ".github/smolbot.yml", CONFIG + "dry_run: true\n")
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
    st.advance(3600)
    (run,) = run_due_digests(ctx)
    assert run.number is None and not st.requests("POST", f"/repos/{REPO}/issues")
    for _ in range(3):  # the hours after: nothing to build again this week
        st.advance(3600)
        assert run_due_digests(ctx) == []
    rows = [r for r in store.audit_rows(REPO, None) if r["action"] == "digest"]
    assert [r["outcome"] for r in rows] == ["dry-run"]
    st.advance(7 * DAY)
    assert len(run_due_digests(ctx)) == 1  # next week's
