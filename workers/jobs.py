"""Binds bot.coord.jobs to Celery: `smolbot.run_job` on the model queue is the enqueuer."""

from __future__ import annotations

import importlib
from typing import Any

from bot.coord import jobs as registry


def enqueue_job(job_id: str, name: str, kwargs: dict[str, Any]) -> None:
    from workers.tasks import run_job

    run_job.apply_async(args=[name, kwargs], kwargs={"job_id": job_id}, queue="model")


def bind(extra_modules: list[str] | None = None) -> None:
    """Called once per process: jobs are queued through Celery and every job module is loaded."""
    registry.bind_enqueuer(enqueue_job)
    for module in [*registry.JOB_MODULES, *(extra_modules or [])]:
        importlib.import_module(module)
