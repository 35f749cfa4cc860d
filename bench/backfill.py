"""How long a new issue waits behind an installation's backfill, with one worker for every queue
(as `smolbot serve` runs it), by SMOLBOT_BACKFILL_PAGES_PER_PART.

A real worker process on the embedded broker and the real web app; the fake GitHub answers each
page of the issue listing --page-delay seconds late (GitHub's own pages of 100 issues take about
that long). The App is installed on a repository of --issues closed, labeled issues; once the
first page has been asked for, an issue is opened. The baseline, measured in the same run, is the
whole backfill in one job (what the job did before it listed in parts).

`--real`: the issues are the labeled dev set's (title, body and label; at most 1,500) instead of
one-line ones, so each part's warm-up retrain encodes real issue text with MiniLM, as a real
installation's does.

Run: .venv/bin/python bench/backfill.py [--issues 4000] [--page-delay 0.4] [--parts 5,10,1] [--real]
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.store import Store, open_store
from tests.e2e.harness import Worker, broker_url, deliver, issue_payload, wait_for, web_client
from tests.fake_github import start_fake_github
from tests.fake_github.plugin import APP_ID, WEBHOOK_SECRET, generate_keypair, make_settings

REPO = "bench/big"
WHOLE = 10**6  # pages a part: more than any repository has, so the backfill is one job
DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "issues-labeled-dev.csv"
AS_LABEL = {"bug": "bug", "feature": "enhancement", "question": "question"}
Seed = list[tuple[str, str, str]]  # (title, body, label) of each closed issue, oldest first


def one_line(issues: int) -> Seed:
    labels = ("bug", "enhancement", "question")
    return [(f"Issue {i} about {labels[i % 3]}", "text", labels[i % 3]) for i in range(issues)]


def real(issues: int) -> Seed:
    csv.field_size_limit(2**31 - 1)
    with DATA.open(newline="", encoding="utf-8") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda r: r["created_at"])[:issues]
    return [(r["title"], r["body"], AS_LABEL[r["label"]]) for r in rows]


def run(seed: Seed, delay: float, per_part: int) -> tuple[float, float, int]:
    """(s the new issue waited for its label, s until the backfill's jobs had all finished, jobs),
    both from when the issue was opened."""
    keys = generate_keypair()
    with (
        start_fake_github(APP_ID, keys.public_pem, keys.private_pem) as server,
        tempfile.TemporaryDirectory() as tmp,
    ):
        state = server.state
        state.quota_limit = 10**9
        state.add_installation(1, [REPO])
        for title, body, label in seed:
            state.add_issue(REPO, title, body, state="closed", labels=[label])
        state.slow(delay, match=f"/repos/{REPO}/issues?")
        model = Path(tmp) / "model.gguf"  # the worker takes model-queue jobs when the file is
        model.write_bytes(b"GGUF" + b"\0" * 64)  # there; none of these jobs loads it
        settings = make_settings(
            server,
            Path(tmp),
            broker_url=broker_url("sqla", Path(tmp)),
            backfill_pages_per_part=per_part,
            model_path=str(model),
        )
        client, store = web_client(settings), open_store(settings.db_path)
        worker = Worker(settings, Path(tmp) / "worker.log")
        installed = {
            "action": "created",
            "installation": {"id": 1, "account": {"login": "bench", "type": "Organization"}},
            "repositories": [{"full_name": REPO, "id": 1}],
        }
        try:
            deliver(client, WEBHOOK_SECRET, "installation", installed, "i-1")
            wait_for(lambda: state.requests("GET", f"/repos/{REPO}/issues"), timeout=120)
            n = state.add_issue(REPO, "Crash on start", "It crashes.").number
            t0 = time.monotonic()
            deliver(client, WEBHOOK_SECRET, "issues", issue_payload(REPO, n, "Crash on start"))
            seen: dict[str, float] = {}  # when the label appeared; when every job had finished
            while len(seen) < 2:
                if "label" not in seen and state.issue(REPO, n).labels:
                    seen["label"] = time.monotonic() - t0
                if "done" not in seen and _outcomes(store).count("done") and _idle(store):
                    seen["done"] = time.monotonic() - t0
                if time.monotonic() - t0 > 1800:
                    raise TimeoutError(f"after 30 min: {seen}; see {worker.log}")
                time.sleep(0.1)
            return seen["label"], seen["done"], 1 + _outcomes(store).count("continues")
        finally:
            worker.stop()


def _idle(store: Store) -> bool:
    """Every job run recorded has finished (the backfill's parts, its retrain, the tune check)."""
    return not store.db.execute("select 1 from jobs where status != 'done' limit 1").fetchall()


def _outcomes(store: Store) -> list[str]:
    rows = store.audit_rows(REPO, limit=10_000)
    return [str(r["outcome"]) for r in rows if r["task"] == "backfill"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--issues", type=int, default=4000)
    ap.add_argument("--page-delay", type=float, default=0.4)
    ap.add_argument("--parts", default="5,10,1", help="pages a part to measure, beside one job")
    ap.add_argument("--real", action="store_true", help="the labeled dev set's issues")
    args = ap.parse_args()
    seed = real(args.issues) if args.real else one_line(args.issues)
    pages = -(-len(seed) // 100)
    kind = "real (the labeled dev set's)" if args.real else "one-line"
    print(f"{len(seed)} {kind} issues ({pages} pages), each page {args.page_delay} s late")
    run(one_line(300), 0.0, WHOLE)  # warm-up, not shown: the first worker start reads from disk
    rows: list[list[str]] = []
    base: tuple[float, float, int] | None = None
    for per_part in [WHOLE, *(int(p) for p in args.parts.split(","))]:
        waited, took, parts = run(seed, args.page_delay, per_part)
        base = base or (waited, took, parts)
        name = "one job (baseline)" if per_part == WHOLE else f"{per_part} page(s) a part"
        rows.append(
            [
                name,
                str(parts),
                f"{waited:.1f}",
                f"{waited / base[0]:.2f}",
                f"{took:.1f}",
                f"{took / base[1]:.2f}",
            ]
        )
    header = ["backfill", "jobs", "issue waited s", "x baseline", "all jobs done s", "x baseline"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for line in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)))


if __name__ == "__main__":
    main()
