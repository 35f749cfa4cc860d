"""Tuned encoder weights shared through the store: publish, fetch, checks, and a two-machine fleet.

The store is real (SQLite and PostgreSQL), the tunes are real MiniLM fine-tunes, and the fleet test
runs the tune and the fetch in real child processes, as the worker's job and the layer start them.
"""

from __future__ import annotations

import math
import re
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.llm import ModelLayer, encoder_share, tune
from bot.llm.encoder_share import FetchError
from bot.settings import get_settings
from bot.store import Store, open_store
from tests.llm.conftest import make_settings
from tests.llm.test_tune import LABELS, cached_vectors, made, needs_extra, rows


def fake_weights(root: Path, payload: bytes) -> tuple[tune.Tuned, Path]:
    """A weights directory of small files (enough for publish and fetch, which load nothing)."""
    root.mkdir(parents=True)
    (root / "model.safetensors").write_bytes(payload)
    (root / "1_Pooling").mkdir()
    (root / "1_Pooling" / "config.json").write_text('{"pooling_mode_mean_tokens": true}')
    (root / "modules.json").write_text("[]")
    t = tune.Tuned(tune.fingerprint(root), 18, LABELS, 1, 0, 1.0, 1.0, 0.5, time.time())
    return t, root


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def wait_for(check, seconds: float = 300.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


# --- publish and fetch, on both store backends ----------------------------------------------------
def test_publish_and_fetch_round_trip_in_chunks(
    any_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(encoder_share, "CHUNK", 1000)
    payload = bytes(range(256)) * 10  # 2,560 bytes: three chunks
    tuned, weights = fake_weights(tmp_path / "a", payload)
    assert encoder_share.latest(any_store) is None
    pub = encoder_share.publish(any_store, tuned, weights)
    assert encoder_share.latest(any_store) == pub
    assert pub.files["model.safetensors"][1] == len(payload)
    n = any_store.db.execute(
        "select count(*) from encoder_files where path = 'model.safetensors'"
    ).fetchone()[0]
    assert n == 3
    encoder_share.publish(any_store, tuned, weights)  # again: replaced, not doubled
    assert any_store.db.execute("select count(*) from encoder_files").fetchone()[0] == 3 + 2
    got = encoder_share.fetch(any_store, pub, tmp_path / "b")
    assert got == tuned.weights(tmp_path / "b") and tree(got) == tree(weights)
    assert not list(tune.encoders_dir(tmp_path / "b").glob(".fetching-*"))


def test_only_the_newest_tunes_stay_in_the_store(any_store: Store, tmp_path: Path) -> None:
    names = []
    for i in range(tune.KEEP + 2):
        tuned, weights = fake_weights(tmp_path / f"w{i}", f"weights {i}".encode())
        names.append(encoder_share.publish(any_store, tuned, weights).tuned.fingerprint)
    kept = {r[0] for r in any_store.db.execute("select fingerprint from encoder_tunes").fetchall()}
    assert kept == set(names[-tune.KEEP :])
    files = any_store.db.execute("select distinct fingerprint from encoder_files").fetchall()
    assert {r[0] for r in files} == kept
    latest = encoder_share.latest(any_store)
    assert latest is not None and latest.tuned.fingerprint == names[-1]


def test_damaged_missing_or_hostile_rows_are_refused_and_leave_nothing(
    any_store: Store, tmp_path: Path
) -> None:
    tuned, weights = fake_weights(tmp_path / "a", b"x" * 5000)
    pub = encoder_share.publish(any_store, tuned, weights)
    target = tmp_path / "b"
    db = any_store.db
    db.execute("update encoder_files set data = ? where path = 'model.safetensors'", [b"y" * 5000])
    with pytest.raises(FetchError, match=r"model.safetensors .* damaged .*models tune --force"):
        encoder_share.fetch(any_store, pub, target)
    db.execute("delete from encoder_files where path = 'model.safetensors'")
    with pytest.raises(FetchError, match=r"damaged \(0 of 5000 bytes"):
        encoder_share.fetch(any_store, pub, target)
    hostile = encoder_share.Published(tuned, {"../../outside": ("0" * 64, 1)}, time.time())
    with pytest.raises(FetchError, match="refusing the published file name"):
        encoder_share.fetch(any_store, hostile, target)
    assert not (tmp_path / "outside").exists()
    root = tune.encoders_dir(target)
    assert [p.name for p in root.iterdir()] == []  # no weights, no scratch directory
    db.execute("update encoder_tunes set manifest = '{torn'")
    with pytest.raises(FetchError, match="unreadable"):
        encoder_share.latest(any_store)


@pytest.mark.parametrize(
    "change",
    [
        {"fingerprint": None},
        {"fingerprint": "abc"},
        {"created_at": "soon"},
        {"created_at": float("nan")},
        {"examples": "500"},
        {"labels": "bug"},
    ],
    ids=["no-fingerprint", "short-fingerprint", "date-text", "date-nan", "count-text", "labels"],
)
def test_a_manifest_of_the_wrong_types_is_refused_not_a_crash_of_every_classify(
    any_store: Store, tmp_path: Path, change: dict[str, object]
) -> None:
    """It parsed (the keys were right), then wanted() sliced None or compared a float with a
    text in every machine's classify; fetched, it sat in current.json for good."""
    import dataclasses
    import json

    tuned, weights = fake_weights(tmp_path / "a", b"x" * 5000)
    encoder_share.publish(any_store, tuned, weights)
    manifest = {**dataclasses.asdict(tuned), **change}
    any_store.db.execute("update encoder_tunes set manifest = ?", [json.dumps(manifest)])
    with pytest.raises(FetchError, match="unreadable"):
        encoder_share.latest(any_store)
    local = tune.encoders_dir(tmp_path / "b")
    local.mkdir(parents=True)
    (local / "current.json").write_text(json.dumps(manifest))
    assert tune.current(tmp_path / "b") is None  # the stock encoder, said in the log


# --- the policy -------------------------------------------------------------------------------------
def test_what_a_machine_fetches(tmp_path: Path) -> None:
    pub = encoder_share.Published(made(500), {}, 100.0)
    old = tune.Tuned("cd" * 32, 400, LABELS, 4, 0, 1.0, 1.0, 0.5, -1.0)
    newer = tune.Tuned("ef" * 32, 600, LABELS, 4, 0, 1.0, 1.0, 0.5, 1.0)
    assert encoder_share.wanted(None, None, tmp_path) == (False, "no tune published in the store")
    assert encoder_share.wanted(pub, None, tmp_path)[0]
    assert encoder_share.wanted(pub, old, tmp_path)[0]
    assert encoder_share.wanted(pub, pub.tuned, tmp_path) == (False, f"{pub.tuned.name} in use")
    ok, why = encoder_share.wanted(pub, newer, tmp_path)
    assert not ok and "newer than the published" in why
    encoder_share.remember_failure(tmp_path, pub.tuned.fingerprint, "sha256 mismatch")
    assert encoder_share.wanted(pub, None, tmp_path) == (
        False,
        f"fetching {pub.tuned.name} failed before: sha256 mismatch",
    )
    other = encoder_share.Published(old, {}, 100.0)
    assert encoder_share.wanted(other, None, tmp_path)[0]  # another tune is tried


@needs_extra
def test_a_tune_published_by_another_machine_counts_as_the_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tune, "MIN_EXAMPLES", 10)
    assert tune.decide(rows(), tmp_path) == (True, "18 labeled examples and no tuned encoder yet")
    assert tune.decide(rows(), tmp_path, published=made(18)) == (
        False,
        "18 labeled examples; the next tune at 22 (18 last time)",
    )


def test_a_sqlite_store_shares_nothing(tmp_path: Path, llm_store: Store) -> None:
    layer = ModelLayer(make_settings(tmp_path), llm_store)
    assert layer.sync_encoder() == (
        False,
        "the store is not shared: tunes stay on the machine that ran them",
    )
    assert not encoder_share.shared(layer.settings.effective_database_url)


# --- for real: fetch, switch, and a two-machine fleet ----------------------------------------------
@needs_extra
def test_install_switches_and_remembers_a_failure(tmp_path: Path, llm_store: Store) -> None:
    settings = make_settings(tmp_path, thresholds={"triage": 0.0})
    layer = ModelLayer(settings, llm_store)
    for e in rows():
        layer.learn(e.scope, e.text, e.label, "human")
    tuned = tune.tune(rows(), tmp_path / "elsewhere", epochs=1)
    encoder_share.publish(llm_store, tuned, tuned.weights(tmp_path / "elsewhere"))
    assert encoder_share.install(llm_store, settings.data_dir) == tuned
    assert tune.current(settings.data_dir) == tuned
    assert cached_vectors(settings.data_dir, tuned.name) == len(rows())  # encoded before the switch
    assert layer.classifier().name == f"tfidf-lr+{tuned.name}-lr"
    assert encoder_share.install(llm_store, settings.data_dir) is None  # already in use

    again = tune.tune(rows()[:-1], tmp_path / "elsewhere", epochs=1)
    encoder_share.publish(llm_store, again, again.weights(tmp_path / "elsewhere"))
    llm_store.db.execute(
        "update encoder_files set data = ? where path = 'model.safetensors' and seq = 0",
        [b"\0" * encoder_share.CHUNK],
    )
    with pytest.raises(FetchError, match="damaged"):
        encoder_share.install(llm_store, settings.data_dir)
    bad = encoder_share.failed(settings.data_dir)
    assert bad is not None and bad["fingerprint"] == again.fingerprint
    assert tune.current(settings.data_dir) == tuned  # the working tune stays in use
    ok, why = encoder_share.wanted(encoder_share.latest(llm_store), tuned, settings.data_dir)
    assert not ok and why.startswith(f"fetching {again.name} failed before:")


@needs_extra
def test_a_fleet_machine_switches_to_the_tune_another_one_published(
    tmp_path: Path, pg_url: str
) -> None:
    """Machine A tunes in a child process and publishes; machine B, with its own data dir but
    the same PostgreSQL store, fetches it in a child process and then classifies like A."""
    stores = [open_store(pg_url), open_store(pg_url)]
    try:
        a, b = (
            ModelLayer(
                make_settings(tmp_path / name, database_url=pg_url, thresholds={"triage": 0.0}),
                s,
            )
            for name, s in zip("ab", stores, strict=True)
        )
        for e in rows():
            a.learn(e.scope, e.text, e.label, "human")
        assert b.sync_encoder() == (False, "no tune published in the store")
        started, why = a.start_tune(force=True)
        assert started and "then publish to the store" in why, why
        log_a = tune.encoders_dir(a.settings.data_dir) / "tune.log"
        assert wait_for(lambda: encoder_share.latest(stores[1]) is not None), log_a.read_text()
        pub = encoder_share.latest(stores[1])
        assert pub is not None and tune.current(a.settings.data_dir) == pub.tuned

        started, why = b.sync_encoder(now=math.inf)
        assert started and why.startswith(f"{pub.tuned.name} published at"), why
        assert b.sync_encoder()[1] == "the store was checked less than a minute ago"
        log_b = tune.encoders_dir(b.settings.data_dir) / "tune.log"
        assert wait_for(lambda: tune.current(b.settings.data_dir) is not None), log_b.read_text()
        assert tune.current(b.settings.data_dir) == pub.tuned
        assert b.classifier().name == a.classifier().name == f"tfidf-lr+{pub.tuned.name}-lr"
        text = "It crashes on start\n\nTypeError in the parser"
        pa = a.classifier().probabilities("o/r", text, LABELS)
        pb = b.classifier().probabilities("o/r", text, LABELS)
        assert pa is not None and pb is not None
        assert all(abs(pa[k] - pb[k]) < 1e-5 for k in LABELS), (pa, pb)
        assert f"fetched {pub.tuned.name} from the store" in log_b.read_text()
    finally:
        for s in stores:
            s.close()


@needs_extra
def test_cli_tune_publishes_to_a_shared_store_and_list_says_so(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    settings = make_settings(tmp_path, database_url=pg_url)
    store = open_store(pg_url)
    request.addfinalizer(store.close)
    layer = ModelLayer(settings, store)
    for e in rows():
        layer.learn(e.scope, e.text, e.label, "human")
    monkeypatch.setenv("SMOLBOT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("SMOLBOT_DATABASE_URL", pg_url)
    get_settings.cache_clear()
    request.addfinalizer(get_settings.cache_clear)
    run = CliRunner().invoke
    out = run(cli, ["models", "list"])
    assert "shared in the store: no tune yet" in out.output, out.output
    out = run(cli, ["models", "tune", "--force", "--epochs", "1"])
    assert out.exit_code == 0, out.output
    tuned = tune.current(settings.data_dir)
    assert tuned is not None
    assert re.search(r"published to the store \(\d+ MB\)", out.output), out.output
    assert encoder_share.newest(store) == tuned
    out = run(cli, ["models", "list"])
    assert f"shared in the store: {tuned.name}" in out.output, out.output
