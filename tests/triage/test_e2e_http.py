"""Triage end to end: the real GitHub adapter over HTTP against the fake GitHub, real store and classifier."""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.coord import jobs as registry
from bot.coord.locks import Locks
from bot.core.checks import check_text
from bot.github import GitHubApp
from bot.jobs.backfill import (
    CURSORS,
    LOCK_LEASE_S,
    MAX_AUTO_RESUMES,
    backfill_repo,
    cursor,
    handle_installation_event,
    lock_key,
    resume_unfinished,
)
from bot.jobs.commands import handle_comment_event
from bot.jobs.context import JobContext
from bot.jobs.runtime import Runtime
from bot.jobs.triage import handle_issue_event
from bot.llm import get_model_layer
from bot.llm.embed import get_encoder
from bot.ports import RateLimited, Unavailable
from bot.settings import get_settings
from bot.store import open_store
from tests.fake_github.plugin import make_settings, point_cli_at
from tests.triage.conftest import THRESHOLDS
from tests.triage.examples import labeled

REPO = "octo/app"
TEMPLATE = (
    "name: Bug report\nlabels: [bug]\nbody:\n"
    "  - type: input\n    attributes: {label: Version}\n    validations: {required: true}\n"
    "  - type: textarea\n    attributes: {label: Steps to reproduce}\n    validations: {required: true}\n"
)


@pytest.fixture
def world(fake_github, tmp_path: Path):  # type: ignore[no-untyped-def]
    state = fake_github.state
    state.add_installation(1, [REPO])
    for name in ("bug", "enhancement", "question", "duplicate"):
        state.add_label(REPO, name)
    state.set_permission(REPO, "maint", "maintain")
    state.put_file(REPO, ".github/ISSUE_TEMPLATE/bug.yml", TEMPLATE)
    settings = make_settings(fake_github, tmp_path, thresholds=THRESHOLDS)
    store = open_store(settings.db_path)
    layer = get_model_layer(settings, store)
    for text, label in labeled():
        layer.learn(REPO, text, label, "backfill")
    layer.classifier(force=True)
    yield state, JobContext(settings, store, GitHubApp(settings), layer)
    store.close()


def payload(state, number: int, action: str = "opened") -> dict:  # type: ignore[no-untyped-def,type-arg]
    i = state.issue(REPO, number)
    return {
        "action": action,
        "issue": {
            "number": number,
            "title": i.title,
            "body": i.body,
            "state": i.state,
            "user": {"login": i.user},
        },
        "repository": {"full_name": REPO},
        "installation": {"id": 1},
        "sender": {"login": i.user, "type": "User"},
    }


