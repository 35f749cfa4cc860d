"""The embedded broker's transport (workers/embedded_broker.py) against kombu's stock SQLAlchemy
transport, in the same run: CPU per published and per taken message, and rows left in the file.

Run: .venv/bin/python bench/broker.py [--messages 500] [--ids 28]
(28 delivery ids per message: the mean batch the webhook publishes at 50 clients.)
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kombu import Connection

from workers.embedded_broker import ALIAS

STOCK = "kombu.transport.sqlalchemy:Transport"


def measure(transport: str, n: int, ids: int) -> tuple[float, float, int]:
    path = Path(tempfile.mkdtemp()) / "broker.sqlite"
    with Connection(f"sqlite:///{path}", transport=transport) as conn:
        q = conn.SimpleQueue("fast")
        body = {"args": [[str(uuid.uuid4()) for _ in range(ids)]]}
        for _ in range(20):  # warm: engine, tables, queue row
            q.put(body)
            q.get(block=False).ack()
        t = time.process_time()
        for _ in range(n):
            q.put(body)
        put_ms = (time.process_time() - t) * 1000 / n
        t = time.process_time()
        for _ in range(n):
            q.get(block=False).ack()
        get_ms = (time.process_time() - t) * 1000 / n
        q.close()
    with sqlite3.connect(path) as db:
        rows = int(db.execute("select count(*) from kombu_message").fetchone()[0])
    return put_ms, get_ms, rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=500)
    ap.add_argument("--ids", type=int, default=28)
    args = ap.parse_args()
    results = {
        name: measure(t, args.messages, args.ids)
        for name, t in (("stock", STOCK), ("embedded", ALIAS))
    }
    base = results["stock"]
    print(
        f"\n{args.messages + 20} messages of {args.ids} delivery ids, published then taken, one process\n"
    )
    print(
        f"{'transport':<34}{'publish ms':>11}{'x stock':>9}{'take ms':>9}{'x stock':>9}{'rows left':>11}"
    )
    labels = {"stock": "kombu SQLAlchemy (stock)", "embedded": "workers.embedded_broker"}
    for name, (put, get, rows) in results.items():
        print(
            f"{labels[name]:<34}{put:>11.3f}{put / base[0]:>9.2f}{get:>9.3f}{get / base[1]:>9.2f}{rows:>11}"
        )
    print(
        "\nCPU time per message (process_time). 'rows left': consumed messages still in the file."
    )


if __name__ == "__main__":
    main()
