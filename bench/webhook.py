"""Benchmark POST /webhook: signed deliveries/s and p50/p99 latency vs a bare FastAPI endpoint.

Each server runs as its own process; the load comes from another process (bench/_webhook_client.py).
Run: .venv/bin/python bench/webhook.py [--requests 3000] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SECRET = "bench-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not start")


def measure(kind: str, env: dict[str, str], n: int, conc: int) -> dict[str, float]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(HERE / "_webhook_servers.py"), kind, str(port)], env=env, cwd=ROOT
    )
    try:
        wait_up(port)
        client = [
            sys.executable,
            str(HERE / "_webhook_client.py"),
            f"http://127.0.0.1:{port}/webhook",
            str(n),
            str(conc),
            SECRET,
        ]
        subprocess.run(
            [*client[:3], "200", str(conc), SECRET],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )  # warm-up
        out = subprocess.run(client, env=env, cwd=ROOT, check=True, capture_output=True, text=True)
        return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--brokers", default="sqla,redis")
    args = ap.parse_args()
    base_env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SMOLBOT_WEBHOOK_SECRET": SECRET,
        "SMOLBOT_LOG_LEVEL": "WARNING",
    }
    rows = []
    bare = measure("bare", base_env, args.requests, args.concurrency)
    rows.append(("bare FastAPI endpoint", "-", bare))
    for broker in args.brokers.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            env = {**base_env, "SMOLBOT_DATA_DIR": tmp}
            if broker == "redis":
                env["SMOLBOT_BROKER_URL"] = "redis://127.0.0.1:6379/15"
            rows.append(
                (
                    "smolbot /webhook",
                    broker,
                    measure("smolbot", env, args.requests, args.concurrency),
                )
            )
    print(
        f"\nPOST /webhook, {args.requests} signed deliveries, {args.concurrency} concurrent clients, "
        f"{os.cpu_count()} cores (client, server and broker share them)\n"
    )
    print(
        f"{'server':<24}{'broker':<8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'vs bare':>9}"
    )
    for name, broker, r in rows:
        ratio = r["rps"] / bare["rps"]
        print(
            f"{name:<24}{broker:<8}{r['rps']:>9.0f}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}"
            f"{int(r['errors']):>8}{ratio:>9.2f}"
        )
    print("\ntargets: throughput >= 0.5 x bare; p99 < 25 ms at 50 concurrent clients")


if __name__ == "__main__":
    main()
