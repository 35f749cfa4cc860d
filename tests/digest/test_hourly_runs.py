"""The hourly digest job over HTTP: one repository GitHub cannot answer for holds back no other's
digest, and a retry of the run posts none twice; one GitHub refuses for good is audited once, not
every hour; a digest posted late covers its slot's week."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.github import GitHubApp
from bot.jobs.context import JobContext
from bot.jobs.digest import DigestRun, run_due_digests
from bot.ports import RateLimited, Unavailable
from bot.sandbox.fake_github.state import FakeGitHub
from bot.store import Store, open_store
from tests.fake_github import FakeGitHubServer
from tests.fake_github.plugin import make_settings

INST = 7
START = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)  # Monday, after the default 08:00 UTC slot


def world(
    fake_github: FakeGitHubServer, tmp_path: Path, repos: Sequence[str], other: Sequence[str] = ()
) -> tuple[FakeGitHub, Store, JobContext]:
    """`repos` in installation INST, `other` in installation INST + 1, each with an issue; the
    clock just past the week's slot."""
    gh = fake_github.state
    gh.advance(START.timestamp() - gh.now())
    settings = make_settings(fake_github, tmp_path)
    store = open_store(settings.db_path)
    for inst, names in ((INST, repos), (INST + 1, other)):
        store.upsert_installation(inst, "octo")
        for name in names:
            gh.add_repo(name, inst)
            gh.add_issue(name, "Export is slow", "Takes minutes.", created_at=gh.now() - 86400)
        store.add_repositories(inst, [{"full_name": r, "id": hash(r) % 10**6} for r in names])
    now = lambda: datetime.fromtimestamp(gh.now(), UTC)  # noqa: E731
    return gh, store, JobContext(settings, store, github=GitHubApp(settings, clock=gh.now), now=now)


def run_with_retries(ctx: JobContext, tries: int = 3) -> list[DigestRun]:
    """As the task queue does: the run again after a RateLimited or an Unavailable."""
    for n in range(tries):
        try:
            return run_due_digests(ctx)
        except (RateLimited, Unavailable):
            if n == tries - 1:
                raise
    return []


def posted(store: Store) -> set[str]:
    return {r["repo"] for r in store.rows("select repo from digests")}


