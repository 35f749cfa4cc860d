"""Celery tasks: ids in, jobs called, locks, retries and dead letters here; no decisions."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

from celery import Task
from celery.exceptions import Reject, Retry
from celery.signals import worker_process_init, worker_ready
from kombu.exceptions import OperationalError as KombuOperationalError

from bot.coord import jobs as job_registry
from bot.coord.locks import issue_key
from bot.github.errors import InstallationSuspended
from bot.llm.api import ModelUnavailable
from bot.ports import AppCredentialsError, NotFound, RateLimited, ReadOnly, Unavailable
from bot.settings import SettingsError
from bot.store.outage import is_outage, unavailable_errors
from workers.celery_app import app, settings_of
from workers.jobs import bind
from workers.leases import Heartbeat
from workers.runtime import WorkerRuntime, worker_runtime

log = logging.getLogger(__name__)
# the database went away for a moment: retry, never dead-letter (when is_outage says so; a
# statement that fails the same way each time, "no such column", is a bug: it is parked)
DB_ERRORS = unavailable_errors()
LOCK_WAIT_S = 2.0  # then defer: a fast worker never sits long behind a slow job on one issue
BUSY_MAX_S = 60.0  # the longest a delivery or job for a busy issue is deferred at a time


def _wr() -> WorkerRuntime:
    return worker_runtime(settings_of(app))


@worker_process_init.connect
def _init_process(**_: Any) -> None:
    """Each worker child opens its own store (and, lazily, its own model copy)."""
    bind(settings_of(app).job_modules)
    _wr()


@worker_ready.connect
def _recover_on_start(sender: Any = None, **_: Any) -> None:
    """A worker that starts picks up what a dead one left behind, without waiting for beat."""
    settings = settings_of(app)
    bind(settings.job_modules)
    if sender is not None:
        _skip_model_queue_without_model(sender, settings.effective_model_path)
    recover_deliveries.apply_async(queue="sweep")


def _skip_model_queue_without_model(consumer: Any, path: Any) -> None:
    """A worker without the model file leaves model jobs to the workers that have it."""
    consuming = {q.name for q in getattr(consumer.task_consumer, "queues", [])}
    if "model" in consuming and not path.is_file():
        log.error(
            "%s missing: this worker does not take model-queue jobs; run `smolbot models install`"
            " (or set SMOLBOT_MODEL_PATH) and restart it",
            path,
        )
        consumer.cancel_task_queue("model")


def backoff(attempt: int, base: float, cap: float = 900.0) -> float:
    """Exponential backoff with jitter, for GitHub 5xx and a database that went away."""
    return float(min(cap, base * (2**attempt)) * (0.5 + random.random() / 2))


# --- deliveries (fast queue) ----------------------------------------------------------------
@app.task(name="smolbot.handle_delivery", bind=True, acks_late=True, max_retries=None)
def handle_delivery(self: Task, delivery_id: str, waited: int = 0) -> str:
    """`waited`: how many times it found its issue busy and was deferred (the wait grows)."""
    try:
        return _handle(self, _wr(), delivery_id, waited)
    except DB_ERRORS as err:
        if not is_outage(err):
            raise
        raise _db_retry(self, err) from err


@app.task(name="smolbot.handle_deliveries", bind=True, acks_late=True)
def handle_deliveries(self: Task, delivery_ids: list[str]) -> list[str]:
    """A batch the web process published together: each delivery runs as if it came alone.

    A delivery that must wait (retry, database outage) leaves the batch as its own
    `handle_delivery` message, so the others are not held up or run again.
    """
    outcomes = []
    for delivery_id in delivery_ids:
        solo = _Solo(delivery_id)
        try:
            outcomes.append(_handle(solo, _wr(), delivery_id))
        except DB_ERRORS as err:
            if not is_outage(err):  # the others still run; the recovery sweep re-sends this one
                log.exception("delivery %s failed", delivery_id)
                outcomes.append("failed")
                continue
            solo.retry(countdown=backoff(0, 1.0, cap=60.0), exc=err)
            outcomes.append("retrying")
        except Retry:
            outcomes.append("retrying")
    return outcomes


class _Solo:
    """Stands in for the task inside a batch: `retry` re-publishes this one delivery alone."""

    def __init__(self, delivery_id: str) -> None:
        self.delivery_id = delivery_id
        self.request = SimpleNamespace(retries=0)

    def retry(self, countdown: float, exc: Exception, **_: Any) -> Retry:
        handle_delivery.apply_async(
            args=[self.delivery_id], queue="fast", countdown=countdown, retries=1
        )
        return Retry(exc=exc, when=countdown)


def _handle(task: Task, wr: WorkerRuntime, delivery_id: str, waited: int = 0) -> str:
    row = wr.rt.store.delivery(delivery_id)
    if row is None or row["status"] in ("done", "dead", "ignored"):
        return "already-final-or-unknown"
    inst = row.get("installation_id")
    paused = wr.pacer.paused_for(inst) if inst else 0.0
    if paused > 0:
        why = "installation paused by a GitHub secondary limit"
        return _defer(task, wr, delivery_id, paused, why)
    # the issue's lock under the repository's name today: a delivery sent before a rename and a
    # job for the renamed repository (jobs lock under today's name) are one issue's work
    repo = wr.rt.store.current_repo_name(row["repo"]) if row.get("repo") else None
    key = issue_key(repo, row["number"]) if repo and row.get("number") else None
    with wr.locks.hold(key or f"delivery:{delivery_id}", wait_s=LOCK_WAIT_S) as got:
        if not got:  # a long job holds it (a summary): wait longer each time, up to a minute,
            # rather than hold a fast worker LOCK_WAIT_S in every few seconds
            later = min(BUSY_MAX_S, (1 + 2 * random.random()) * 2 ** min(waited, 6))
            why = "issue busy in another task"
            return _defer(task, wr, delivery_id, later, why, waited + 1)
        return _run_delivery(task, wr, delivery_id, inst, key or f"delivery:{delivery_id}")


def _run_delivery(
    task: Task, wr: WorkerRuntime, delivery_id: str, inst: int | None, key: str
) -> str:
    rt = wr.rt
    claimed, started = False, time.time()
    try:
        if not rt.store.claim_delivery(delivery_id, lease_s=rt.settings.recovery_after_s):
            return "already-final-or-running"
        claimed = True
        if lapsed := _lapsed(wr, "deliveries", delivery_id):
            if _park_once(rt.store, "deliveries", delivery_id, lapsed):
                rt.fail(delivery_id, lapsed)
            return "dead"
        with _heartbeat(wr, "deliveries", delivery_id, key):
            rt.dispatch(delivery_id)
        rt.store.set_delivery_status(delivery_id, "done")
        return "done"
    except DB_ERRORS as err:
        if not is_outage(err):
            return _failed(f"delivery {delivery_id}", err, lambda e: rt.fail(delivery_id, e))
        if claimed:
            _give_back(rt.store, "deliveries", delivery_id)
        raise _db_retry(task, err) from err
    except (RateLimited, Unavailable) as err:
        countdown = _countdown(task, wr, err, inst)
        return _retry_or_dead(task, delivery_id, err, countdown, _delivery_ops(wr, delivery_id))
    except CONFIG_ERRORS as err:
        rt.fail(delivery_id, _misconfigured(f"delivery {delivery_id}", err))
        return "dead"
    except InstallationSuspended as err:
        return _hold(wr, delivery_id, err, started)
    except Exception as err:
        return _failed(f"delivery {delivery_id}", err, lambda e: rt.fail(delivery_id, e))


def _hold(wr: WorkerRuntime, delivery_id: str, err: InstallationSuspended, started: float) -> str:
    """A delivery of a suspended installation waits, held, for installation.unsuspend (which
    queues it again): no retry, dead letter or traceback (bot/jobs/dispatch.py hold_suspended)."""
    from bot.jobs.dispatch import hold_suspended

    rt = wr.rt
    row = rt.store.delivery(delivery_id) or {"id": delivery_id}
    if not hold_suspended(rt.store, row, err, started):  # no installation to wait for
        log.error("delivery %s parked: %s", delivery_id, err)
        rt.fail(delivery_id, f"{err}; run `smolbot retry` once it is unsuspended")
        return "dead"
    log.info("delivery %s held: %s", delivery_id, err)
    return "held"


def _failed(what: str, err: Exception, fail: Callable[[str], None]) -> str:
    """Park a run that raised what no retry mends: logged with its traceback, a dead letter."""
    log.exception("%s failed", what)
    fail(f"{type(err).__name__}: {err}")
    return "dead"


# The App's id or key missing, malformed or refused by GitHub (or another setting): no retry
# helps and no traceback says more than the message, which names the setting.
CONFIG_ERRORS = (AppCredentialsError, SettingsError)


def _misconfigured(what: str, err: Exception) -> str:
    """Log one line for a run parked by a configuration error; the dead letter's error."""
    error = (
        f"{err}; fix the setting, restart the workers, then run `smolbot retry` to replay what"
        " was parked"
    )
    log.error("%s parked: %s", what, error)
    return error


