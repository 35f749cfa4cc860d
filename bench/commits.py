"""Benchmark commit drafting: the latency `git commit` adds, and draft quality on real commit pairs.

    .venv/bin/python bench/commits.py                 # both parts
    .venv/bin/python bench/commits.py --part latency --runs 20 --sync-runs 5
    .venv/bin/python bench/commits.py --part quality -n 40
    .venv/bin/python bench/commits.py --part confidence -n 40

Latency: `git commit` wall time with no hook, with smolbot's hook when the draft was speculated
(the drafter already wrote it), and with the draft made synchronously in the hook (a fresh
drafter process, model load and generation: what a commit-time tool costs). Quality: on
../shared/data/commit-pairs-dev.jsonl (beside the clone), format validity, type agreement and B-Norm BLEU against
the human message, for the local model, the rules alone and a nearest-neighbour retrieval baseline.
Confidence: the local model's drafts bucketed by their confidence (type agreement, B-Norm per bucket).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.commits import diffs  # noqa: E402
from bot.commits.drafts import DraftBox  # noqa: E402
from bot.commits.message import problems  # noqa: E402
from bot.commits.model import LayerWriter  # noqa: E402
from bot.commits.pipeline import DraftOptions, draft_changes  # noqa: E402
from bot.commits.retrieval import similar  # noqa: E402
from bot.commits.style import CC_SUBJECT, CC_TYPES, TRAILING_REF, learn  # noqa: E402
from bot.settings import load_settings  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "commit-pairs-dev.jsonl"
EDITOR = '#!/bin/sh\ngrep -v "^#" "$1" | grep -q "[^[:space:]]" || echo "manual message" >> "$1"\n'


# --- B-Norm BLEU ------------------------------------------------------------------------------
def tokens(text: str) -> list[str]:
    """Lowercase, split punctuation off words (as the B-Norm script does)."""
    text = re.sub(r"([^\w\s])", r" \1 ", text.lower())
    return text.split()


def bnorm(reference: str, candidate: str, max_n: int = 4) -> float:
    """Sentence BLEU-4 with +1 smoothing for n > 1 on normalised tokens, 0..100 (Tao et al. 2021)."""
    ref, hyp = tokens(reference), tokens(candidate)
    if not hyp or not ref:
        return 0.0
    logs = []
    for n in range(1, max_n + 1):
        h = Counter(tuple(hyp[i : i + n]) for i in range(len(hyp) - n + 1))
        r = Counter(tuple(ref[i : i + n]) for i in range(len(ref) - n + 1))
        match = sum(min(c, r[g]) for g, c in h.items())
        total = max(len(hyp) - n + 1, 0)
        if n > 1:
            match, total = match + 1, total + 1
        if match == 0 or total == 0:
            return 0.0
        logs.append(math.log(match / total))
    bp = 1.0 if len(hyp) > len(ref) else math.exp(1 - len(ref) / len(hyp))
    return 100 * bp * math.exp(sum(logs) / max_n)


# --- latency ------------------------------------------------------------------------------------
def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True, timeout=600)
    return time.perf_counter() - start


def make_repo(base: Path, name: str, env: dict[str, str]) -> Path:
    repo = base / name
    repo.mkdir()
    for cmd in (
        ["init", "-q", "-b", "main"],
        ["commit", "-q", "--allow-empty", "-m", "chore: start"],
    ):
        subprocess.run(["git", *cmd], cwd=repo, env=env, check=True, capture_output=True)
    return repo


def stage(repo: Path, i: int, env: dict[str, str], no_hooks: bool = False) -> None:
    (repo / f"mod_{i}.py").write_text(f"def f{i}(x):\n    return x * {i}\n")
    pre = ["-c", "core.hooksPath=/dev/null"] if no_hooks else []
    subprocess.run(["git", *pre, "add", f"mod_{i}.py"], cwd=repo, env=env, check=True)


def tree_of(repo: Path, env: dict[str, str], rev: str | None = None) -> str:
    """The staged tree, or `rev`'s (HEAD^{tree})."""
    cmd = ["git", "rev-parse", rev] if rev else ["git", "write-tree"]
    return subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True).stdout.strip()


