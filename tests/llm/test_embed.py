"""The MiniLM stage of the classifier: real embeddings, the TF-IDF fallback, the on-disk cache."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.llm import embed, embed_stage
from bot.llm.classifier import MIN_SCOPE_EXAMPLES, Classifier
from bot.llm.embed import Encoder, get_encoder
from bot.llm.embed_stage import EmbedStage
from bot.llm.records import Example
from tests.llm.examples import BUGS, FEATURES, LABELS, QUESTIONS

needs_extra = pytest.mark.skipif(not embed.available(), reason="the embed extra is not installed")


def examples(scope: str = "o/r", times: int = 1) -> list[Example]:
    rows = []
    for label, texts in zip(LABELS, (BUGS, FEATURES, QUESTIONS), strict=True):
        rows += [Example(scope, f"{t} ({i})", label, "human") for t in texts for i in range(times)]
    return rows


@needs_extra
def test_classifier_mixes_in_the_embedding_stage() -> None:
    rows = examples("a/b", times=MIN_SCOPE_EXAMPLES // len(examples()) + 1)
    clf = Classifier.train(rows)
    assert clf.embedded is not None and "a/b" in clf.embedded.scoped
    assert clf.name == "tfidf-lr+all-MiniLM-L6-v2-lr"
    # worded unlike any training text: the embedding stage alone must get these right
    unseen = {
        "bug": "Application dies immediately\n\nIt stopped working and shows a stack trace",
        "feature": "Would love a way to theme the UI\n\nSuggestion: let me pick my own palette",
        "question": "Where do I put the config file?\n\nI am not sure how this is supposed to work",
    }
    for label, text in unseen.items():
        g, local = clf.embedded.probabilities("a/b", text)
        assert g is not None and local is not None
        assert max(g, key=lambda k: g[k]) == label, (text, g)
        p = clf.probabilities("a/b", text, [*LABELS, "documentation"])
        assert p is not None and sum(p.values()) == pytest.approx(1.0)
        assert set(p) == {*LABELS, "documentation"}


@needs_extra
def test_a_scope_that_is_all_the_examples_shares_the_general_embedding_model() -> None:
    rows = examples("a/b", times=3)
    stage = EmbedStage.train(get_encoder(), rows, {"a/b"})
    assert stage.general is not None and stage.scoped["a/b"] is stage.general
    g, local = stage.probabilities("a/b", BUGS[0])
    x = get_encoder().encode([e.text for e in rows])
    apart = embed_stage.EmbedModel.fit(x, [e.label for e in rows])  # what a second fit gives
    assert local == pytest.approx(apart.proba(get_encoder().encode([BUGS[0]])), abs=1e-9)
    assert g == local
    two = EmbedStage.train(get_encoder(), [*rows, *examples("c/d")], {"a/b", "c/d"})
    assert two.scoped["a/b"] is not two.general  # a part of the examples: its own model


@needs_extra
def test_embed_false_keeps_tfidf_only() -> None:
    clf = Classifier.train(examples(), embed=False)
    assert clf.embedded is None and clf.name == "tfidf-lr"
    assert clf.probabilities("o/r", BUGS[0], LABELS) is not None


def test_without_the_extra_tfidf_answers_and_the_log_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # import raises ImportError
    monkeypatch.setattr(embed, "_WARNED", [])
    with caplog.at_level(logging.INFO, logger="bot.llm.embed"):
        clf = Classifier.train(examples())
        Classifier.train(examples())
    assert get_encoder() is None and clf.embedded is None and clf.name == "tfidf-lr"
    p = clf.probabilities("o/r", "Program crashes with an exception\n\ntraceback error", LABELS)
    assert p is not None and max(p, key=lambda k: p[k]) == "bug"
    hints = [r.getMessage() for r in caplog.records if "smolbot[embed]" in r.getMessage()]
    assert len(hints) == 1 and "TF-IDF only" in hints[0]


class Refuses:
    """A model that must not be asked: every vector has to come from the cache."""

    def encode(self, *_a: Any, **_k: Any) -> Any:
        raise AssertionError("encoded again although the embedding was cached on disk")


@needs_extra
def test_embeddings_persist_for_the_next_process(tmp_path: Path) -> None:
    texts = [BUGS[0], FEATURES[0], QUESTIONS[0]]
    first = get_encoder(tmp_path)
    assert first is not None
    vectors = first.encode(texts)
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert len(list(tmp_path.rglob("*.npy"))) == 3
    again = Encoder(Refuses(), tmp_path).encode([texts[2], texts[0]])  # a fresh memory cache
    assert np.array_equal(again, vectors[[2, 0]])


@needs_extra
def test_a_torn_cache_file_is_encoded_again(tmp_path: Path) -> None:
    enc = get_encoder(tmp_path)
    assert enc is not None
    want = enc.encode([BUGS[1]])
    (path,) = tmp_path.rglob("*.npy")
    path.write_bytes(b"not a numpy file")
    fresh = Encoder(enc.model, tmp_path)
    assert np.allclose(fresh.encode([BUGS[1]]), want, atol=1e-5)
    assert np.allclose(np.load(path), want[0], atol=1e-5)  # and written back whole


def test_prepare_keeps_the_title_and_drops_code_and_links() -> None:
    text = "Crash on save\n\nSee https://x.y/z <!-- template --> ```trace\nboom\n``` after saving"
    assert embed.prepare(text) == "Crash on save\nSee [code] after saving"
    assert embed.prepare("Only a title") == "Only a title"


def test_prepare_drops_an_issue_templates_scaffolding_and_keeps_what_was_written() -> None:
    body = (
        "<details><summary>Click to expand!</summary>\n\n### Issue Type\n\nSupport\n\n"
        "### Python version\n\n_No response_\n\n**Version:**\n2.13\n"
        "- [x] I searched existing issues\n"
        "### Current Behaviour?\n\n```shell\n# not a heading\nboom\n```\nIt fails on load.\n"
        "#42 is related; **bold** inside a sentence stays\n</details>"
    )
    assert embed.prepare(f"Crash\n{body}") == (
        "Crash\nSupport 2.13 [code] It fails on load. #42 is related; **bold** inside a sentence"
        " stays"
    )
    # nothing but the form: the title alone, as for an empty body
    assert embed.prepare("Crash\n### Steps\n_No response_\n- [ ] done") == "Crash"


@needs_extra
def test_a_new_process_trains_from_the_disk_cache_alone(tmp_path: Path) -> None:
    rows = examples()
    first = Classifier.train(rows, cache_dir=tmp_path)
    assert first.embedded is not None
    # what a new process does: a fresh encoder whose model must not be asked for anything seen
    stage = EmbedStage.train(Encoder(Refuses(), tmp_path), rows, set())
    assert stage.general is not None and first.embedded.general is not None
    x = first.embedded.encoder.encode([QUESTIONS[1]])
    assert stage.general.proba(x) == pytest.approx(first.embedded.general.proba(x))


@needs_extra
def test_training_encodes_only_the_newest_examples(monkeypatch: pytest.MonkeyPatch) -> None:
    enc = get_encoder()
    assert enc is not None
    rows = examples()  # bugs, then features, then questions (newest)
    monkeypatch.setattr(embed_stage, "MAX_EXAMPLES", len(QUESTIONS) + 1)
    stage = EmbedStage.train(enc, rows, {"o/r"})
    assert stage.general is not None and stage.general.classes == ["feature", "question"]
    monkeypatch.setattr(embed_stage, "MAX_EXAMPLES", len(QUESTIONS))
    assert EmbedStage.train(enc, rows, {"o/r"}).general is None  # one label: no model


def own(scope: str, times: int) -> list[Example]:
    """examples() with texts of the scope's own (identical texts would share a model), the labels
    taking turns (so that the newest few hold all three)."""
    rows = [Example(scope, f"{e.text} {scope}", e.label, "human") for e in examples(times=times)]
    by_label = [[e for e in rows if e.label == label] for label in LABELS]
    return [e for turn in zip(*by_label, strict=True) for e in turn]


@needs_extra
def test_a_retrain_keeps_the_embedding_models_whose_examples_did_not_change() -> None:
    enc = get_encoder()
    assert enc is not None
    rows = [*own("a/b", 2), *own("c/d", 2)]
    old = EmbedStage.train(enc, rows, {"a/b", "c/d"})
    added = [*rows, Example("c/d", "Crash on exit\n\nsegfault in the renderer", "bug", "human")]
    new = EmbedStage.train(enc, added, {"a/b", "c/d"}, previous=old)
    assert new.scoped["a/b"] is old.scoped["a/b"]  # the same examples: kept
    assert new.scoped["c/d"] is not old.scoped["c/d"] and new.general is not old.general
    fresh = EmbedStage.train(enc, added, {"a/b", "c/d"})
    for text in (BUGS[0], FEATURES[1], QUESTIONS[2]):
        assert new.probabilities("a/b", text) == fresh.probabilities("a/b", text)
    # another encoder's models answered on other embeddings: none is kept
    other = Encoder(enc.model, name="a-tune-of-it")
    again = EmbedStage.train(other, added, {"a/b", "c/d"}, previous=new)
    assert again.scoped["a/b"] is not new.scoped["a/b"] and again.general is not new.general


@needs_extra
def test_a_scope_mostly_older_than_the_window_is_blended_by_what_its_model_learned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The embedding stage learns from the newest MAX_EXAMPLES of all the examples: a repository
    whose labels are mostly older than another's has few examples there. Its model needs as many
    as a TF-IDF scope model does, and is weighed by those it learned from."""
    older, newer = own("a/b", 4), own("c/d", 4)  # 72 each; all of a/b's are older
    monkeypatch.setattr(embed_stage, "MAX_EXAMPLES", len(newer) + 12)
    clf = Classifier.train([*older, *newer])
    assert clf.embedded is not None
    assert clf.scoped.keys() == {"a/b", "c/d"}  # TF-IDF: all 72 of a/b
    assert "a/b" not in clf.embedded.scoped  # 12 in the window: under MIN_SCOPE_EXAMPLES
    assert clf.embedded.counts == {"c/d": 72}
    monkeypatch.setattr(embed_stage, "MAX_EXAMPLES", len(newer) + 36)
    clf = Classifier.train([*older, *newer])
    assert clf.embedded is not None and clf.embedded.counts == {"a/b": 36, "c/d": 72}
    text = "Would love a way to theme the UI\n\nSuggestion: let me pick my own palette"
    p = clf.probabilities("a/b", text, LABELS)
    clf.embedded.counts["a/b"] = clf.counts["a/b"]  # as if weighed by a/b's 72 in all
    assert clf.probabilities("a/b", text, LABELS) != pytest.approx(p, abs=1e-6)


def test_a_long_encode_lets_a_single_issue_through_between_its_chunks() -> None:
    """A background retrain encoding thousands of new texts held the process's one encoding lock
    for minutes, and every classify (one issue) waited it out. The model here is a stand-in that
    takes its time: what is tested is who gets the lock, not the vectors."""
    import threading
    import time

    started = threading.Event()
    done: list[str] = []

    class Slow:
        def encode(self, texts: list[str], **_: Any) -> Any:
            started.set()
            time.sleep(0.02)
            return np.ones((len(texts), 384), np.float32)

    enc = Encoder(Slow())

    def retraining() -> None:
        enc.encode([f"old issue {i}" for i in range(20 * embed.CHUNK)])
        done.append("retrain")

    retrain = threading.Thread(target=retraining)
    retrain.start()
    assert started.wait(10)
    enc.encode(["a new issue to triage"])
    done.append("classify")
    retrain.join(30)
    assert done == ["classify", "retrain"]