def _countdown(task: Task, wr: WorkerRuntime, err: Exception, inst: int | None) -> float:
    if isinstance(err, RateLimited):
        wait = err.wait_s(task.request.retries)  # GitHub named no time: doubling each retry
        if inst and not err.paced:
            wr.pacer.pause(inst, wait)  # every worker holds off, not just this one
        return wait
    return backoff(task.request.retries, wr.rt.settings.retry_base_s)


def _defer(
    task: Task, wr: WorkerRuntime, delivery_id: str, seconds: float, why: str, waited: int = 0
) -> str:
    """Re-publish for later without spending a retry, nor refilling the retries spent (the retry
    budget, not the lapse count, still ends a run deferred often); the store's due time keeps
    recovery off.

    Only a waiting delivery is touched: one another worker runs or finished keeps its status.
    """
    store = wr.rt.store
    store.db.execute(
        "update deliveries set status = 'queued', error = ?, updated_at = ?"
        " where id = ? and status in ('received', 'queued')",
        [why, time.time() + seconds, delivery_id],
    )
    store.db.conn.commit()
    handle_delivery.apply_async(
        args=[delivery_id],
        kwargs={"waited": waited},
        queue="fast",
        countdown=seconds,
        retries=task.request.retries,
    )
    return "deferred"


