"""Triage benchmark: kind classification (time split per repo), coverage, escalation, speed; duplicates recall@5.

The layer's first stage (TF-IDF mixed with MiniLM embeddings when the `embed` extra is installed)
is shown next to the TF-IDF-only classifier trained on the same examples in the same run, and,
after the encoder is tuned on the training issues (bot/llm/tune.py, as the worker's job does), the
same first stage on the tuned encoder.

With --reader (the llama extra and the local model installed), the headline split also runs the
triage reader (bot/llm/reader.py) as the layer does: the chat model reads the training issues, then
answers the test issues the first stage is unsure of; its states are cached in --reader-cache, so a
second run reads nothing (the first read all 1,500 issues in 49 minutes, partly under other load).

Run: .venv/bin/python bench/triage.py [--data ../shared/data] [--train-share 0.7] [--full-path 60]
     [--no-tune] [--reader [--reader-cache DIR]]
     .venv/bin/python bench/triage.py --read-speed 15   # the reader's read against Llama.eval
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core.config import default_config
from bot.core.triage import IssueSnapshot
from bot.dupes import Doc, DuplicateIndex
from bot.jobs.context import JobContext
from bot.jobs.triage import plan_triage
from bot.llm import get_model_layer, reader, tune
from bot.llm.classifier import Classifier
from bot.llm.evaluate import macro_f1, time_split
from bot.settings import Settings, load_settings
from bot.store import open_store

LABELS = ["bug", "feature", "question", "documentation"]
COVERAGES = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5)
csv.field_size_limit(2**31 - 1)


def load_issues(
    path: Path, train_share: float, per_label: bool = False
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Per repository (and per label if asked): the earliest train_share to train on, later to test.

    The data set's labels are not spread evenly in time (react: 87 of its latest 90 issues are
    bugs), so the plain split measures a shift in the label mix as much as the classifier.
    """
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return time_split(
        rows,
        lambda r: (r["repo"], r["label"] if per_label else ""),
        lambda r: r["created_at"],
        holdout=1 - train_share,
    )


def text_of(row: dict[str, str]) -> str:
    return f"{row['title']}\n{row['body']}"


def table(title: str, header: list[str], rows: list[list[object]]) -> None:
    print(f"\n## {title}")
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    for line in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(str(x).ljust(w) for x, w in zip(line, widths, strict=True)))


Stage = tuple[str, Classifier]


