"""A read (the triage reader) and a tune (the encoder) come due by the examples they have not
seen, not by a count capped at what they take (MAX_EXAMPLES): past the cap the count stood still,
and new repositories and labels never reached them again."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.llm import ModelLayer, embed, reader, tune
from bot.llm.embed import PREPARE_VERSION, Encoder
from bot.llm.records import Records
from bot.store import Store
from tests.llm.conftest import make_settings


# --- the reader ---------------------------------------------------------------------------------
def test_past_the_cap_a_read_is_due_by_the_examples_not_read_yet() -> None:
    last = reader.Manifest("r", reader.MAX_EXAMPLES, 1.0, 0.0)
    assert reader.due(50_000, 4, "r", last, unread=25) == (
        True,
        f"25 of the newest {reader.MAX_EXAMPLES} labeled examples not read yet",
    )
    assert reader.due(50_000, 4, "r", last, unread=19)[0] is False
    assert reader.due(50_000, 4, "r", last, unread=0)[0] is False
    # without the count of what is not read, a count past the cap cannot say: read what is new
    assert reader.due(50_000, 4, "r", last)[0] is True
    assert reader.due(reader.MAX_EXAMPLES + 19, 4, "r", last)[0] is False
    # below the cap, as before
    small = reader.Manifest("r", 100, 1.0, 0.0)
    assert reader.due(119, 3, "r", small) == (
        False,
        "100 labeled examples read; the next read after 20 more",
    )
    assert reader.due(120, 3, "r", small)[0] is True


class Fixed:
    """A reader without the model: a fixed state per text."""

    def encode(self, texts: list[str], **_: Any) -> np.ndarray:
        return np.stack([np.full(8, float(len(t)), np.float32) for t in texts])


def texts(start: int, n: int) -> list[tuple[str, str]]:
    return [
        ("bug" if i % 2 else "feature", f"Issue {i}\n\nbody of issue {i}")
        for i in range(start, start + n)
    ]


def test_the_layer_counts_the_examples_not_read_in_the_cache(
    tmp_path: Path, llm_store: Store, model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not reader.available():
        pytest.skip(reader.INSTALL_HINT)
    monkeypatch.setattr(reader, "MAX_EXAMPLES", 40)  # what a read takes, small for the test
    layer = ModelLayer(make_settings(tmp_path, triage_reader=True), llm_store)
    for lb, t in texts(0, 50):
        layer.learn("o/r", t, lb, "backfill")
    name = layer.reader_encoder().name
    cache = Encoder(Fixed(), reader.reader_dir(layer.settings.data_dir) / "states", name)
    read = reader.read_examples(cache, layer.records.examples(), layer.settings.data_dir)
    assert read.examples == 40 and read.name == name
    assert layer.reader_due() == (False, "40 labeled examples read; the next read after 20 more")
    for lb, t in texts(100, 25):  # a new repository's labels, say: 75 examples, the newest 40
        layer.learn("n/new", t, lb, "backfill")
    assert layer.reader_due() == (True, "25 of the newest 40 labeled examples not read yet")
    reader.read_examples(cache, layer.records.examples(), layer.settings.data_dir)
    assert layer.reader_due()[0] is False


# --- the tune -----------------------------------------------------------------------------------
def made(examples: int, created_at: float = 0.0, seconds: float = 1.0) -> tune.Tuned:
    return tune.Tuned(
        "ab" * 32,
        examples,
        ["bug", "feature"],
        4,
        0,
        seconds,
        1.0,
        0.5,
        created_at,
        PREPARE_VERSION,
    )


def test_past_the_cap_a_tune_is_due_by_the_examples_learned_since() -> None:
    last = made(tune.MAX_EXAMPLES)
    more = int(tune.MAX_EXAMPLES * tune.GROWTH)
    assert tune.due(50_000, 3, last, since=more) == (
        True,
        f"{more} labeled examples learned since the last tune ({tune.MAX_EXAMPLES} then)",
    )
    assert tune.due(50_000, 3, last, since=more - 1)[0] is False
    assert tune.due(50_000, 3, last, since=0)[0] is False
    assert tune.due(400, 3, made(400), since=100)[0] is True
    assert tune.due(10_000, 3, last, busy=True, since=10_000) == (False, "a tune is running")
    old = tune.Tuned(**{**asdict(last), "prepared": PREPARE_VERSION - 1})
    assert tune.due(50_000, 3, old, since=0)[0] is True  # prepared the old way: as before


def test_decide_counts_the_examples_learned_since_the_last_tune_started(
    tmp_path: Path, llm_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tune, "MIN_EXAMPLES", 10)
    monkeypatch.setattr(tune, "MAX_EXAMPLES", 40)
    monkeypatch.setattr(embed, "available", lambda: True)
    rec = Records(llm_store)
    for lb, t in texts(0, 60):
        rec.learn("o/r", t, lb, "backfill")
    examples = rec.examples()
    # tuned on the newest 40 of 60: it started after they were learned, and took 5 s
    started = time.time() + 0.001
    time.sleep(0.01)
    last = made(40, created_at=started + 5.0, seconds=5.0)
    args: dict[str, Any] = {"published": last, "learned_since": rec.learned_since}
    assert tune.decide(examples, tmp_path, **args)[0] is False
    for lb, t in texts(100, 9):
        rec.learn("n/new", t, lb, "backfill")
    assert tune.decide(rec.examples(), tmp_path, **args)[0] is False  # 9 < 40 x 0.25
    rec.learn("n/new", "One more\n\nthe tenth", "question", "backfill")
    assert tune.decide(rec.examples(), tmp_path, **args) == (
        True,
        "10 labeled examples learned since the last tune (40 then)",
    )
    # the count alone, capped at 40, says no
    assert tune.decide(rec.examples(), tmp_path, published=last)[0] is False


def test_the_layer_gives_the_tune_the_store_s_count(
    tmp_path: Path, llm_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def decide(examples: Any, data_dir: Path, force: bool = False, **kw: Any) -> tuple[bool, str]:
        seen.update(kw)
        return False, "not now"

    monkeypatch.setattr(tune, "decide", decide)
    layer = ModelLayer(make_settings(tmp_path), llm_store)
    assert layer.start_tune() == (False, "not now")
    layer.learn("o/r", "Crash\n\nboom", "bug", "human")
    assert seen["learned_since"](0.0) == 1 and seen["learned_since"](time.time() + 60) == 0


def test_learned_since_counts_new_and_relabeled_examples(llm_store: Store) -> None:
    rec = Records(llm_store)
    rec.learn("o/r", "Crash\n\nboom", "bug", "backfill")
    rec.learn("o/r", "Add dark mode\n\nplease", "feature", "backfill")
    cut = time.time()
    time.sleep(0.01)
    assert rec.learned_since(cut) == 0
    rec.learn("o/r", "Crash\n\nboom", "question", "human")  # relabeled by a maintainer
    rec.learn("o/r", "Add dark mode\n\nplease", "feature", "backfill")  # known: nothing new
    assert rec.learned_since(cut) == 1 and rec.learned_since(0.0) == 2
    json.dumps(asdict(made(1)))  # a manifest as ever: no new field to publish