def test_a_repository_answering_5xx_holds_back_no_other_and_a_retry_posts_none_twice(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """octo/aaa's issue listing answers 502 for two days (a timeline GitHub times out on): the
    repositories after it still get their digest, each once over the run and its retries."""
    gh, store, ctx = world(fake_github, tmp_path, ["octo/aaa", "octo/bbb", "octo/ccc"])
    gh.fail_for(2 * 86400, status=502, match="/repos/octo/aaa/issues")
    with pytest.raises(Unavailable):  # raised at the end: the task retries the run
        run_due_digests(ctx)
    assert posted(store) == {"octo/bbb", "octo/ccc"}
    for _ in range(3):  # the run's retries and the next hourly runs
        with contextlib.suppress(Unavailable):
            run_with_retries(ctx)
        gh.advance(3600)
    assert posted(store) == {"octo/bbb", "octo/ccc"}
    for repo in ("octo/bbb", "octo/ccc"):
        assert len(gh.requests("POST", f"/repos/{repo}/issues")) == 1
    failed = [r for r in store.audit_rows("octo/aaa") if r["outcome"] == "failed"]
    assert failed and "502" in failed[0]["reason"], failed
    gh.advance(2 * 86400)  # GitHub answers again
    (late,) = run_due_digests(ctx)
    assert late.digest.repo == "octo/aaa" and posted(store) == {"octo/aaa", "octo/bbb", "octo/ccc"}


def test_a_rate_limit_stops_only_its_installation_s_repositories(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """Installation 7's quota is spent at octo/aaa: octo/bbb, also 7's, waits for the retry;
    installation 8's octo/ccc does not."""
    gh, store, ctx = world(fake_github, tmp_path, ["octo/aaa", "octo/bbb"], ["octo/ccc"])
    gh.secondary_limit(1, retry_after=60, match="/repos/octo/aaa/issues")
    with pytest.raises(RateLimited):
        run_due_digests(ctx)
    assert posted(store) == {"octo/ccc"}
    assert gh.requests("GET", "/repos/octo/bbb/issues") == []  # not even tried
    assert {r.digest.repo for r in run_due_digests(ctx)} == {"octo/aaa", "octo/bbb"}
    for repo in ("octo/aaa", "octo/bbb", "octo/ccc"):
        assert len(gh.requests("POST", f"/repos/{repo}/issues")) == 1


def test_a_digest_posted_late_covers_the_week_before_its_slot(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """Down over week 49's slot (Monday 08:00 UTC) and back on Monday 07:30 of week 50: the late
    W49 digest covers the seven days before W49's slot, not before 07:30, and W50's, an hour
    later, starts where it ends: no week left out, none in two digests."""
    gh, _, ctx = world(fake_github, tmp_path, ["octo/app"])
    (w48,) = run_with_retries(ctx)
    gh.advance(2 * 7 * 86400 - 3600)  # Monday 07:30 of week 50: week 50's slot not yet passed
    (late,) = run_with_retries(ctx)
    gh.advance(3600)
    (w50,) = run_with_retries(ctx)
    weeks = [(r.digest.week, r.digest.since, r.digest.until) for r in (w48, late, w50)]
    slot = START.replace(minute=0)
    assert weeks == [
        (f"2026-w{48 + n}", (slot + timedelta(days=7 * n - 7)).isoformat(),
         (slot + timedelta(days=7 * n)).isoformat())
        for n in range(3)
    ]  # fmt: skip


def hourly(ctx: JobContext, gh: FakeGitHub, hours: int) -> None:
    for _ in range(hours):
        run_with_retries(ctx)
        gh.advance(3600)


def digest_rows(store: Store, repo: str) -> list[tuple[str, str]]:
    return [(r["outcome"], r["reason"]) for r in store.audit_rows(repo) if r["action"] == "digest"]


def test_a_repository_with_issues_disabled_is_audited_once_and_asked_again_daily(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """GitHub answers 410 "Issues are disabled for this repo" to the issue listing of a repository
    with Issues switched off (common in an organisation-wide installation): one audit row, not a
    failure every hour; the listing is asked again daily (and at once when the repository is
    added to the installation again); once it answers, the week's digest is posted."""
    gh, store, ctx = world(fake_github, tmp_path, ["octo/docs", "octo/web"])
    gh.fail_for(36 * 3600, status=410, match="/repos/octo/docs/issues")
    hourly(ctx, gh, 24)
    assert posted(store) == {"octo/web"}
    (row,) = digest_rows(store, "octo/docs")
    assert row[0] == "skipped" and "asked again daily" in row[1], row
    assert len(gh.requests("GET", "/repos/octo/docs/issues")) == 1
    hourly(ctx, gh, 1)  # a day later: asked again, still refused, said once
    assert len(gh.requests("GET", "/repos/octo/docs/issues")) == 2
    assert len(digest_rows(store, "octo/docs")) == 1
    hourly(ctx, gh, 24)  # Issues switched on again after 36 hours: asked, posted at 48
    assert len(gh.requests("GET", "/repos/octo/docs/issues")) > 2
    assert posted(store) == {"octo/docs", "octo/web"}
    assert store.repositories(INST)[0]["digest_refused"] is None
    assert [o for o, _ in digest_rows(store, "octo/docs")] == ["skipped", "done"]
    store.set_digest_refused("octo/docs", gh.now())
    store.add_repositories(INST, [{"full_name": "octo/docs", "id": 1}])  # installed anew
    assert store.repositories(INST)[0]["digest_refused"] is None  # asked at once


def test_a_repository_of_a_deleted_installation_is_audited_once(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """The App uninstalled, and the store still lists its repository (a late delivery put it
    back): GitHub refuses the installation for good; audited once, the other installation's
    repository posted."""
    gh, store, ctx = world(fake_github, tmp_path, ["octo/app"], ["octo/zzz"])
    del gh.installations[INST]
    hourly(ctx, gh, 3)
    assert posted(store) == {"octo/zzz"}
    ((outcome, why),) = digest_rows(store, "octo/app")
    assert outcome == "skipped" and "no digest until GitHub answers" in why, why


def test_an_issue_deleted_while_the_digest_is_made_is_left_out(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """An issue GitHub answers 410 for after listing it (an admin deleted it meanwhile) is not
    the week's: the digest is posted without it, and the repository is not taken for refused."""
    gh, store, ctx = world(fake_github, tmp_path, ["octo/app"])
    gh.add_issue("octo/app", "Import fails", "Always.", created_at=gh.now() - 3600)
    gh.fail_for(3600, status=410, match="/repos/octo/app/issues/1/comments")
    (run,) = run_due_digests(ctx)
    assert [i.number for i in run.digest.top] == [2]
    assert store.repositories(INST)[0]["digest_refused"] is None
