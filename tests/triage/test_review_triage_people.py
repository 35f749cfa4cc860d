"""Triage and what people did to an issue: a label a person took off, a label_map value another
kind also uses, a mapped label the repository lost, a form's needs-triage on a reopen, an answer
given in a comment. Found by a review of issue triage (each test fails with its fix undone)."""

from __future__ import annotations

from bot.core.actions import AddLabels, NoOp, RemoveLabel
from bot.core.config import Kind, config_from
from bot.core.labels import kind_for_labels, kinds_named, label_for_kind, not_learned_reason
from bot.core.triage import not_put_back, removed_by_people
from bot.jobs.commands import handle_comment_event
from bot.jobs.context import JobContext
from bot.jobs.triage import handle_issue_event
from bot.ports import EventData
from tests.triage.conftest import REPO, comment_payload, issue_payload
from tests.triage.fakes import FakeRepoHost
from tests.triage.test_jobs import FULL_BUG_BODY

BUG = ("App crashes with an exception when I click save", FULL_BUG_BODY)
BARE_BUG = ("App crashes with an exception when I click save", "It crashes every time.")
ANSWER = (
    "Version 2.3.1.\n\nSteps to reproduce:\n1. open\n2. click save\n\n"
    "Expected it to save, but instead it crashes:\n```\nTypeError: boom\n```"
)


def _rows(ctx: JobContext, n: int) -> list[tuple[str, str, str]]:
    rows = ctx.store.audit_rows(REPO, n, limit=200)
    return [(r["action"], r["outcome"], r["reason"]) for r in rows]


def _adds(host: FakeRepoHost) -> list[object]:
    return [w for k, w in host.writes if k == "add_labels"]


def _took_off(ctx: JobContext, host: FakeRepoHost, n: int, label: str, who: str) -> None:
    """`who` takes `label` off on GitHub, and its unlabeled delivery is handled."""
    host.unlabel(n, label, who)
    payload = issue_payload(host, n, "unlabeled", sender=who)
    payload["label"] = {"name": label}
    handle_issue_event(ctx, f"u-{label}-{who}", payload)


def _edited(ctx: JobContext, host: FakeRepoHost, n: int, delivery: str = "e1") -> None:
    host.issues[n].body += "\n\n(typo fixed)"
    host.writes.clear()
    handle_issue_event(ctx, delivery, issue_payload(host, n, "edited"))


# 1. a label a person took off is not put back by an edit or a reopen ---------------------------


def test_a_kind_label_a_maintainer_took_off_is_not_put_back_on_an_edit(ctx, host):
    n = host.add(*BUG).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert host.issues[n].labels == ["bug"]
    _took_off(ctx, host, n, "bug", "maint")
    _edited(ctx, host, n)
    assert _adds(host) == [] and host.issues[n].labels == []
    # a person's triage: the classifier is not asked again (tests/triage/test_review_edit_reclassify)
    why = "edited, but 'bug' was taken off by maint: a person's triage, not classified again"
    assert ("triage", "skipped", why) in [(a, o, r.split(" (")[0]) for a, o, r in _rows(ctx, n)]


def test_a_kind_label_a_maintainer_took_off_is_not_put_back_on_a_reopen(ctx, host):
    n = host.add(*BUG).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    _took_off(ctx, host, n, "bug", "maint")
    host.issues[n].state = "closed"
    handle_issue_event(ctx, "c1", issue_payload(host, n, "closed", sender="maint"))
    host.issues[n].state = "open"
    host.writes.clear()
    handle_issue_event(ctx, "r1", issue_payload(host, n, "reopened", sender="alice"))
    assert _adds(host) == [] and host.issues[n].labels == []
    assert any("'bug' was removed by maint" in r for _, _, r in _rows(ctx, n))


def test_needs_triage_a_maintainer_took_off_is_not_put_back_on_an_edit(ctx, host):
    n = host.add("hmm", "not sure what to make of this thing").number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert host.issues[n].labels == ["needs-triage"]
    _took_off(ctx, host, n, "needs-triage", "maint")  # looked at it: no label wanted
    _edited(ctx, host, n)
    assert _adds(host) == [] and host.issues[n].labels == []
    assert any("'needs-triage' was removed by maint" in r for _, _, r in _rows(ctx, n))


def test_a_maintainer_s_retriage_puts_it_back(ctx, host):
    n = host.add(*BUG).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    _took_off(ctx, host, n, "bug", "maint")
    handle_comment_event(ctx, "c1", comment_payload(host, n, "/smolbot retriage", "maint"))
    assert host.issues[n].labels == ["bug"]


def test_a_label_the_bot_took_off_itself_may_come_back():
    events = [
        EventData("labeled", "smolbot[bot]", "t1", "Bot", label="needs-triage"),
        EventData("unlabeled", "maint", "t2", label="Needs-Triage"),
        EventData("labeled", "smolbot[bot]", "t3", "Bot", label="bug"),
        EventData("unlabeled", "smolbot[bot]", "t4", "Bot", label="bug"),
        EventData("unlabeled", "renovate[bot]", "t5", label="question"),
        EventData("labeled", "maint", "t6", label="docs"),
        EventData("unlabeled", "maint", "t7", label="docs"),
        EventData("labeled", "maint", "t8", label="docs"),
        EventData("assigned", "maint", "t9", assignee="maint"),
    ]
    assert removed_by_people(events, "smolbot[bot]") == {"needs-triage": "maint"}


