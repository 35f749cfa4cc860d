"""A `--pool threads` worker on the SQLite store: task threads writing at once through the worker's
runtime, each on its own connection, with one store object and one model layer per process."""

from __future__ import annotations

import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import workers.runtime as runtime
from bot.settings import Settings, load_settings

THREADS = 4
ROUNDS = 1000
LEARNS = 100  # labeled examples each thread stores through the model layer


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    s = load_settings(
        data_dir=tmp_path / "data",
        webhook_secret="x",
        env="test",
        database_url=f"sqlite:///{tmp_path / 'data' / 'smolbot.db'}",
    )
    yield s
    with runtime._guard:  # this test's runtime is not left to later tests
        for key in [k for k in runtime._cache if k[1] == s.effective_database_url]:
            del runtime._cache[key]


@pytest.fixture(autouse=True)
def _switch_often() -> Iterator[None]:
    """Threads take turns every 10 µs instead of 5 ms, so their statements interleave a lot."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(before)


def _together(work: Callable[[int], None]) -> Counter[str]:
    """Run work(0..THREADS-1) in as many threads, started together; their errors, counted."""
    errors: Counter[str] = Counter()
    start = threading.Barrier(THREADS)

    def run(i: int) -> None:
        start.wait()
        try:
            work(i)
        except Exception as err:  # the test reports them all, not only the first
            errors[f"{type(err).__name__}: {err}"] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_task_threads_write_the_sqlite_store_at_once_without_errors(settings: Settings) -> None:
    rt = runtime.worker_runtime(settings).rt
    rt.store.record_deliveries(
        [{"id": f"d{i}-{n}", "event": "issues"} for i in range(THREADS) for n in range(ROUNDS)]
    )
    errors: Counter[str] = Counter()

    def task_thread(i: int) -> None:
        store = runtime.worker_runtime(settings).rt.store
        for n in range(ROUNDS):
            try:
                if i % 2:  # a delivery's run: claim it (an atomic() block), then finish it
                    assert store.claim_delivery(f"d{i}-{n}")
                    store.set_delivery_status(f"d{i}-{n}", "done")
                else:  # a sweep storing issues (sqlite-utils' upsert, commit())
                    issue = {"number": i * ROUNDS + n, "title": "t", "user": {"login": "u"}}
                    store.upsert_issue("o/r", issue)
            except Exception as err:
                errors[f"{type(err).__name__}: {str(err)[:80]}"] += 1

    errors += _together(task_thread)
    assert dict(errors) == {}
    stored = rt.store.db.execute("select count(*) from issues").fetchone()[0]
    assert stored == (THREADS // 2) * ROUNDS
    assert rt.store.delivery_counts() == {
        "done": (THREADS // 2) * ROUNDS,
        "received": (THREADS // 2) * ROUNDS,
    }


def test_each_thread_has_its_own_connection_and_the_process_one_runtime_and_model_layer(
    settings: Settings,
) -> None:
    seen: dict[int, dict[str, Any]] = {}  # the objects themselves: no id() is reused meanwhile

    def task_thread(i: int) -> None:
        wr = runtime.worker_runtime(settings)
        models = wr.rt.models  # built at first use, shared by the threads (no model file here)
        learned = [  # the model layer's own writes, through its one Records
            models.learn("o/r", f"text {i}-{n}", "bug", "human").value for n in range(LEARNS)
        ]
        seen[i] = {
            "wr": wr,
            "store": wr.rt.store,
            "models": models,
            "conn": wr.rt.store.db.conn,
            "records_conn": models.records.db.conn,
            "learned": learned,
        }

    assert dict(_together(task_thread)) == {}
    one = seen[0]
    for got in seen.values():
        assert got["learned"] == ["new"] * (LEARNS)
        assert got["wr"] is one["wr"] and got["store"] is one["store"]
        assert got["models"] is one["models"]  # one model layer per process, not one per thread
        assert got["records_conn"] is got["conn"]  # the model layer writes on the thread's own
    assert len({id(got["conn"]) for got in seen.values()}) == THREADS
