"""A repository with Issues switched off: GitHub answers its issue listing 410 ("Issues are
disabled for this repo"), which the adapter raises as Gone. The backfill was recorded as stopped:
the hourly resume listed it again MAX_AUTO_RESUMES times, then `smolbot doctor` told the operator
to resume it with `smolbot backfill`, which failed the same way; the queued job was tried again,
then audited as "the issue was deleted". Now it is audited once as skipped (Issues switched off),
never resumed, and a later `smolbot backfill` (Issues switched on since) lists it from page 1.
Over HTTP against the fake GitHub, with the real store, the worker's job code and the CLI."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from celery.exceptions import Retry
from click.testing import CliRunner

from bot.cli import cli
from bot.cli.doctor import _store as doctor_store
from bot.coord import jobs as registry
from bot.coord.locks import Locks
from bot.coord.pacing import SharedPacer
from bot.github import GitHubApp
from bot.jobs.backfill import (
    ISSUES_OFF,
    SKIPPED,
    backfill_installed,
    backfill_repo,
    cursor,
    resume_unfinished,
    unfinished,
)
from bot.jobs.context import JobContext
from bot.ports import Unavailable
from bot.settings import get_settings
from bot.store import open_store
from tests.fake_github import FakeGitHubServer
from tests.fake_github.plugin import make_settings, point_cli_at
from tests.jobs.test_scheduled import runtime
from tests.triage import test_e2e_http
from tests.triage.test_e2e_http import closed_labeled

REPO = "octo/noissues"
DAY = 86400
world = test_e2e_http.world  # installed on test_e2e_http.REPO at GitHub; no webhook came


def switched_off(fake_github: FakeGitHubServer, repo: str) -> None:
    """GitHub's answer to the repository's issue listing while its Issues are switched off."""
    fake_github.state.fail_for(30 * DAY, status=410, match=f"/repos/{repo}/issues")


def listings(fake_github: FakeGitHubServer, repo: str) -> int:
    return len([r for r in fake_github.state.requests("GET") if r.path.endswith(f"{repo}/issues")])


def backfill_rows(store: Any, repo: str) -> list[tuple[str, str]]:
    rows = store.audit_rows(repo, None, limit=100)
    return [(r["outcome"], r["reason"]) for r in rows if r["action"] == "backfill"]


@pytest.fixture
def ctx(fake_github: FakeGitHubServer, tmp_path: Path) -> Iterator[JobContext]:
    fake_github.state.add_repo(REPO, 7)
    fake_github.state.add_issue(REPO, "An issue from before", "body", state="closed")
    settings = make_settings(fake_github, tmp_path)
    github = GitHubApp(settings)
    ctx = JobContext(settings, open_store(settings.db_path), github=github)
    ctx.store.upsert_installation(7, "octo", "Organization")
    ctx.store.add_repositories(7, [{"full_name": REPO, "id": 1}])
    yield ctx
    ctx.store.close()
    github.close()


def test_an_installation_s_backfill_is_skipped_once_not_resumed_hourly(
    ctx: JobContext, fake_github: FakeGitHubServer
) -> None:
    switched_off(fake_github, REPO)
    assert backfill_installed(ctx, 7, REPO, "delivery-1") is None  # as the event runs it
    row = cursor(ctx.store, REPO)
    assert row is not None and row["status"] == SKIPPED, row
    ((outcome, reason),) = backfill_rows(ctx.store, REPO)
    assert outcome == "skipped" and reason.startswith(ISSUES_OFF), reason
    assert unfinished(ctx.store) == []
    now = time.time()
    for hour in range(1, 8):  # past MAX_AUTO_RESUMES
        out = resume_unfinished(ctx, now=now + hour * 3600, sleep=lambda s: None)
        assert not (out.finished or out.stopped or out.left or out.continuing), out
    assert listings(fake_github, REPO) == 1
    assert len(backfill_rows(ctx.store, REPO)) == 1
    said = doctor_store(ctx.settings)[1]
    assert REPO not in said and "resumes it" not in said, said


def test_a_stopped_backfill_whose_issues_are_switched_off_since_is_resumed_once(
    ctx: JobContext, fake_github: FakeGitHubServer
) -> None:
    """Stopped by GitHub's 5xx, then Issues switched off: the hourly resume meets the 410, says
    so and leaves the repository alone from then on."""
    fake_github.state.fail_next(4, status=502, match=f"/repos/{REPO}/issues")  # past the retries
    host = ctx.github.repo(7, REPO)  # type: ignore[union-attr]
    with pytest.raises(Unavailable):
        backfill_repo(ctx, host, REPO, sleep=lambda s: None)
    assert [r["repo"] for r in unfinished(ctx.store)] == [REPO]
    switched_off(fake_github, REPO)
    out = resume_unfinished(ctx, now=time.time() + 3600, sleep=lambda s: None)
    assert out.left == {REPO: f"skipped: {ISSUES_OFF}"} and not (out.stopped or out.finished)
    assert (cursor(ctx.store, REPO) or {})["status"] == SKIPPED and unfinished(ctx.store) == []
    asked = listings(fake_github, REPO)
    assert resume_unfinished(ctx, now=time.time() + 7200, sleep=lambda s: None).left == {}
    assert listings(fake_github, REPO) == asked


class _Task:
    """The Celery task a worker runs the job under: its retry is returned, as Celery's."""

    request = SimpleNamespace(retries=0)

    def retry(self, countdown: float = 0, exc: Exception | None = None, **_: Any) -> Retry:
        return Retry(exc=exc, when=countdown)


