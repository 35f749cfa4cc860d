"""The reader: a second local stage for an issue's kind, for the issues the first stage is unsure of.

The local chat model reads the issue inside a prompt that asks for its kind
(prompts/triage_reader.yaml, the issue fenced as data), with the answer started ("This issue is
a"); nothing is generated. Its hidden state at that last position, centred on the examples' mean and
scaled to unit length, goes to logistic regressions trained on the labeled examples: a general one
and one per scope, blended like the first stage's. The model's words are never read, so the head
can only pick one of the asked labels, with its own probability as the confidence.

Measured (bench/triage.py --reader, time split per repository and label, 450 test issues, Qwen
0.5B, behind the tuned first stage), with issue templates' scaffolding out of the text it reads
(embed.prepare): the local path went from 0.736 to 0.775 macro-F1, from 0.811 to 0.836 on the
surest 80 %, and at the 0.6 threshold from 36.0 % to 24.0 % of issues left unsure, with macro-F1
0.857 -> 0.845 on the ones kept; the reader alone scored 0.771. (With the scaffolding in its 700
characters: 0.764 behind the first stage, 0.726 alone.) Re-run with the read as it is now
(_last_state: no outputs but the last token): 0.773, 0.839 on the surest 80 %, 24.0 % unsure with
0.845 on the ones kept, the reader alone 0.761. Reading costs ~1 s an issue on 2 cores (the 450
test issues: 478 s), 20x the first stage, hence a second stage: it reads only what the first stage
is unsure of (classify() mean 264 and 307 ms an issue in two runs, median 41 and 49 ms).

Opt-in (`SMOLBOT_TRIAGE_READER=true`), and only with the llama extra (gpt4all exposes no hidden
states). Every example has to be read once (~1 s each), so:

- `start_background()` starts `python -m bot.llm.reader` at low priority (the `tune_encoder` job
  and `smolbot models reader` call it); it reads the examples not read yet into a disk cache keyed
  by the model file, the prompt's version and the text, then writes `reader/current.json`;
- the model layer refits the head from that cache when the manifest changes (seconds), using only
  examples already read: nothing waits for the model in the request path except the one issue.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bot.llm import child
from bot.llm.backends import CHATML_SYSTEM, CHATML_USER

# a scope's head as the first stage's, and shrunk towards uniform by the same rule
from bot.llm.classifier import BLEND_K, MIN_SCOPE_EXAMPLES, evidence, shrunk
from bot.llm.embed import PREPARE_VERSION, Encoder, Vectors
from bot.llm.embed_stage import EmbedModel
from bot.llm.modelfile import fingerprint
from bot.llm.prompts import PROMPTS_DIR, load_prompt
from bot.llm.records import Example

log = logging.getLogger(__name__)

PROMPT = "triage_reader"
ANSWER_START = "This issue is a"  # where the model would name the kind: its state there is read
MAX_CHARS = 700  # of the prepared issue (bench: 700 scored as well as longer at less time)
CONTEXT = 1024  # tokens: the prompt plus 700 characters fit with room to spare
MIN_EXAMPLES = 30  # read examples before the head answers (two labels at least)
MAX_EXAMPLES = 3000  # the newest: bounds a first read at ~50 min on 2 cores
GROWTH = 20  # read again once this many examples arrived since the last read
# The answer below the threshold is the mean of the first stage's and the reader's probabilities.
# Chosen on an inner time split of the training issues (bench: label/time split): the mean scored
# 0.772 macro-F1 and accepted 69 % at 0.858 accuracy at the 0.6 threshold; the reader's own
# probabilities instead scored 0.749 and accepted 86 % at 0.790 (overconfident on later issues).
FIRST_SHARE = 0.5
NICE = 10
POOLING_NONE = 0  # llama_cpp.LLAMA_POOLING_TYPE_NONE: a state per token, not one per text
INSTALL_HINT = "the reader needs llama-cpp-python: pip install 'smolbot[llama]'"


def reader_dir(data_dir: Path) -> Path:
    return data_dir / "reader"


def available() -> bool:
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return False
    return True


def render(text: str, prompts_dir: Path | None = None) -> tuple[str, str]:
    """(the whole ChatML text the model reads, the prompt's version); the issue is fenced as data."""
    p = load_prompt(PROMPT, prompts_dir or PROMPTS_DIR)
    r = p.render({"issue": text[:MAX_CHARS]})
    return CHATML_SYSTEM.format(r.system) + CHATML_USER.format(r.user) + ANSWER_START, r.version


def prompt_version(prompts_dir: Path | None = None) -> str:
    return load_prompt(PROMPT, prompts_dir or PROMPTS_DIR).version


class ChatStates:
    """llama.cpp with embeddings on over the chat model: the hidden state at the prompt's last token.

    Shaped like a sentence-transformers model (`encode(texts, ...)`) so that bot.llm.embed.Encoder
    caches its rows; the rows are raw states (the head centres them), whatever `normalize_*` says.
    """

    def __init__(self, model_path: Path, threads: int = 2, prompts_dir: Path | None = None) -> None:
        self.path = model_path
        self.threads = threads
        self.prompts_dir = prompts_dir
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        # and the way issues are prepared: another way is another text to read (and to cache)
        tag = prompt_version(self.prompts_dir).replace("@", "-")
        fp, prep = fingerprint(self.path), PREPARE_VERSION
        return f"reader-{self.path.stem}-{fp}-{tag}-{MAX_CHARS}-p{prep}"

    def _load(self) -> Any:
        if self._model is None:
            from bot.llm.llama_backend import load_llama

            self._model = load_llama(
                self.path,
                embedding=True,
                pooling_type=POOLING_NONE,
                n_ctx=CONTEXT,
                n_batch=CONTEXT,
                n_ubatch=CONTEXT,
                n_threads=self.threads,
                n_threads_batch=self.threads,
            )
        return self._model

    def encode(self, texts: Sequence[str], **_: Any) -> Vectors:
        rows = []
        with self._lock:
            model = self._load()
            for text in texts:
                prompt, _version = render(text, self.prompts_dir)
                # special=True: the ChatML markers are the model's own tokens, not text
                tokens = model.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
                rows.append(_last_state(model, tokens[-CONTEXT:]))
        return np.stack(rows).astype(np.float32)

    def close(self) -> None:
        with self._lock:
            if self._model is not None:
                self._model.close()
                self._model = None


def _last_state(model: Any, tokens: list[int]) -> Vectors:
    """Evaluate `tokens` from an empty context; the last token's hidden state.

    Two batches: every token but the last with embeddings off and no outputs (they only fill the
    KV cache), then the last one alone with embeddings on. With embeddings on, llama.cpp makes
    every token of a batch an output and runs the last layer and the output head over all of them;
    only the last one's state is read. `bench/triage.py --read-speed N` (Qwen 0.5B, 2 threads,
    interleaved with Llama.eval): 0.83x its time on 15 dev issues, 0.71x on 30 (median 1,314 ->
    928 ms); the state at cosine >= 0.99985 of Llama.eval's (>= 0.9956 once centred, where two
    issues sit at -0.3..0.3): the last token's matrix products run as a batch of one, and those
    kernels round differently. States cached by the all-outputs read stay valid: the change is far
    below the difference between two issues."""
    import llama_cpp

    model.reset()
    llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(model.ctx), True)
    try:
        llama_cpp.llama_set_embeddings(model.ctx, False)
        _decode(model, tokens[:-1], 0, outputs=False)
    finally:
        llama_cpp.llama_set_embeddings(model.ctx, True)
    _decode(model, tokens[-1:], len(tokens) - 1, outputs=True)
    n_embd = model.n_embd()
    ptr = llama_cpp.llama_get_embeddings_ith(model.ctx, -1)
    return np.ctypeslib.as_array(ptr, shape=(n_embd,)).astype(np.float32).copy()