def classification(
    train: list[dict[str, str]],
    test: list[dict[str, str]],
    full_path: int,
    speed: bool = True,
    tune_encoder: bool = True,
    reader_cache: Path | None = None,
) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-triage-"))
    model = Settings().effective_model_path
    settings = load_settings(
        data_dir=tmp, env="test", model_path=model, triage_reader=reader_cache is not None
    )
    if reader_cache is not None:  # the states of earlier runs (keyed by model, prompt and text)
        reader_cache.mkdir(parents=True, exist_ok=True)
        (tmp / "reader").mkdir()
        (tmp / "reader" / "states").symlink_to(reader_cache.resolve())
    store = open_store(settings.db_path)
    layer = get_model_layer(settings, store)
    for row in train:
        layer.learn(row["repo"], text_of(row), row["label"], "backfill")
    t0 = time.perf_counter()
    base = Classifier.train(layer.records.examples(), embed=False)
    base_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    clf = layer.classifier(force=True)
    new_s = time.perf_counter() - t0
    stages: list[Stage] = [("TF-IDF (baseline)", base)]
    if clf.embedded is not None:
        stages.append((f"first stage ({clf.name})", clf))
    else:
        print("(the embed extra is not installed: the layer's first stage is TF-IDF only)")
    print(
        f"trained on {len(train)} issues: baseline {base_s:.1f} s, layer's first stage "
        f"{new_s:.1f} s (cold: every example encoded); testing on {len(test)}"
    )
    if tune_encoder and clf.embedded is not None:
        # what the worker's tune_encoder job runs (in a child process there), then the refit
        t0 = time.perf_counter()
        tuned = tune.tune(layer.records.examples(), settings.data_dir)
        tune_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        tuned_clf = layer.classifier()
        print(
            f"encoder tuned on {tuned.examples} issues, {tuned.epochs} epochs, in {tune_s:.0f} s"
            f" (one core; loss {tuned.loss_first_epoch:.3f} -> {tuned.loss_last_epoch:.3f});"
            f" the layer switched to it in {time.perf_counter() - t0:.1f} s"
        )
        stages.append((f"first stage, tuned ({tuned_clf.name})", tuned_clf))
    gold = [r["label"] for r in test]
    preds, confs, first_ms, probs_of = {}, {}, {}, {}
    for name, c in stages:
        probs, ms = [], []
        for row in test:
            t = time.perf_counter()
            p = c.probabilities(row["repo"], text_of(row), LABELS) or {}
            ms.append((time.perf_counter() - t) * 1000)
            probs.append(p)
        preds[name] = [max(p, key=lambda k: p[k]) for p in probs]
        probs_of[name] = probs
        confs[name] = np.array([max(p.values()) for p in probs])
        first_ms[name] = ms
    threshold = settings.threshold("triage")
    if reader_cache is not None:
        last = stages[-1][0]
        rp, rc, cp, cc = with_reader(
            layer, test, probs_of[last], preds[last], confs[last], threshold
        )
        preds["reader alone"], confs["reader alone"] = rp, rc
        cascade = f"{last} -> mean with the reader below {threshold}"
        preds[cascade], confs[cascade] = cp, cc
        stages += [("reader alone", clf), (cascade, clf)]
    report_f1(test, gold, preds)
    for name, _ in stages:
        report_coverage(name, gold, preds[name], confs[name], threshold)
    if not speed:
        return
    baseline_ms = baseline_speed(train, test)
    forget_embeddings(layer)  # time encoding, not the cache of the run above
    full_ms = full_path_speed(settings, store, layer, test[:full_path])
    ref = statistics.median(baseline_ms)
    mean_ref = statistics.fmean(baseline_ms)
    rows = [
        [
            "baseline: word TF-IDF + LR (1 vectorizer)",
            f"{ref:.2f}",
            "1.00",
            f"{mean_ref:.2f}",
            "1.00",
        ]
    ]
    timed = [(f"first stage: {n}", first_ms[n]) for n, _ in stages if n in first_ms] + [
        (
            f"classify() with records (no large model{', reader on' if reader_cache else ''})",
            full_ms[0],
        ),
        ("full triage plan (classify + needs + duplicates)", full_ms[1]),
    ]
    for name, ms in timed:
        if not ms:  # --full-path 0: not timed
            continue
        med, mean = statistics.median(ms), statistics.fmean(ms)
        rows.append(
            [name, f"{med:.2f}", f"{med / ref:.2f}", f"{mean:.2f}", f"{mean / mean_ref:.2f}"]
        )
    table(
        "Speed (ms per issue; ratio to the baseline measured in this run)"
        + (": the reader reads only the unsure, so see the mean" if reader_cache else ""),
        ["path", "median ms", "x baseline", "mean ms", "x baseline (mean)"],
        rows,
    )


def with_reader(layer, test, first, pred, conf, threshold):  # type: ignore[no-untyped-def]
    """The reader as the layer runs it: read the training issues (the cache skips those read
    before), fit its head, then answer each test issue the first stage left below the threshold.
    Returns the reader's own (pred, conf) for every issue and the cascade's."""
    enc = layer.reader_encoder()
    t0 = time.perf_counter()
    done = reader.read_examples(enc, layer.records.examples(), layer.settings.data_dir)
    read_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    head = layer.reader_head()
    assert head is not None, "the reader's head did not fit"
    print(
        f"reader: {done.examples} training issues read in {read_s:.0f} s (cached ones skipped),"
        f" head fit in {time.perf_counter() - t0:.1f} s ({enc.name})"
    )
    t0 = time.perf_counter()
    x = enc.encode([text_of(r) for r in test])
    print(f"reader: {len(test)} test issues read in {time.perf_counter() - t0:.0f} s")
    rp, rc, cp, cc = [], [], list(pred), conf.copy()
    for i, (row, v) in enumerate(zip(test, x, strict=True)):
        p = head.probabilities(row["repo"], v, LABELS)
        best = max(p, key=lambda k: p[k])
        rp.append(best)
        rc.append(p[best])
        if conf[i] < threshold:  # as the layer answers: the mean of both stages
            m = reader.combine(first[i], p)
            cp[i] = max(m, key=lambda k: m[k])
            cc[i] = m[cp[i]]
    print(f"reader: read {np.mean(conf < threshold):.1%} of the test issues (first stage unsure)")
    return rp, np.array(rc), cp, cc


