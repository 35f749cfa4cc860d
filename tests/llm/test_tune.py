"""Tuning the triage encoder: real fine-tuning of MiniLM on small examples, in and out of process."""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from bot.cli import cli
from bot.cli.models import commands
from bot.coord import jobs as registry
from bot.jobs.runtime import Runtime
from bot.llm import ModelLayer, embed, tune
from bot.llm.embed import PREPARE_VERSION
from bot.llm.records import Example
from bot.settings import get_settings
from bot.store import Store
from tests.llm.conftest import make_settings
from tests.llm.examples import BUGS, FEATURES, LABELS, QUESTIONS

needs_extra = pytest.mark.skipif(not embed.available(), reason="the embed extra is not installed")

for _c in commands:
    if _c.name not in cli.commands:
        cli.add_command(_c)


def rows(scope: str = "o/r") -> list[Example]:
    return [
        Example(scope, text, label, "human")
        for label, texts in zip(LABELS, (BUGS, FEATURES, QUESTIONS), strict=True)
        for text in texts
    ]


def cached_vectors(data_dir: Path, name: str) -> int:
    return len(list((data_dir / "embeddings" / name).rglob("*.npy")))


# --- the policy (pure) --------------------------------------------------------------------------
def made(examples: int, prepared: int = PREPARE_VERSION) -> tune.Tuned:
    return tune.Tuned("ab" * 32, examples, LABELS, 4, 0, 1.0, 1.0, 0.5, 0.0, prepared)


def test_an_encoder_tuned_on_text_prepared_the_old_way_tunes_again() -> None:
    assert tune.due(400, 3, made(400))[0] is False
    assert tune.due(400, 3, made(400, prepared=PREPARE_VERSION - 1)) == (
        True,
        "the tuned encoder learned from text prepared the old way; tuning again",
    )
    # a manifest written before the field existed reads as version 1
    old = {k: v for k, v in asdict(made(400)).items() if k != "prepared"}
    assert tune.Tuned(**old).prepared == 1


def test_due_says_why_both_ways() -> None:
    assert tune.due(tune.MIN_EXAMPLES - 1, 3, None) == (
        False,
        f"{tune.MIN_EXAMPLES - 1} labeled examples: tuning starts at {tune.MIN_EXAMPLES}",
    )
    assert tune.due(500, 3, None) == (True, "500 labeled examples and no tuned encoder yet")
    assert tune.due(500, 3, made(400)) == (True, "500 labeled examples, 400 at the last tune")
    assert tune.due(499, 3, made(400)) == (
        False,
        "499 labeled examples; the next tune at 500 (400 last time)",
    )
    assert tune.due(500, 1, None) == (False, "1 label(s) among the examples: need two")
    assert tune.due(10_000, 3, None, busy=True) == (False, "a tune is running")
    # capped: beyond MAX_EXAMPLES more examples never make a tune due again
    assert tune.due(50_000, 3, made(tune.MAX_EXAMPLES))[0] is False


@given(
    n=st.integers(0, 20_000),
    more=st.integers(0, 20_000),
    labels=st.integers(0, 6),
    last=st.none() | st.integers(1, 5_000),
    busy=st.booleans(),
)
def test_due_is_monotone_and_never_runs_twice(
    n: int, more: int, labels: int, last: int | None, busy: bool
) -> None:
    prev = made(last) if last is not None else None
    ok, why = tune.due(n, labels, prev, busy=busy)
    assert why
    if busy or labels < 2 or n < tune.MIN_EXAMPLES:
        assert not ok
    if ok:  # more examples never turn a due tune into a not-due one
        assert tune.due(n + more, labels, prev)[0]
    if prev is not None and ok:
        assert min(n, tune.MAX_EXAMPLES) > prev.examples


# --- tuning for real ----------------------------------------------------------------------------
@needs_extra
def test_tune_is_reproducible_learns_and_publishes_last(tmp_path: Path) -> None:
    steps: list[tuple[int, int]] = []
    a = tune.tune(rows(), tmp_path / "a", epochs=4, progress=lambda d, t: steps.append((d, t)))
    b = tune.tune(rows(), tmp_path / "b", epochs=4)
    assert a.fingerprint == b.fingerprint  # the same examples and seed: the same weights
    assert a.loss_last_epoch < a.loss_first_epoch
    assert steps[-1] == (4 * 2, 4 * 2) and len(steps) == 8  # 18 examples: 2 batches an epoch
    assert tune.current(tmp_path / "a") == a and a.prepared == PREPARE_VERSION
    assert (a.weights(tmp_path / "a") / "model.safetensors").is_file()
    # every example was encoded with the new weights before the manifest named them
    assert cached_vectors(tmp_path / "a", a.name) == len(rows())
    assert not list(tune.encoders_dir(tmp_path / "a").glob(".tuning-*"))
    other = tune.tune(rows()[:-1], tmp_path / "a", epochs=1)
    assert other.fingerprint != a.fingerprint and tune.current(tmp_path / "a") == other