def wait_file(path: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(path)
        time.sleep(0.05)


def latency(runs: int, sync_runs: int, model_for_speculation: bool) -> dict[str, list[float]]:
    smolbot = str(Path(sys.executable).parent / "smolbot")
    with tempfile.TemporaryDirectory(prefix="smolbot-bench-") as tmp:
        base = Path(tmp)
        (base / "editor.sh").write_text(EDITOR)
        (base / "editor.sh").chmod(0o755)
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.update(GIT_EDITOR=str(base / "editor.sh"), GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@x",
                   GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@x", SMOLBOT_DRAFTER_IDLE_S="60")  # fmt: skip
        model = load_settings().effective_model_path  # the real model, wherever the data dir points
        env.update(SMOLBOT_DATA_DIR=str(base / "data"), SMOLBOT_MODEL_PATH=str(model))
        spec_env = env if model_for_speculation else {**env, "SMOLBOT_MODEL_PATH": "/nonexistent"}
        times: dict[str, list[float]] = {"no hook": [], "speculated": [], "synchronous": []}
        plain = make_repo(base, "plain", env)
        spec = make_repo(base, "spec", env)
        subprocess.run(
            [smolbot, "hook", "install"], cwd=spec, env=spec_env, check=True, capture_output=True
        )
        for i in range(runs):
            stage(plain, i, env)
            times["no hook"].append(run(["git", "commit", "-q"], plain, env))
            stage(spec, i, spec_env)
            box = DraftBox(
                spec / ".git" / "smolbot"
            )  # drafts are named by HEAD's and the staged tree
            wait_file(box.text_path(tree_of(spec, env, "HEAD^{tree}"), tree_of(spec, env)))
            times["speculated"].append(
                run(["git", "commit", "-q"], spec, {**spec_env, "SMOLBOT_COMMIT_WAIT_MS": "0"})
            )
        sync = make_repo(base, "sync", env)
        sync_env = {**env, "SMOLBOT_COMMIT_WAIT_MS": "600000", "SMOLBOT_DRAFTER_IDLE_S": "0"}
        subprocess.run(
            [smolbot, "hook", "install", "--no-start"],
            cwd=sync,
            env=sync_env,
            check=True,
            capture_output=True,
        )
        for i in range(sync_runs):
            stage(sync, 1000 + i, sync_env, no_hooks=True)  # nothing speculated
            times["synchronous"].append(run(["git", "commit", "-q"], sync, sync_env))
        for repo in (spec, sync):  # stops the drafters too
            subprocess.run([smolbot, "hook", "uninstall"], cwd=repo, env=env, capture_output=True)
        return times


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


def print_latency(times: dict[str, list[float]]) -> None:
    base50, base95 = pct(times["no hook"], 0.5), pct(times["no hook"], 0.95)
    print("\n## git commit wall time (ms)")
    print("| path | runs | p50 | p95 | p50 / no hook | added p95 |")
    print("|---|---|---|---|---|---|")
    for name, vals in times.items():
        if not vals:
            continue
        p50, p95 = pct(vals, 0.5) * 1000, pct(vals, 0.95) * 1000
        print(
            f"| {name} | {len(vals)} | {p50:.0f} | {p95:.0f} | {p50 / (base50 * 1000):.1f}x | {p95 - base95 * 1000:+.0f} |"
        )
    added = (pct(times["speculated"], 0.95) - base95) * 1000
    print(
        f"\nspeculated path adds {added:.0f} ms at p95 (target < 100 ms): {'PASS' if added < 100 else 'FAIL'}"
    )


# --- quality ------------------------------------------------------------------------------------
def load(n: int, seed: int) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    rows = [json.loads(line) for line in DATA.open()]
    rows.sort(key=lambda r: str(r["author_date"]))
    return random.Random(seed).sample(rows[50:], n), rows


def history_before(
    rows: list[dict[str, object]], row: dict[str, object], k: int = 300
) -> list[tuple[str, list[str]]]:
    earlier = [r for r in rows if str(r["author_date"]) < str(row["author_date"])][-k:]
    return [(str(r["message"]), list(r["files"])) for r in reversed(earlier)]  # type: ignore[call-overload]


def score(
    drafts: list[tuple[str, dict[str, object], list[tuple[str, list[str]]]]],
) -> dict[str, float]:
    valid = sub_ok = type_ok = type_n = 0
    bleu = []
    for message, row, history in drafts:
        subject = message.splitlines()[0] if message.strip() else ""
        style = learn(history)
        valid += not problems(message, style)
        sub_ok += len(subject) <= 72
        human = CC_SUBJECT.match(str(row["subject"]))
        if human and human.group("type") in CC_TYPES:
            type_n += 1
            mine = CC_SUBJECT.match(subject)
            type_ok += bool(mine and mine.group("type") == human.group("type"))
        bleu.append(bnorm(TRAILING_REF.sub("", str(row["subject"])), subject))
    n = len(drafts)
    return {
        "valid": valid / n,
        "subject<=72": sub_ok / n,
        "type": type_ok / max(type_n, 1),
        "bnorm": statistics.mean(bleu),
    }


def quality(n: int, seed: int, budget: int) -> None:
    sample, rows = load(n, seed)
    settings = load_settings()
    writer = LayerWriter(settings)
    systems: dict[str, Callable[[dict[str, object], list[tuple[str, list[str]]]], str]] = {
        "retrieval (nearest past subject)": lambda row, h: (
            similar(list(row["files"]), h, k=1) or ["chore: update"]
        )[0],  # type: ignore[call-overload]
        "rules only (no model)": lambda row, h: _draft(row, h, None, budget),
        f"smolbot + {settings.effective_model_path.name}": lambda row, h: _draft(
            row, h, writer, budget
        ),
    }
    print(
        f"\n## draft quality on {n} pairs from {DATA.name} (seed {seed}; reference: human subject, PR number stripped)"
    )
    print("| system | CC-valid | subject <= 72 | type = human's | B-Norm | drafts/min |")
    print("|---|---|---|---|---|---|")
    for name, fn in systems.items():
        start = time.perf_counter()
        drafts = []
        for i, row in enumerate(sample, 1):
            history = history_before(rows, row)
            drafts.append((fn(row, history), row, history))
            if i % 5 == 0 and i < len(sample):
                elapsed = (time.perf_counter() - start) / 60
                print(
                    f"    ... {name}: {i} drafts, {i / elapsed:.1f}/min, so far {score(drafts)}",
                    flush=True,
                )
        minutes = (time.perf_counter() - start) / 60
        s = score(drafts)
        print(
            f"| {name} | {s['valid']:.0%} | {s['subject<=72']:.0%} | {s['type']:.0%} | {s['bnorm']:.1f} | {n / minutes:.0f} |",
            flush=True,
        )
        if "smolbot" in name:
            for message, row, _ in drafts[:5]:
                print(f"    human: {row['subject']}\n    draft: {message.splitlines()[0]}")


def _draft(
    row: dict[str, object],
    history: list[tuple[str, list[str]]],
    writer: LayerWriter | None,
    budget: int,
) -> str:
    changes = diffs.changes_from_patch(str(row["diff"]))
    if not changes:
        return "chore: update"
    return draft_changes(
        str(row["sha"]), changes, history, writer, DraftOptions(budget_chars=budget)
    ).message


# --- confidence -------------------------------------------------------------------------------
def _last_logprob(writer: LayerWriter) -> float | None:
    """The mean token log-probability the llama backend recorded for the last message draft."""
    layer = writer._layer
    if layer is None:
        return None
    rows = [
        r for r in layer.records.calls() if str(r["prompt_version"]).startswith("commit_message@")
    ]
    found = re.search(r"mean token logprob (-?\d+\.\d+)", str(rows[-1]["note"])) if rows else None
    return float(found.group(1)) if found else None


def confidence(n: int, seed: int, budget: int, threads: int, backend: str) -> None:
    """Does a higher draft confidence go with better drafts? Drafts by the real local model, bucketed.
    Answers are cached in the data dir like any draft's (SMOLBOT_DATA_DIR for a fresh cache)."""
    sample, rows = load(n, seed)
    settings = load_settings(model_threads=threads, model_backend=backend)
    writer = LayerWriter(settings)
    scored: list[tuple[float, bool, float]] = []  # confidence, type = human's, B-Norm
    fluency: list[tuple[float, bool, float]] = []  # mean token logprob (llama), same
    start = time.perf_counter()
    for row in sample:
        human = CC_SUBJECT.match(str(row["subject"]))
        changes = diffs.changes_from_patch(str(row["diff"]))
        if not (human and human.group("type") in CC_TYPES and changes):
            continue
        history = history_before(rows, row)
        result = draft_changes(
            str(row["sha"]), changes, history, writer, DraftOptions(budget_chars=budget)
        )
        subject = result.message.splitlines()[0] if result.message.strip() else ""
        mine = CC_SUBJECT.match(subject)
        same = bool(mine and mine.group("type") == human.group("type"))
        ref = TRAILING_REF.sub("", str(row["subject"]))
        scored.append((result.confidence, same, bnorm(ref, subject)))
        logprob = _last_logprob(writer) if result.backend == "llama" else None
        if logprob is not None:
            fluency.append((logprob, same, scored[-1][2]))
        print(f"    ... {len(scored)} drafts, confidence {result.confidence:.2f}", flush=True)
    minutes = (time.perf_counter() - start) / 60
    print(
        f"\n## draft confidence against draft quality ({len(scored)} conventional pairs of {n} "
        f"sampled, seed {seed}; {settings.effective_model_path.name} on {backend}, {threads} thread(s); "
        f"{minutes:.1f} min; "
        f"load average {os.getloadavg()[0]:.1f})"
    )
    print("| confidence | drafts | type = human's | B-Norm |")
    print("|---|---|---|---|")
    for lo, hi in ((0.0, 0.5), (0.5, 0.6), (0.6, 0.7), (0.7, 1.01)):
        inside = [s for s in scored if lo <= s[0] < hi]
        if inside:
            print(
                f"| {lo:.1f}-{min(hi, 1.0):.1f} | {len(inside)} | "
                f"{statistics.mean(s[1] for s in inside):.0%} | "
                f"{statistics.mean(s[2] for s in inside):.1f} |"
            )
    print("\n| coverage (surest first) | drafts | type = human's | B-Norm | min confidence |")
    print("|---|---|---|---|---|")
    ordered = sorted(scored, key=lambda s: -s[0])
    for share in (1.0, 0.75, 0.5):
        top = ordered[: max(1, round(len(ordered) * share))]
        print(
            f"| {share:.0%} | {len(top)} | {statistics.mean(s[1] for s in top):.0%} | "
            f"{statistics.mean(s[2] for s in top):.1f} | {top[-1][0]:.2f} |"
        )
    print(f"(distinct confidence values: {len({s[0] for s in scored})})")
    if len(fluency) >= 3:  # llama only: does the model's own token probability say anything?
        ordered = sorted(fluency, key=lambda s: s[0])
        third = len(ordered) // 3
        parts = [ordered[:third], ordered[third : 2 * third], ordered[2 * third :]]
        print("\n| mean token logprob (tercile) | drafts | range | type = human's | B-Norm |")
        print("|---|---|---|---|---|")
        for name, part in zip(("lowest", "middle", "highest"), parts, strict=True):
            print(
                f"| {name} | {len(part)} | {part[0][0]:.2f}..{part[-1][0]:.2f} | "
                f"{statistics.mean(s[1] for s in part):.0%} | "
                f"{statistics.mean(s[2] for s in part):.1f} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--part", choices=["all", "latency", "quality", "confidence"], default="all"
    )
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--sync-runs", type=int, default=5)
    parser.add_argument(
        "--latency-model",
        action="store_true",
        help="speculate with the real model (slow); default: rule-made drafts, same commit-time path",
    )
    parser.add_argument("-n", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--budget", type=int, default=3000, help="diff characters shown to the model"
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="model threads for --part confidence"
    )
    parser.add_argument(
        "--backend",
        choices=["gpt4all", "llama"],
        default="gpt4all",
        help="local backend for --part confidence (llama also reports mean token logprob)",
    )
    args = parser.parse_args()
    if args.part in ("all", "latency"):
        print_latency(latency(args.runs, args.sync_runs, args.latency_model))
    if args.part in ("all", "quality"):
        quality(args.n, args.seed, args.budget)
    if args.part in ("all", "confidence"):
        confidence(args.n, args.seed, args.budget, args.threads, args.backend)


if __name__ == "__main__":
    main()
