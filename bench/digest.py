"""Benchmark: the weekly digest for synthetic repositories of 500 to 5,000 issues (10 events each).

Run: .venv/bin/python bench/digest.py [--sizes 500,1000,2000,5000]

Measures, per size, wall time and peak Python memory (tracemalloc) of
  core      `assemble` (ranking, counts, waiting, rendering inputs) over every thread, all events;
  job       `build_digest` through an in-memory RepoHost and a real SQLite store with N audit rows,
            fetching details for every issue (detail_limit = N; production caps it at 300).
Model lines are skipped (models=None): generation costs seconds per line and is measured elsewhere.
Growth is reported as the ratio to the smallest size, next to the ratio of sizes (linear = equal).
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core.config import DigestConfig, RepoConfig
from bot.core.digest import assemble, render_json, render_markdown
from bot.jobs.digest import build_digest, fetch_threads
from bot.samples.host import SampleHost
from bot.store import open_store

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
REPO = "bench/big"
PEOPLE = [f"user{i}" for i in range(200)]
MAINTAINERS = ["mona", "devon", "priya"]
LABELS = ["bug", "enhancement", "question", "documentation", "needs-info", "security", "regression"]


def stamp(days: float) -> str:
    return (NOW - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def synthetic(n_issues: int, events_per_issue: int = 10, seed: int = 7) -> dict[str, Any]:
    """A repository in the sample's schema: half of each issue's events are comments."""
    rnd = random.Random(seed)
    issues, comments, events = [], {}, {}
    ids = iter(range(1, 10**9))
    for n in range(1, n_issues + 1):
        age = rnd.uniform(0, 365)
        labels = rnd.sample(LABELS, rnd.choice([0, 1, 1, 2]))
        cs, es = [], []
        for k in range(events_per_issue):
            at = stamp(rnd.uniform(0, age))
            if k % 2 == 0:
                who = rnd.choice(MAINTAINERS + PEOPLE)
                assoc = "MEMBER" if who in MAINTAINERS else "NONE"
                body = (
                    f"Duplicate of #{rnd.randint(1, n_issues)}" if rnd.random() < 0.02 else "me too"
                )
                cs.append(
                    {
                        "id": next(ids),
                        "user": {"login": who, "type": "User"},
                        "author_association": assoc,
                        "created_at": at,
                        "body": body,
                        "html_url": "",
                    }
                )
            else:
                es.append(
                    {
                        "id": next(ids),
                        "event": "labeled",
                        "actor": {"login": rnd.choice(MAINTAINERS), "type": "User"},
                        "created_at": at,
                        "label": {"name": rnd.choice(LABELS)},
                    }
                )
        cs.sort(key=lambda c: c["created_at"])
        es.sort(key=lambda e: e["created_at"])
        closed = rnd.random() < 0.4
        stamps = [stamp(age)] + [c["created_at"] for c in cs] + [e["created_at"] for e in es]
        issues.append(
            {
                "number": n,
                "title": f"Issue {n}",
                "body": "Something is wrong. " * 10,
                "state": "closed" if closed else "open",
                "user": {"login": rnd.choice(PEOPLE), "type": "User"},
                "author_association": "NONE",
                "labels": [{"name": lb} for lb in labels],
                "assignees": [],
                "comments": len(cs),
                "created_at": stamp(age),
                "updated_at": max(stamps),
                "closed_at": max(stamps) if closed else None,
                "html_url": f"https://github.com/{REPO}/issues/{n}",
                "reactions": {"total_count": rnd.randint(0, 20)},
            }
        )
        comments[str(n)], events[str(n)] = cs, es
    return {
        "now": stamp(0),
        "repository": {"full_name": REPO, "html_url": f"https://github.com/{REPO}"},
        "bot_login": "smolbot[bot]",
        "collaborators": [{"login": m, "permission": "maintain"} for m in MAINTAINERS],
        "labels": [{"name": lb} for lb in LABELS],
        "config": "",
        "issues": issues,
        "comments": comments,
        "events": events,
    }


def measure(fn: Callable[[], object], repeat: int = 3) -> tuple[float, float]:
    """Best wall seconds of `repeat` plain calls, and peak MiB of one call under tracemalloc."""
    walls = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t0)
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return min(walls), peak / 2**20


def run(n: int, tmp: Path) -> dict[str, float]:
    data = synthetic(n)
    host = SampleHost(data)
    store = open_store(tmp / f"bench-{n}.db")
    for i in range(n):  # one audit row per issue, inside the window
        store.audit("add_labels", "done", "triage", task="triage", repo=REPO, number=i + 1)
    store.db.execute("update audit set at = ?", [(NOW - timedelta(days=1)).timestamp()])
    store.db.conn.commit()
    since = NOW - timedelta(days=7)
    threads, _ = fetch_threads(host, since, "smolbot[bot]", detail_limit=n)
    n_events = sum(len(t.comments or ()) + len(t.events) for t in threads)

    def core() -> None:
        d = assemble(REPO, threads, since, NOW, DigestConfig(top=10))
        render_markdown(d), render_json(d)

    def job() -> None:
        build_digest(host, store, REPO, RepoConfig(), NOW, detail_limit=n)

    core_s, core_mb = measure(core)
    job_s, job_mb = measure(job)
    store.close()
    return {
        "issues": n,
        "events": n_events,
        "core_s": core_s,
        "core_mb": core_mb,
        "job_s": job_s,
        "job_mb": job_mb,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,1000,2000,5000")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    print("digest benchmark (model lines skipped; job fetches details for every issue)")
    with tempfile.TemporaryDirectory() as tmp:
        rows = [run(n, Path(tmp)) for n in sizes]
    base = rows[0]
    head = f"{'issues':>7} {'events read':>11} {'core s':>8} {'core MiB':>9} {'job s':>7} {'job MiB':>8} {'size x':>7} {'core x':>7} {'job x':>6} {'mem x':>6}"
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['issues']:>7} {r['events']:>11} {r['core_s']:>8.3f} {r['core_mb']:>9.1f} {r['job_s']:>7.3f} {r['job_mb']:>8.1f}"
            f" {r['issues'] / base['issues']:>7.1f} {r['core_s'] / base['core_s']:>7.1f} {r['job_s'] / base['job_s']:>6.1f}"
            f" {r['job_mb'] / base['job_mb']:>6.1f}"
        )
    last = rows[-1]
    size_x = last["issues"] / base["issues"]
    print(
        f"\ngrowth {base['issues']} -> {last['issues']} issues (x{size_x:.0f}): core x{last['core_s'] / base['core_s']:.1f}, job x{last['job_s'] / base['job_s']:.1f}, job memory x{last['job_mb'] / base['job_mb']:.1f} (linear = x{size_x:.0f})"
    )


if __name__ == "__main__":
    main()
