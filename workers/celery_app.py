"""The Celery application: created bare at import, configured from Settings at start-up."""

from __future__ import annotations

import os
import signal
import tempfile
import threading
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_process_init
from kombu import Exchange, Queue  # type: ignore[attr-defined]

from bot.settings import Settings, SettingsError
from workers.embedded_broker import use_for_sqla_urls
from workers.redis_transport import use_for_redis_urls

app = Celery("smolbot", include=["workers.tasks"])

QUEUES = ("fast", "model", "sweep")
SWEEP_MAX_EVERY_S = 60
REDIS_SOCKET_TIMEOUT_S = 5.0  # a Redis command that takes longer: the broker is taken for down


def unwritable_data_dir(data_dir: Path, err: OSError) -> SettingsError:
    """A data dir this user cannot make or write, said in one line as a store it cannot open is
    (bot.cli.cannot_open): what every command that keeps files there says, not a traceback."""
    why = " ".join(str(err).split()) or type(err).__name__
    return SettingsError(
        f"cannot write the data dir {data_dir} ({why}): set SMOLBOT_DATA_DIR to a directory this"
        " user can write, or run this as the user the service runs as"
    )


def ensure_data_dir(settings: Settings) -> None:
    """The data dir made if missing, and a file written there and removed: SettingsError if it
    cannot be. What `web`, `worker`, `beat` and `serve` check first: each keeps files there (the
    spool, the embedded broker, the beat schedule), and `beat` on a directory it could not write
    logged a traceback every few seconds, forever under a service manager's restarts. Written,
    not os.access: a read-only mount stops root, whom no mode bits stop."""
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=settings.data_dir):
            pass
    except OSError as err:
        raise unwritable_data_dir(settings.data_dir, err) from None


def configure(settings: Settings) -> Celery:
    """Point the app at the broker in settings, with the delivery guarantees we rely on."""
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise unwritable_data_dir(settings.data_dir, err) from None
    if settings.effective_broker_url.startswith("sqla+"):
        use_for_sqla_urls()  # the embedded broker's transport (workers/embedded_broker.py)
    elif settings.effective_broker_url.startswith(("redis://", "rediss://")):
        use_for_redis_urls()  # survives Redis going away mid-close (workers/redis_transport.py)
    if app.conf.get("broker_url") not in (None, settings.effective_broker_url):
        _drop_connections()
    app.conf.update(
        broker_url=settings.effective_broker_url,
        broker_connection_retry_on_startup=True,
        # a worker (and the beat) waits out a broker outage of any length: Celery's default of
        # 100 tries ended it after about 45 minutes, and `smolbot serve` with it, its web then
        # refusing the deliveries it would have stored (publishing is never retried: max_retries=0)
        broker_connection_max_retries=None,
        broker_connection_timeout=3,
        broker_transport_options=_transport_options(settings.effective_broker_url),
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_default_queue="fast",
        task_queues=[Queue(q, Exchange(q, type="direct"), routing_key=q) for q in QUEUES],
        task_routes={
            "smolbot.handle_delivery": {"queue": "fast"},
            "smolbot.run_job": {"queue": "model"},
            "smolbot.recover_deliveries": {"queue": "sweep"},
            "smolbot.schedule_sweeps": {"queue": "sweep"},
            "smolbot.schedule_digests": {"queue": "sweep"},
            "smolbot.schedule_backfill_resumes": {"queue": "sweep"},
        },
        beat_schedule=beat_schedule(settings),
        worker_hijack_root_logger=False,
        smolbot_settings=settings,
    )
    return app


def _drop_connections() -> None:
    """Forget pooled connections to a previous broker (one process, reconfigured: tests, demo)."""
    app.close()
    app._pool = None
    app.amqp._producer_pool = None


def _transport_options(url: str) -> dict[str, Any]:
    if url.startswith(("redis://", "rediss://")):
        return {
            # Unacked tasks come back after this long; the store's recovery sweep is quicker still.
            "visibility_timeout": 3600,
            # A Redis that stalls without closing the connection (paused, failing over, a lost
            # NAT entry) must fail a publish, not hold it: the webhook then answers `queued:
            # false` and the recovery sweep queues the stored delivery. kombu's default is to
            # wait forever. Above the workers' 1 s BRPOP; keepalive finds dead peers when idle.
            "socket_timeout": REDIS_SOCKET_TIMEOUT_S,
            "socket_connect_timeout": 3,
            "socket_keepalive": True,
        }
    # The SQLAlchemy transport hands every option to create_engine: pass none (it polls each 1 s).
    return {}