def test_with_the_kind_held_back_needs_triage_is_not_taken_off():
    actions = [AddLabels(("Bug",), "kind bug"), RemoveLabel("needs-triage", "triaged as bug")]
    out, held = not_put_back(actions, {"bug": "maint"}, "needs-triage")
    assert held
    assert [type(a) for a in out] == [NoOp, NoOp]
    assert isinstance(out[0], NoOp) and "'Bug' was removed by maint" in out[0].reason
    # another kind than the one taken off is applied
    out, held = not_put_back([AddLabels(("question",), "kind question")], {"bug": "m"}, "x")
    assert out == [AddLabels(("question",), "kind question")] and not held


# 2. a label_map value another kind also uses stands for the mapped kind only -------------------


def test_a_mapped_label_names_only_its_mapped_kind():
    cfg = config_from({"triage": {"label_map": {"documentation": "enhancement"}}})
    assert kinds_named(["enhancement"], cfg) == [Kind.DOCUMENTATION]
    assert kind_for_labels(["Enhancement"], cfg) is Kind.DOCUMENTATION
    assert label_for_kind(Kind.FEATURE, ["bug", "enhancement", "feature"], cfg) == "feature"
    assert label_for_kind(Kind.FEATURE, ["bug", "enhancement", "question"], cfg) is None
    cfg = config_from({"triage": {"label_map": {"bug": "support"}}})
    assert not_learned_reason(["support"], cfg) is None
    assert kind_for_labels(["support"], cfg) is Kind.BUG
    assert label_for_kind(Kind.QUESTION, ["support", "question"], cfg) == "question"


def test_a_maintainer_s_mapped_label_is_learned_for_its_kind(ctx, host):
    host.files[".github/smolbot.yml"] = "triage:\n  label_map: {documentation: enhancement}\n"
    n = host.add("Add dark mode", "It would be nice to have a dark theme").number
    handle_issue_event(ctx, "d1", issue_payload(host, n))  # the config is read once
    host.issues[n].labels = ["enhancement"]
    payload = issue_payload(host, n, "labeled", sender="maint")
    payload["label"] = {"name": "enhancement"}
    handle_issue_event(ctx, "l1", payload)
    assert ("learn", "done", "maint labeled it 'enhancement' (documentation)") in _rows(ctx, n)


# 3. a form's needs-triage stays on a reopen, as on the opening ---------------------------------


def test_a_reopen_leaves_the_form_s_needs_triage(ctx, host):
    host.repo_labels.append("needs-triage")
    n = host.add(*BUG, labels=["bug", "needs-triage"]).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    host.issues[n].state = "closed"
    handle_issue_event(ctx, "c1", issue_payload(host, n, "closed"))
    host.issues[n].state = "open"
    handle_issue_event(ctx, "r1", issue_payload(host, n, "reopened"))
    assert sorted(host.issues[n].labels) == ["bug", "needs-triage"]


def test_a_reopen_still_ends_the_bot_s_own_needs_triage(ctx, host):
    host.repo_labels.append("needs-triage")
    n = host.add("hmm", "not sure what to make of this thing").number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert host.issues[n].labels == ["needs-triage"]
    host.issues[n].labels.append("bug")  # a maintainer's kind; needs-triage left on
    host.issues[n].state = "closed"
    handle_issue_event(ctx, "c1", issue_payload(host, n, "closed"))
    host.issues[n].state = "open"
    handle_issue_event(ctx, "r1", issue_payload(host, n, "reopened"))
    assert "needs-triage" not in host.issues[n].labels and "bug" in host.issues[n].labels


# 4. a mapped label the repository does not have is not created ---------------------------------


def test_a_mapped_label_the_repository_lost_gives_needs_triage(ctx, host):
    host.files[".github/smolbot.yml"] = "triage:\n  label_map: {bug: 'type: bug'}\n"
    host.repo_labels = ["Type: Defect", "enhancement", "question", "documentation"]
    n = host.add(*BUG).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert _adds(host) == [(n, ("needs-triage",))]
    assert any(
        a == "add_labels" and "no label 'type: bug' (its label_map entry)" in r
        for a, _, r in _rows(ctx, n)
    )


# 5. an answer in the reporter's own comment takes the bot's needs-info off ---------------------


def _asked(ctx: JobContext, host: FakeRepoHost) -> int:
    n = host.add(*BARE_BUG).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert sorted(host.issues[n].labels) == ["bug", "needs-info"]
    return n


def test_the_reporter_s_answer_in_a_comment_takes_needs_info_off(ctx, host):
    n = _asked(ctx, host)
    handle_comment_event(ctx, "c1", comment_payload(host, n, ANSWER, "alice"))
    assert host.issues[n].labels == ["bug"]
    assert ("remove_label", "done", "the report now has what was asked for") in _rows(ctx, n)


def test_someone_else_s_comment_or_a_reply_without_the_details_leaves_it(ctx, host):
    n = _asked(ctx, host)
    handle_comment_event(ctx, "c1", comment_payload(host, n, ANSWER, "bob"))
    handle_comment_event(ctx, "c2", comment_payload(host, n, "I will look it up tomorrow", "alice"))
    assert sorted(host.issues[n].labels) == ["bug", "needs-info"]
    assert len([w for k, w in host.writes if k == "comment"]) == 1  # the ask, not again


def test_the_bot_s_needs_info_goes_when_answered_after_asking_was_switched_off(ctx, host):
    n = _asked(ctx, host)
    host.files[".github/smolbot.yml"] = "triage:\n  ask_for_missing_info: false\n"
    host.issues[n].body = ANSWER
    handle_issue_event(ctx, "e1", issue_payload(host, n, "edited"))
    assert host.issues[n].labels == ["bug"]
