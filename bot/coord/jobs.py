"""Model-queue jobs: a registry of named jobs and their run records (claim, lease, dead letters).

Feature code registers a job once, at import, and submits runs by name with JSON kwargs:

    @register("summarize")
    def summarize_job(rt: Runtime, *, installation_id: int, repo: str, number: int) -> None: ...

    submit(store, "summarize", {"installation_id": 1, "repo": "o/r", "number": 7}, key=delivery_id)

`submit` records the run in the store (the source of truth, like deliveries) and hands its id to
the enqueuer the worker/web process bound at start-up (`smolbot.run_job` on the `model` queue).
Without an enqueuer, or with a broker that does not take the message, the run stays `received`
and the recovery sweep queues it.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from bot.store import Store

JobFn = Callable[..., None]
Enqueuer = Callable[[str, str, dict[str, Any]], None]  # (job_id, name, kwargs)

# Modules that register jobs; imported by workers at start-up so the registry is full.
JOB_MODULES: list[str] = ["bot.jobs.scheduled"]


@dataclass(frozen=True)
class Job:
    name: str
    fn: JobFn
    lock: Callable[[dict[str, Any]], str | None]  # the lock key for a run's kwargs (None: none)


log = logging.getLogger(__name__)
REGISTRY: dict[str, Job] = {}
_enqueuer: list[Enqueuer] = []


class UnknownJob(LookupError):
    """No job of that name is registered."""


def _issue_lock(kwargs: dict[str, Any]) -> str | None:
    from bot.coord.locks import issue_key

    if "repo" in kwargs and "number" in kwargs:
        return issue_key(str(kwargs["repo"]), int(kwargs["number"]))
    return None


def register(
    name: str, lock: Callable[[dict[str, Any]], str | None] = _issue_lock
) -> Callable[[JobFn], JobFn]:
    """Register `fn(rt, **kwargs)` as job `name`; by default runs hold the issue's lock."""

    def inner(fn: JobFn) -> JobFn:
        REGISTRY[name] = Job(name, fn, lock)
        return fn

    return inner


def get_job(name: str) -> Job:
    if name not in REGISTRY:
        for module in JOB_MODULES:
            importlib.import_module(module)
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY)) or "none"
        raise UnknownJob(f"no job named {name!r} (registered: {known})") from None


def bind_enqueuer(fn: Enqueuer) -> None:
    _enqueuer[:] = [fn]


def job_id(name: str, kwargs: dict[str, Any], key: str | None = None) -> str:
    basis = json.dumps([name, kwargs, key], sort_keys=True, default=str)
    return f"{name}:{hashlib.sha256(basis.encode()).hexdigest()[:20]}"


def record(store: Store, name: str, kwargs: dict[str, Any], key: str | None = None) -> str | None:
    """Record a run once; None when the same (name, kwargs, key) was recorded before."""
    jid, now = job_id(name, kwargs, key), time.time()
    cur = store.db.execute(
        "insert into jobs (id, name, kwargs, status, attempts, received_at, updated_at)"
        " values (?, ?, ?, 'received', 0, ?, ?) on conflict(id) do nothing",
        [jid, name, json.dumps(kwargs, sort_keys=True, default=str), now, now],
    )
    store.db.conn.commit()
    return jid if cur.rowcount == 1 else None


def submit(store: Store, name: str, kwargs: dict[str, Any], key: str | None = None) -> str:
    """Record a run and queue it on the model queue. Idempotent per (name, kwargs, key)."""
    return submitted(store, name, kwargs, key)[0]


def submitted(
    store: Store, name: str, kwargs: dict[str, Any], key: str | None = None
) -> tuple[str, bool]:
    """submit(), and whether this call recorded the run (False: the same run was recorded before,
    by a redelivery or a retry of what submitted it)."""
    get_job(name)
    jid = record(store, name, kwargs, key)
    if jid is None:
        return job_id(name, kwargs, key), False
    if _enqueuer:
        try:
            _enqueuer[0](jid, name, kwargs)
        except Exception as err:  # kombu raises many types for a broker away for a moment
            # the run is recorded (`received`): the recovery sweep publishes it within a minute,
            # and what submitted it (a delivery) goes on rather than being parked for it
            log.warning(
                "job %s (%s) recorded but not queued (%s: %s); the recovery sweep will queue it",
                jid, name, type(err).__name__, err,
            )  # fmt: skip
            return jid, True
        store.mark_queued_rows("jobs", [jid])  # a worker may have claimed it already
    return jid, True


def waiting(store: Store, name: str | None = None) -> list[dict[str, Any]]:
    """Runs not yet started (received or queued), oldest first; kwargs decoded."""
    return _runs(store, "status in ('received', 'queued')", name)


def unfinished(store: Store, name: str | None = None) -> list[dict[str, Any]]:
    """Runs waiting or running (one whose worker died too: the recovery sweep queues it again),
    oldest first; kwargs decoded."""
    return _runs(store, "status in ('received', 'queued', 'running')", name)


def _runs(store: Store, where: str, name: str | None) -> list[dict[str, Any]]:
    args: list[Any] = []
    if name is not None:
        where, args = where + " and name = ?", [name]
    out = list(store.db.table("jobs").rows_where(where, args, order_by="received_at"))
    for row in out:
        row["kwargs"] = json.loads(row["kwargs"] or "{}")
    return out


def claim(store: Store, jid: str, lease_s: float) -> bool:
    return store.claim("jobs", jid, lease_s)


def set_status(
    store: Store, jid: str, status: str, error: str | None = None, next_at: float | None = None
) -> None:
    store.db.execute(
        "update jobs set status = ?, error = ?, updated_at = ? where id = ?",
        [status, error, next_at or time.time(), jid],
    )
    store.db.conn.commit()


def defer(store: Store, jid: str, why: str, next_at: float) -> str | None:
    """Put off a waiting run (received or queued) until `next_at`; a run another worker holds,
    or one finished or parked, keeps its status. The run's status after, None if it is gone."""
    store.db.execute(
        "update jobs set status = 'queued', error = ?, updated_at = ?"
        " where id = ? and status in ('received', 'queued')",
        [why, next_at, jid],
    )
    store.db.conn.commit()
    row = run(store, jid)
    return str(row["status"]) if row else None


def run(store: Store, jid: str) -> dict[str, Any] | None:
    rows = list(store.db.table("jobs").rows_where("id = ?", [jid]))
    return rows[0] if rows else None


class Stuck(NamedTuple):
    """A run not finished for longer than the sweep's limit, as the recovery sweep reads it."""

    id: str
    name: str
    kwargs: dict[str, Any]
    status: str
    attempts: int


def stuck(store: Store, older_than_s: float, received_after_s: float | None = None) -> list[Stuck]:
    """Runs not finished for longer than older_than_s; runs never published (`received`: the
    broker was down) after received_after_s already."""
    columns = "id, name, kwargs, status, attempts"
    rows = store.stuck(columns, "jobs", older_than_s, received_after_s=received_after_s)
    return [Stuck(r[0], r[1], json.loads(r[2] or "{}"), r[3], int(r[4] or 0)) for r in rows]
