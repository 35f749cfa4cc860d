"""The learned first stage: probabilities over the asked labels, per-scope blend, learning priorities."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bot.llm import ModelLayer, classifier
from bot.llm.classifier import MIN_SCOPE_EXAMPLES, Classifier, Model
from bot.llm.records import Example, Learned
from bot.store import Store
from tests.llm.conftest import make_settings
from tests.llm.examples import BUGS, FEATURES, LABELS, QUESTIONS, seed


def examples(scope: str = "o/r") -> list[Example]:
    rows = []
    for label, texts in zip(LABELS, (BUGS, FEATURES, QUESTIONS), strict=True):
        rows += [Example(scope, t, label, "human") for t in texts]
    return rows


def test_untrained_classifier_has_no_answer() -> None:
    assert Classifier.train([]).probabilities("o/r", "x", LABELS) is None
    one_class = [Example("o/r", t, "bug", "human") for t in BUGS]
    assert Classifier.train(one_class).probabilities("o/r", "x", LABELS) is None


def test_probabilities_cover_exactly_the_asked_labels() -> None:
    clf = Classifier.train(examples())
    p = clf.probabilities("o/r", "Program crashes with an exception\n\ntraceback error", LABELS)
    assert p is not None and set(p) == set(LABELS)
    assert sum(p.values()) == pytest.approx(1.0)
    assert max(p, key=lambda k: p[k]) == "bug"
    only_two = clf.probabilities("o/r", "How do I set the port?\n\nwhere", ["feature", "question"])
    assert only_two is not None and set(only_two) == {"feature", "question"}
    assert max(only_two, key=lambda k: only_two[k]) == "question"
    unknown = clf.probabilities("o/r", "anything", ["bug", "docs"])
    # asked to tell apart a kind it knows from one it never saw: sure of neither, however many
    # examples of other kinds it has (it would be sure of bug, never escalate, never learn docs)
    assert unknown is not None and unknown["docs"] == pytest.approx(unknown["bug"])


def test_scope_model_needs_enough_examples() -> None:
    small = Classifier.train(examples("a/b"))
    assert "a/b" not in small.scoped
    many = examples("a/b") * (MIN_SCOPE_EXAMPLES // len(examples()) + 1)
    assert "a/b" in Classifier.train(many).scoped


def many(scope: str, n: int = MIN_SCOPE_EXAMPLES) -> list[Example]:
    """`n` distinct examples of `scope`, the three kinds in turn."""
    base = examples(scope)
    return [
        Example(scope, f"{e.text} ({scope} {i})", e.label, "human")
        for i, e in zip(range(n), base * (n // len(base) + 1), strict=False)
    ]


TEXTS = [BUGS[0], FEATURES[1], QUESTIONS[2], "Docs typo\n\nthe readme says prot, not port"]


def test_a_retrain_refits_only_the_models_whose_examples_changed() -> None:
    old = Classifier.train([*many("a/b"), *many("c/d")], embed=False)
    added = [
        *many("a/b"),
        *many("c/d"),
        Example("a/b", "Crash on exit\n\nsegfault", "bug", "human"),
    ]
    new = Classifier.train(added, embed=False, previous=old)
    assert new.scoped["c/d"] is old.scoped["c/d"]  # its examples are the same: kept
    assert new.scoped["a/b"] is not old.scoped["a/b"] and new.general is not old.general
    fresh = Classifier.train(added, embed=False)  # what kept models stand in for: the same answers
    for scope in ("a/b", "c/d"):
        for text in TEXTS:
            assert new.probabilities(scope, text, LABELS) == pytest.approx(
                fresh.probabilities(scope, text, LABELS), abs=1e-9
            )
    relabeled = [*added[:-1], Example("a/b", added[-1].text, "question", "human")]
    assert (
        Classifier.train(relabeled, embed=False, previous=new).scoped["a/b"]
        is not (new.scoped["a/b"])
    )


def test_a_scope_that_is_all_the_examples_shares_the_general_model() -> None:
    rows = many("a/b", 2 * MIN_SCOPE_EXAMPLES)
    clf = Classifier.train(rows, embed=False)
    assert clf.scoped["a/b"] is clf.general  # one fit, not two of the same examples
    apart = Classifier.train(rows, embed=False)
    apart.scoped["a/b"] = Model.fit([e.text for e in rows], [e.label for e in rows])
    assert apart.scoped["a/b"] is not apart.general
    for text in TEXTS:
        assert clf.probabilities("a/b", text, LABELS) == pytest.approx(
            apart.probabilities("a/b", text, LABELS), abs=1e-9
        )


def test_each_model_learns_from_the_newest_max_examples(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(classifier, "MAX_EXAMPLES", 2 * MIN_SCOPE_EXAMPLES)
    oldest = [Example("a/b", f"Zyzzyva crash {i}\n\nzyzzyva", "bug", "human") for i in range(5)]
    clf = Classifier.train([*oldest, *many("a/b", 2 * MIN_SCOPE_EXAMPLES)], embed=False)
    assert clf.counts["a/b"] == 5 + 2 * MIN_SCOPE_EXAMPLES  # how much it has seen: all of them
    for model in (clf.general, clf.scoped["a/b"]):
        assert model is not None and "zyzzyva" not in model.vectorizer.vocabulary_
    monkeypatch.setattr(classifier, "MAX_EXAMPLES", 10 * MIN_SCOPE_EXAMPLES)  # all of them
    everything = Classifier.train([*oldest, *many("a/b", 2 * MIN_SCOPE_EXAMPLES)], embed=False)
    assert everything.general is not None
    assert "zyzzyva" in everything.general.vectorizer.vocabulary_


def test_human_label_is_not_overwritten_by_a_model(tmp_path: Path, llm_store: Store) -> None:
    layer = ModelLayer(make_settings(tmp_path), llm_store)
    assert layer.learn("o/r", "Text", "bug", source="human") == Learned.NEW
    assert layer.learn("o/r", "Text", "feature", source="large") == Learned.OUTRANKED
    assert layer.learn("o/r", "Text", "bug", source="human") == Learned.KNOWN
    assert layer.learn("o/r", "Other", "feature", source="large") == Learned.NEW
    assert layer.learn("o/r", "Other", "question", source="human") == Learned.NEW  # relabeled
    labels = {e.text: (e.label, e.source) for e in layer.records.examples()}
    assert labels == {"Text": ("bug", "human"), "Other": ("question", "human")}
    with pytest.raises(ValueError, match="source"):
        layer.learn("o/r", "x", "bug", source="guess")


def test_classifier_retrains_in_batches(tmp_path: Path, llm_store: Store) -> None:
    layer = ModelLayer(make_settings(tmp_path, thresholds={"triage": 0.0}), llm_store)
    seed(layer)
    ans = layer.classify("triage", "o/r", BUGS[0], LABELS)
    assert ans.status == "ok" and ans.record.backend == "classifier"
    trained_on = layer.classifier().seq
    layer.learn("o/r", "A new bug report\n\ncrash", "bug")
    assert layer.classifier().seq == trained_on  # one example does not retrain
    for i in range(layer.retrain_every):
        layer.learn("o/r", f"Question {i}\n\nhow do I", "question")
    assert layer.classifier().seq > trained_on


def test_get_model_layer_is_one_per_data_dir_model_and_store(
    tmp_path: Path, llm_store: Store
) -> None:
    from bot.llm import get_model_layer
    from bot.store import open_store

    settings = make_settings(tmp_path)
    layer = get_model_layer(settings, llm_store)
    assert get_model_layer(settings, llm_store) is layer
    other = get_model_layer(settings, open_store(":memory:"))
    assert other is not layer
    assert other.local is layer.local  # weights are shared by the whole process


class HeldRetrain(ModelLayer):
    """A layer whose background retrains (real ones) start only when the test lets them."""

    go = threading.Event()
    readers: list[str] | None = None  # the threads that read the examples from the store

    def _examples(self) -> list[Example]:
        if self.readers is not None:
            self.readers.append(threading.current_thread().name)
        return super()._examples()

    def _train(
        self, seq: int, tuned: object, previous: Classifier, examples: object = None
    ) -> Classifier:
        if threading.current_thread().name == "classifier-retrain":
            assert self.go.wait(60), "the test never let the retrain go"
        return super()._train(seq, tuned, previous, examples)  # type: ignore[arg-type]


def test_a_large_classifier_retrains_beside_the_triage(tmp_path: Path, llm_store: Store) -> None:
    layer = HeldRetrain(make_settings(tmp_path, thresholds={"triage": 0.0}), llm_store)
    layer.go, layer.readers = threading.Event(), []
    layer.inline_retrain_max = 10  # the seed's 18 examples count as a large history here
    seed(layer)
    first = layer.classifier()  # nothing to answer with yet: trained here
    assert first.ready and first.size == 18
    for i in range(layer.retrain_every):
        layer.learn("o/r", f"Question {i}\n\nhow do I", "question")
    try:
        ans = layer.classify("triage", "o/r", BUGS[0], LABELS)  # answers at once, from `first`
        assert ans.status == "ok" and ans.record.model.endswith(f"@{first.seq}")
        assert layer.classifier() is first and not layer.wait_retrain(0.05)  # still held
    finally:
        layer.go.set()
    assert layer.wait_retrain(60)
    assert layer.readers and "classifier-retrain" not in layer.readers  # its connection is not
    new = layer.classifier()  # the job thread's: the examples were read before the thread
    assert new is not first and new.size == 18 + layer.retrain_every
    assert new.seq == layer.records.example_seq()
    for i in range(layer.retrain_every):
        layer.learn("o/r", f"Feature {i}\n\nplease add", "feature")
    layer.go.clear()  # a retrain beside the call would now wait: this one must not
    try:
        warmed = layer.classifier(here=True)  # a warm-up job's call
        assert warmed.seq == layer.records.example_seq() and layer.wait_retrain(0)
    finally:
        layer.go.set()


def test_a_forced_retrain_is_not_undone_by_an_older_background_one(
    tmp_path: Path, llm_store: Store
) -> None:
    layer = HeldRetrain(make_settings(tmp_path), llm_store)
    layer.go = threading.Event()
    layer.inline_retrain_max = 10
    seed(layer)
    first = layer.classifier()
    for i in range(layer.retrain_every):
        layer.learn("o/r", f"Question {i}\n\nhow do I", "question")
    try:
        assert layer.classifier() is first  # the background retrain starts, held
        layer.learn("o/r", "Crash on exit\n\nsegfault", "bug")
        forced = layer.classifier(force=True)  # a warm-up job: trains here, on newer examples
        assert forced.size == first.size + layer.retrain_every + 1
    finally:
        layer.go.set()
    assert layer.wait_retrain(60)
    assert layer.classifier() is forced  # the older background result was dropped


def test_records_read_each_scopes_newest_examples_oldest_first(
    tmp_path: Path, any_store: Store
) -> None:
    records = ModelLayer(make_settings(tmp_path), any_store).records
    for i in range(5):
        records.learn("a/b", f"a {i}", "bug", "human")
        records.learn("c/d", f"c {i}", "feature", "human")
    records.learn("a/b", "a 0", "question", "human")  # a relabel is the newest of its scope
    assert [e.text for e in records.examples(newest_per_scope=2)] == ["c 3", "a 4", "c 4", "a 0"]
    assert len(records.examples()) == 10 and records.examples()[-1].label == "question"


class FailingRetrain(ModelLayer):
    """A layer whose background retrains fail (as one would on a full disk, say)."""

    failures = 0

    def _train(
        self, seq: int, tuned: object, previous: Classifier, examples: object = None
    ) -> Classifier:
        if threading.current_thread().name == "classifier-retrain" and self.failures:
            self.failures -= 1
            raise OSError("No space left on device")
        return super()._train(seq, tuned, previous, examples)  # type: ignore[arg-type]


def test_a_failed_background_retrain_keeps_the_classifier_and_pauses(
    tmp_path: Path, llm_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    layer = FailingRetrain(make_settings(tmp_path, thresholds={"triage": 0.0}), llm_store)
    layer.inline_retrain_max, layer.failures = 10, 1
    seed(layer)
    first = layer.classifier()
    for i in range(layer.retrain_every):
        layer.learn("o/r", f"Question {i}\n\nhow do I", "question")
    assert layer.classifier() is first and layer.wait_retrain(60)
    assert "No space left on device" in caplog.text and "tried again in 300 s" in caplog.text
    ans = layer.classify("triage", "o/r", BUGS[0], LABELS)  # the old classifier still answers
    assert ans.status == "ok" and ans.record.model.endswith(f"@{first.seq}")
    assert layer.wait_retrain(60) and layer.classifier() is first  # none started in the pause
    layer._retrain_after = 0.0  # the pause is over
    assert layer.classifier() is first and layer.wait_retrain(60)
    assert layer.classifier().seq == layer.records.example_seq()


def test_doctor_says_what_the_classifier_learned_per_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli.doctor import _classifier
    from bot.llm import layer as layer_module
    from bot.store import open_store

    settings = make_settings(tmp_path)
    ok, msg = _classifier(settings)
    assert ok and msg.startswith("nothing learned yet: installing the App backfills")
    store = open_store(settings.effective_database_url)
    layer = ModelLayer(settings, store)
    for e in many("big/repo", 40):
        layer.learn(e.scope, e.text, e.label, source="backfill")
    layer.learn("small/repo", BUGS[0], "bug", source="human")
    layer.learn("small/repo", FEATURES[0], "feature", source="large")
    monkeypatch.setattr(classifier, "MAX_EXAMPLES", 35)
    monkeypatch.setattr(layer_module, "INLINE_RETRAIN_MAX", 10)
    ok, msg = _classifier(settings)
    assert ok and msg.splitlines() == [
        "42 labeled examples in 2 repositories (40 backfill, 1 human, 1 large); over 10, it"
        " retrains beside the triage",
        "    big/repo: 40 (its model learns from the newest 35)",
        "    small/repo: 2 (under 30: the model of all repositories answers for it)",
    ]
    store.close()
