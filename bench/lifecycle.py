"""Benchmark the lifecycle: sweeps over a synthetic installation on the fake GitHub, and one summary.

    .venv/bin/python -m bench.lifecycle                     # 50 repos x 200 issues, then a summary
    .venv/bin/python -m bench.lifecycle --repos 5 --issues 40 --no-model

Prints tables. The baseline is measured in the same run: a naive sweep that reads every open
issue's comments and events (what a stale bot without exemptions or a state cache does).
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
import tracemalloc
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.github import GitHubApp
from bot.jobs.context import JobContext
from bot.jobs.lifecycle import sweep_installation
from bot.store import open_store
from tests.fake_github import FakeGitHubServer, start_fake_github
from tests.fake_github.plugin import APP_ID, generate_keypair, make_settings

INST, DAY = 1, 86400.0
MAX_OPS = [100]  # writes per installation run (--max-operations)
CONFIG = (
    "lifecycle:\n  days_until_ping: 14\n  days_until_close: 14\n  close: true\n"
    "  max_operations_per_run: {per_repo}\n"
)
KINDS = ["asked", "answered", "replied", "fresh", "needs-info", "pinned", "assigned", "milestone"]
WEIGHTS = [30, 20, 15, 10, 10, 5, 5, 5]


def seed(
    server: FakeGitHubServer, repos: int, issues: int, rng: random.Random, per_repo: int = 30
) -> None:
    st = server.state
    now = st.now()
    for r in range(repos):
        name = f"bench/repo{r:02d}"
        st.add_repo(name, INST)
        st.set_permission(name, "mia", "maintain")
        st.put_file(name, ".github/smolbot.yml", CONFIG.format(per_repo=per_repo))
        for i in range(issues):
            _issue(st, name, i, now - rng.uniform(0, 60) * DAY, rng)


def _issue(st: Any, repo: str, i: int, t0: float, rng: random.Random) -> None:
    kind = rng.choices(KINDS, WEIGHTS)[0]
    author = f"user{rng.randrange(400)}"
    kw: dict[str, Any] = {"user": author, "created_at": t0}
    if kind in ("pinned", "needs-info"):
        kw["labels"] = [kind]
    if kind == "assigned":
        kw["assignees"] = ["mia"]
    if kind == "milestone":
        kw["milestone"] = "v2"
    issue = st.add_issue(repo, f"Issue {i}", "Something is wrong.", **kw)
    n, t = issue.number, t0
    if kind in ("asked", "answered", "replied", "needs-info"):
        t += DAY
        text = "Thanks, noted." if kind == "replied" else "Which version do you use?"
        st.add_comment(repo, n, text, user="mia", created_at=t)
    if kind in ("answered", "needs-info") and rng.random() < 0.7:
        t += DAY
        st.add_comment(repo, n, "Version 1.3.", user=author, created_at=t)
    issue.updated_at = max(issue.updated_at, t)


def sweep_once(
    ctx: JobContext, server: FakeGitHubServer, run_id: str, traced: bool = False
) -> dict[str, Any]:
    """One sweep; traced=True measures peak Python memory (tracemalloc slows it, so not timed)."""
    before = len(server.state.log)
    if traced:
        tracemalloc.start()
    t = time.perf_counter()
    res = sweep_installation(ctx, INST, run_id=run_id, max_operations=MAX_OPS[0])
    wall = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1] if traced else None
    tracemalloc.stop()
    log = server.state.log[before:]
    return {**_tally(log), "wall": wall, "peak": peak, "res": res}


def naive_sweep(app: GitHubApp, server: FakeGitHubServer) -> dict[str, Any]:
    """The baseline: list every repo's open issues, then read comments and events of each."""
    before = len(server.state.log)
    t = time.perf_counter()
    for repo in app.installation_repos(INST):
        host = app.repo(INST, repo)
        for issue in list(host.list_issues(state="open")):
            host.comments(issue.number)
            host.issue_events(issue.number)
    log = server.state.log[before:]
    return {**_tally(log), "wall": time.perf_counter() - t}


def _tally(log: list[Any]) -> dict[str, Any]:
    reads = sum(1 for e in log if e.method == "GET")
    return {
        "requests": len(log),
        "reads": reads,
        "writes": len(log) - reads,
        "by": _by_endpoint(log),
    }


def _by_endpoint(log: list[Any]) -> Counter[str]:
    out: Counter[str] = Counter()
    for e in log:
        last = e.path.rstrip("/").split("/")[-1]
        key = last if not last.isdigit() else e.path.rstrip("/").split("/")[-2]
        out[f"{e.method} {key if not key.startswith('repo') else 'issue'}"] += 1
    return out


