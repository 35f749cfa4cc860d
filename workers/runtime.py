"""Per-process worker runtime: the jobs Runtime on the configured database, plus coordination."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from bot.coord.locks import Locks
from bot.coord.pacing import SharedPacer
from bot.jobs.runtime import Runtime
from bot.settings import Settings
from bot.store import open_store

_guard = threading.Lock()
_cache: dict[tuple[int, str], WorkerRuntime] = {}


@dataclass
class WorkerRuntime:
    rt: Runtime
    locks: Locks
    pacer: SharedPacer


def worker_runtime(settings: Settings) -> WorkerRuntime:
    """One per process and database (a forked child opens its own connection).

    The GitHub client's per-process write pacer is replaced by the shared one, so every worker
    on every machine keeps the same per-installation spacing and pauses.
    """
    url = settings.effective_database_url
    key = (os.getpid(), url)
    with _guard:
        wr = _cache.get(key)
        if wr is None:
            store = open_store(url)
            rt = Runtime(settings, store)
            wr = WorkerRuntime(
                rt,
                Locks(store, lease_s=settings.recovery_after_s),
                SharedPacer(store, settings.write_interval_s),
            )
            _install_pacer(rt, wr.pacer)
            _cache[key] = wr
        return wr


def _install_pacer(rt: Runtime, pacer: SharedPacer) -> None:
    gh = rt.github  # built lazily; constructing it makes no request
    if hasattr(gh, "pacer"):
        gh.pacer = pacer