def _decode(model: Any, tokens: list[int], start: int, *, outputs: bool) -> None:
    """One llama.cpp batch of `tokens` at positions start.. in sequence 0."""
    import llama_cpp

    if not tokens:
        return
    batch = llama_cpp.llama_batch_init(len(tokens), 0, 1)
    try:
        for i, token in enumerate(tokens):
            batch.token[i], batch.pos[i], batch.n_seq_id[i] = token, start + i, 1
            batch.seq_id[i][0], batch.logits[i] = 0, outputs
        batch.n_tokens = len(tokens)
        if (rc := llama_cpp.llama_decode(model.ctx, batch)) != 0:
            raise RuntimeError(f"llama_decode failed ({rc}) on {len(tokens)} tokens")
    finally:
        llama_cpp.llama_batch_free(batch)


_STATES: dict[tuple[Path, Path, Path | None], Encoder] = {}
_STATES_LOCK = threading.Lock()


def get_reader(
    model_path: Path, data_dir: Path, threads: int = 2, prompts_dir: Path | None = None
) -> Encoder:
    """The process-wide reader for this model file and data dir (the model loads on first use)."""
    with _STATES_LOCK:
        key = (model_path, data_dir, prompts_dir)
        enc = _STATES.get(key)
        if enc is None:
            model = ChatStates(model_path, threads, prompts_dir)
            enc = _STATES[key] = Encoder(model, reader_dir(data_dir) / "states", model.name)
        return enc


# --- the head ---------------------------------------------------------------------------------
def centred(x: Vectors, mean: Vectors) -> Vectors:
    """Decoder states share one large direction: subtract the examples' mean, scale to unit length."""
    y = x - mean
    out: Vectors = y / np.maximum(np.linalg.norm(y, axis=1, keepdims=True), 1e-9)
    return out


