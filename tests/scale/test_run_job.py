"""smolbot.run_job on the model queue: a worker without the model file leaves model jobs to the
others, dead letters show in `smolbot doctor` and `smolbot retry` replays them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.coord import jobs
from bot.store import open_store
from tests.e2e.harness import ROOT, broker_url, wait_for
from tests.fake_github.plugin import make_settings
from tests.scale.cluster import REPO, worker

pytestmark = [pytest.mark.broker, pytest.mark.slow]


def _cli(settings, *args: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    env = {**os.environ, **settings.to_env(), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], env=env, cwd=ROOT, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip


def test_model_jobs_survive_a_worker_without_the_model(
    fake_github, tmp_path: Path, pg_url: str
) -> None:  # type: ignore[no-untyped-def]
    fake_github.state.add_installation(1, [REPO])
    for n in range(1, 4):
        fake_github.state.add_issue(REPO, f"Issue {n}")
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF" + b"\0" * 64)
    common = {
        "broker_url": broker_url("redis", tmp_path),
        "database_url": pg_url,
        "retry_base_s": 0.2,
        "job_modules": ["tests.scale.probe_jobs"],
    }
    good = make_settings(fake_github, tmp_path, model_path=str(model), **common)
    bad = make_settings(fake_github, tmp_path, model_path=str(tmp_path / "gone.gguf"), **common)
    from workers.celery_app import configure
    from workers.jobs import bind

    configure(good)
    bind(["tests.scale.probe_jobs"])
    store = open_store(pg_url)
    procs = [worker(bad, tmp_path / "bad.log", "model")]  # only the worker without the model
    try:
        ids = [
            jobs.submit(
                store,
                "probe_comment",
                {"installation_id": 1, "repo": REPO, "number": n % 3 + 1, "key": f"k{n}"},
            )
            for n in range(6)
        ]
        failing = jobs.submit(
            store,
            "probe_comment",
            {"installation_id": 1, "repo": REPO, "number": 1, "key": "fail-1"},
        )
        wait_for(
            lambda: "does not take model-queue jobs" in (tmp_path / "bad.log").read_text(),
            timeout=60, what="the worker without the model declining the model queue",
        )  # fmt: skip
        time.sleep(1)
        assert jobs.run(store, ids[0])["status"] == "queued"  # type: ignore[index]
        procs.append(worker(good, tmp_path / "good.log", "model"))
        final = ("done", "dead")
        wait_for(
            lambda: all(jobs.run(store, j)["status"] in final for j in [*ids, failing]),  # type: ignore[index]
            timeout=120, what="all job runs final", log=tmp_path / "good.log",
        )  # fmt: skip
        assert [jobs.run(store, j)["status"] for j in ids] == ["done"] * 6  # type: ignore[index]
        bodies = [c.body for n in (1, 2, 3) for c in fake_github.state.comments(REPO, n)]
        for n in range(6):
            assert sum(f"probe k{n}" in b for b in bodies) == 1
        assert jobs.run(store, failing)["status"] == "dead"  # type: ignore[index]
        doctor = _cli(good, "doctor")
        assert "dead letter" in doctor.stdout and "fail-1" in doctor.stdout, doctor.stdout
        (tmp_path / "allow-fail-1").touch()  # the operator fixed the cause
        assert "replayed 1" in _cli(good, "retry").stdout
        wait_for(lambda: jobs.run(store, failing)["status"] == "done", timeout=60, what="replayed")  # type: ignore[index]
        bodies = [c.body for c in fake_github.state.comments(REPO, 1)]
        assert sum("probe fail-1" in b for b in bodies) == 1
        assert store.dead_letters() == []
    finally:
        for p in procs:
            p.stop()