class _Ops:
    """How to park or fail one unit of work (a delivery or a job run)."""

    def __init__(self, requeue: Callable[[str, float], None], fail: Callable[[str], None]) -> None:
        self.requeue, self.fail = requeue, fail


def _delivery_ops(wr: WorkerRuntime, delivery_id: str) -> _Ops:
    store = wr.rt.store
    return _Ops(
        lambda error, at: store.set_delivery_status(delivery_id, "queued", error=error, next_at=at),
        lambda error: wr.rt.fail(delivery_id, error),
    )


def _retry_or_dead(task: Task, what: str, err: Exception, countdown: float, ops: _Ops) -> str:
    limit = settings_of(app).task_max_retries
    if task.request.retries >= limit:
        ops.fail(f"gave up after {limit} retries: {err}")
        return "dead"
    ops.requeue(str(err), time.time() + countdown)
    log.warning("%s: %s; retrying in %.0f s", what, err, countdown)
    raise task.retry(countdown=countdown, exc=err)


def _give_back(store: Any, table: str, row_id: str) -> None:
    """A database error after the claim: give the run back, so the retry can claim it at once
    (it found its own live lease and was dropped, and the run waited for the recovery sweep).
    Best effort: with the database still away, the sweep brings it back after the lease."""
    try:
        store.release(table, row_id)
    except Exception as err:
        log.warning("could not give back %s %s (%s); the recovery sweep will", table, row_id, err)


OUTAGES_HEADER = "smolbot_outages"


