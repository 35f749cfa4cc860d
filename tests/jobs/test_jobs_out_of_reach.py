"""Model-queue jobs queued for a repository the App lost since (removed from the installation,
the App uninstalled), an issue deleted meanwhile or a repository archived end as a delivery in
the same situation does (bot/jobs/dispatch.py out_of_reach): a 404 is tried once more, then the
run is audited as skipped and done. They used to be parked as dead letters with a traceback:
`smolbot doctor` then showed the store unhealthy and `smolbot retry` only parked them again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.coord import jobs
from bot.jobs.runtime import Runtime
from bot.ports import Unavailable
from tests.fake_github.plugin import make_settings

REPO = "octo/app"


@jobs.register("test_labels_an_issue")
def labels_an_issue(rt: Runtime, *, installation_id: int, repo: str, number: int) -> None:
    """A job that writes to GitHub (as a summary or the sweep does)."""
    rt.github.repo(installation_id, repo).add_labels(number, ["bug"])


def _worker(fake_github: Any, tmp_path: Path) -> Runtime:
    from workers.celery_app import configure
    from workers.tasks import _wr

    state = fake_github.state
    state.add_installation(1, [REPO])
    for i in range(3):
        state.add_issue(REPO, f"Issue {i}", "It crashes.")
    configure(make_settings(fake_github, tmp_path, task_max_retries=2, retry_base_s=0.01))
    rt = _wr().rt
    rt.__dict__["models"] = None
    rt.store.upsert_installation(1, "octo")
    rt.store.add_repositories(1, [{"full_name": REPO, "id": 1}])
    return rt


def _status(rt: Runtime, jid: str) -> str:
    row = jobs.run(rt.store, jid)
    assert row is not None
    return str(row["status"])


def _skipped(rt: Runtime, action: str) -> list[str]:
    return [
        r["reason"]
        for r in rt.store.audit_rows(limit=500)
        if r["action"] == action and r["outcome"] == "skipped"
    ]


@pytest.mark.parametrize("how", ["repo removed", "uninstalled", "issue deleted"])
def test_a_queued_summary_of_what_the_app_lost_is_skipped_not_parked(
    fake_github: Any, tmp_path: Path, how: str
) -> None:
    from workers.tasks import run_job

    rt = _worker(fake_github, tmp_path)
    state = fake_github.state
    kwargs = {
        "installation_id": 1,
        "repo": REPO,
        "number": 2,
        "requested_by": "mia",
        "delivery_id": "d-cmd",
    }
    jid = jobs.record(rt.store, "summarize", kwargs)
    assert jid is not None
    if how == "repo removed":
        state.installations[1].remove(REPO)
        rt.store.remove_repositories([REPO])
    elif how == "uninstalled":
        del state.installations[1]
        rt.store.remove_installation(1)
    else:
        state.delete_issue(REPO, 2)

    # the first 404 may be GitHub not showing it yet: retried (called directly, the retry raises)
    with pytest.raises(Unavailable):
        run_job.run("summarize", kwargs, job_id=jid)
    assert _status(rt, jid) == "queued"
    assert run_job.run("summarize", kwargs, job_id=jid) == "done"

    assert rt.store.dead_letters() == [], [d["error"] for d in rt.store.dead_letters()]
    assert _status(rt, jid) == "done"
    assert [r["outcome"] for r in rt.store.audit_rows(limit=500)] == ["skipped"]
    (why,) = _skipped(rt, "summarize")
    assert "no longer visible to the App" in why


def test_a_job_refused_by_an_archived_repository_is_skipped_at_once(
    fake_github: Any, tmp_path: Path
) -> None:
    from workers.tasks import run_job

    rt = _worker(fake_github, tmp_path)
    kwargs = {"installation_id": 1, "repo": REPO, "number": 1}
    jid = jobs.record(rt.store, "test_labels_an_issue", kwargs)
    fake_github.state.archive_repo(REPO)

    assert run_job.run("test_labels_an_issue", kwargs, job_id=jid) == "done"

    assert rt.store.dead_letters() == []
    (why,) = _skipped(rt, "test_labels_an_issue")
    assert "until it is unarchived" in why
    assert rt.store.repositories()[0]["archived"] == 1
    assert fake_github.state.writes() == []


def test_the_sweep_of_an_installation_uninstalled_since_is_skipped_and_audited_once(
    fake_github: Any, tmp_path: Path
) -> None:
    from workers.tasks import run_job

    rt = _worker(fake_github, tmp_path)
    kwargs = {"installation_id": 1, "run_id": "2026-11-23"}
    jid = jobs.record(rt.store, "lifecycle_sweep", kwargs)
    del fake_github.state.installations[1]  # uninstalled before the daily job ran
    rt.store.remove_installation(1)

    assert run_job.run("lifecycle_sweep", kwargs, job_id=jid) == "done"
    # a copy of the message (`smolbot retry`, a lost ack) finds the run done: not audited again
    rt.store.db.execute("update jobs set status = 'queued' where id = ?", [jid])
    rt.store.db.conn.commit()
    assert run_job.run("lifecycle_sweep", kwargs, job_id=jid) == "done"

    assert rt.store.dead_letters() == []
    (why,) = _skipped(rt, "lifecycle")
    assert "installation 1 is gone" in why
    sweep = rt.store.db.execute("select status, counts from sweeps").fetchall()
    assert sweep == [("done", '{"uninstalled": 1}')]