def report_f1(test: list[dict[str, str]], gold: list[str], preds: dict[str, list[str]]) -> None:
    by_repo: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(test):
        by_repo[r["repo"]].append(i)
    names = list(preds)
    rows: list[list[object]] = []
    scores: dict[str, list[float]] = defaultdict(list)
    for repo, idx in sorted(by_repo.items()):
        row: list[object] = [repo, len(idx)]
        for name in names:
            pred = preds[name]
            f = macro_f1([gold[i] for i in idx], [pred[i] for i in idx])
            acc = float(np.mean([gold[i] == pred[i] for i in idx]))
            scores[name].append(f)
            row += [f"{f:.3f}", f"{acc:.3f}"]
        if len(names) > 1:
            row.append(f"{scores[names[-1]][-1] / scores[names[0]][-1]:.2f}")
        rows.append(row)
    avg: list[object] = ["AVERAGE (target >= 0.83)", len(gold)]
    for name in names:
        avg += [f"{np.mean(scores[name]):.3f}", ""]
    if len(names) > 1:
        avg.append(f"{np.mean(scores[names[-1]]) / np.mean(scores[names[0]]):.2f}")
    rows.append(avg)
    header = ["repo", "n"]
    for i, _ in enumerate(names):
        header += [f"F1 [{i}]", f"acc [{i}]"]
    if len(names) > 1:
        header.append(f"F1 ratio [{len(names) - 1}]/[0]")
    legend = "; ".join(f"[{i}] {n}" for i, n in enumerate(names))
    table(f"Kind, local path, macro-F1 per repository ({legend})", header, rows)


def report_coverage(
    name: str, gold: list[str], pred: list[str], conf: np.ndarray, threshold: float
) -> None:
    order = np.argsort(-conf, kind="stable")
    rows = []
    for cov in COVERAGES:
        keep = order[: max(1, round(cov * len(order)))]
        g, p = [gold[i] for i in keep], [pred[i] for i in keep]
        rows.append(
            [
                f"{cov:.0%}",
                f"{min(conf[keep]):.3f}",
                f"{np.mean([a == b for a, b in zip(g, p, strict=True)]):.3f}",
                f"{macro_f1(g, p):.3f}",
            ]
        )
    table(
        f"{name}: accuracy by coverage (keep the surest; the rest would escalate)",
        ["coverage", "min confidence", "accuracy", "macro-F1"],
        rows,
    )
    below = conf < threshold
    kept = [i for i in range(len(gold)) if not below[i]]
    f_kept = macro_f1([gold[i] for i in kept], [pred[i] for i in kept]) if kept else float("nan")
    at80 = float(conf[order[round(0.8 * len(order)) - 1]])
    print(
        f"\nAt the default threshold {threshold:.2f}: {below.mean():.1%} escalated; "
        f"macro-F1 on kept {f_kept:.3f} (target >= 0.90 with <= 20 % escalated); "
        f"a threshold of {at80:.3f} escalates 20 %"
    )


def baseline_speed(train: list[dict[str, str]], test: list[dict[str, str]]) -> list[float]:
    vec = TfidfVectorizer(sublinear_tf=True)
    lr = LogisticRegression(max_iter=1000).fit(
        vec.fit_transform([text_of(r) for r in train]), [r["label"] for r in train]
    )
    out = []
    for row in test:
        t = time.perf_counter()
        lr.predict_proba(vec.transform([text_of(row)]))
        out.append((time.perf_counter() - t) * 1000)
    return out


def full_path_speed(settings, store, layer, rows):  # type: ignore[no-untyped-def]
    for r in rows:  # give the duplicate search something to look through
        store.upsert_issue(
            r["repo"], {"number": hash(r["title"]) % 10**6, "title": r["title"], "body": r["body"]}
        )
    if layer.reader_head() is not None:  # load the model first: a worker keeps it loaded
        layer.reader_encoder().encode(["warm-up"])
    ctx = JobContext(settings, store, None, layer)
    cfg, labels = default_config(), ["bug", "enhancement", "question"]
    classify_ms, plan_ms = [], []
    for r in rows:
        t = time.perf_counter()
        layer.classify(task="triage", scope=r["repo"], text=text_of(r), labels=LABELS)
        classify_ms.append((time.perf_counter() - t) * 1000)
    forget_embeddings(layer)  # the plan must encode each issue again, as a new issue would
    for r in rows:
        issue = IssueSnapshot(r["repo"], 0, r["title"], r["body"], "someone")
        t = time.perf_counter()
        plan_triage(ctx, None, issue, cfg, labels)
        plan_ms.append((time.perf_counter() - t) * 1000)
    return classify_ms, plan_ms


