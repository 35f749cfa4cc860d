"""Issues opened by a bot (a CI report by github-actions[bot], Renovate's Dependency Dashboard,
smolbot's own config-error issue) are not triaged when a person edits or reopens them: no
label, no needs-triage, no question asked of an app that never reads it."""

from __future__ import annotations

from bot.jobs.commands import handle_comment_event
from bot.jobs.repo_config import CONFIG_ERROR_BODY, CONFIG_ERROR_TITLE
from bot.jobs.triage import handle_issue_event
from tests.triage.conftest import REPO, comment_payload, issue_payload

CRASH = (
    "App crashes with an exception when I click save",
    "Nightly e2e run failed: it crashes every time the save button is clicked.",
)


def reasons(ctx, number: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [r["reason"] for r in ctx.store.audit_rows(REPO, number, limit=50)]


def test_a_ci_report_edited_by_a_person_is_not_triaged(ctx, host):
    n = host.add(*CRASH, author="github-actions[bot]", author_type="Bot").number
    handle_issue_event(ctx, "d1", issue_payload(host, n, "edited", sender="maint"))
    assert host.writes == [] and host.issues[n].labels == []
    assert "skipped: opened by a bot (github-actions[bot])" in reasons(ctx, n)


def test_the_payload_s_author_type_skips_without_reading_the_issue(ctx, host):
    n = host.add(*CRASH, author="nightly-app", author_type="Bot").number
    payload = issue_payload(host, n, "reopened", sender="maint")
    payload["issue"]["user"]["type"] = "Bot"  # as GitHub sends it
    handle_issue_event(ctx, "d1", payload)
    assert host.writes == [] and host.issue_reads == []
    assert "skipped: opened by a bot (nightly-app)" in reasons(ctx, n)


def test_an_app_without_the_bot_suffix_is_known_by_its_type_on_the_issue(ctx, host):
    # the payload says only the login; the issue as GitHub returns it says it is a Bot
    n = host.add(*CRASH, author="nightly-app", author_type="Bot").number
    handle_issue_event(ctx, "d1", issue_payload(host, n, "reopened", sender="maint"))
    assert host.writes == []
    assert "skipped: opened by a bot (nightly-app)" in reasons(ctx, n)


def test_renovate_s_dashboard_ticked_by_a_person_is_not_triaged(ctx, host):
    body = (
        "This issue lists Renovate updates and detected dependencies.\n\n## Open\n"
        " - [x] <!-- rebase-branch=renovate/lodash -->chore(deps): update lodash to 4.17.21\n"
    )
    n = host.add("Dependency Dashboard", body, author="renovate[bot]", author_type="Bot").number
    handle_issue_event(ctx, "d1", issue_payload(host, n, "edited", sender="alice"))
    assert host.writes == []


def test_smolbot_s_own_config_error_issue_reopened_is_not_triaged(ctx, host):
    host.files[".github/smolbot.yml"] = "triage:\n  threshold: 0.4\n"
    body = CONFIG_ERROR_BODY.format(error="triage.threshold: Input should be at most 1")
    n = host.add(CONFIG_ERROR_TITLE, body, author="smolbot[bot]", author_type="Bot").number
    handle_issue_event(ctx, "d1", issue_payload(host, n, "reopened", sender="maint"))
    assert host.writes == []
    assert "skipped: opened by a bot (smolbot[bot])" in reasons(ctx, n)


def test_a_retriage_of_a_bot_s_issue_asks_the_bot_nothing(ctx, host):
    n = host.add(*CRASH, author="github-actions[bot]", author_type="Bot").number
    handle_comment_event(ctx, "d1", comment_payload(host, n, "/smolbot retriage", "maint"))
    assert not [w for k, w in host.writes if k in ("comment", "add_labels")]
    assert "skipped: opened by a bot (github-actions[bot])" in reasons(ctx, n)


def test_a_person_s_issue_is_still_triaged(ctx, host):
    n = host.add(*CRASH).number
    handle_issue_event(ctx, "d1", issue_payload(host, n, "reopened", sender="maint"))
    assert "bug" in host.issues[n].labels
