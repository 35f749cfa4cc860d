"""What a retrain of the triage classifier costs as a repository's labeled history grows, and how
long the first triage after it waits.

The classifier retrains once RETRAIN_EVERY (20) new labels have arrived. Before, every retrain
refitted the general TF-IDF model and every repository's model on all their examples, in the
triage that noticed them. Now each model learns from its newest classifier.MAX_EXAMPLES, a
repository that is all the examples shares the general model, unchanged repositories keep theirs,
and a history over INLINE_RETRAIN_MAX examples retrains in a thread while the triage answers.

Examples: the 1,500 issues of the labeled dev set, repeated with a seeded tenth of their words
dropped (so each text is new) up to each size. Two tables, each with its baseline in the same run:

1. TF-IDF fits per retrain (one core): refitting every model on all its examples (the old
   retrain) against Classifier.train(previous=...) after 20 new labels in one repository.
2. The first triage after those 20 labels, through ModelLayer with the real store and the MiniLM
   stage (embeddings cached under --cache, so the second run skips encoding): the retrain in the
   triage (inline_retrain_max raised past the size: the old way, with the new fits) against beside
   it; and how long the background retrain took.

Run: HF_HUB_OFFLINE=1 .venv/bin/python bench/retrain.py [--sizes 1500,6000,24000,60000]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.triage import text_of
from bot.llm import ModelLayer
from bot.llm.classifier import Classifier, Model
from bot.llm.records import Example
from bot.settings import load_settings
from bot.store import open_store

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "issues-labeled-dev.csv"
LABELS = ["bug", "feature", "question"]


def load(path: Path) -> list[dict[str, str]]:
    csv.field_size_limit(2**31 - 1)
    with path.open(newline="", encoding="utf-8") as fh:
        return sorted(csv.DictReader(fh), key=lambda r: r["created_at"])


def grown(rows: list[dict[str, str]], n: int, repos: list[str]) -> list[Example]:
    """`n` examples, oldest first, spread over `repos` in turn; repeats drop a seeded tenth of
    the words of their issue."""
    out = []
    for i in range(n):
        row, rnd = rows[i % len(rows)], random.Random(i)
        text = text_of(row)
        if i >= len(rows):
            text = " ".join(w for w in text.split(" ") if rnd.random() > 0.1)
        out.append(Example(repos[i % len(repos)], text, row["label"], "backfill"))
    return out


def new_labels(rows: list[dict[str, str]], repo: str, k: int = 20) -> list[Example]:
    return [
        Example(repo, f"{text_of(r)}\n\n(new label {i})", r["label"], "human")
        for i, r in enumerate(rows[-k:])
    ]


def every_model_refit(examples: list[Example]) -> float:
    """The old retrain: the general model and each repository's, each on all its examples."""
    started = time.perf_counter()
    Model.fit([e.text for e in examples], [e.label for e in examples])
    for repo in sorted({e.scope for e in examples}):
        mine = [e for e in examples if e.scope == repo]
        Model.fit([e.text for e in mine], [e.label for e in mine])
    return time.perf_counter() - started


def fits(rows: list[dict[str, str]], n: int, repos: list[str]) -> tuple[float, float]:
    examples = grown(rows, n, repos)
    before = Classifier.train(examples, embed=False)
    after = [*examples, *new_labels(rows, repos[0])]
    old = every_model_refit(after)
    started = time.perf_counter()
    Classifier.train(after, embed=False, previous=before)
    return old, time.perf_counter() - started


def triage_wait(
    rows: list[dict[str, str]], n: int, repos: list[str], cache: Path, inline: bool
) -> tuple[float, float]:
    """(ms of the first classify() after 20 new labels, s until the retrain had finished)."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        (data / "embeddings").symlink_to(cache)
        settings = load_settings(data_dir=data, env="test", thresholds={"triage": 0.0})
        store = open_store(Path(tmp) / "smolbot.db")
        layer = ModelLayer(settings, store)
        store.db.table("llm_examples").insert_all(
            {
                "scope": e.scope,
                "text_hash": f"{i:08d}",
                "text": e.text,
                "label": e.label,
                "source": e.source,
                "at": 0.0,
                "seq": i + 1,
            }
            for i, e in enumerate(grown(rows, n, repos))
        )
        layer.classifier(force=True)  # the classifier before: encodes what the cache lacks
        if inline:
            layer.inline_retrain_max = 10**9
        for e in new_labels(rows, repos[0]):
            layer.learn(e.scope, e.text, e.label, "human")
        started = time.perf_counter()
        issue = f"{text_of(rows[0])}\n\n(asked at {n}, {inline})"  # not in the encoder's cache
        ans = layer.classify("triage", repos[0], issue, LABELS)
        answered = time.perf_counter() - started
        assert ans.status == "ok", ans.status
        assert layer.wait_retrain(600)
        done = time.perf_counter() - started
        assert layer.classifier().seq == layer.records.example_seq()
        store.close()
        return answered * 1000, done


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1500,6000,24000,60000")
    ap.add_argument("--repos", type=int, default=1, help="repositories the examples spread over")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "smolbot-retrain")
    ap.add_argument("--data", type=Path, default=DATA)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args.cache.mkdir(parents=True, exist_ok=True)
    rows, sizes = load(args.data), [int(s) for s in args.sizes.split(",")]
    repos = [f"bench/repo{i}" for i in range(args.repos)]

    print(f"TF-IDF fits per retrain, {args.repos} repositories, 20 new labels in one (one core)")
    print("| examples | every model refit s (old) | kept and capped s | x old |")
    print("|---|---|---|---|")
    for n in sizes:
        old, new = fits(rows, n, repos)
        print(f"| {n:,} | {old:.1f} | {new:.1f} | {new / old:.2f} |", flush=True)

    triage_wait(rows, sizes[0], repos, args.cache, inline=True)  # warm-up: loads the encoder
    print("\nThe first triage after 20 new labels (ModelLayer, real store, MiniLM stage)")
    print("| examples | retrain in the triage ms (old way) | beside it ms | x old | retrain s |")
    print("|---|---|---|---|---|")
    for n in sizes:
        inline_ms, _ = triage_wait(rows, n, repos, args.cache, inline=True)
        beside_ms, retrain_s = triage_wait(rows, n, repos, args.cache, inline=False)
        print(
            f"| {n:,} | {inline_ms:,.0f} | {beside_ms:,.0f} | {beside_ms / inline_ms:.3f} |"
            f" {retrain_s:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