def comment(state, number: int, body: str, author: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """The delivery of a comment posted on the fake first, as GitHub has every comment it
    delivers: a command is read again from GitHub before it runs."""
    cid = state.add_comment(REPO, number, body, user=author).id
    return {
        "action": "created",
        "issue": {"number": number},
        "comment": {"id": cid, "body": body, "user": {"login": author, "type": "User"}},
        "repository": {"full_name": REPO},
        "installation": {"id": 1},
    }


def test_new_bug_labeled_and_asked_per_template_over_http(world):
    state, ctx = world
    state.put_file(REPO, ".github/smolbot.yml", "triage:\n  duplicate_threshold: 0.3\n")
    old = state.add_issue(
        REPO, "Editor crashes when clicking the save button", "TypeError on save", state="closed"
    )
    ctx.store.upsert_issue(
        REPO, {"number": old.number, "title": old.title, "body": old.body, "state": "closed"}
    )
    n = state.add_issue(
        REPO,
        "App crashes with an exception when I click save button",
        "It crashes with an exception every time, this is broken.\n\n### Version\n\n_No response_\n\n### Steps to reproduce\n\n1. click save",
    ).number
    handle_issue_event(ctx, "d1", payload(state, n))
    issue = state.issue(REPO, n)
    assert set(issue.labels) == {"bug", "needs-info"}
    bodies = [c.body for c in state.comments(REPO, n)]
    ask = next(b for b in bodies if "triage:needs-info" in b)
    assert "- Version" in ask and "Steps to reproduce" not in ask
    assert any(f"#{old.number} (closed" in b for b in bodies)
    assert issue.state == "open"
    handle_issue_event(ctx, "d2", payload(state, n, "reopened"))  # nothing posted twice
    assert len(state.comments(REPO, n)) == len(bodies)
    # config and templates are read again by ETag: 304s cost no quota
    assert any(e.status == 304 for e in state.requests("GET", "/contents/"))


def test_commands_over_http_check_permission(world):
    state, ctx = world
    first = state.add_issue(REPO, "Crash on save").number
    n = state.add_issue(REPO, "Crash on save again").number
    handle_comment_event(ctx, "c1", comment(state, n, "/smolbot duplicate #1", "mallory"))
    assert state.issue(REPO, n).state == "open"
    handle_comment_event(ctx, "c2", comment(state, n, f"/smolbot duplicate #{first}", "maint"))
    issue = state.issue(REPO, n)
    assert (
        issue.state == "closed"
        and issue.state_reason == "duplicate"
        and "duplicate" in issue.labels
    )
    reasons = [r["reason"] for r in ctx.store.audit_rows(REPO, n)]
    assert any(r.startswith("mallory has") and "commands need write" in r for r in reasons)


def test_invalid_config_opens_one_issue_over_http(world):
    state, ctx = world
    state.put_file(REPO, ".github/smolbot.yml", "triage:\n  threshold: 3\n")
    for i in range(2):
        n = state.add_issue(
            REPO, f"Add dark mode {i}", "It would be great to have a dark theme."
        ).number
        handle_issue_event(ctx, f"d{i}", payload(state, n))
        assert "enhancement" in state.issue(REPO, n).labels  # defaults still apply
    errors = [i for i in state.repos[REPO].issues.values() if "smolbot.yml is invalid" in i.title]
    assert len(errors) == 1 and "triage.threshold" in errors[0].body


def test_backfill_paginates_and_learns(world):
    state, ctx = world
    for i in range(130):
        label = ["bug", "enhancement", "question"][i % 3]
        state.add_issue(
            REPO,
            f"Issue {i} about {label}",
            "text",
            state="closed",
            labels=[label],
            created_at=1_700_000_000 + 3600 * i,
        )
    state.add_issue(REPO, "an open one", "x")
    seen: list[int] = []
    result = backfill_repo(ctx, ctx.github.repo(1, REPO), REPO, progress=seen.append)
    assert (result.stored, result.learned) == (131, 130) and sum(seen) == 131
    # each example keeps the date its issue was opened, as the API gave it (for `models eval`)
    opened = {e.text.split("\n")[0]: e.created for e in ctx.models.records.examples()}
    assert opened["Issue 7 about enhancement"] == 1_700_000_000 + 3600 * 7
    pages = [e for e in state.requests("GET", f"/repos/{REPO}/issues") if "/issues/" not in e.path]
    assert len(pages) >= 2


def closed_labeled(state, n: int) -> None:  # type: ignore[no-untyped-def]
    """n closed issues labeled bug, enhancement, question in turn."""
    for i in range(n):
        label = ["bug", "enhancement", "question"][i % 3]
        state.add_issue(REPO, f"Issue {i} about {label}", "text", state="closed", labels=[label])


def listed_pages(state) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
    """(page, status) of each request for the repository's issue listing, in order."""
    listing = [
        e for e in state.requests("GET", f"/repos/{REPO}/issues") if "/issues/" not in e.path
    ]
    return [(int(dict(urllib.parse.parse_qsl(e.query)).get("page", 1)), e.status) for e in listing]


def test_backfill_resumes_at_the_page_it_stopped_after_a_5xx_and_a_rate_limit(world):
    state, ctx = world
    closed_labeled(state, 250)  # three pages of 100
    state.fail_next(1, 502, match="&page=2&")
    state.secondary_limit(1, retry_after=1, match="&page=3&")
    slept: list[float] = []
    result = backfill_repo(ctx, ctx.github.repo(1, REPO), REPO, sleep=slept.append)
    assert slept == [5.0, 1.0] and (result.stored, result.learned) == (250, 250)
    assert listed_pages(state) == [
        (1, 200),
        (2, 502),
        (1, 200),
        (2, 200),
        (3, 403),
        (2, 200),
        (3, 200),
    ]  # each retry starts at the last page fetched (one page of overlap), never back at page 1


def test_a_rate_limit_that_names_no_time_is_backed_off_twice_as_long_each_time(world):
    """GitHub's secondary limit without retry-after (and quota left) asks for exponential
    back-off: 60 s, then 120 s; not 60 s for ever."""
    state, ctx = world
    closed_labeled(state, 150)
    state.secondary_limit(2, retry_after=None, match="&page=2&")
    slept: list[float] = []
    result = backfill_repo(ctx, ctx.github.repo(1, REPO), REPO, sleep=slept.append)
    assert slept == [60.0, 120.0] and result.stored == 150


def test_the_queue_s_retry_of_an_installation_event_resumes_its_backfill(world):
    """A rate limit longer than backfill waits (an hour) stops it; the task queue's retry of the
    same event resumes at the last page fetched, and a retry after it finished lists nothing."""
    state, ctx = world
    closed_labeled(state, 250)
    state.secondary_limit(1, retry_after=3600, match="&page=3&")
    event = {"action": "created", "installation": {"id": 1}, "repositories": [{"full_name": REPO}]}
    with pytest.raises(RateLimited):
        handle_installation_event(ctx, "inst-1", event)
    assert len(ctx.store.issues(REPO)) == 200 and listed_pages(state) == [
        (1, 200),
        (2, 200),
        (3, 403),
    ]
    handle_installation_event(ctx, "inst-1", event)  # the retry
    assert listed_pages(state)[3:] == [(2, 200), (3, 200)] and len(ctx.store.issues(REPO)) == 250
    done = [r for r in ctx.store.audit_rows(REPO, limit=50) if r["outcome"] == "done"]
    assert done[0]["reason"] == (
        "150 issues stored, 50 learned (100 known already), resumed at page 2"
    )
    handle_installation_event(ctx, "inst-1", event)  # delivered once more: that repo is done
    assert len(listed_pages(state)) == 5


def test_an_installation_event_skips_a_repository_another_backfill_is_at(world):
    """`smolbot backfill` is running when the installation event arrives: the event's backfill
    audits why it did nothing and lists nothing; delivered again once the lock is free, it runs."""
    state, ctx = world
    closed_labeled(state, 150)
    event = {"action": "created", "installation": {"id": 1}, "repositories": [{"full_name": REPO}]}
    cli = Locks(open_store(ctx.settings.db_path))  # another process
    assert cli.try_acquire(lock_key(REPO))
    handle_installation_event(ctx, "inst-2", event)
    assert listed_pages(state) == []
    skipped = [r for r in ctx.store.audit_rows(REPO, limit=50) if r["outcome"] == "skipped"]
    assert skipped[0]["delivery_id"] == "inst-2"
    assert skipped[0]["reason"].startswith(f"a backfill of {REPO} is already running")
    cli._release(lock_key(REPO))
    handle_installation_event(ctx, "inst-2", event)  # a redelivery
    assert listed_pages(state) == [(1, 200), (2, 200)] and len(ctx.store.issues(REPO)) == 150
    done = [r for r in ctx.store.audit_rows(REPO, limit=50) if r["outcome"] == "done"]
    assert done[0]["reason"].startswith("150 issues stored, 150 learned")


def test_the_workers_resume_a_stopped_backfill_after_the_rate_limit_resets(world):
    """An hour-long rate limit stops the installation event's backfill; the hourly resume leaves
    it until the reset, then finishes it at its page under the event's delivery id, so the task
    queue's own retry of the event finds it done and lists nothing."""
    state, ctx = world
    ctx.store.add_repositories(1, [{"full_name": REPO}])
    closed_labeled(state, 250)
    state.secondary_limit(1, retry_after=3600, match="&page=3&")
    event = {"action": "created", "installation": {"id": 1}, "repositories": [{"full_name": REPO}]}
    with pytest.raises(RateLimited):
        handle_installation_event(ctx, "inst-1", event)
    deferred: list[tuple[str, dict[str, str], str | None]] = []
    ctx.defer = lambda name, kw, key: deferred.append((name, kw, key))  # the resume's tune check
    row = cursor(ctx.store, REPO)
    assert row is not None and 3590 < row["retry_at"] - time.time() <= 3600

    early = resume_unfinished(ctx)
    assert early.left[REPO].startswith("rate limited for 3") and len(listed_pages(state)) == 3
    later = resume_unfinished(ctx, now=time.time() + 3601)
    assert later.finished == [REPO] and later.stopped == {}
    assert listed_pages(state)[3:] == [(2, 200), (3, 200)] and len(ctx.store.issues(REPO)) == 250
    rows = {r["outcome"]: r for r in ctx.store.audit_rows(REPO, limit=50)}
    assert rows["resumed"]["reason"].startswith(
        f"automatic resume 1 of {MAX_AUTO_RESUMES} at page 2, after RateLimited: "
    )
    assert rows["done"]["delivery_id"] == rows["resumed"]["delivery_id"] == "inst-1"
    assert rows["done"]["reason"].endswith("resumed at page 2")
    assert [name for name, _, _ in deferred] == ["tune_encoder"]

    ctx.defer = None
    handle_installation_event(ctx, "inst-1", event)  # the queue's retry of the event
    assert len(listed_pages(state)) == 5
    assert resume_unfinished(ctx, now=time.time() + 7200).left == {}  # nothing unfinished


def test_automatic_resumes_give_up_after_a_few_and_a_person_s_run_starts_over(world):
    state, ctx = world
    ctx.store.add_repositories(1, [{"full_name": REPO}])
    closed_labeled(state, 150)
    attempts = 4  # a backfill tries a listing 4 times (3 waits) before it stops
    state.fail_next(attempts * (1 + MAX_AUTO_RESUMES), 502, match="&page=2&")
    host = ctx.github.repo(1, REPO)  # type: ignore[union-attr]
    with pytest.raises(Unavailable):
        backfill_repo(ctx, host, REPO, sleep=lambda s: None)
    for n in range(1, MAX_AUTO_RESUMES + 1):
        out = resume_unfinished(ctx, sleep=lambda s: None)
        assert out.stopped[REPO].startswith("Unavailable")
        assert cursor(ctx.store, REPO)["resumes"] == n  # type: ignore[index]
    out = resume_unfinished(ctx, sleep=lambda s: None)
    assert out.left[REPO] == (
        f"gave up after {MAX_AUTO_RESUMES} automatic resumes; `smolbot backfill {REPO}` resumes it"
    )
    # each attempt lists page 1 again (the last page fetched) and fails at page 2
    assert listed_pages(state) == [(1, 200), (2, 502)] * attempts * (1 + MAX_AUTO_RESUMES)
    assert backfill_repo(ctx, host, REPO, sleep=lambda s: None).first_page == 1  # GitHub is back
    row = cursor(ctx.store, REPO)
    assert row is not None and (row["status"], row["resumes"]) == ("done", 0)


def test_which_stopped_backfills_an_hourly_pass_leaves_alone(world):
    """Running with a live lock, running with fresh progress, not installed, suspended, and a
    repository whose installation another resume of this pass found rate limited."""
    state, ctx = world
    first, third = [REPO, "octo/c-fresh", "octo/f-next"], ["octo/b-live", "octo/e-dead"]
    state.add_installation(1, first)
    state.add_installation(2, ["octo/g-paused"])
    state.add_installation(3, third)
    for inst, names in ((1, first), (2, ["octo/g-paused"]), (3, third)):
        ctx.store.upsert_installation(inst, f"org-{inst}")
        ctx.store.add_repositories(inst, [{"full_name": n} for n in names])
    ctx.store.set_installation_suspended(2, True)
    for i in range(3):
        state.add_issue("octo/e-dead", f"Crash {i}", "it crashes", state="closed", labels=["bug"])
    now, stale = time.time(), time.time() - LOCK_LEASE_S - 60
    rows = {
        REPO: ("stopped", now),  # resumed first, and rate limited
        "octo/b-live": ("running", stale),  # lease ran out on the row, but its holder renewed
        "octo/c-fresh": ("running", now - 60),
        "octo/d-gone": ("stopped", now),
        "octo/e-dead": ("running", stale),  # a killed worker: resumed
        "octo/f-next": ("stopped", now),
        "octo/g-paused": ("stopped", now),
    }
    table = ctx.store.db.table(CURSORS)
    for name, (status, at) in rows.items():
        table.upsert(
            {"repo": name, "status": status, "page": 1, "started_at": at, "updated_at": at},
            pk="repo",
        )
    live = Locks(open_store(ctx.settings.db_path))
    assert live.try_acquire(lock_key("octo/b-live"))
    state.secondary_limit(1, retry_after=3600, match=f"/repos/{REPO}/issues")
    out = resume_unfinished(ctx, sleep=lambda s: None)
    assert out.finished == ["octo/e-dead"] and list(out.stopped) == [REPO]
    assert out.left["octo/b-live"] == "another backfill holds it"
    assert out.left["octo/c-fresh"] == "running (last progress 60 s ago)"
    assert out.left["octo/d-gone"] == "the App is not installed on it (any more)"
    assert out.left["octo/f-next"] == "its installation was rate limited in this pass"
    assert out.left["octo/g-paused"] == "its installation is suspended"
    assert len(ctx.store.issues("octo/e-dead")) == 3
    assert cursor(ctx.store, "octo/b-live")["resumes"] is None  # refused: no resume used
    resumed = [r["repo"] for r in ctx.store.audit_rows(limit=100) if r["outcome"] == "resumed"]
    assert sorted(resumed) == [REPO, "octo/e-dead"]


def test_the_cli_backfill_says_when_to_run_again_and_resumes(world, monkeypatch, fake_github):
    state, ctx = world
    ctx.store.upsert_installation(1, "octo")
    ctx.store.add_repositories(1, [{"full_name": REPO, "id": 7}])
    closed_labeled(state, 250)
    state.secondary_limit(1, retry_after=3600, match="&page=3&")
    point_cli_at(fake_github, ctx.settings.data_dir, monkeypatch)
    out = CliRunner().invoke(cli, ["backfill", REPO])
    assert out.exit_code == 1 and "Traceback" not in out.output
    assert "retry in 3600 s. Running the same command again resumes at page 2" in out.output
    doctor = CliRunner().invoke(cli, ["doctor"])
    assert f"backfill of {REPO} stopped at page 2 (RateLimited: " in doctor.output
    assert f"; the workers resume it hourly, 0 of {MAX_AUTO_RESUMES} tries used) —" in doctor.output
    out = CliRunner().invoke(cli, ["backfill", REPO])
    assert out.exit_code == 0, out.output
    assert "150 read, 150 stored, 50 learned (100 known already)" in out.output
    assert "(resumed at page 2)" in out.output
    assert "backfill of" not in CliRunner().invoke(cli, ["doctor"]).output
    worker = Locks(open_store(ctx.settings.db_path))  # a worker's backfill of the same repository
    assert worker.try_acquire(lock_key(REPO))
    out = CliRunner().invoke(cli, ["backfill", REPO])
    assert out.exit_code == 1 and "Traceback" not in out.output
    assert f"Error: a backfill of {REPO} is already running; it carries on by itself" in out.output
    ctx.store.db.table(CURSORS).update(REPO, {"status": "running", "updated_at": time.time() - 90})
    doctor = CliRunner().invoke(cli, ["doctor"]).output
    assert re.search(
        rf"backfill of {REPO} running at page 3, last progress 9\d s ago — if its process died,"
        rf" `smolbot backfill {REPO}` resumes it",
        doctor,
    ), doctor
    get_settings.cache_clear()


class _Runtime(Runtime):
    """The worker's Runtime around the test's context (its store, GitHub client and defer)."""

    def __init__(self, ctx: JobContext) -> None:
        super().__init__(ctx.settings, ctx.store)
        self.ctx = ctx

    def context(self) -> JobContext:
        return self.ctx


@pytest.fixture
def tune_children(monkeypatch) -> Iterator[list[subprocess.Popen[bytes]]]:  # type: ignore[no-untyped-def]
    """The tune children a test starts (real ones), stopped when it ends: a tune of a few hundred
    examples runs on for minutes at low priority, after pytest has exited."""
    from bot.llm import tune

    started: list[subprocess.Popen[bytes]] = []
    spawn = tune._spawn

    def keep(args: list[str], data_dir: Path) -> subprocess.Popen[bytes]:
        started.append(spawn(args, data_dir))
        return started[-1]

    monkeypatch.setattr(tune, "_spawn", keep)
    yield started
    for proc in started:
        proc.kill()
        proc.wait(timeout=30)


def queued(ctx: JobContext, monkeypatch, pages_per_part: int) -> _Runtime:  # type: ignore[no-untyped-def]
    """The context as a worker's: defer records jobs in the store (no broker: none starts)."""
    monkeypatch.setattr(registry, "_enqueuer", [])
    ctx.settings = ctx.settings.model_copy(update={"backfill_pages_per_part": pages_per_part})
    ctx.store.upsert_installation(1, "octo")
    ctx.store.add_repositories(1, [{"full_name": REPO}])
    ctx.defer = lambda name, kw, key: registry.submitted(ctx.store, name, kw, key)[1]
    return _Runtime(ctx)


def run_waiting(rt: _Runtime, name: str = "backfill") -> list[dict]:  # type: ignore[type-arg]
    """Run the recorded `name` jobs, oldest first, as a worker would, until none waits."""
    ran = []
    while jobs := registry.waiting(rt.store, name):
        registry.get_job(name).fn(rt, **jobs[0]["kwargs"])
        registry.set_status(rt.store, jobs[0]["id"], "done")
        ran.append(jobs[0]["kwargs"])
    return ran


@pytest.mark.parametrize(
    ("issues", "parts", "pages"),
    [  # 5 pages, the last short; 4 full; 3 full and 1 short
        (450, 3, [1, 2, 3, 4, 5]),
        # page 4 is full and GitHub's Link header gives no next page: part 2 is the last
        (400, 2, [1, 2, 3, 4]),
        (350, 2, [1, 2, 3, 4]),
    ],
)
def test_a_queued_backfill_lists_a_part_a_job_and_queues_the_next(
    world, monkeypatch, tune_children, issues, parts, pages
):
    """Two pages a job: each part lists its pages once and queues the next part, which a worker
    takes after what was queued meanwhile; the last part audits the whole and asks for a tune."""
    state, ctx = world
    rt = queued(ctx, monkeypatch, pages_per_part=2)
    closed_labeled(state, issues)
    event = {"action": "created", "installation": {"id": 1}, "repositories": [{"full_name": REPO}]}
    handle_installation_event(ctx, "inst-p", event)
    (first,) = registry.waiting(ctx.store, "backfill")
    registry.get_job("backfill").fn(rt, **first["kwargs"])
    registry.set_status(ctx.store, first["id"], "done")
    assert listed_pages(state) == [(1, 200), (2, 200)] and len(ctx.store.issues(REPO)) == 200
    # the part retrained the classifier: the fast queue's next triage finds the new issues'
    # embeddings on disk instead of encoding them all inline
    encoder = get_encoder(ctx.settings.data_dir / "embeddings")
    assert encoder is not None
    encoder.clear_memory()
    texts = [f"{i['title']}\n\n{i['body']}" for i in ctx.store.issues(REPO)]
    assert len(texts) == 200 and all(v is not None for v in encoder.lookup(texts))
    (second,) = registry.waiting(ctx.store, "backfill")
    assert second["kwargs"] == {**first["kwargs"], "part": 2, "stored": 200, "learned": 200}
    row = cursor(ctx.store, REPO)
    assert row is not None and (row["status"], row["page"]) == ("continuing", 3)
    assert registry.waiting(ctx.store, "tune_encoder") == []
    doctor = _doctor_store_line(ctx)
    assert re.search(
        rf"backfill of {REPO} continuing at page 3 \(last part \d+ s ago\): its next", doctor
    )
    assert f"backfill of {REPO} (part 2) queued " in doctor
    assert resume_unfinished(ctx).left == {REPO: "its next part, from page 3, is a queued job"}

    assert [kw.get("part") for kw in run_waiting(rt)] == list(range(2, parts + 1))
    assert listed_pages(state) == [(n, 200) for n in pages]  # nothing moved: each page once
    assert len(ctx.store.issues(REPO)) == issues
    rows = [r for r in ctx.store.audit_rows(REPO, limit=50) if r["task"] == "backfill"]
    assert [r["outcome"] for r in rows] == ["queued", *["continues"] * (parts - 1), "done"]
    assert rows[1]["reason"] == (
        "part 1, pages 1-2: 200 issues stored, 200 learned; part 2 lists from page 3 as a queued"
        " job, after the model-queue work queued meanwhile"
    )
    last = issues - 200 * (parts - 1)
    assert rows[-1]["reason"] == (
        f"{last} issues stored, {last} learned in part {parts}, from page {2 * parts - 1};"
        f" {issues} stored and {issues} learned in all {parts} parts"
    )
    assert [kw["reason"] for kw in run_waiting(rt, "tune_encoder")] == [f"backfill of {REPO}"]
    assert len(tune_children) == 1  # the tune started, in its child process
    assert cursor(ctx.store, REPO)["status"] == "done"  # type: ignore[index]


def test_an_issue_deleted_between_two_parts_does_not_move_one_past_the_next(world, monkeypatch):
    """Newest first, 100 a page: part 1 lists issues 300-201. One of them is deleted before part
    2 runs, so issue 200 moves up onto page 1; page 2 no longer starts with 200, so part 2 lists
    page 1 again and stores it, and nothing twice. Part 3 finds page 3 starting where page 2
    ended: nothing moved, nothing listed again."""
    state, ctx = world
    rt = queued(ctx, monkeypatch, pages_per_part=1)
    closed_labeled(state, 300)
    kwargs = {"installation_id": 1, "repo": REPO, "delivery_id": "inst-d"}
    registry.get_job("backfill").fn(rt, **kwargs)
    assert {i["number"] for i in ctx.store.issues(REPO)} == set(range(201, 301))
    with state.lock:
        del state.repos[REPO].issues[250]
    assert [kw.get("part") for kw in run_waiting(rt)] == [2, 3]
    assert {i["number"] for i in ctx.store.issues(REPO)} == set(range(1, 301))  # 200 included
    assert listed_pages(state) == [(1, 200), (2, 200), (1, 200), (3, 200)]
    rows = [r for r in ctx.store.audit_rows(REPO, limit=50) if r["task"] == "backfill"]
    assert [json.loads(r["detail"])["stored"] for r in rows] == [100, 101, 99]
    assert rows[-1]["reason"].endswith("300 stored and 300 learned in all 3 parts")


def test_issues_opened_between_two_parts_store_nothing_twice(world, monkeypatch):
    """Three issues opened after part 1 push issues 203-201 down onto page 2: part 2 skips them
    (part 1 stored them) without listing page 1 again, and the counts add up to the history."""
    state, ctx = world
    rt = queued(ctx, monkeypatch, pages_per_part=1)
    closed_labeled(state, 300)
    kwargs = {"installation_id": 1, "repo": REPO, "delivery_id": "inst-o"}
    registry.get_job("backfill").fn(rt, **kwargs)
    for i in range(3):
        state.add_issue(REPO, f"New issue {i}", "opened during the backfill")
    assert [kw.get("part") for kw in run_waiting(rt)] == [2, 3, 4]
    assert listed_pages(state) == [(1, 200), (2, 200), (3, 200), (4, 200)]
    rows = [r for r in ctx.store.audit_rows(REPO, limit=50) if r["task"] == "backfill"]
    assert [json.loads(r["detail"])["stored"] for r in rows] == [100, 97, 100, 3]
    assert {i["number"] for i in ctx.store.issues(REPO)} == set(range(1, 301))  # new: webhooks


def _doctor_store_line(ctx: JobContext) -> str:
    from bot.cli.doctor import _store

    return _store(ctx.settings)[1]


def test_a_queued_backfill_leaves_a_long_rate_limit_to_the_task_queue(world, monkeypatch):
    """`smolbot backfill` waits out a 2 min rate limit; a worker's job stops and lets the task
    queue retry it at the reset (the next run resumes at its page) instead of sleeping."""
    state, ctx = world
    rt = queued(ctx, monkeypatch, pages_per_part=10)
    closed_labeled(state, 250)
    state.secondary_limit(1, retry_after=120, match="&page=2&")
    kwargs = {"installation_id": 1, "repo": REPO, "delivery_id": "inst-r"}
    with pytest.raises(RateLimited):
        registry.get_job("backfill").fn(rt, **kwargs)
    assert listed_pages(state) == [(1, 200), (2, 403)]
    row = cursor(ctx.store, REPO)
    assert row is not None and (row["status"], row["page"]) == ("stopped", 1)
    assert 110 < row["retry_at"] - time.time() <= 120
    registry.get_job("backfill").fn(rt, **kwargs)  # the task queue's retry, at the reset
    assert listed_pages(state)[2:] == [(1, 200), (2, 200), (3, 200)]
    assert len(ctx.store.issues(REPO)) == 250 and cursor(ctx.store, REPO)["status"] == "done"  # type: ignore[index]


def test_a_part_of_a_backfill_someone_finished_meanwhile_lists_nothing(world, monkeypatch):
    """The first part queued the second; `smolbot backfill` (no delivery id) finished the
    repository before a worker took it: the second part finds it done and lists nothing. An
    hourly resume of a stopped backfill lists one part too, and queues the rest."""
    state, ctx = world
    rt = queued(ctx, monkeypatch, pages_per_part=1)
    closed_labeled(state, 250)
    kwargs = {"installation_id": 1, "repo": REPO, "delivery_id": "inst-f"}
    registry.get_job("backfill").fn(rt, **kwargs)
    assert [j["kwargs"]["part"] for j in registry.waiting(ctx.store, "backfill")] == [2]
    done = backfill_repo(ctx, ctx.github.repo(1, REPO), REPO)  # type: ignore[union-attr]
    assert (done.first_page, done.next_page) == (2, None)
    assert run_waiting(rt) == [{**kwargs, "part": 2, "stored": 100, "learned": 100}]
    assert listed_pages(state) == [(1, 200), (2, 200), (3, 200)]  # the second part listed nothing

    ctx.store.db.table(CURSORS).update(REPO, {"status": "stopped", "page": 2, "resumes": 0})
    out = resume_unfinished(ctx, sleep=lambda s: None)
    assert out.continuing == {REPO: 3} and out.finished == []
    (nxt,) = registry.waiting(ctx.store, "backfill")
    # under the CLI's (absent) delivery id, which that run left on the cursor; page 2 was known
    assert nxt["kwargs"] == {**kwargs, "delivery_id": None, "part": 2, "stored": 100, "learned": 0}
    run_waiting(rt)
    assert listed_pages(state)[3:] == [(2, 200), (3, 200)]
    assert cursor(ctx.store, REPO)["status"] == "done"  # type: ignore[index]


@pytest.mark.model
def test_first_response_from_the_real_local_model_is_checked(world):
    state, ctx = world
    if not ctx.settings.effective_model_path.exists():
        src = Path.home() / ".local/share/smolbot/models" / ctx.settings.effective_model_path.name
        if not src.exists():
            pytest.skip("local model file not installed: run `smolbot models install`")
        ctx.settings.effective_model_path.parent.mkdir(parents=True, exist_ok=True)
        ctx.settings.effective_model_path.symlink_to(src)
    state.put_file(
        REPO, ".github/smolbot.yml", "triage:\n  first_response: true\n  duplicates: false\n"
    )
    n = state.add_issue(
        REPO, "Add dark mode please", "It would be great to have a dark theme option."
    ).number
    handle_issue_event(ctx, "d1", payload(state, n))
    posted = [c.body for c in state.comments(REPO, n) if "triage:first-response" in c.body]
    rows = [r for r in ctx.store.audit_rows(REPO, n) if r["action"] == "comment"]
    row = rows[-1]
    model = json.loads(row["detail"]).get("model") or {}
    assert (
        model.get("backend") in ("gpt4all", "llama", "local", "cache")
        or model.get("task") == "comment"
    )
    if posted:
        assert check_text(posted[0], allowed_numbers=[n]).ok
    else:
        assert "first response" in row["reason"] or "model" in row["reason"]
