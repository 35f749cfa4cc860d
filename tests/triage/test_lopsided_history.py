"""A repository whose labeled history is (nearly) all one kind (210 bugs, 2 enhancements): the
classifier must not call a plain question a bug with confidence, and label it so unescalated."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.jobs.backfill import backfill_repo
from bot.jobs.context import JobContext
from bot.jobs.triage import handle_issue_event
from bot.llm import get_model_layer
from bot.llm.classifier import Classifier
from bot.settings import load_settings
from bot.store import open_store
from tests.triage.conftest import OneRepoGitHub, issue_payload
from tests.triage.examples import BUGS, FEATURES
from tests.triage.fakes import FakeRepoHost


def test_a_bug_only_history_does_not_make_every_question_a_bug(tmp_path):  # type: ignore[no-untyped-def]
    settings = load_settings(data_dir=tmp_path / "data", env="test")  # default threshold, 0.6
    store = open_store(settings.db_path)
    host = FakeRepoHost(repo="octo/app")
    for i in range(14):
        for text in BUGS:
            title, body = text.split("\n", 1)
            host.add(f"{title} ({i})", f"{body} Seen on build {i}.", state="closed", labels=["bug"])
    for text in FEATURES[:2]:
        title, body = text.split("\n", 1)
        host.add(title, body, state="closed", labels=["enhancement"])
    ctx = JobContext(
        settings,
        store,
        OneRepoGitHub(host),
        get_model_layer(settings, store),  # type: ignore[arg-type]
        lambda: datetime(2026, 3, 1, tzinfo=UTC),
    )
    result = backfill_repo(ctx, host, host.repo)
    assert result.learned == 212
    ctx.models.classifier(force=True)
    q = host.add(
        "How do I configure the proxy?",
        "I could not find in the docs how to set a proxy. How can I do it?",
    )
    handle_issue_event(ctx, "d-q", issue_payload(host, q.number))
    labels = host.issues[q.number].labels
    rows = store.audit_rows("octo/app", q.number, limit=50)
    why = [
        (r["reason"], json.loads(r["detail"])["model"].get("model"))
        for r in rows
        if "kind bug" in r["reason"]
    ]
    store.close()
    assert "bug" not in labels, (labels, why[:2])


KINDS = ["bug", "feature", "question", "documentation"]


def test_the_shrink_counts_a_history_by_its_second_kind() -> None:
    lopsided = Classifier(counts={"octo/app": 212}, kinds={"bug": 210, "feature": 2})
    assert lopsided.evidence(KINDS) == 0  # two kinds of four: sure of nothing
    mixed = Classifier(counts={"a/b": 1050}, kinds={"bug": 350, "feature": 350, "question": 350})
    assert mixed.evidence(KINDS) == 1050  # kinds in comparable numbers: shrunk as before
    usual = Classifier(counts={"a/b": 1000}, kinds={"bug": 600, "feature": 250, "question": 150})
    assert usual.evidence(KINDS) == 600  # by its third kind: 600 / 660 of the way to its answer
    asked_two = Classifier(counts={"a/b": 550}, kinds={"feature": 300, "question": 250})
    assert asked_two.evidence(["bug", "feature"]) == 0  # never saw bug: sure of neither
    assert asked_two.evidence(["feature", "question"]) == 500
    # bugs and features only, asked the four kinds: it cannot tell a question from either
    two_kinds = Classifier(counts={"a/b": 800}, kinds={"bug": 400, "feature": 400})
    assert two_kinds.evidence(KINDS) == 0
    assert two_kinds.evidence(["bug", "feature"]) == 800
    assert two_kinds.evidence(["bug", "feature", "question"]) == 800  # two of three: as before
    # one example of a third kind does not undo it; the third in number does, by degrees
    assert (
        Classifier(counts={"a/b": 801}, kinds={"bug": 400, "feature": 400, "question": 1}).evidence(
            KINDS
        )
        == 4
    )
    more = Classifier(counts={"a/b": 900}, kinds={"bug": 400, "feature": 400, "question": 100})
    assert more.evidence(KINDS) == 400
    assert Classifier(counts={"a/b": 5}, kinds={"bug": 5}).evidence(["bug"]) == 0
