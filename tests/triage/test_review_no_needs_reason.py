"""When nothing is asked because there is nothing to ask for (several bug forms and the report
matches none, or the bug form requires no field), the audit says so: not that the report "has
the information the repository asks for"; and a needs-info there is not taken off for it."""

from __future__ import annotations

from bot.jobs.triage import handle_issue_event
from bot.ports import CommentData
from tests.triage.conftest import REPO, issue_payload

BUG_FORM = (
    "name: Bug report\nlabels: [bug]\nbody:\n"
    "  - type: input\n    attributes: {label: Version}\n    validations: {required: true}\n"
    "  - type: textarea\n    attributes: {label: Steps to reproduce}\n"
    "    validations: {required: true}\n"
)
CRASH_FORM = (
    "name: Crash report\nlabels: [bug, crash]\nbody:\n"
    "  - type: input\n    attributes: {label: Version}\n    validations: {required: true}\n"
    "  - type: textarea\n    attributes: {label: Crash log}\n    validations: {required: true}\n"
)
OPTIONAL_FORM = (
    "name: Bug report\nlabels: [bug]\nbody:\n"
    "  - type: input\n    attributes: {label: Version}\n"
    "  - type: textarea\n    attributes: {label: Steps to reproduce}\n"
)
BUG = ("App crashes with an exception when I click save", "It crashes every time I click save.")
COMPLETE = "bug report has the information the repository asks for"


def info_rows(ctx, number: int) -> list[str]:  # type: ignore[no-untyped-def]
    rows = ctx.store.audit_rows(REPO, number, limit=50)
    return [r["reason"] for r in rows if r["action"] == "comment"]


def test_no_template_picked_is_audited_as_such(ctx, host):
    host.files[".github/ISSUE_TEMPLATE/bug.yml"] = BUG_FORM
    host.files[".github/ISSUE_TEMPLATE/crash.yml"] = CRASH_FORM
    n = host.add(*BUG).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert "bug" in host.issues[n].labels and "needs-info" not in host.issues[n].labels
    why = info_rows(ctx, n)
    assert COMPLETE not in why
    assert any("2 bug templates and the report matches none" in r for r in why)


def test_a_bug_form_requiring_nothing_is_audited_as_such(ctx, host):
    host.files[".github/ISSUE_TEMPLATE/bug.yml"] = OPTIONAL_FORM
    n = host.add(*BUG).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    why = info_rows(ctx, n)
    assert COMPLETE not in why
    assert "not asking for information: the bug template 'Bug report' requires no field" in why


def test_needs_info_is_not_taken_off_for_want_of_needs(ctx, host):
    host.files[".github/ISSUE_TEMPLATE/bug.yml"] = OPTIONAL_FORM
    n = host.add(*BUG, labels=["bug", "needs-info"]).number
    ask = "Could you add …\n\n<!-- smolbot:triage:needs-info -->\n"
    host.notes[n] = [CommentData(1, host.bot, ask, "2026-01-03T00:00:00Z", "Bot")]
    handle_issue_event(ctx, "d1", issue_payload(host, n, "edited"))
    assert "needs-info" in host.issues[n].labels and host.writes == []
    assert any(r.endswith("requires no field; needs-info left as it is") for r in info_rows(ctx, n))