def summary_latency(no_model: bool) -> list[tuple[str, float, str]]:
    from bot.core.lifecycle import Thread
    from bot.jobs.summarize import write_summary
    from bot.llm import get_model_layer
    from bot.settings import DEFAULT_MODEL_FILE, default_data_dir, load_settings
    from tests.lifecycle.fakes import FakeGitHub, day

    repo = FakeGitHub(lambda: day(30)).add_repo("bench/thread")
    repo.add_issue(1, "alice", day(0), title="Export hangs", body="Export hangs on large files.")
    lines = [
        "Same here on 1.3.",
        "Tried a smaller file: works.",
        "Could you share a profile?",
        "Profile attached; most time in zip.",
        "Downgrading to 1.2 helps.",
        "Any news?",
    ]
    for i in range(50):
        who, assoc = ("mia", "MEMBER") if i % 5 == 2 else (f"user{i % 7}", "NONE")
        repo.say(1, who, lines[i % len(lines)] + f" (note {i})", day(1 + i * 0.3), assoc)
    thread = Thread(repo.issues[1], tuple(repo.comment_list[1]))
    with tempfile.TemporaryDirectory() as tmp:
        model = default_data_dir() / "models" / DEFAULT_MODEL_FILE
        settings = load_settings(data_dir=Path(tmp), env="test", model_path=model)
        rows = []
        t = time.perf_counter()
        w = write_summary(None, thread, settings)
        rows.append(("extractive (baseline)", time.perf_counter() - t, w.how))
        if not no_model:
            store = open_store(Path(tmp) / "m.db")
            models = get_model_layer(settings, store)
            t = time.perf_counter()
            w = write_summary(models, thread, settings)
            rows.append(("local model", time.perf_counter() - t, w.how))
            t = time.perf_counter()
            w = write_summary(models, thread, settings)
            rows.append(("local model, same thread again", time.perf_counter() - t, w.how))
        return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repos", type=int, default=50)
    ap.add_argument("--issues", type=int, default=200)
    ap.add_argument("--no-model", action="store_true")
    ap.add_argument("--summary-only", action="store_true")
    ap.add_argument("--max-operations", type=int, default=100, help="per installation run")
    args = ap.parse_args()
    MAX_OPS[0] = args.max_operations
    if not args.summary_only:
        bench_sweeps(args.repos, args.issues)
    print("\nSummary of a 50-comment thread")
    print(f"{'how':34} {'seconds':>8}  note")
    for name, secs, how in summary_latency(args.no_model):
        print(f"{name:34} {secs:8.2f}  {how}")


def bench_sweeps(repos: int, issues: int) -> None:
    keys = generate_keypair()
    with (
        start_fake_github(APP_ID, keys.public_pem, keys.private_pem) as server,
        tempfile.TemporaryDirectory() as tmp,
    ):
        server.state.quota_limit = 10**9
        seed(
            server,
            repos,
            issues,
            random.Random(5),
            per_repo=min(MAX_OPS[0], 30) if MAX_OPS[0] <= 100 else MAX_OPS[0],
        )
        settings = make_settings(server, Path(tmp))
        store = open_store(settings.db_path)
        app = GitHubApp(settings, clock=server.state.now)
        ctx = JobContext(
            settings, store, github=app, now=lambda: datetime.fromtimestamp(server.state.now(), UTC)
        )
        n = repos * issues
        naive = naive_sweep(app, server)
        cold = sweep_once(ctx, server, "day-1")
        server.state.advance(DAY)
        warm = sweep_once(ctx, server, "day-2")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        fresh = JobContext(settings, open_store(Path(tmp) / "fresh.db"), github=app, now=ctx.now)
        cold["peak"] = sweep_once(fresh, server, "day-2", traced=True)["peak"]  # a lost DB
        _print_sweeps(n, naive, cold, warm, rss)


def _print_sweeps(
    n: int, naive: dict[str, Any], cold: dict[str, Any], warm: dict[str, Any], rss: float
) -> None:
    print(
        f"Lifecycle sweep over {n} open issues (fake GitHub over HTTP), {MAX_OPS[0]} writes/run cap"
    )
    cols = (
        "run",
        "wall s",
        "requests",
        "req/issue",
        "vs naive",
        "reads/issue",
        "writes",
        "peak MB",
    )
    print(f"{cols[0]:26}" + "".join(f"{c:>12}" for c in cols[1:]))
    runs = (("naive (baseline)", naive), ("sweep, first day", cold), ("sweep, next day", warm))
    for name, r in runs:
        peak = f"{r['peak'] / 2**20:12.1f}" if r.get("peak") else f"{'-':>12}"
        print(
            f"{name:26}{r['wall']:12.1f}{r['requests']:12d}{r['requests'] / n:12.3f}"
            f"{r['requests'] / naive['requests']:12.2f}{r['reads'] / n:12.3f}{r['writes']:12d}{peak}"
        )
    print("peak MB: Python heap (tracemalloc) of a first-day sweep, measured in a separate run")
    print(f"process peak RSS {rss:.0f} MB (includes the in-process fake GitHub)")
    for name, r in (("first day", cold), ("next day", warm)):
        print(
            f"\n{name}: requests by endpoint: "
            + ", ".join(f"{k} {v}" for k, v in r["by"].most_common())
        )
        print(
            f"{name}: outcome counts: "
            + ", ".join(f"{k} {v}" for k, v in sorted(r["res"].counts.items()))
        )


if __name__ == "__main__":
    main()