@dataclass
class Head:
    """Logistic regressions on centred states: general, and per scope with enough examples."""

    mean: Vectors
    general: EmbedModel
    scoped: dict[str, EmbedModel] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    kinds: dict[str, int] = field(default_factory=dict)  # examples by label, all scopes

    @property
    def examples(self) -> int:
        return sum(self.counts.values())

    @classmethod
    def fit(cls, x: Vectors, examples: Sequence[Example]) -> Head | None:
        """None until MIN_EXAMPLES examples with two labels at least."""
        labels = [e.label for e in examples]
        if len(examples) < MIN_EXAMPLES or len(set(labels)) < 2:
            return None
        mean = x.mean(axis=0)
        xc = centred(x, mean)
        head = cls(mean, EmbedModel.fit(xc, labels), kinds=dict(Counter(labels)))
        by_scope: dict[str, list[int]] = {}
        for i, e in enumerate(examples):
            by_scope.setdefault(e.scope, []).append(i)
        for scope, idx in by_scope.items():
            head.counts[scope] = len(idx)
            seen = [labels[i] for i in idx]
            if len(idx) >= MIN_SCOPE_EXAMPLES and len(set(seen)) >= 2:
                head.scoped[scope] = EmbedModel.fit(xc[idx], seen)
        return head

    def evidence(self, labels: Sequence[str]) -> int:
        """How many of its examples the shrink towards uniform counts (classifier.evidence)."""
        return evidence(self.kinds, labels, self.examples)

    def probabilities(self, scope: str, x: Vectors, labels: Sequence[str]) -> dict[str, float]:
        """P(label) over `labels`, shrunk towards uniform as the first stage's are (SHRINK_K, by
        the examples it learned from: `evidence`). Unshrunk, the regressions gave a label no
        example had nothing and were sure of what a lopsided history taught: 210 bugs and 2
        features made every question a bug at 0.9, and averaged with the first stage's 0.25
        (combine), every non-bug was labeled a bug at 0.6 or more without escalating."""
        xc = centred(x.reshape(1, -1), self.mean)
        p = self.general.proba(xc)
        local = self.scoped.get(scope)
        if local is not None:
            w = self.counts[scope] / (self.counts[scope] + BLEND_K)
            q = local.proba(xc)
            p = {k: (1 - w) * p.get(k, 0.0) + w * q.get(k, 0.0) for k in set(p) | set(q)}
        asked = {k: float(p.get(k, 0.0)) for k in labels}
        if sum(asked.values()) <= 0:
            return {k: 1.0 / len(labels) for k in labels}
        return shrunk(asked, self.evidence(labels), labels)


def combine(first: dict[str, float], read: dict[str, float]) -> dict[str, float]:
    """The answer for an issue the first stage is unsure of: the mean of both stages' probabilities
    (each shrunk towards uniform by its own evidence, so the mean is no surer than they allow)."""
    return {k: FIRST_SHARE * first.get(k, 0.0) + (1 - FIRST_SHARE) * v for k, v in read.items()}


def read_rows(enc: Encoder, examples: Sequence[Example]) -> tuple[Vectors, list[Example]]:
    """The states of the examples already read (from the cache; nothing is read here)."""
    found = enc.lookup([e.text for e in examples])
    keep = [i for i, v in enumerate(found) if v is not None]
    if not keep:
        return np.zeros((0, 1), np.float32), []
    x = np.stack([found[i] for i in keep])  # type: ignore[misc]
    return x, [examples[i] for i in keep]


# --- what was read ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Manifest:
    """`reader/current.json`: which reader, how many examples it read, when."""

    name: str
    examples: int
    seconds: float
    created_at: float


def current(data_dir: Path) -> Manifest | None:
    path = reader_dir(data_dir) / "current.json"
    try:
        return Manifest(**json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as err:
        log.warning("%s unreadable (%s): the examples will be read again", path, err)
        return None


def status(data_dir: Path) -> str:
    """One line for `smolbot doctor` and `smolbot models list`: what was read, or what to run."""
    done = current(data_dir)
    busy = " (reading now)" if running(data_dir) else ""
    if done is None:
        return f"no examples read yet{busy}: `smolbot models reader` (the tune job does it too)"
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(done.created_at))
    return f"{done.examples} examples read at {when} with {done.name}{busy}"


def stamp(data_dir: Path) -> tuple[int, int] | None:
    """Changes whenever a read finishes: the layer refits its head then."""
    try:
        st = (reader_dir(data_dir) / "current.json").stat()
    except FileNotFoundError:
        return None
    return st.st_mtime_ns, st.st_size


