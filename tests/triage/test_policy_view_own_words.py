"""Policy (what a bug report lacks) reads the report's own words: a sentence that reads like an
order but is not told to the bot (`the linter should ignore the rule`, `the bot should post a
comment`, `label it`) stays in visible(), so a complete report is not asked for details it gave,
and needs-info goes when the reporter adds what was asked."""

from __future__ import annotations

import pytest

from bot.core.templates import DEFAULT_NEEDS, missing_needs
from bot.core.triage import visible
from bot.jobs.triage import handle_issue_event
from tests.triage.conftest import issue_payload

ESLINT = (
    "no-console still reported on a line with eslint-disable-line",
    "Version 8.57.0.\n\nSteps to reproduce:\n1. write `console.log(1) // eslint-disable-line "
    "no-console`\n2. run `npx eslint .`\n\nThe linter should ignore the rule for that line.\n\n"
    "```\n3:1  error  Unexpected console statement  no-console\n```",
)
TEMPLATE = (
    "name: Bug report\nlabels: [bug]\nbody:\n"
    "  - type: input\n    attributes: {label: Version}\n    validations: {required: true}\n"
    "  - type: textarea\n    attributes: {label: Steps to reproduce}\n    validations: {required: true}\n"
    "  - type: textarea\n    attributes: {label: Expected behavior}\n    validations: {required: true}\n"
)
FORM = {
    "bot-should-post": "### Version\n\n1.4.0\n\n### Steps to reproduce\n\n1. open a pull request\n"
    "2. wait for the check run\n\n### Expected behavior\n\nThe bot should post a comment with the "
    "lint results.\n",
    "label-it": "### Version\n\n1.4.0\n\n### Steps to reproduce\n\nLabel it `stale` and wait a day.\n\n"
    "### Expected behavior\n\nThe stale issue is closed after 7 days.\n",
    "cli-should-print": "### Version\n\n2.0.1\n\n### Steps to reproduce\n\n1. run `tool auth "
    "--show-token`\n\n### Expected behavior\n\nThe CLI should print the token when --show-token "
    "is given.\n",
}


@pytest.mark.parametrize("body", [ESLINT[1], *FORM.values()], ids=["eslint", *FORM])
def test_policy_reads_the_reports_own_words(body):
    assert visible(body) == body


def test_a_complete_free_text_report_is_not_asked_for_details(ctx, host):
    n = host.add(*ESLINT, labels=["bug"]).number  # the reporter chose the bug form
    assert missing_needs(ESLINT[0], ESLINT[1], DEFAULT_NEEDS) == ()  # as people read it
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    asks = [w for w in host.writes if w[0] == "comment" and "could you add" in str(w)]
    assert asks == []


@pytest.mark.parametrize("case", list(FORM))
def test_a_complete_issue_form_is_not_asked_for_details(ctx, host, case):
    host.files[".github/ISSUE_TEMPLATE/bug_report.yml"] = TEMPLATE
    n = host.add("Check run results are not shown", FORM[case], labels=["bug"]).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    asks = [str(w) for w in host.writes if w[0] == "comment" and "could you add" in str(w)]
    assert asks == []


def test_needs_info_goes_when_the_reporter_adds_what_was_asked(ctx, host):
    host.files[".github/ISSUE_TEMPLATE/bug_report.yml"] = TEMPLATE
    empty = FORM["bot-should-post"].replace(
        "The bot should post a comment with the lint results.", "_No response_"
    )
    n = host.add("Check run results are not shown", empty, labels=["bug"]).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert "needs-info" in host.issues[n].labels
    host.issues[n].body = FORM["bot-should-post"]  # the reporter fills in Expected behavior
    handle_issue_event(ctx, "d2", issue_payload(host, n, "edited"))
    assert "needs-info" not in host.issues[n].labels
