"""Binds bot.coord.jobs to Celery: `smolbot.run_job` on the model queue is the enqueuer."""

from __future__ import annotations

from typing import Any

from bot.coord import jobs as registry


def enqueue_job(job_id: str, name: str, kwargs: dict[str, Any]) -> None:
    from workers.tasks import run_job

    run_job.apply_async(args=[name, kwargs], kwargs={"job_id": job_id}, queue="model")


def bind() -> None:
    """Called once per process that submits jobs (workers at start, the web app at build)."""
    registry.bind_enqueuer(enqueue_job)
