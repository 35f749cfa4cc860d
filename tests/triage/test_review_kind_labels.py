"""A kind label already on the issue (an issue form's `labels: [bug]`, a maintainer's) is kept:
triage adds no second, contradicting kind on opened / reopened; `/smolbot retriage` replaces it."""

from __future__ import annotations

from bot.jobs.commands import handle_comment_event
from bot.jobs.triage import handle_issue_event
from tests.triage.conftest import REPO, comment_payload, issue_payload
from tests.triage.fakes import FakeRepoHost

FEATURE = ("Add dark mode please", "It would be great to have a dark theme option.")
BUG = (
    "App crashes with an exception when I click save",
    "It crashes every time I click the save button.",
)


def asks(host: FakeRepoHost, n: int) -> list[str]:
    return [
        str(w[1])  # type: ignore[index]
        for k, w in host.writes
        if k == "comment" and w[0] == n and "triage:needs-info" in str(w[1])  # type: ignore[index]
    ]


def test_opened_through_a_bug_form_that_reads_like_a_feature_keeps_only_bug(ctx, host):
    n = host.add(*FEATURE, labels=["bug"]).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    labels = host.issues[n].labels
    assert "enhancement" not in labels and labels[0] == "bug", labels
    # the first-responder work goes by the kind that is there: a bug report is asked for details
    assert "needs-info" in labels and len(asks(host, n)) == 1
    rows = ctx.store.audit_rows(REPO, n, limit=50)
    assert any("already labeled 'bug'" in r["reason"] for r in rows)
    assert (ctx.store.issue(REPO, n) or {}).get("kind") == "bug"


def test_reopen_keeps_the_maintainers_kind(ctx, host):
    n = host.add(*FEATURE).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert host.issues[n].labels == ["enhancement"]
    host.issues[n].labels[:] = ["bug"]  # a maintainer relabels it; later it is reopened
    handle_issue_event(ctx, "d2", issue_payload(host, n, "reopened"))
    assert host.issues[n].labels[0] == "bug" and "enhancement" not in host.issues[n].labels


def test_a_non_bug_kind_label_is_not_asked_for_a_bug_reports_details(ctx, host):
    n = host.add(*BUG, labels=["question"]).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert host.issues[n].labels == ["question"] and not asks(host, n)


def test_a_kind_label_clears_needs_triage_and_labels_naming_two_kinds_are_left_alone(ctx, host):
    # the bot's own needs-triage (unsure at the opening), beside a maintainer's kind since;
    # someone else's is left for them (test_review_triage_people)
    n = host.add("hmm", "not sure what to make of this thing").number
    handle_issue_event(ctx, "d0", issue_payload(host, n))
    assert host.issues[n].labels == ["needs-triage"]
    host.issues[n].labels.insert(0, "enhancement")
    handle_issue_event(ctx, "d1", issue_payload(host, n, "reopened"))
    assert host.issues[n].labels == ["enhancement"]
    m = host.add(*FEATURE, labels=["bug", "enhancement"]).number
    handle_issue_event(ctx, "d2", issue_payload(host, m, "reopened"))
    assert host.issues[m].labels == ["bug", "enhancement"] and not asks(host, m)


def test_retriage_still_replaces_the_kind(ctx, host):
    n = host.add(*FEATURE, labels=["bug"]).number
    handle_comment_event(ctx, "c1", comment_payload(host, n, "/smolbot retriage", "maint"))
    assert host.issues[n].labels == ["enhancement"], host.issues[n].labels


def test_a_kind_label_put_on_while_the_model_reads_the_issue_wins(ctx, host, monkeypatch):
    """A maintainer labels the issue `question` in the seconds the classifier takes: the bot's
    `bug` is not added beside it, nor are a bug report's details asked for."""
    import bot.jobs.triage as triage

    n = host.add(*BUG).number
    classify = triage.classify

    def classify_while_a_maintainer_labels(*args, **kwargs):  # type: ignore[no-untyped-def]
        verdict = classify(*args, **kwargs)  # the real classifier, then the maintainer's label
        host.issues[n].labels.append("question")
        return verdict

    monkeypatch.setattr(triage, "classify", classify_while_a_maintainer_labels)
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert host.issues[n].labels == ["question"] and not asks(host, n)
    assert (ctx.store.issue(REPO, n) or {}).get("kind") == "question"
    rows = ctx.store.audit_rows(REPO, n, limit=50)
    assert any("already labeled 'question'" in r["reason"] for r in rows)