def forget_embeddings(layer) -> None:  # type: ignore[no-untyped-def]
    """Time encoding, not the caches: drop the vectors in memory and on disk (only the layer's;
    the reader's shared cache is swapped for an empty directory, its head is kept)."""
    clf = layer.classifier()
    if clf.embedded is not None:
        enc = clf.embedded.encoder
        enc.clear_memory()
        if enc.cache_dir is not None:
            shutil.rmtree(enc.cache_dir / enc.name, ignore_errors=True)
    if layer.reader_head() is not None:
        enc = layer.reader_encoder()
        enc.clear_memory()
        if enc.cache_dir.is_symlink():
            enc.cache_dir.unlink()
        shutil.rmtree(enc.cache_dir, ignore_errors=True)


def duplicates(folder: Path) -> None:
    with (folder / "hadoop_bugs.csv").open(newline="", encoding="utf-8") as fh:
        bugs = list(csv.DictReader(fh))
    ids = [int(b["Issue id"]) for b in bugs]
    docs = [
        Doc(int(b["Issue id"]), b["Summary"], b["Description"], b["Status"].lower()) for b in bugs
    ]
    pairs: list[tuple[int, set[int]]] = []
    with (folder / "hadoop_duplicate_pairs.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            dup = {int(x) for x in re.findall(r"\d+", row["Duplicate id"])} & set(ids)
            if int(row["Issue id"]) in ids and dup:
                pairs.append((int(row["Issue id"]), dup))
    t = time.perf_counter()
    index = DuplicateIndex(docs)
    build_s = time.perf_counter() - t
    by_id = {d.number: d for d in docs}
    hits = {1: 0, 3: 0, 5: 0, 10: 0}
    true_scores: list[list[float]] = []
    q_ms: list[float] = []
    for q, dup in pairs:
        t = time.perf_counter()
        found = index.similar(by_id[q].title, by_id[q].body, k=10, exclude=q)
        q_ms.append((time.perf_counter() - t) * 1000)
        for k in hits:
            hits[k] += any(c.number in dup for c in found[:k])
        true_scores.append([c.score for c in found[:3] if c.number in dup])
    rows = [[f"recall@{k}", f"{v / len(pairs):.3f}"] for k, v in hits.items()]
    table(
        f"Duplicates: TF-IDF cosine over {len(docs)} Hadoop issues, {len(pairs)} known pairs",
        ["metric", "value"],
        rows,
    )
    print(f"index built in {build_s:.2f} s; median query {statistics.median(q_ms):.1f} ms")
    cached_query_speed(docs, build_s)
    in_pairs = {q for q, _ in pairs} | {d for _, dup in pairs for d in dup}
    loners = [d for d in docs if d.number not in in_pairs][::8]  # no known duplicate
    loner_best = [
        (index.similar(d.title, d.body, k=1, exclude=d.number) or [None])[0] for d in loners
    ]
    loner_scores = [c.score if c else 0.0 for c in loner_best]
    thr_rows = []
    for thr in (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55):
        shown_true = sum(any(s >= thr for s in ts) for ts in true_scores) / len(pairs)
        alarms = float(np.mean([s >= thr for s in loner_scores]))
        thr_rows.append([f"{thr:.2f}", f"{shown_true:.3f}", f"{alarms:.3f}"])
    table(
        f"Advice threshold: queries whose true duplicate (top 3) is shown vs. comments on "
        f"{len(loners)} issues with no known duplicate",
        ["threshold", "true dup shown", "false alarm rate"],
        thr_rows,
    )


def cached_query_speed(docs: list[Doc], build_s: float) -> None:
    """What a triage run pays per new issue in a 2,500-issue repository, with the index cache."""
    from datetime import UTC, datetime

    from bot.dupes import IndexCache

    store = open_store(":memory:")
    for d in docs:
        store.upsert_issue("apache/hadoop", {"number": d.number, "title": d.title, "body": d.body})
    cache, now, q = IndexCache(), datetime.now(UTC), docs[0]
    t = time.perf_counter()
    cache.similar(store, "apache/hadoop", now, q.title, q.body, k=5, exclude=q.number)
    first = time.perf_counter() - t
    times = []
    for i, d in enumerate(docs[1:21]):
        store.upsert_issue("apache/hadoop", {"number": 10**9 + i, "title": d.title, "body": d.body})
        t = time.perf_counter()
        cache.similar(store, "apache/hadoop", now, d.title, d.body, k=5, exclude=10**9 + i)
        times.append((time.perf_counter() - t) * 1000)
    table(
        "Duplicate search per new issue in a 2,503-issue repository",
        ["path", "ms"],
        [
            ["fit the index from scratch (no cache)", f"{build_s * 1000:.0f}"],
            ["first query through the cache (fit + read store)", f"{first * 1000:.0f}"],
            ["later queries (new issues scored as extras)", f"{statistics.median(times):.1f}"],
        ],
    )


def read_speed(rows: list[dict[str, str]], n: int) -> None:
    """The reader's read (bot.llm.reader._last_state: the prompt without outputs, then its last
    token alone) against llama-cpp-python's own Llama.eval (every token an output), interleaved
    on the same n issues, one model, 2 threads: ms per read and how close the states are."""
    import llama_cpp

    from bot.llm.embed import prepare

    states = reader.ChatStates(load_settings().effective_model_path, threads=2)
    model = states._load()

    def own(tokens: list[int]) -> np.ndarray:
        model.reset()
        llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(model.ctx), True)
        model.eval(tokens)
        ptr = llama_cpp.llama_get_embeddings_ith(model.ctx, -1)
        return np.ctypeslib.as_array(ptr, shape=(model.n_embd(),)).copy()

    picked = rows[:: max(1, len(rows) // n)][:n]
    prompts = [reader.render(prepare(text_of(r)))[0].encode("utf-8") for r in picked]
    toks = [model.tokenize(p, add_bos=True, special=True)[-reader.CONTEXT :] for p in prompts]
    own(toks[0]), reader._last_state(model, toks[0])  # warm up
    t_own, t_read, a, b = [], [], [], []
    for tokens in toks:
        t = time.perf_counter()
        a.append(own(tokens))
        t_own.append(time.perf_counter() - t)
        t = time.perf_counter()
        b.append(reader._last_state(model, tokens))
        t_read.append(time.perf_counter() - t)
    x, y = np.stack(a), np.stack(b)
    cos = (x * y).sum(1) / np.linalg.norm(x, axis=1) / np.linalg.norm(y, axis=1)
    cx, cy = x - x.mean(0), y - x.mean(0)
    ccos = (cx * cy).sum(1) / np.linalg.norm(cx, axis=1) / np.linalg.norm(cy, axis=1)
    base = statistics.median(t_own)
    table(
        f"Reader read, {len(toks)} issues ({min(map(len, toks))}-{max(map(len, toks))} tokens),"
        f" interleaved; states: cosine min {cos.min():.5f}, centred on the mean {ccos.min():.4f}",
        ["read", "median ms", "x baseline"],
        [
            ["baseline: Llama.eval (every token an output)", f"{base * 1000:.0f}", "1.00"],
            [
                "reader: prompt without outputs, then the last token",
                f"{statistics.median(t_read) * 1000:.0f}",
                f"{statistics.median(t_read) / base:.2f}",
            ],
        ],
    )
    states.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    ap.add_argument("--train-share", type=float, default=0.7)
    ap.add_argument(
        "--full-path", type=int, default=60, help="issues timed through the full triage plan"
    )
    ap.add_argument(
        "--no-tune", action="store_true", help="skip tuning the encoder (~8 min per split)"
    )
    ap.add_argument("--reader", action="store_true", help="also the triage reader (headline split)")
    ap.add_argument(
        "--headline-only", action="store_true", help="skip the plain split and the duplicate search"
    )
    ap.add_argument(
        "--reader-cache", type=Path, default=Path("/tmp/smolbot-reader-bench/reader/states")
    )
    ap.add_argument(
        "--read-speed", type=int, metavar="N", help="only time the reader's read on N issues"
    )
    args = ap.parse_args()
    path = args.data / "issues-labeled-dev.csv"
    if args.read_speed:
        read_speed(load_issues(path, args.train_share, per_label=True)[1], args.read_speed)
        return
    print(
        "# Headline split: by time per repository and label (the data set sampled each label "
        "from a different time range; same label mix in train and test)"
    )
    split = load_issues(path, args.train_share, per_label=True)
    cache = args.reader_cache if args.reader else None
    classification(*split, args.full_path, tune_encoder=not args.no_tune, reader_cache=cache)
    if args.headline_only:
        return
    print(
        "\n# Plain split: by time per repository (label mix shifts: later issues are mostly bugs)"
    )
    split = load_issues(path, args.train_share)
    classification(*split, args.full_path, speed=False, tune_encoder=not args.no_tune)
    duplicates(args.data / "duplicates-dev")


if __name__ == "__main__":
    main()