def test_a_queued_backfill_job_ends_skipped_not_as_a_deleted_issue(
    fake_github: FakeGitHubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker's run of the `backfill` job: done, audited once as skipped with Issues switched
    off; it was tried again (a 404's second chance), then audited as "the issue was deleted"."""
    from workers.runtime import WorkerRuntime
    from workers.tasks import _run_job

    monkeypatch.setattr(registry, "_enqueuer", [])  # no broker: runs stay recorded, not started
    rt, sample = runtime(fake_github, tmp_path)
    name = sample["repository"]["full_name"]
    switched_off(fake_github, name)
    kwargs = {"installation_id": sample["installation"]["id"], "repo": name, "delivery_id": "i-1"}
    jid = registry.record(rt.store, "backfill", kwargs)
    assert jid
    wr = WorkerRuntime(rt, Locks(rt.store), SharedPacer(rt.store, 0.0))
    job = registry.get_job("backfill")
    assert _run_job(_Task(), wr, job, jid, kwargs, f"job:{jid}") == "done"  # type: ignore[arg-type]
    ((outcome, reason),) = backfill_rows(rt.store, name)
    assert outcome == "skipped" and reason.startswith(ISSUES_OFF), reason
    assert "deleted" not in reason
    assert unfinished(rt.store) == [] and rt.store.dead_letters() == []
    assert registry.waiting(rt.store) == []  # no next part, no tune


def test_the_cli_says_so_in_one_line_and_backfills_once_issues_are_switched_on(  # type: ignore[no-untyped-def]
    world, monkeypatch, fake_github
):
    state, ctx = world
    repo = test_e2e_http.REPO
    closed_labeled(state, 30)
    state.fail_next(1, status=410, match=f"/repos/{repo}/issues")  # switched on after this
    point_cli_at(fake_github, ctx.settings.data_dir, monkeypatch)
    try:
        off = CliRunner().invoke(cli, ["backfill", repo])
        on = CliRunner().invoke(cli, ["backfill", repo])
    finally:
        get_settings.cache_clear()
    assert off.exit_code == 1, off.output
    (line,) = [x for x in off.output.splitlines() if ISSUES_OFF in x]
    assert line.startswith(f"Error: {repo}: {ISSUES_OFF}") and "run this again once" in line
    assert "Traceback" not in off.output and "resumes at page" not in off.output
    assert on.exit_code == 0, on.output
    assert "30 read, 30 stored" in on.output and "resumed" not in on.output
    assert (cursor(ctx.store, repo) or {})["status"] == "done"
