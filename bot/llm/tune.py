"""Fine-tune the triage encoder on the labeled examples, in the background.

MiniLM plus a linear head over the labels, trained end to end with cross-entropy; the head is then
dropped and the tuned encoder takes the stock one's place in the classifier's embedding stage
(logistic regressions on its embeddings, mixed with TF-IDF as before).

Measured (bench/triage_variants.py --ce, time split per repository and label, 1,050 examples):
4 epochs lift the mix from 0.712 to 0.727 / 0.744 / 0.732 macro-F1 over three seeds, and from
0.772 to 0.80-0.81 on the surest 80 %; 3 epochs gained almost nothing, so 4 it is. The same
fine-tune of all-mpnet-base-v2 (`--ce-encoder mpnet`, 256 tokens, 2 epochs) took 60 minutes and
mixed to 0.731 / 0.804: no better, at 2-3x the cost per issue, so MiniLM it is. Training took
6.5-9 minutes on one core, far too long for the model layer's lock. So:

- `start_background()` starts `python -m bot.llm.tune` as a child process at low priority and
  returns at once (the `tune_encoder` job calls it; workers keep triaging meanwhile);
- the child trains, saves the weights under `<data dir>/encoders/<fingerprint>/`, encodes every
  example with them into the embedding cache, and only then points `encoders/current.json` at them;
- the model layer sees the new fingerprint on its next classify and refits its logistic
  regressions from the cached embeddings (seconds, not minutes).

With a shared (PostgreSQL) store the child also publishes the weights there and the other
machines fetch them (bot/llm/encoder_share.py), so a fleet classifies with one encoder.

One tune or fetch at a time per data dir: the child holds an exclusive lock on
`encoders/tune.lock` for its whole run (the kernel drops it if the child dies). Every tune starts
from the stock weights, so a tune depends only on the examples and the seed, never on earlier
tunes.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from bot.llm import child
from bot.llm.embed import MODEL_NAME, PREPARE_VERSION, Encoder, prepare
from bot.llm.records import Example

log = logging.getLogger(__name__)

EPOCHS = 4
SEED = 0
BATCH = 16
LEARNING_RATE = 5e-5
MIN_EXAMPLES = 300  # measured with 735-1,050; fewer is unmeasured, so the stock encoder stays
MAX_EXAMPLES = 3000  # the newest: bounds a tune at ~25 min on one core
GROWTH = 0.25  # tune again once the examples grew by this share since the last tune
KEEP = 2  # tuned weight directories kept (the current one and the one before)
NICE = 10

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Tuned:
    """What `encoders/current.json` says: which weights, trained on what, how it went."""

    fingerprint: str
    examples: int
    labels: list[str]
    epochs: int
    seed: int
    seconds: float
    loss_first_epoch: float
    loss_last_epoch: float
    created_at: float
    prepared: int = 1  # embed.PREPARE_VERSION of the texts it was tuned on (1: before the field)

    @property
    def name(self) -> str:
        return f"{MODEL_NAME}-tuned-{self.fingerprint[:12]}"

    def weights(self, data_dir: Path) -> Path:
        return encoders_dir(data_dir) / self.fingerprint[:16]


def tuned_from(data: object) -> Tuned:
    """A manifest (current.json, a published tune's row) as a Tuned, its values of the types
    the code compares and slices: ValueError or TypeError otherwise. A row with `"fingerprint":
    null` or `"created_at": "soon"` parsed, then failed every machine's classify (None[:12],
    float >= str) until it was deleted by hand."""
    if not isinstance(data, dict):
        raise TypeError("a manifest is a JSON object")
    tuned = Tuned(**data)
    if not isinstance(tuned.fingerprint, str) or not re.fullmatch(
        r"[0-9a-f]{64}", tuned.fingerprint
    ):
        raise ValueError("fingerprint is not a sha256 (64 hex digits)")
    numbers = (tuned.seconds, tuned.loss_first_epoch, tuned.loss_last_epoch, tuned.created_at)
    counts = (tuned.examples, tuned.epochs, tuned.seed, tuned.prepared)
    if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in numbers):
        raise TypeError("seconds, losses and created_at are numbers")
    if not all(math.isfinite(x) for x in numbers):
        raise ValueError("seconds, losses and created_at are finite")
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in counts):
        raise TypeError("examples, epochs, seed and prepared are whole numbers")
    if not isinstance(tuned.labels, list) or not all(isinstance(x, str) for x in tuned.labels):
        raise TypeError("labels is a list of names")
    return tuned


def encoders_dir(data_dir: Path) -> Path:
    return data_dir / "encoders"


_CURRENT: dict[Path, tuple[tuple[int, int], Tuned | None]] = {}


def current(data_dir: Path) -> Tuned | None:
    """The tuned encoder in use, or None (never tuned, or its files are gone or unreadable).

    Cheap enough to call on every classify: the manifest is read again only when it changed.
    """
    path = encoders_dir(data_dir) / "current.json"
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    stamp = (st.st_mtime_ns, st.st_size)
    seen = _CURRENT.get(path)
    if seen is not None and seen[0] == stamp:
        return seen[1]
    tuned: Tuned | None = None
    try:
        tuned = tuned_from(json.loads(path.read_text(encoding="utf-8")))
        if not (tuned.weights(data_dir) / "modules.json").is_file():
            log.warning("%s names weights that are gone; using the stock encoder", path)
            tuned = None
    except (OSError, ValueError, TypeError) as err:
        log.warning("%s unreadable (%s); using the stock encoder", path, err)
    _CURRENT[path] = (stamp, tuned)
    return tuned


def due(
    examples: int,
    labels: int,
    last: Tuned | None,
    *,
    busy: bool = False,
    since: int | None = None,
) -> tuple[bool, str]:
    """Whether a tune should start now, and why (or why not). Pure: counts, last tune, busy.

    `since`: how many examples were learned (stored or relabeled) since the last tune started
    (the model layer counts them in the store); a tune is due when they are GROWTH of what it
    learned from. Without it the count decides, capped at MAX_EXAMPLES (what a tune takes) so
    that a long history does not tune on every check: past the cap it cannot tell new examples
    from old, and a history over MAX_EXAMPLES never tuned again, whatever repositories and
    labels came after."""
    if busy:
        return False, "a tune is running"
    if labels < 2:
        return False, f"{labels} label(s) among the examples: need two"
    if examples < MIN_EXAMPLES:
        return False, f"{examples} labeled examples: tuning starts at {MIN_EXAMPLES}"
    used = min(examples, MAX_EXAMPLES)
    if last is None:
        return True, f"{used} labeled examples and no tuned encoder yet"
    if last.prepared != PREPARE_VERSION:
        return True, "the tuned encoder learned from text prepared the old way; tuning again"
    if since is not None:
        more = math.ceil(last.examples * GROWTH)
        if since >= more:
            return True, (
                f"{since} labeled examples learned since the last tune ({last.examples} then)"
            )
        return False, (
            f"{since} labeled examples learned since the last tune; the next tune after"
            f" {more} ({last.examples} last time)"
        )
    if used >= last.examples * (1 + GROWTH):
        return True, f"{used} labeled examples, {last.examples} at the last tune"
    grow = int(last.examples * (1 + GROWTH))
    return False, f"{used} labeled examples; the next tune at {grow} ({last.examples} last time)"


def decide(
    examples: Sequence[Example],
    data_dir: Path,
    force: bool = False,
    *,
    published: Tuned | None = None,
    learned_since: Callable[[float], int] | None = None,
) -> tuple[bool, str]:
    """`due` for these examples and this data dir; `force` skips the count rules, not the rest.

    `published` is the newest tune in a shared store (bot/llm/encoder_share.py): when another
    machine tuned more recently, its tune is the last one counted. `learned_since(t)`: how many
    examples were learned at or after time t (Records.learned_since); with it, the examples new
    since the last tune started decide, not their count (which past MAX_EXAMPLES says nothing).
    """
    from bot.llm import embed

    if not embed.available():
        return False, f"the embed extra is not installed ({embed.INSTALL_HINT})"
    busy, labels = running(data_dir), len({e.label for e in examples})
    if force and not busy and labels >= 2:
        return True, f"asked for, with {len(examples)} labeled examples"
    last = current(data_dir)
    if published is not None and (last is None or published.created_at > last.created_at):
        last = published
    since = None
    if learned_since is not None and last is not None:
        since = learned_since(last.created_at - last.seconds)  # when it started training
    return due(len(examples), labels, last, busy=busy, since=since)


# --- the lock ---------------------------------------------------------------------------------
def exclusive(data_dir: Path) -> contextlib.AbstractContextManager[bool]:
    """Hold encoders/tune.lock without waiting; yields False when another process holds it."""
    return child.exclusive(encoders_dir(data_dir) / "tune.lock")


def running(data_dir: Path) -> bool:
    """True while a tune or fetch holds the lock for `data_dir` (any process of this machine)."""
    return child.held(encoders_dir(data_dir) / "tune.lock")


# --- training ---------------------------------------------------------------------------------
def train_weights(
    examples: Sequence[Example],
    out_dir: Path,
    *,
    epochs: int = EPOCHS,
    seed: int = SEED,
    threads: int = 1,
    progress: Progress | None = None,
) -> tuple[Any, float, float]:
    """Fine-tune a fresh copy of the stock weights; save them to `out_dir`.

    Returns (the tuned model, mean loss of the first epoch, mean loss of the last).
    """
    import torch

    from bot.llm.embed import MAX_TOKENS, stock_model

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    model = stock_model()  # a fresh copy, never the shared one
    model.max_seq_length = MAX_TOKENS
    classes = sorted({e.label for e in examples})
    head = torch.nn.Linear(model.get_embedding_dimension(), len(classes))
    opt = torch.optim.AdamW(
        [*model.parameters(), *head.parameters()], lr=LEARNING_RATE, weight_decay=0.01
    )
    texts = [prepare(e.text) for e in examples]
    y = torch.tensor([classes.index(e.label) for e in examples])
    order, rnd = list(range(len(texts))), random.Random(seed)
    steps, done, losses = epochs * -(-len(order) // BATCH), 0, []
    model.train()
    for _ in range(epochs):
        rnd.shuffle(order)
        total = 0.0
        for s in range(0, len(order), BATCH):
            idx = order[s : s + BATCH]
            emb = model(model.preprocess([texts[i] for i in idx]))["sentence_embedding"]
            loss = torch.nn.functional.cross_entropy(head(emb), y[idx])
            opt.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
            total += float(loss.detach()) * len(idx)
            done += 1
            if progress is not None:
                progress(done, steps)
        losses.append(total / len(order))
    model.eval()
    model.save(str(out_dir))
    return model, losses[0], losses[-1]


def fingerprint(weights: Path) -> str:
    """sha256 over the saved weight files: names the weights in records and caches.

    Only the tensors: the tokenizer's saved config records incidental loading flags.
    """
    h = hashlib.sha256()
    for p in sorted(weights.rglob("*.safetensors")):
        h.update(str(p.relative_to(weights)).encode())
        with p.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def tune(
    examples: Sequence[Example],
    data_dir: Path,
    *,
    epochs: int = EPOCHS,
    seed: int = SEED,
    threads: int = 1,
    progress: Progress | None = None,
) -> Tuned:
    """Train, save, pre-encode the examples, then publish `current.json` (in that order).

    Raises RuntimeError when another tune holds the lock, ValueError when the examples cannot
    train a classifier (fewer than two labels).
    """
    rows = list(examples)[-MAX_EXAMPLES:]
    labels = sorted({e.label for e in rows})
    if len(labels) < 2:
        raise ValueError(f"{len(rows)} examples with {len(labels)} label(s): need two labels")
    with exclusive(data_dir) as got:
        if not got:
            raise RuntimeError(f"a tune is already running for {data_dir}")
        root = encoders_dir(data_dir)
        clear_leftovers(root)
        tmp = Path(tempfile.mkdtemp(prefix=".tuning-", dir=root))
        started = time.perf_counter()
        try:
            model, first, last = train_weights(
                rows, tmp, epochs=epochs, seed=seed, threads=threads, progress=progress
            )
            fp = fingerprint(tmp)
            tuned = Tuned(
                fp,
                len(rows),
                labels,
                epochs,
                seed,
                0.0,
                round(first, 4),
                round(last, 4),
                0.0,
                prepared=PREPARE_VERSION,
            )
            final = tuned.weights(data_dir)
            if final.exists():  # the same examples and seed again: the same weights
                shutil.rmtree(tmp)
            else:
                tmp.rename(final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        encode_examples(model, tuned, examples, data_dir)
        seconds = round(time.perf_counter() - started, 1)
        tuned = replace(tuned, seconds=seconds, created_at=time.time())
        switch_to(tuned, data_dir)
        log.info("encoder tuned on %d examples in %.0f s: %s", len(rows), seconds, tuned.name)
        return tuned


def encode_examples(model: Any, tuned: Tuned, examples: Sequence[Example], data_dir: Path) -> None:
    """Cache the embedding stage's examples as `model` encodes them, before any layer asks."""
    from bot.llm.embed_stage import MAX_EXAMPLES as STAGE_EXAMPLES

    enc = Encoder(model, data_dir / "embeddings", name=tuned.name)
    enc.encode([e.text for e in list(examples)[-STAGE_EXAMPLES:]])


