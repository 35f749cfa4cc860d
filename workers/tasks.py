"""Celery tasks: ids in, jobs called, retries and dead letters here; no decisions."""

from __future__ import annotations

import logging
import random
import time
from typing import Any

from celery import Task
from celery.signals import worker_process_init, worker_ready

from bot.jobs.runtime import Runtime, runtime_for
from bot.ports import RateLimited, Unavailable
from workers.celery_app import app, settings_of

log = logging.getLogger(__name__)


def _runtime() -> Runtime:
    return runtime_for(settings_of(app))


@worker_process_init.connect
def _init_process(**_: Any) -> None:
    """Each worker child opens its own store (and, lazily, its own model copy)."""
    _runtime()


@worker_ready.connect
def _recover_on_start(**_: Any) -> None:
    """A worker that starts picks up what a dead one left behind, without waiting for beat."""
    recover_deliveries.apply_async(queue="sweep")


def backoff(attempt: int, base: float, cap: float = 900.0) -> float:
    """Exponential backoff with jitter, for GitHub 5xx."""
    return float(min(cap, base * (2**attempt)) * (0.5 + random.random() / 2))


@app.task(name="smolbot.handle_delivery", bind=True, acks_late=True, max_retries=None)
def handle_delivery(self: Task, delivery_id: str) -> str:
    rt = _runtime()
    if not rt.store.claim_delivery(delivery_id, lease_s=rt.settings.recovery_after_s):
        return "already-final-or-running"
    limit = rt.settings.task_max_retries
    try:
        rt.dispatch(delivery_id)
    except RateLimited as err:
        return _retry_or_dead(self, rt, delivery_id, err, err.retry_after_s, limit)
    except Unavailable as err:
        return _retry_or_dead(
            self,
            rt,
            delivery_id,
            err,
            backoff(self.request.retries, rt.settings.retry_base_s),
            limit,
        )
    except Exception as err:
        log.exception("delivery %s failed", delivery_id)
        rt.fail(delivery_id, f"{type(err).__name__}: {err}")
        return "dead"
    rt.store.set_delivery_status(delivery_id, "done")
    return "done"


def _retry_or_dead(
    task: Task, rt: Runtime, delivery_id: str, err: Exception, countdown: float, limit: int
) -> str:
    if task.request.retries >= limit:
        rt.fail(delivery_id, f"gave up after {limit} retries: {err}")
        return "dead"
    rt.store.set_delivery_status(
        delivery_id, "queued", error=str(err), next_at=time.time() + countdown
    )
    log.warning("delivery %s: %s; retrying in %.0f s", delivery_id, err, countdown)
    raise task.retry(countdown=countdown, exc=err)


@app.task(name="smolbot.recover_deliveries")
def recover_deliveries() -> int:
    """Re-enqueue deliveries received but not finished (a worker died, the broker lost them)."""
    rt = _runtime()
    stuck = rt.store.stuck_deliveries(rt.settings.recovery_after_s)
    for delivery_id in stuck:
        rt.store.set_delivery_status(delivery_id, "queued", error="re-queued by recovery sweep")
        handle_delivery.apply_async(args=[delivery_id], queue="fast")
    if stuck:
        log.info("recovery sweep re-queued %d deliveries", len(stuck))
    return len(stuck)


def enqueue_delivery(delivery_id: str, event: str, payload: dict[str, Any]) -> None:
    """The web process's Enqueue port: publish the id only; the worker re-reads the store."""
    from bot.ports import QueueUnavailable

    try:
        handle_delivery.apply_async(args=[delivery_id], queue="fast", retry=False)
    except Exception as err:  # kombu raises many types for a down broker
        raise QueueUnavailable(f"{type(err).__name__}: {err}") from err
