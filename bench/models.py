"""Benchmark of the model layer; prints tables. Run: .venv/bin/python bench/models.py [--skip-local]

1. the local model (gpt4all): load time, prompt and generation tokens/s, peak RSS;
2. per-task latency of the prompts the bot asks the local model (and the cache hit on a repeat);
3. the classifier on a per-repository time split of the labeled dev set: macro-F1 per repository,
   reliability of its confidence, accuracy at 100/80/60/40 % coverage;
3b. with --zeroshot N (needs the [llama] extra): the zero-shot label probability read from the
   logits, its reliability and accuracy at coverage on N held-out issues, next to the classifier;
4. the learning loop: the labeled stream replayed in time order; what the classifier is unsure of
   escalates to an ORACLE THAT STANDS IN FOR THE LARGE MODEL (it returns the true label), its
   answers are learned, and the escalation share is shown falling.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, SecretStr
from sklearn.metrics import f1_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.llm import ModelLayer
from bot.llm.backends import get_backend
from bot.llm.classifier import BLEND_K, Classifier
from bot.llm.large import LargeReply
from bot.llm.records import Example
from bot.settings import load_settings
from bot.store import open_store

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "issues-labeled-dev.csv"
LABELS = ["bug", "feature", "question"]
Row = dict[str, str]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def table(title: str, header: list[str], rows: list[list[Any]]) -> None:
    print(f"\n## {title}")
    widths = [max(len(str(x)) for x in [h, *[r[i] for r in rows]]) for i, h in enumerate(header)]
    print("  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)))
    for r in rows:
        print("  ".join(str(x).ljust(w) for x, w in zip(r, widths, strict=True)))


# --- 1 + 2: local model ---------------------------------------------------------------------
LONG_PROMPT = " ".join(
    f"Line {i}: the widget fails to render when the window is resized quickly." for i in range(40)
)


def _timed_generation(model: Any, prompt: str, max_tokens: int) -> tuple[float, float, int, float]:
    """(seconds to the first token, seconds for the rest, tokens, CPU seconds) of one generation."""
    from bot.llm.backends import CHATML_SYSTEM, CHATML_USER

    stamps: list[float] = []
    cpu = time.process_time()
    start = time.perf_counter()
    with model.chat_session(CHATML_SYSTEM.format("You summarize bug reports."), CHATML_USER):
        for _ in model.generate(
            prompt, max_tokens=max_tokens, temp=0, top_k=1, n_batch=64, streaming=True
        ):
            stamps.append(time.perf_counter())
    first = stamps[0] - start if stamps else 0.0
    return (
        first,
        (stamps[-1] - stamps[0]) if stamps else 0.0,
        len(stamps),
        time.process_time() - cpu,
    )


def bench_local(model_path: Path, threads: int = 2) -> None:
    """Wall-clock speeds depend on what else runs; CPU-seconds per token do much less."""
    before = rss_mb()
    backend = get_backend("gpt4all", model_path, {"n_threads": threads})
    t = time.perf_counter()
    model = backend._load()  # type: ignore[attr-defined]
    load_s = time.perf_counter() - t
    first, rest, n, cpu = _timed_generation(model, LONG_PROMPT, 64)
    n_prompt = int(model.model.context.n_past) - n  # system + user prompt tokens
    table(
        f"Local model (gpt4all, {threads} threads, n_batch 64; ~500-token prompt, 64 generated)",
        [
            "model",
            "load s",
            "prompt tok",
            "prompt tok/s",
            "gen tok",
            "gen tok/s",
            "CPU s",
            "peak RSS MB",
            "RSS before MB",
        ],
        [
            [
                model_path.name,
                f"{load_s:.2f}",
                n_prompt,
                f"{n_prompt / max(first, 1e-6):.0f}",
                n,
                f"{(n - 1) / max(rest, 1e-6):.1f}",
                f"{cpu:.1f}",
                f"{rss_mb():.0f}",
                f"{before:.0f}",
            ]
        ],
    )
    print(
        f"(load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: other work shares the CPU)"
    )


def bench_tasks(model_path: Path, threads: int) -> None:
    """The prompts the bot asks the local model, with the variables and schemas its callers use
    (bot/jobs/triage.py, digest.py, summarize.py); the commit prompts are bench/commits.py's."""
    from bot.core import summary as S
    from bot.core.config import Kind
    from bot.jobs.digest import LINE_BODY_CHARS, DigestLine
    from bot.jobs.summarize import TASK as SUMMARY
    from bot.jobs.summarize import _json, _vars
    from bot.jobs.triage import COMMENT_TASK, PROMPT, FirstResponse
    from bot.jobs.triage import TASK as TRIAGE

    tmp = Path(tempfile.mkdtemp())
    settings = load_settings(data_dir=tmp, model_path=model_path, env="test", model_threads=threads)
    layer = ModelLayer(settings, open_store(":memory:"))
    title = "Crash on start"
    body = "After upgrading to 2.3 the app crashes on start. Traceback: KeyError 'theme'. Linux, Python 3.11."
    thread = [
        S.Entry(0, "alice", S.AUTHOR, body, "u0"),
        S.Entry(1, "bob", S.OTHER, "Same here on macOS 14.", "u1"),
        S.Entry(2, "carol", S.MAINTAINER, "Does deleting the config file help?", "u2"),
        S.Entry(3, "alice", S.AUTHOR, "Yes: after deleting the config file it starts again.", "u3"),
    ]
    pieces = [
        S.ThreadSummary(problem=["The app crashes on start after upgrading to 2.3 [0]"]),
        S.ThreadSummary(
            tried=["Deleting the config file was suggested [2]"],
            state=["After deleting the config file the app starts again [3]"],
        ),
    ]
    first_response = {
        "repo": "o/r",
        "title": title,
        "body": body[:3000],
        "kind": Kind.BUG.value,
        "next_steps": "a maintainer will look at it",
        "related": "#12",
    }
    kinds = [k.value for k in Kind]
    issue = f"{title}\n\n{body}"
    # no classifier trained and no large model: the bot asks the zero-shot label only when the
    # repository's bar is one its answer can clear (it is capped under the default 0.6)
    bar = 0.4
    cases: list[tuple[str, str, Callable[[], Any]]] = [
        (TRIAGE, "triage_kind", lambda: layer.classify(TRIAGE, "o/r", issue, kinds, threshold=bar)),
        (
            COMMENT_TASK,
            PROMPT,
            lambda: layer.ask(
                COMMENT_TASK, PROMPT, first_response, FirstResponse, use_unsure=False
            ),
        ),
        (
            "digest",
            "digest_line",
            lambda: layer.ask(
                "digest",
                "digest_line",
                {"title": title, "body": body[:LINE_BODY_CHARS]},
                DigestLine,
            ),
        ),
        (
            SUMMARY,
            "summary_thread",
            lambda: layer.ask(SUMMARY, "summary_thread", _vars(title, thread), S.ThreadSummary),
        ),
        (
            SUMMARY,
            "summary_chunk",
            lambda: layer.ask(SUMMARY, "summary_chunk", _vars(title, thread[:2]), S.ThreadSummary),
        ),
        (
            SUMMARY,
            "summary_merge",
            lambda: layer.ask(
                SUMMARY, "summary_merge", {"title": title, "parts": _json(pieces)}, S.ThreadSummary
            ),
        ),
    ]
    rows = []
    for task, prompt, ask in cases:
        ans, again = ask(), ask()
        r = ans.record
        rows.append(
            [
                task,
                prompt,
                ans.status,
                f"{ans.confidence:.2f}",
                r.tokens_in,
                r.tokens_out,
                f"{r.latency_ms / 1000:.1f}",
                f"{again.record.latency_ms:.1f}",
                again.record.cache_hit,
            ]
        )
    table(
        "Per-task latency through ModelLayer.ask (real model; second call identical)",
        [
            "task",
            "prompt",
            "status",
            "conf",
            "tok in",
            "tok out",
            "latency s",
            "repeat ms",
            "cache hit",
        ],
        rows,
    )


