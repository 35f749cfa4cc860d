"""Deliveries per second end to end (signed webhook -> worker -> label in the fake GitHub).

Runs the embedded broker (SQLAlchemy on SQLite) with 1 worker, then Redis with 1, 2 and 4 worker
processes; the store is SQLite (one machine) or PostgreSQL (--pg). Each delivery opens a distinct
issue, so per-issue locks never wait; write pacing is off (GitHub's 1 s per installation would cap
every row at 1 write/s per installation — see deploy/README.md's capacity section).

    .venv/bin/python bench/scale.py [--deliveries 200] [--workers 1,2,4] [--pg]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.sandbox.fake_github.server import FakeGitHubServer, start_fake_github  # noqa: E402
from bot.settings import Settings, load_settings  # noqa: E402
from tests.e2e.harness import broker_url  # noqa: E402
from tests.fake_github.plugin import generate_keypair  # noqa: E402
from tests.scale.cluster import REPO, Fleet, effect_times  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def _pg_database() -> str:
    import psycopg

    name = "smolbot_bench_" + uuid.uuid4().hex[:8]
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"create database {name}")
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def _drop(url: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"drop database if exists {url.rsplit('/', 1)[1]} with (force)")


def _settings(fake: FakeGitHubServer, tmp: Path, kind: str, pg: bool) -> Settings:
    return load_settings(
        env="test",
        github_api_url=fake.url,
        app_id=fake.app_id,
        private_key=fake.private_key_pem,
        webhook_secret="bench-secret",
        data_dir=tmp,
        write_interval_s=0,
        github_timeout_s=5,
        broker_url=broker_url(kind, tmp),
        database_url=_pg_database() if pg else None,
        model_path=str(tmp / "none.gguf"),
        recovery_after_s=600,
    )


def _wait_ready(fleet: Fleet, timeout: float = 60) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if all("ready." in w.log.read_text(errors="replace") for w in fleet.workers):
            return
        time.sleep(0.2)
    raise RuntimeError("workers did not start; see " + str(fleet.logs))


def run(kind: str, workers: int, n: int, pg: bool) -> dict[str, float]:
    keys = generate_keypair()
    with start_fake_github(4242, keys.public_pem, keys.private_pem) as fake:
        fake.state.add_installation(1, [REPO])
        for i in range(1, n + 1):
            fake.state.add_issue(REPO, f"Issue {i}", "It fails.")
        tmp = Path(tempfile.mkdtemp(prefix=f"bench-{kind}-{workers}-"))
        settings = _settings(fake, tmp, kind, pg)
        from workers.celery_app import configure

        configure(settings).control.purge()
        fleet = Fleet(settings, fake, tmp / "logs", n_workers=workers).start(with_beat=False)
        try:
            _wait_ready(fleet)
            t0 = time.time()
            for i in range(1, n + 1):
                fleet.send(f"b-{i}", i)
            sent = time.time() - t0
            fleet.wait_final(n, timeout=max(120, n * 2))
            done = effect_times(fake)
        finally:
            fleet.stop()
            if settings.database_url:
                _drop(settings.database_url)
    lat = sorted(done[i] - fleet.sent_at[f"b-{i}"] for i in range(1, n + 1) if i in done)
    span = max(done.values()) - t0
    return {
        "per_s": n / span,
        "p50": statistics.median(lat),
        "p99": lat[min(len(lat) - 1, int(0.99 * len(lat)))],
        "send_s": sent,
        "effects": len(done),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--deliveries", type=int, default=200)
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--pg", action="store_true", help="PostgreSQL store instead of SQLite")
    args = ap.parse_args()
    plan = [("sqla", 1)] + [("redis", int(w)) for w in args.workers.split(",")]
    rows = [(k, w, run(k, w, args.deliveries, args.pg)) for k, w in plan]
    base = next(r for k, w, r in rows if k == "redis" and w == 1)["per_s"]
    store = "postgresql" if args.pg else "sqlite"
    print(f"\n{args.deliveries} deliveries, store {store}, one opened issue each (label write)")
    print(
        f"{'broker':<8}{'workers':>8}{'deliv/s':>10}{'vs redis×1':>12}{'p50 s':>8}{'p99 s':>8}"
        f"{'intake/s':>10}"
    )
    for kind, w, r in rows:
        print(
            f"{kind:<8}{w:>8}{r['per_s']:>10.1f}{r['per_s'] / base:>12.2f}"
            f"{r['p50']:>8.2f}{r['p99']:>8.2f}{args.deliveries / r['send_s']:>10.0f}"
        )
    print("latency: webhook accepted -> label written; the whole burst is sent at once, so it")
    print("includes queueing behind the burst. intake/s: signed webhooks recorded and enqueued.")


if __name__ == "__main__":
    main()