def beat_schedule(settings: Settings) -> dict[str, Any]:
    # at least once a minute: what came while the broker was down is published within about a
    # minute of its return (runs lost by a worker wait for their lease, recovery_after_s)
    every = max(5, min(SWEEP_MAX_EVERY_S, settings.recovery_after_s // 2))
    return {
        "recover-deliveries": {
            "task": "smolbot.recover_deliveries",
            "schedule": timedelta(seconds=every),
        },
        # hourly, acting from sweep_hour_utc on (the day's run is recorded once): a beat that
        # could not publish at that hour (the broker away) or a run stopped partway is made up
        "lifecycle-sweeps": {"task": "smolbot.schedule_sweeps", "schedule": crontab(minute=0)},
        # backfills that stopped (a long rate limit, GitHub down, a worker killed) go on by themselves
        "resume-backfills": {
            "task": "smolbot.schedule_backfill_resumes",
            "schedule": crontab(minute=35),
        },
        # each repository's digest slot (weekday, hour, time zone) is checked hourly
        "weekly-digests": {"task": "smolbot.schedule_digests", "schedule": crontab(minute=5)},
        # what only grows: finished deliveries' payloads, cached model answers (retention_days)
        "housekeeping": {"task": "smolbot.housekeeping", "schedule": crontab(minute=50, hour=3)},
    }


def settings_of(celery_app: Celery) -> Settings:
    s = celery_app.conf.get("smolbot_settings")
    if s is None:
        from bot.settings import get_settings

        s = get_settings()
        configure(s)
    return s  # type: ignore[no-any-return]


# The signal the relay thread wakes a pool child's main thread with (a real-time signal: no library
# here or in Celery/billiard uses it; SIGUSR1 is billiard's soft time limit).
RELAY_SIGNAL = signal.SIGRTMIN + 3 if hasattr(signal, "SIGRTMIN") else None


@worker_process_init.connect
def _pool_child_signals(**_: Any) -> None:
    sigterm_from_parent_only()


def sigterm_from_parent_only() -> None:
    """In a prefork pool child: act on a SIGTERM only when the pool's parent sent it.

    A SIGTERM to the whole process group (Ctrl-C's cousin: `timeout`, `kill -- -PGID`, systemd's
    KillMode=control-group) reaches the children as well as the parent. billiard's handler makes a
    child exit at once, and when it lands just after the child took the pool's inqueue lock
    (billiard's SemLock.__enter__, a Python frame) the child dies holding it: the parent's exit
    cleanup (Pool._help_stuff_finish) then waits on that lock forever. The parent's warm shutdown
    ends the children itself (sentinels, after their running task), so the group's SIGTERM is not
    theirs to act on; Celery already ignores SIGINT in children for the same reason (Ctrl-C).

    The parent's own SIGTERMs (cold shutdown, revoke with terminate, billiard's terminate) must still
    work, so SIGTERM is blocked here, not ignored, and a thread takes each one with its sender's pid
    (sigwaitinfo): from the parent, the main thread is woken (RELAY_SIGNAL) to run the SIGTERM
    handler billiard installs after this (its clean exit), as the signal itself would have.
    """
    if RELAY_SIGNAL is None or not hasattr(signal, "sigwaitinfo"):  # not Linux: as billiard does
        return
    from billiard.process import current_process

    if current_process().name == "MainProcess":
        # the solo pool sends worker_process_init in the worker itself: there SIGTERM is for
        # anyone to send (a service manager, `kill`), and a child it forks (the embedded beat)
        # must not inherit it blocked
        return
    parent = os.getppid()
    main = threading.get_ident()
    signal.signal(RELAY_SIGNAL, _run_sigterm_handler)
    # Blocked in this thread, and so in every thread started from here on (they inherit the mask),
    # so no thread but the relay's ever takes a SIGTERM.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})

    def relay() -> None:
        while True:
            info = signal.sigwaitinfo({signal.SIGTERM})
            if info.si_pid == parent:
                signal.pthread_kill(main, RELAY_SIGNAL)

    threading.Thread(target=relay, name="sigterm-from-parent", daemon=True).start()


def _run_sigterm_handler(_signum: int, frame: FrameType | None) -> None:
    """The parent's SIGTERM, in the main thread: what SIGTERM's disposition would have done."""
    handler = signal.getsignal(signal.SIGTERM)
    if callable(handler):
        handler(signal.SIGTERM, frame)
    elif handler != signal.SIG_IGN:  # the default: end the process by the signal
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
        signal.raise_signal(signal.SIGTERM)
