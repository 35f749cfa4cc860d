"""The embedded broker's transport on a real SQLite file, against kombu's stock transport."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from kombu import Connection

from bot.settings import load_settings
from workers.embedded_broker import ALIAS, Transport

STOCK = "kombu.transport.sqlalchemy:Transport"


def _conn(path: Path, transport: str = ALIAS) -> Connection:
    return Connection(f"sqlite:///{path}", transport=transport)


def _rows(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("select count(*) from kombu_message").fetchone()[0])


def test_first_in_first_out_and_a_taken_message_leaves_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broker.sqlite"
    with _conn(path) as conn:
        q = conn.SimpleQueue("fast")
        for i in range(5):
            q.put({"n": i})
        assert _rows(path) == 5
        got = []
        for _ in range(5):
            m = q.get(block=False)
            got.append(m.payload["n"])
            m.ack()
        assert got == [0, 1, 2, 3, 4]
        assert _rows(path) == 0  # the stock transport keeps every delivered row for ever
        q.close()


def test_stock_transport_reads_what_this_one_writes_and_back(tmp_path: Path) -> None:
    path = tmp_path / "broker.sqlite"
    with _conn(path) as ours, _conn(path, STOCK) as stock:
        ours.SimpleQueue("fast").put({"from": "ours"})
        stock.SimpleQueue("fast").put({"from": "stock"})
        taken_by_stock = stock.SimpleQueue("fast").get(block=False)
        taken_by_ours = ours.SimpleQueue("fast").get(block=False)
        assert taken_by_stock.payload == {"from": "ours"}
        assert taken_by_ours.payload == {"from": "stock"}


def test_a_message_taken_but_not_acked_comes_back_when_the_connection_closes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "broker.sqlite"
    with _conn(path) as conn:
        conn.SimpleQueue("fast").put({"n": 1})
    with _conn(path) as conn:
        q = conn.SimpleQueue("fast")
        assert q.get(block=False).payload == {"n": 1}  # taken, never acked
        q.close()
    with _conn(path) as conn:
        m = conn.SimpleQueue("fast").get(block=False)
        assert m.payload == {"n": 1}
        m.ack()


def test_the_file_is_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "broker.sqlite"
    with _conn(path) as conn:
        conn.SimpleQueue("fast").put({"n": 1})
    with sqlite3.connect(path) as db:
        assert db.execute("pragma journal_mode").fetchone()[0] == "wal"


def test_celery_on_a_sqla_url_uses_this_transport(tmp_path: Path) -> None:
    from workers.celery_app import configure

    settings = load_settings(data_dir=tmp_path, env="test")
    assert settings.effective_broker_url.startswith("sqla+sqlite")
    app = configure(settings)
    with app.connection_for_write() as conn:
        assert isinstance(conn.transport, Transport)


def test_rows_the_stock_transport_left_behind_are_removed_on_first_open(tmp_path: Path) -> None:
    path = tmp_path / "broker.sqlite"
    with _conn(path, STOCK) as stock:
        q = stock.SimpleQueue("fast")
        for i in range(3):
            q.put({"n": i})
        q.get(block=False).ack()  # the stock transport keeps this row, invisible
        q.close()
    assert _rows(path) == 3
    with _conn(path) as ours:
        q = ours.SimpleQueue("fast")
        assert _rows(path) == 2  # the taken one is gone, the two waiting ones are kept
        assert [q.get(block=False).payload["n"] for _ in range(2)] == [1, 2]


def _put_at(path: str, start: float) -> str:
    import time

    time.sleep(max(0.0, start - time.time()))
    try:
        with _conn(Path(path)) as conn:
            q = conn.SimpleQueue("celery")
            q.put({"from": "a process starting with the others"})
            q.close()
    except Exception as err:  # reported, not raised: the parent counts them
        return f"{type(err).__name__}: {str(err)[:160]}"
    return "ok"


def test_processes_starting_together_on_a_new_broker_file_all_publish(tmp_path: Path) -> None:
    """`smolbot serve`'s web and workers open the broker file at the same moment on a fresh data
    dir. The stock transport's CREATE TABLE and queue-row creation race there (about half of the
    processes failed with "table kombu_queue already exists" before the set-up lock)."""
    import multiprocessing
    import time

    ctx = multiprocessing.get_context("spawn")
    results: list[str] = []
    with ctx.Pool(4) as pool:
        for round_ in range(4):
            path = str(tmp_path / f"fresh-{round_}.sqlite")
            start = time.time() + 1.5  # after every worker process has imported kombu
            results += pool.starmap(_put_at, [(path, start)] * 4)
    assert results == ["ok"] * 16, [r for r in results if r != "ok"]
    for round_ in range(4):
        path = tmp_path / f"fresh-{round_}.sqlite"
        with sqlite3.connect(path) as db:
            assert db.execute("select count(*) from kombu_queue").fetchone()[0] == 1
        assert _rows(path) == 4