def switch_to(tuned: Tuned, data_dir: Path) -> None:
    """Point `current.json` at `tuned` (its weights are in place); drop tunes older than KEEP."""
    root = encoders_dir(data_dir)
    _write_json(root / "current.json", asdict(tuned))
    _prune(root, keep={tuned.fingerprint[:16]})


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(tmp, path)  # readers see the old manifest or the new one, never half of one


def _prune(root: Path, keep: set[str]) -> None:
    """Keep the newest KEEP weight directories (always those in `keep`); drop older tunes."""
    dirs = sorted(
        (d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")),
        key=lambda d: d.stat().st_mtime,
        reverse=True,
    )
    kept = [d for d in dirs if d.name in keep]
    for d in dirs:
        if d in kept:
            continue
        if len(kept) < KEEP:
            kept.append(d)
        else:
            shutil.rmtree(d, ignore_errors=True)


def clear_leftovers(root: Path) -> None:
    """A tune or fetch killed half way leaves its scratch files; only the lock holder calls this."""
    for pattern in (".tuning-*", ".fetching-*"):
        for p in root.glob(pattern):
            shutil.rmtree(p, ignore_errors=True)


# --- in the background ------------------------------------------------------------------------
def start_background(
    examples: Sequence[Example],
    data_dir: Path,
    *,
    epochs: int = EPOCHS,
    threads: int = 1,
    publish_to: str | None = None,
) -> subprocess.Popen[bytes]:
    """Start a tune in a child process at low priority; returns at once.

    The examples go to the child in a file (the child needs no settings). `publish_to`, a shared
    store's URL, has the child copy the weights there for the other machines
    (bot/llm/encoder_share.py).
    """
    name = str(child.write_examples(examples, encoders_dir(data_dir)))
    args = ["--examples", name, "--epochs", str(epochs), "--threads", str(threads)]
    args += ["--remove-examples", *(["--store", publish_to] if publish_to else [])]
    return _spawn(args, data_dir)


def start_fetch(data_dir: Path, store_url: str) -> subprocess.Popen[bytes]:
    """Start fetching the store's newest tune in a child process at low priority (see
    bot/llm/encoder_share.py); returns at once."""
    return _spawn(["--fetch", "--store", store_url], data_dir)


def _spawn(args: list[str], data_dir: Path) -> subprocess.Popen[bytes]:
    """`python -m bot.llm.tune ARGS` at nice NICE; its output goes to `encoders/tune.log`."""
    log = encoders_dir(data_dir) / "tune.log"
    return child.spawn("bot.llm.tune", ["--data-dir", str(data_dir), *args], log, NICE)


def main(argv: Sequence[str] | None = None) -> int:
    child.as_child()
    ap = argparse.ArgumentParser(prog="python -m bot.llm.tune", description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--examples", type=Path, help="JSON lines: scope, text, label")
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--remove-examples", action="store_true", help="delete the file when read")
    ap.add_argument("--store", help="a shared store's URL: publish the tune there (or --fetch)")
    ap.add_argument("--fetch", action="store_true", help="fetch the store's newest tune instead")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if args.fetch:
        if not args.store:
            ap.error("--fetch needs --store")
        return _fetch_main(args.store, args.data_dir)
    if args.examples is None:
        ap.error("--examples is required to tune")
    try:
        examples = child.read_examples(args.examples, "tune")
    finally:
        if args.remove_examples:
            args.examples.unlink(missing_ok=True)
    try:
        tuned = tune(examples, args.data_dir, epochs=args.epochs, threads=args.threads)
    except (RuntimeError, ValueError) as err:
        log.error("tune not done: %s", err)
        return 2
    if args.store:
        _publish_main(args.store, tuned, args.data_dir)
    sys.stdout.write(json.dumps(asdict(tuned)) + "\n")
    return 0


def _publish_main(url: str, tuned: Tuned, data_dir: Path) -> None:
    """Share the tune; a failure leaves it in use here and is logged, with what to do."""
    from bot.llm import encoder_share
    from bot.store import open_store

    try:
        store = open_store(url)
        try:
            pub = encoder_share.publish(store, tuned, tuned.weights(data_dir))
        finally:
            store.close()
    except Exception as err:  # the store is down or full: this machine keeps its tune
        log.error(
            "%s is in use here but was not published to the store (%s); the other machines keep"
            " their encoder until `smolbot models tune --force` runs with the store reachable",
            tuned.name,
            err,
        )
        return
    log.info(
        "published %s to the store: %d files, %.1f MB", tuned.name, len(pub.files), pub.megabytes
    )


def _fetch_main(url: str, data_dir: Path) -> int:
    from bot.llm import encoder_share
    from bot.store import open_store

    try:
        store = open_store(url)
        try:
            encoder_share.install(store, data_dir)
        finally:
            store.close()
    except Exception as err:  # the store is down, the files are damaged (FetchError), …
        log.error("fetch not done: %s", err)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