@needs_extra
def test_layer_switches_to_the_tuned_encoder_from_the_cache(
    tmp_path: Path, llm_store: Store
) -> None:
    settings = make_settings(tmp_path, thresholds={"triage": 0.0})
    layer = ModelLayer(settings, llm_store)
    for e in rows():
        layer.learn(e.scope, e.text, e.label, "human")
    stock = layer.classify("triage", "o/r", "It crashes on start\n\nTypeError", LABELS)
    assert stock.record.model == "tfidf-lr+all-MiniLM-L6-v2-lr@18"
    tuned = tune.tune(layer.records.examples(), settings.data_dir, epochs=2)
    before = cached_vectors(settings.data_dir, tuned.name)
    answer = layer.classify("triage", "o/r", "It crashes on start\n\nTypeError", LABELS)
    assert answer.record.model == f"tfidf-lr+{tuned.name}-lr@18"  # names the weights
    assert answer.value is not None and answer.value.label == "bug"
    # the refit read every example's vector from the cache: only the new issue was encoded
    assert cached_vectors(settings.data_dir, tuned.name) == before + 1
    assert layer.classifier() is layer.classifier()  # no retraining loop once switched


@needs_extra
def test_broken_tuned_weights_fall_back_to_stock_without_a_loop(
    tmp_path: Path, llm_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path, thresholds={"triage": 0.0})
    layer = ModelLayer(settings, llm_store)
    for e in rows():
        layer.learn(e.scope, e.text, e.label, "human")
    bad = made(18)
    weights = bad.weights(settings.data_dir)
    weights.mkdir(parents=True)
    (weights / "modules.json").write_text("[{not json")
    (tune.encoders_dir(settings.data_dir) / "current.json").write_text(json.dumps(bad.__dict__))
    with caplog.at_level(logging.ERROR, logger="bot.llm.embed"):
        clf = layer.classifier()
    assert clf.name == "tfidf-lr+all-MiniLM-L6-v2-lr"
    assert any("unusable" in r.getMessage() for r in caplog.records)
    assert layer.classifier() is clf  # asked for once, not on every call
    (tune.encoders_dir(settings.data_dir) / "current.json").write_text("{torn")
    assert tune.current(settings.data_dir) is None


@needs_extra
def test_one_tune_at_a_time(tmp_path: Path) -> None:
    with tune.exclusive(tmp_path) as got:
        assert got and tune.running(tmp_path)
        with pytest.raises(RuntimeError, match="already running"):
            tune.tune(rows(), tmp_path, epochs=1)
        assert tune.decide(rows(), tmp_path, force=True) == (False, "a tune is running")
    assert not tune.running(tmp_path)
    with pytest.raises(ValueError, match="need two labels"):
        tune.tune([e for e in rows() if e.label == "bug"], tmp_path, epochs=1)


def test_old_tunes_are_pruned(tmp_path: Path) -> None:
    root = tune.encoders_dir(tmp_path)
    for name, age in {"old": 20, "older": 30, "current": 0, "previous": 10}.items():
        (root / name).mkdir(parents=True)
        os.utime(root / name, (time.time() - age, time.time() - age))
    tune._prune(root, keep={"current"})
    assert sorted(p.name for p in root.iterdir()) == ["current", "previous"]


# --- in the background, through the job ---------------------------------------------------------
@needs_extra
def test_the_job_audits_skips_and_tunes_in_a_child_process(
    tmp_path: Path, llm_store: Store
) -> None:
    settings = make_settings(tmp_path)
    rt = Runtime(settings, llm_store)
    for e in rows():
        rt.models.learn(e.scope, e.text, e.label, "human")
    job = registry.get_job("tune_encoder")
    job.fn(rt, reason="daily check")  # 18 examples: not due
    job.fn(rt, reason="test", force=True)
    audit = {
        r["outcome"]: r["reason"]
        for r in llm_store.audit_rows(limit=10)
        if r["action"] == "tune_encoder"
    }
    assert set(audit) == {"started", "skipped"}
    assert audit["skipped"].startswith("18 labeled examples: tuning starts at")
    assert "tuning in process" in audit["started"]
    deadline = time.monotonic() + 300
    while tune.current(settings.data_dir) is None and time.monotonic() < deadline:
        time.sleep(0.5)
    log = (tune.encoders_dir(settings.data_dir) / "tune.log").read_text()
    tuned = tune.current(settings.data_dir)
    assert tuned is not None, log
    assert tuned.examples == 18 and tuned.epochs == tune.EPOCHS
    assert not list(tune.encoders_dir(settings.data_dir).glob(".examples-*"))  # no copy left
    assert rt.models.classifier().name == f"tfidf-lr+{tuned.name}-lr"


# --- the command line ---------------------------------------------------------------------------
@needs_extra
def test_cli_tune_and_list(
    tmp_path: Path,
    llm_store: Store,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    settings = make_settings(tmp_path)
    layer = ModelLayer(settings, llm_store)
    for e in rows():
        layer.learn(e.scope, e.text, e.label, "human")
    monkeypatch.setenv("SMOLBOT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("SMOLBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'llm.db'}")
    get_settings.cache_clear()
    request.addfinalizer(get_settings.cache_clear)
    run = CliRunner().invoke
    out = run(cli, ["models", "tune"])
    assert out.exit_code == 0 and "not tuning: 18 labeled examples" in out.output, out.output
    out = run(cli, ["models", "tune", "--force", "--epochs", "1"])
    assert out.exit_code == 0, out.output
    tuned = tune.current(settings.data_dir)
    assert tuned is not None and tuned.name in out.output and tuned.epochs == 1
    out = run(cli, ["models", "list"])
    assert f"triage encoder: {tuned.name}, tuned on 18 examples" in out.output, out.output
