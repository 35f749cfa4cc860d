"""The Celery application: created bare at import, configured from Settings at start-up."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import Celery
from celery.schedules import crontab
from kombu import Exchange, Queue  # type: ignore[attr-defined]

from bot.settings import Settings
from workers.embedded_broker import use_for_sqla_urls
from workers.redis_transport import use_for_redis_urls

app = Celery("smolbot", include=["workers.tasks"])

QUEUES = ("fast", "model", "sweep")
REDIS_SOCKET_TIMEOUT_S = 5.0  # a Redis command that takes longer: the broker is taken for down


def configure(settings: Settings) -> Celery:
    """Point the app at the broker in settings, with the delivery guarantees we rely on."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.effective_broker_url.startswith("sqla+"):
        use_for_sqla_urls()  # the embedded broker's transport (workers/embedded_broker.py)
    elif settings.effective_broker_url.startswith(("redis://", "rediss://")):
        use_for_redis_urls()  # survives Redis going away mid-close (workers/redis_transport.py)
    if app.conf.get("broker_url") not in (None, settings.effective_broker_url):
        _drop_connections()
    app.conf.update(
        broker_url=settings.effective_broker_url,
        broker_connection_retry_on_startup=True,
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
    every = max(5, settings.recovery_after_s // 2)
    return {
        "recover-deliveries": {
            "task": "smolbot.recover_deliveries",
            "schedule": timedelta(seconds=every),
        },
        "lifecycle-sweeps": {
            "task": "smolbot.schedule_sweeps",
            "schedule": crontab(minute=0, hour=settings.sweep_hour_utc),
        },
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