def _db_retry(task: Task, err: Exception) -> Exception:
    """The store is away: the message again later, each time waiting longer (1 s, doubling, to a
    minute), counted in a header of its own. Not in `retries`: those count GitHub's faults, and
    an outage of a few minutes spent them all, so the first 5xx after it made a dead letter."""
    outages = _header_int(task.request, OUTAGES_HEADER, 0)
    countdown = backoff(min(outages, 6), 1.0, cap=60.0)
    log.warning("database unavailable (%s); retrying in %.0f s", type(err).__name__, countdown)
    if getattr(task.request, "called_directly", False):  # no message to publish again: as
        raise err  # task.retry() does, the error itself
    if not hasattr(task, "signature_from_request"):  # a batch's delivery (_Solo) goes on alone
        alone: Exception = task.retry(countdown=countdown, exc=err)
        return alone
    headers = dict(getattr(task.request, "headers", None) or {})
    headers[OUTAGES_HEADER] = outages + 1
    if waited := _header_int(task.request, WAITED_HEADER, 0):
        headers[WAITED_HEADER] = waited
    again = task.signature_from_request(
        task.request, countdown=countdown, retries=task.request.retries, headers=headers
    )
    try:
        again.apply_async()
    except Exception as exc:  # the broker away too: the store's record and the sweep bring it back
        raise Reject(exc, requeue=False) from exc
    later: Exception = Retry(exc=err, when=countdown, sig=again)
    return later


# --- jobs (model queue) ---------------------------------------------------------------------
@app.task(name="smolbot.run_job", bind=True, acks_late=True, max_retries=None)
def run_job(
    self: Task, job_name: str, kwargs: dict[str, Any], job_id: str | None = None, waited: int = 0
) -> str:
    """Run a registered job with the same claim / lock / retry / dead-letter discipline.

    How many times it found its lock busy and was deferred (the wait grows) rides in the message
    header WAITED_HEADER, which a worker of older code ignores: a `waited` kwarg made such a worker
    fail the message (TypeError). `waited` is still read, from messages published that way."""
    waited = _waited(self.request, waited)
    try:
        wr = _wr()
        job = job_registry.get_job(job_name)
        jid = job_id or job_registry.record(wr.rt.store, job_name, kwargs) or ""
        if not jid:
            return "already-recorded"
        kwargs = _today_s_repo(wr.rt.store, jid, kwargs)
    except DB_ERRORS as err:
        if not is_outage(err):
            raise
        raise _db_retry(self, err) from err
    try:  # the lock's take, the deferral and the release write to the store too
        key = job.lock(kwargs) or f"job:{jid}"
        with wr.locks.hold(key, wait_s=LOCK_WAIT_S) as got:
            if not got:  # a long job holds it (a summary): wait longer each time, up to a minute,
                # rather than hold a model worker LOCK_WAIT_S in every few seconds
                countdown = min(BUSY_MAX_S, (1 + 2 * random.random()) * 2 ** min(waited, 6))
                now = job_registry.defer(wr.rt.store, jid, "lock busy", time.time() + countdown)
                if now in ("done", "dead", None):  # a duplicate message of a finished run
                    return "already-final"
                run_job.apply_async(
                    args=[job_name, kwargs],
                    kwargs={"job_id": jid},
                    headers={WAITED_HEADER: waited + 1},
                    queue="model",
                    countdown=countdown,
                    retries=self.request.retries,  # a deferral neither spends nor refills retries
                )
                return "deferred"
            return _run_job(self, wr, job, jid, kwargs, key)
    except DB_ERRORS as err:
        if not is_outage(err):
            raise
        raise _db_retry(self, err) from err


WAITED_HEADER = "smolbot_waited"


def _waited(request: Any, kwarg: int) -> int:
    """The deferral count of the message being run: its header, else the `waited` kwarg of older
    messages."""
    return _header_int(request, WAITED_HEADER, kwarg)