def due(
    examples: int,
    labels: int,
    name: str,
    last: Manifest | None,
    *,
    busy: bool = False,
    unread: int | None = None,
) -> tuple[bool, str]:
    """Whether a read should start now, and why (or why not). Pure: counts, last read, busy.

    `unread`: how many of the examples a read takes (the newest MAX_EXAMPLES) have no state
    read yet (the model layer counts them in the cache). Without it the examples' count past
    the last read's stands for it, which is exact below MAX_EXAMPLES only: the count capped at
    MAX_EXAMPLES, as it was, never made a read due again once ~2,980 examples were read, and new
    repositories and labels never reached the reader."""
    if busy:
        return False, "the reader is reading the examples"
    if labels < 2:
        return False, f"{labels} label(s) among the examples: need two"
    if examples < MIN_EXAMPLES:
        return False, f"{examples} labeled examples: the reader starts at {MIN_EXAMPLES}"
    if last is None:
        return True, f"{min(examples, MAX_EXAMPLES)} labeled examples not read yet"
    if last.name != name:
        return True, f"the model or prompt changed since the last read ({last.name})"
    if unread is not None:
        if unread >= GROWTH:
            used = min(examples, MAX_EXAMPLES)
            return True, f"{unread} of the newest {used} labeled examples not read yet"
    elif examples > MAX_EXAMPLES and examples >= last.examples + GROWTH:
        return True, (
            f"{examples} labeled examples, {last.examples} read at the last read (it reads the"
            f" newest {MAX_EXAMPLES}): the ones not read yet are read"
        )
    elif examples >= last.examples + GROWTH:
        return True, f"{examples - last.examples} labeled examples arrived since the last read"
    return False, f"{last.examples} labeled examples read; the next read after {GROWTH} more"


def read_examples(
    enc: Encoder,
    examples: Sequence[Example],
    data_dir: Path,
    *,
    every: int = 25,
    progress: Callable[[int, int], None] | None = None,
) -> Manifest:
    """Read every example not read yet (newest MAX_EXAMPLES), then write the manifest."""
    rows = list(examples)[-MAX_EXAMPLES:]
    started = time.perf_counter()
    todo = [
        e.text for e, v in zip(rows, enc.lookup([e.text for e in rows]), strict=True) if v is None
    ]
    log.info("reader: %d of %d examples to read with %s", len(todo), len(rows), enc.name)
    for i in range(0, len(todo), every):
        enc.encode(todo[i : i + every])
        log.info("reader: %d of %d read", min(i + every, len(todo)), len(todo))
        if progress is not None:
            progress(min(i + every, len(todo)), len(todo))
    done = Manifest(enc.name, len(rows), round(time.perf_counter() - started, 1), time.time())
    path = reader_dir(data_dir) / "current.json"
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(asdict(done)), encoding="utf-8")
    os.replace(tmp, path)
    return done


# --- in the background ------------------------------------------------------------------------
def exclusive(data_dir: Path) -> contextlib.AbstractContextManager[bool]:
    """Hold reader/reader.lock without waiting; yields False when another process holds it."""
    return child.exclusive(reader_dir(data_dir) / "reader.lock")


def running(data_dir: Path) -> bool:
    return child.held(reader_dir(data_dir) / "reader.lock")


def start_background(
    examples: Sequence[Example],
    data_dir: Path,
    model_path: Path,
    *,
    threads: int = 2,
    prompts_dir: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start reading the examples in a child process at low priority; returns at once."""
    root = reader_dir(data_dir)
    name = str(child.write_examples(examples, root))
    args = ["--data-dir", str(data_dir), "--model", str(model_path), "--examples", name]
    args += ["--threads", str(threads), *(["--prompts", str(prompts_dir)] if prompts_dir else [])]
    return child.spawn("bot.llm.reader", args, root / "reader.log", NICE)


def main(argv: Sequence[str] | None = None) -> int:
    child.as_child()
    ap = argparse.ArgumentParser(
        prog="python -m bot.llm.reader", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--model", type=Path, required=True, help="the local model's GGUF file")
    ap.add_argument("--examples", type=Path, required=True, help="JSON lines: scope, text, label")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prompts", type=Path, help="the prompts directory (default: the shipped one)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        examples = child.read_examples(args.examples, "reader")
    finally:
        args.examples.unlink(missing_ok=True)
    with exclusive(args.data_dir) as got:
        if not got:
            log.info("reader: another process is reading the examples; nothing to do")
            return 0
        enc = get_reader(args.model, args.data_dir, args.threads, args.prompts)
        try:
            done = read_examples(enc, examples, args.data_dir)
        except Exception as err:  # a missing or broken model file: say so in the log, once
            log.error("reader: examples not read: %s", err)
            return 2
    sys.stdout.write(json.dumps(asdict(done)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