# --- 3: classifier ------------------------------------------------------------------------
def load_rows() -> list[Row]:
    csv.field_size_limit(sys.maxsize)
    with DATA.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def time_split(rows: list[Row], test_share: float = 0.2) -> tuple[list[Row], list[Row]]:
    """Per repository and label: the oldest 80 % train, the newest 20 % test (balanced test)."""
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for r in rows:
        groups[(r["repo"], r["label"])].append(r)
    train, test = [], []
    for g in groups.values():
        g.sort(key=lambda r: r["created_at"])
        k = round(len(g) * (1 - test_share))
        train += g[:k]
        test += g[k:]
    return train, test


def text(r: Row) -> str:
    return f"{r['title']}\n\n{r['body']}"


def evaluate(
    clf: Classifier, test: list[Row]
) -> tuple[float, list[float], list[tuple[float, bool]]]:
    per_repo: dict[str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    scored = []
    for r in test:
        p = clf.probabilities(r["repo"], text(r), LABELS) or {}
        label = max(p, key=lambda k: p[k])
        per_repo[r["repo"]][0].append(r["label"])
        per_repo[r["repo"]][1].append(label)
        scored.append((p[label], label == r["label"]))
    f1s = [float(f1_score(y, yhat, average="macro")) for y, yhat in per_repo.values()]
    return float(np.mean(f1s)), f1s, scored


def bench_classifier(rows: list[Row]) -> None:
    import bot.llm.classifier as C

    train, test = time_split(rows)
    examples = [Example(r["repo"], text(r), r["label"], "backfill") for r in train]
    results = []
    for name, k in [("general only", 1e12), (f"general + per-repo (K={BLEND_K:.0f})", BLEND_K)]:
        C.BLEND_K = k
        t = time.perf_counter()
        clf = Classifier.train(examples)
        train_s = time.perf_counter() - t
        mean, f1s, scored = evaluate(clf, test)
        results.append((name, mean, f1s, train_s, scored))
    C.BLEND_K = BLEND_K
    repos = sorted({r["repo"] for r in test})
    table(
        f"Classifier macro-F1, per-repository time split (train {len(train)}, test {len(test)})",
        ["model", "avg macro-F1", *[r.split("/")[1] for r in repos], "train s"],
        [[n, f"{m:.3f}", *[f"{x:.2f}" for x in f], f"{s:.1f}"] for n, m, f, s, _ in results],
    )
    scored = results[-1][4]
    bins = [(0.0, 0.5), (0.5, 0.6), (0.6, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 1.01)]
    rel = reliability_rows(scored, bins)
    table(
        "Reliability of the blended classifier's confidence (held-out test)",
        ["confidence", "n", "mean conf", "accuracy"],
        rel,
    )
    table(
        "Accuracy at coverage (answer only the surest share)",
        ["coverage", "n", "accuracy", "min conf"],
        coverage_rows(scored, (1.0, 0.8, 0.6, 0.4)),
    )


# --- 3b: zero-shot label probabilities from the logits (llama backend) ------------------------
def reliability_rows(
    scored: list[tuple[float, bool]],
    bins: list[tuple[float, float]],
    shrink: Callable[[float], float] | None = None,
) -> list[list[Any]]:
    """Per confidence bin: its size, mean confidence (and the shrunk one), accuracy."""
    rows = []
    for lo, hi in bins:
        inside = [(c, ok) for c, ok in scored if lo <= c < hi]
        if inside:
            shrunk = [f"{np.mean([shrink(c) for c, _ in inside]):.2f}"] if shrink else []
            rows.append(
                [
                    f"{lo:.1f}-{min(hi, 1.0):.1f}",
                    len(inside),
                    f"{np.mean([c for c, _ in inside]):.2f}",
                    *shrunk,
                    f"{np.mean([ok for _, ok in inside]):.2f}",
                ]
            )
    return rows


def coverage_rows(
    scored: list[tuple[float, bool]], shares: tuple[float, ...] = (1.0, 0.8, 0.6, 0.4, 0.2)
) -> list[list[Any]]:
    """Per share: answer only the surest part; its size, accuracy and lowest confidence."""
    ordered = sorted(scored, key=lambda x: -x[0])
    out = []
    for share in shares:
        top = ordered[: max(1, round(len(ordered) * share))]
        out.append(
            [f"{share:.0%}", len(top), f"{np.mean([ok for _, ok in top]):.3f}", f"{top[-1][0]:.2f}"]
        )
    return out


def bench_zeroshot(rows: list[Row], model_path: Path, n: int, threads: int) -> None:
    """Calibration of the logit label probability on n held-out issues, next to the classifier's."""
    from bot.llm.llama_backend import LlamaBackend
    from bot.llm.prompts import load_prompt
    from bot.llm.zeroshot import ANSWER_PREFIX, PROMPT, TEXT_CHARS, logit_confidence

    train, test = time_split(rows)
    held = random.Random(0).sample(test, n)
    backend = get_backend("llama", model_path, {"n_threads": threads})
    assert isinstance(backend, LlamaBackend)
    prompt = load_prompt(PROMPT)
    clf = Classifier.train([Example(r["repo"], text(r), r["label"], "backfill") for r in train])
    llm: list[tuple[float, bool]] = []
    base: list[tuple[float, bool]] = []
    started, cpu, tokens = time.perf_counter(), time.process_time(), 0
    for r in held:
        rendered = prompt.render({"labels": ", ".join(LABELS), "issue": text(r)[:TEXT_CHARS]})
        probs, n_tok = backend.label_probabilities(
            rendered.system, rendered.user, ANSWER_PREFIX, LABELS
        )
        tokens += n_tok
        label = max(probs, key=lambda k: probs[k])
        llm.append((probs[label], label == r["label"]))
        p = clf.probabilities(r["repo"], text(r), LABELS) or {}
        best = max(p, key=lambda k: p[k])
        base.append((p[best], best == r["label"]))
    wall = time.perf_counter() - started
    bins = [(0.0, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 1.01)]
    rel = reliability_rows(llm, bins, shrink=lambda c: logit_confidence(c, len(LABELS)))
    table(
        f"Zero-shot label from the logits (llama, {model_path.name}, {threads} thread(s)): "
        f"reliability on {n} held-out issues",
        ["probability", "n", "mean prob", "mean confidence (shrunk)", "accuracy"],
        rel,
    )
    llm_cov, clf_cov = coverage_rows(llm), coverage_rows(base)
    table(
        "Accuracy at coverage on the same issues: logit probability vs the trained classifier",
        ["coverage", "n", "zero-shot acc", "min prob", "classifier acc", "min conf"],
        [[a[0], a[1], a[2], a[3], b[2], b[3]] for a, b in zip(llm_cov, clf_cov, strict=True)],
    )
    print(
        f"({wall / n:.1f} s and {(time.process_time() - cpu) / n:.1f} CPU s per issue, "
        f"{tokens / n:.0f} prompt tokens per issue; load average {os.getloadavg()[0]:.1f})"
    )


# --- 4: learning loop ---------------------------------------------------------------------
class Oracle:
    """STANDS IN FOR THE LARGE MODEL: answers the true label of the issue being classified."""

    provider, model, name = "oracle", "true-label", "oracle:true-label"
    identity = name  # what the cache keys a large answer on (LargeModel.identity)

    def __init__(self) -> None:
        self.label = ""
        self.calls = 0

    def complete(
        self,
        system: str,
        user: str,
        schema: type[BaseModel],
        max_tokens: int,
        spend: Callable[[], bool] = lambda: True,
    ) -> LargeReply:
        """As LargeModel.complete: one request, counted against the day's budget (far above the
        stream's escalations)."""
        spend()
        self.calls += 1
        return LargeReply(f'{{"label": "{self.label}"}}', 0, 0)


def oracle_layer(tmp: Path) -> tuple[ModelLayer, Oracle]:
    """A model layer with no local LLM, whose large model is the oracle: classifier + oracle."""
    settings = load_settings(
        data_dir=tmp,
        env="test",
        model_path=tmp / "absent.gguf",
        large_provider="openai",
        large_model="oracle",
        large_api_key=SecretStr("x"),
        large_daily_budget=100_000,
        thresholds={"triage": 0.6},
    )
    layer = ModelLayer(settings, open_store(":memory:"))
    oracle = Oracle()
    layer.large = oracle  # type: ignore[assignment]
    return layer, oracle


def bench_learning(rows: list[Row], order: str, window: int = 150, retrain_every: int = 50) -> None:
    if order == "time":
        stream = sorted(rows, key=lambda r: r["created_at"])
    else:
        stream = random.Random(0).sample(rows, len(rows))
    layer, oracle = oracle_layer(Path(tempfile.mkdtemp()))
    layer.retrain_every = retrain_every
    out, stats = [], {"esc": 0, "acc_ok": 0, "n_acc": 0, "right": 0}
    seen: dict[str, int] = defaultdict(int)
    by_age: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # bucket -> [issues, escalated]
    t = time.perf_counter()
    for i, r in enumerate(stream, 1):
        oracle.label = r["label"]
        ans = layer.classify("triage", r["repo"], text(r), LABELS)
        escalated = ans.status == "escalated"
        bucket = min(seen[r["repo"]] // 60, 4)
        seen[r["repo"]] += 1
        by_age[bucket][0] += 1
        by_age[bucket][1] += escalated
        stats["esc"] += escalated
        right = ans.value is not None and ans.value.label == r["label"]
        stats["right"] += right
        if not escalated:
            stats["n_acc"] += 1
            stats["acc_ok"] += right
        if i % window == 0 or i == len(stream):
            n = window if i % window == 0 else i % window
            out.append(
                [
                    f"{i - n + 1}-{i}",
                    f"{stats['esc'] / n:.0%}",
                    f"{stats['acc_ok'] / stats['n_acc']:.2f}" if stats["n_acc"] else "-",
                    f"{stats['right'] / n:.2f}",
                    layer.classifier().seq,
                ]
            )
            stats = dict.fromkeys(stats, 0)
    elapsed = time.perf_counter() - t
    table(
        f"Learning loop ({order} order); threshold 0.6; retrain every "
        f"{retrain_every} examples. ESCALATIONS GO TO AN ORACLE STANDING IN FOR THE LARGE MODEL",
        ["issues", "escalated", "acc. of local answers", "acc. of all answers", "trained on"],
        out,
    )
    print(f"(oracle calls {oracle.calls}; {len(stream)} issues in {elapsed:.0f} s)")
    names = ["0-59", "60-119", "120-179", "180-239", "240-299"]
    table(
        f"Same replay ({order} order), by how many issues of the same repository came before",
        ["repo issues before", "issues", "escalated"],
        [[names[b], n, f"{e / n:.0%}"] for b, (n, e) in sorted(by_age.items())],
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--skip-local", action="store_true", help="skip the sections that run the model"
    )
    ap.add_argument(
        "--zeroshot",
        type=int,
        default=0,
        metavar="N",
        help="calibrate the llama backend's logit label probability on N held-out issues (slow)",
    )
    ap.add_argument("--only-zeroshot", action="store_true", help="run only the --zeroshot section")
    ap.add_argument(
        "--threads",
        default="",
        help="comma-separated thread counts for the local model (default: SMOLBOT_MODEL_THREADS)",
    )
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    started = time.perf_counter()
    model = load_settings().effective_model_path
    if args.zeroshot and model.is_file():
        n_threads = int(args.threads.split(",")[0]) if args.threads else 1
        bench_zeroshot(load_rows(), model, args.zeroshot, n_threads)
        if args.only_zeroshot:
            return
    if not args.skip_local and model.is_file():
        threads = [int(t) for t in args.threads.split(",") if t] or [load_settings().model_threads]
        for n in threads:
            bench_local(model, n)
        bench_tasks(model, threads[0])
    elif not args.skip_local:
        print(f"(local model sections skipped: no model at {model}; run `smolbot models install`)")
    rows = load_rows()
    bench_classifier(rows)
    bench_learning(rows, "shuffled")  # a stationary stream: the learning effect alone
    bench_learning(rows, "time")  # the real order: new repositories and label drift arrive
    print(f"\n(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