def _header_int(request: Any, name: str, default: int) -> int:
    """A count the message carries in header `name` (an attribute of a worker's request; in
    `headers` when run eagerly), else `default`."""
    n = getattr(request, name, None)
    if n is None:
        n = (getattr(request, "headers", None) or {}).get(name, default)
    try:
        return max(0, int(n))
    except (TypeError, ValueError):
        return default


def _today_s_repo(store: Any, jid: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """A job queued for a repository renamed or transferred since runs under today's name: the
    store moved its rows there, and the old name would start them again apart."""
    repo = kwargs.get("repo")
    if not isinstance(repo, str):
        return kwargs
    now = store.current_repo_name(repo)
    if now == repo:
        return kwargs
    log.info("job %s names %s, renamed since to %s", jid, repo, now)
    return {**kwargs, "repo": now}


def _run_job(
    task: Task,
    wr: WorkerRuntime,
    job: job_registry.Job,
    jid: str,
    kwargs: dict[str, Any],
    key: str,
) -> str:
    store = wr.rt.store
    ops = _Ops(
        lambda error, at: job_registry.set_status(store, jid, "queued", error, at),
        lambda error: _fail_job(wr, job.name, jid, kwargs, error),
    )
    claimed = False
    try:
        if not job_registry.claim(store, jid, wr.rt.settings.recovery_after_s):
            return "already-final-or-running"
        claimed = True
        if lapsed := _lapsed(wr, "jobs", jid):
            if _park_once(store, "jobs", jid, lapsed):
                ops.fail(lapsed)
            return "dead"
        with _heartbeat(wr, "jobs", jid, key):
            try:
                job.fn(wr.rt, **kwargs)
            except (NotFound, ReadOnly) as err:  # the repository, App or issue gone meanwhile
                _out_of_reach(wr, job.name, jid, kwargs, err)
        job_registry.set_status(store, jid, "done")
        return "done"
    except DB_ERRORS as err:
        if not is_outage(err):
            return _failed(f"job {jid}", err, ops.fail)
        if claimed:
            _give_back(store, "jobs", jid)
        raise _db_retry(task, err) from err
    except (RateLimited, Unavailable, ModelUnavailable) as err:
        # a worker without the model file gives the run back: another worker may have it
        inst = kwargs.get("installation_id") if isinstance(err, RateLimited) else None
        countdown = _countdown(task, wr, err, inst)
        return _retry_or_dead(task, f"job {jid}", err, countdown, ops)
    except CONFIG_ERRORS as err:
        ops.fail(_misconfigured(f"job {jid} ({job.name})", err))
        return "dead"
    except InstallationSuspended as err:  # parked without a traceback: nothing is broken
        error = f"{err}; run `smolbot retry` once it is unsuspended"
        log.error("job %s (%s) parked: %s", jid, job.name, error)
        ops.fail(error)
        return "dead"
    except Exception as err:
        return _failed(f"job {jid}", err, ops.fail)


def _out_of_reach(
    wr: WorkerRuntime, name: str, jid: str, kwargs: dict[str, Any], err: NotFound | ReadOnly
) -> None:
    """A job run ends as a delivery does when GitHub answers its issue or repository is out of
    reach (bot/jobs/dispatch.py out_of_reach): a 404 is tried once more, then audited as skipped."""
    from bot.jobs.dispatch import out_of_reach

    row = job_registry.run(wr.rt.store, jid)
    repo, number, delivery_id = kwargs.get("repo"), kwargs.get("number"), kwargs.get("delivery_id")
    out_of_reach(
        wr.rt.store,
        err,
        int(row["attempts"] or 0) if row else 0,
        name,
        task="smolbot.run_job",
        delivery_id=delivery_id if isinstance(delivery_id, str) else None,
        repo=repo if isinstance(repo, str) else None,
        number=number if isinstance(number, int) else None,
        detail={"job_id": jid},
    )


def _lapsed(wr: WorkerRuntime, table: str, row_id: str) -> str | None:
    """Why a run just claimed must be parked, not run: claimed more often than its retries and
    lapses allow, so its worker died or hung on it each time (the recovery sweep parks such a run
    it finds; a copy of its message may claim it first, once the dead worker's lease lapsed)."""
    limit = wr.rt.settings.task_max_retries + MAX_LAPSES
    row = wr.rt.store.db.execute(f"select attempts from {table} where id = ?", [row_id]).fetchone()
    return LAPSED.format(n=row[0] - 1) if row and row[0] > limit else None


def _park_once(
    store: Any, table: str, row_id: str, error: str, cutoff: float | None = None
) -> bool:
    """Mark a lapsed run `dead` only if it is still `running` (and, for the sweep, its lease still
    out before `cutoff`): True for the one caller that did, who then writes its dead letter and
    audit line. Two sweeps at once, or a sweep and a copy of the message that claimed the run,
    each found it; each used to park it: two dead letters, and `smolbot retry` queued it twice."""
    where, args = "id = ? and status = 'running'", [error, time.time(), row_id]
    if cutoff is not None:
        where, args = where + " and updated_at < ?", [*args, cutoff]
    cur = store.db.execute(
        f"update {table} set status = 'dead', error = ?, updated_at = ? where {where}", args
    )
    store.db.conn.commit()
    return bool(cur.rowcount == 1)


def _heartbeat(wr: WorkerRuntime, table: str, row_id: str, key: str) -> Heartbeat:
    """The run's row lease and lock lease, renewed while it works (workers/leases.py)."""
    s = wr.rt.settings
    return Heartbeat(
        s.effective_database_url, table, row_id, s.recovery_after_s, lock=(key, wr.locks.owner)
    )


def _fail_job(wr: WorkerRuntime, name: str, jid: str, kwargs: dict[str, Any], error: str) -> None:
    args = {"job_id": jid, "job_name": name, "kwargs": kwargs}
    wr.rt.store.dead_letter("smolbot.run_job", args, error)  # first, as Runtime.fail: findable
    job_registry.set_status(wr.rt.store, jid, "dead", error)
    repo, number = kwargs.get("repo"), kwargs.get("number")
    wr.rt.store.audit(
        name,
        "parked",
        f"{error} (replay: smolbot retry)",
        task="smolbot.run_job",
        repo=repo if isinstance(repo, str) else None,
        number=number if isinstance(number, int) else None,
        detail={"job_id": jid},
    )


# --- recovery (sweep queue) -----------------------------------------------------------------
@app.task(name="smolbot.schedule_sweeps")
def schedule_sweeps(now: float | None = None) -> int:
    """Daily: one resumable lifecycle sweep per installation, and an encoder-tune check. Beat asks
    hourly; before sweep_hour_utc nothing is done, from it on the day's runs are submitted,
    each recorded once (a job per run id): an hour the beat's message was lost (the broker
    away) or a submission stopped partway (the store away) is made up the next hour, and an
    installation added later in the day is swept that day."""
    day = time.gmtime(now)
    if day.tm_hour < settings_of(app).sweep_hour_utc:
        return 0
    store = _wr().rt.store
    run_id = time.strftime("%Y-%m-%d", day)
    installations = [i for i in store.installations() if not i.get("suspended")]
    for inst in installations:
        job_registry.submit(
            store, "lifecycle_sweep", {"installation_id": inst["id"], "run_id": run_id}, run_id
        )
    # labels that arrived during the day (humans, the large model): tune the encoder if now due
    job_registry.submit(store, "tune_encoder", {"reason": "daily check"}, run_id)
    return len(installations)


@app.task(name="smolbot.schedule_digests")
def schedule_digests() -> str:
    """Hourly: post the digests whose weekly slot has passed (a rerun edits, never duplicates)."""
    slot = time.strftime("%Y-%m-%dT%H", time.gmtime())
    job_registry.submit(_wr().rt.store, "weekly_digests", {"slot": slot}, slot)
    return slot


@app.task(name="smolbot.schedule_backfill_resumes")
def schedule_backfill_resumes() -> str:
    """Hourly: resume the backfills that stopped (bot/jobs/backfill.py resume_unfinished); no job
    recorded in the hours when none did."""
    from bot.jobs.backfill import unfinished

    store, slot = _wr().rt.store, time.strftime("%Y-%m-%dT%H", time.gmtime())
    if not unfinished(store):
        return ""
    job_registry.submit(store, "resume_backfills", {"slot": slot}, slot)
    return slot


@app.task(name="smolbot.housekeeping")
def housekeeping() -> dict[str, int]:
    """Daily: drop finished deliveries' payloads and cached answers past retention_days."""
    rt = _wr().rt
    dropped = rt.store.prune(time.time() - rt.settings.retention_days * 86400)
    if any(dropped.values()):
        log.info("housekeeping: %s", dropped)
    return dropped


@app.task(name="smolbot.recover_deliveries")
def recover_deliveries() -> int:
    """Re-enqueue work received but not finished (a worker died, the broker lost the message).

    A `queued` row may simply be waiting behind a backlog: while the broker still holds messages
    for the queue, those rows are left alone (re-publishing them would only multiply the backlog).
    A broker that lost its messages has an empty queue, so they come back then. `running` rows
    whose lease ran out come back at once; `received` rows (never published: the broker was down
    when they came) once they are UNPUBLISHED_S old (the web publishes in milliseconds).
    """
    wr = _wr()
    store, after = wr.rt.store, wr.rt.settings.recovery_after_s
    # every claim counts an attempt; retries end by task_max_retries, so a run claimed more often
    # than that and again not finished is one that kills or hangs its worker: park it
    limit = wr.rt.settings.task_max_retries + MAX_LAPSES
    cutoff, why = time.time() - after, "re-queued by recovery sweep"
    skip_queued = {"fast": _backlog("fast") > 0, "model": _backlog("model") > 0}
    stuck, parked = [], 0
    received_cutoff = time.time() - UNPUBLISHED_S
    for delivery_id, status, attempts in store.stuck_rows(
        "deliveries", after, received_after_s=UNPUBLISHED_S
    ):
        if status == "running" and attempts >= limit:
            if _park_once(store, "deliveries", delivery_id, LAPSED.format(n=attempts), cutoff):
                wr.rt.fail(delivery_id, LAPSED.format(n=attempts))
                parked += 1
        elif not (status == "queued" and skip_queued["fast"]):
            stuck.append(delivery_id)
    # each only if still stuck: one that finished (or was claimed) since the listing stays so
    stuck = [d for d in stuck if store.requeue_stuck("deliveries", d, cutoff, why, received_cutoff)]
    for delivery_id in stuck:
        handle_delivery.apply_async(args=[delivery_id], queue="fast")
    runs = []
    for jid, name, kwargs, status, attempts in job_registry.stuck(store, after, UNPUBLISHED_S):
        if status == "running" and attempts >= limit:
            if _park_once(store, "jobs", jid, LAPSED.format(n=attempts), cutoff):
                _fail_job(wr, name, jid, kwargs, LAPSED.format(n=attempts))
                parked += 1
        elif not (status == "queued" and skip_queued["model"]):
            runs.append((jid, name, kwargs))
    runs = [r for r in runs if store.requeue_stuck("jobs", r[0], cutoff, why, received_cutoff)]
    for jid, name, kwargs in runs:
        run_job.apply_async(args=[name, kwargs], kwargs={"job_id": jid}, queue="model")
    if stuck or runs or parked:
        log.info(
            "recovery sweep re-queued %d deliveries, %d jobs; parked %d that never finish",
            len(stuck), len(runs), parked,
        )  # fmt: skip
    return len(stuck) + len(runs)


# A delivery or job recorded but never published (the broker was down) is published by the sweep
# after this long; the sweep runs at least every SWEEP_MAX_EVERY_S (workers/celery_app.py).
UNPUBLISHED_S = 30.0
# A run whose worker died or hung on it this many times beyond its retries is parked, not re-queued
# again every sweep for ever (an issue body that runs a worker out of memory, say).
MAX_LAPSES = 3
LAPSED = (
    "claimed {n} times and never finished: a worker died or hung on it (see the workers' logs);"
    " fix the cause, then run `smolbot retry`"
)


def _backlog(queue: str) -> int:
    """Messages waiting in the broker for `queue` (0 when the broker cannot say)."""
    try:
        with app.connection_for_write() as conn:
            ok = conn.default_channel.queue_declare(queue=queue, passive=True)
            return int(ok.message_count)
    except Exception:  # an unknown depth must not stop the sweep
        return 0


def replay_dead_letter(store: Any, row: dict[str, Any]) -> bool:
    """Queue one dead letter again (`smolbot retry`); False when it names nothing we can replay.
    A broker that does not take it: QueueUnavailable, and the delivery or job is parked again.
    A run no longer parked (this letter replayed already by a retry stopped before it marked the
    letter, or by one at the same time; another letter for the same run) is not queued again:
    True, the letter is done with."""
    import json

    from bot.ports import QueueUnavailable

    args = json.loads(row["args"] or "{}")
    if args.get("delivery_id"):
        did = args["delivery_id"]
        if not store.requeue_dead("deliveries", did, "replayed by smolbot retry"):
            log.info("delivery %s is no longer parked: not replayed again", did)
            return True
        try:
            handle_delivery.apply_async(args=[did], queue="fast", retry=False)
        except Exception as err:  # kombu raises many types for a down broker
            store.set_delivery_status(did, "dead", error=str(row.get("error") or "")[:2000])
            raise QueueUnavailable(f"{type(err).__name__}: {err}") from err
        return True
    if args.get("job_id"):
        if not store.requeue_dead("jobs", args["job_id"], "replayed by smolbot retry"):
            log.info("job %s is no longer parked: not replayed again", args["job_id"])
            return True
        try:
            run_job.apply_async(
                args=[args["job_name"], args["kwargs"]],
                kwargs={"job_id": args["job_id"]},
                queue="model",
                retry=False,
            )
        except Exception as err:
            job_registry.set_status(store, args["job_id"], "dead", str(row.get("error") or ""))
            raise QueueUnavailable(f"{type(err).__name__}: {err}") from err
        return True
    return False


def enqueue_deliveries(delivery_ids: Sequence[str]) -> None:
    """The web process's Enqueue port: publish ids only (one message); the worker re-reads the store."""
    from bot.ports import QueueUnavailable

    ids = list(delivery_ids)
    if not ids:
        return
    try:
        with app.pool.acquire(block=True) as conn:
            # one try to connect: kombu's default retries a refusing broker for about 6 s, while
            # the webhook (and every delivery behind it) waits; the store keeps the delivery
            conn.ensure_connection(max_retries=0)
            try:
                _publish_ids(conn, ids)
            except (KombuOperationalError, *conn.connection_errors) as err:
                if _timed_out(err):  # a broker that stopped answering: not waited for twice
                    raise
                # the pooled connection was dropped while it sat idle (a quiet week: RabbitMQ
                # ends a connection whose heartbeats stopped; a broker restart): once more on a
                # new one, which a broker that is down refuses at once. A message that did go
                # out before the error is run once all the same: the worker claims the delivery
                log.info("broker connection dropped (%s): publishing on a new one", err)
                conn.close()
                conn.ensure_connection(max_retries=0)
                _publish_ids(conn, ids)
    except Exception as err:  # kombu raises many types for a down broker
        raise QueueUnavailable(f"{type(err).__name__}: {err}") from err


def _timed_out(err: BaseException | None) -> bool:
    """Whether `err` is, or was raised from, a socket timeout (kombu wraps what it met)."""
    while err is not None:
        if isinstance(err, TimeoutError):
            return True
        err = err.__cause__ or err.__context__
    return False


def _publish_ids(conn: Any, ids: list[str]) -> None:
    if len(ids) == 1:
        handle_delivery.apply_async(args=[ids[0]], queue="fast", retry=False, connection=conn)
    else:
        handle_deliveries.apply_async(args=[ids], queue="fast", retry=False, connection=conn)
