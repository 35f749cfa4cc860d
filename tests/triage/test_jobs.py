"""Triage jobs over a hand-written fake RepoHost, the real store and the real classifier layer."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from bot.coord.locks import Locks
from bot.jobs.backfill import (
    CURSORS,
    RESUME_WITHIN_S,
    BackfillBusy,
    backfill_from_file,
    backfill_repo,
    cursor,
    lock_key,
)
from bot.jobs.commands import handle_comment_event
from bot.jobs.context import JobContext
from bot.jobs.repo_config import CONFIG_ERROR_TITLE, load_repo_config
from bot.jobs.triage import handle_issue_event
from bot.llm import ModelLayer
from bot.ports import CommentData, Unavailable
from bot.settings import load_settings
from tests.llm import fake_local
from tests.triage.conftest import (
    NOW,
    REPO,
    THRESHOLDS,
    OneRepoGitHub,
    comment_payload,
    issue_payload,
)
from tests.triage.examples import labeled
from tests.triage.fakes import FakeRepoHost

BUG = (
    "App crashes with an exception when I click save",
    "It crashes every time I click the save button.",
)
FULL_BUG_BODY = (
    "Version 2.3.1.\n\nSteps to reproduce:\n1. open\n2. click save\n\n"
    "Expected it to save, but instead it crashes:\n```\nTypeError: boom\n```"
)


def writes(host: FakeRepoHost, kind: str) -> list[object]:
    return [w for k, w in host.writes if k == kind]


def audits(ctx: JobContext, number: int | None = None) -> list[dict]:  # type: ignore[type-arg]
    return ctx.store.audit_rows(REPO, number, limit=500)


def test_bug_without_details_gets_label_one_question_and_needs_info(ctx, host):
    n = host.add(*BUG).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert "bug" in host.issues[n].labels and "needs-info" in host.issues[n].labels
    asks = [b for (num, b) in writes(host, "comment") if "smolbot:triage:needs-info" in b]
    assert len(asks) == 1 and "steps to reproduce" in asks[0] and "version" in asks[0]
    handle_issue_event(ctx, "d2", issue_payload(host, n, "reopened"))  # nothing is asked twice
    assert len([b for (_, b) in writes(host, "comment") if "needs-info" in b]) == 1
    row = next(r for r in audits(ctx, n) if r["action"] == "add_labels" and r["outcome"] == "done")
    model = json.loads(row["detail"])["model"]
    assert model["backend"] == "classifier" and model["confidence"] >= 0.4


def test_complete_bug_report_is_not_asked_anything(ctx, host):
    n = host.add(BUG[0], FULL_BUG_BODY).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert host.issues[n].labels == ["bug"] and not writes(host, "comment")


def test_feature_is_labeled_enhancement_and_never_asked(ctx, host):
    n = host.add("Add dark mode please", "It would be great to have a dark theme option.").number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert host.issues[n].labels == ["enhancement"] and not writes(host, "comment")


def test_unsure_without_large_model_takes_cautious_path(ctx, host):
    n = host.add("hmm", "see title").number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert host.issues[n].labels == ["needs-triage"] and not writes(host, "comment")
    row = next(r for r in audits(ctx, n) if r["action"] == "add_labels")
    assert "cautious path" in row["reason"]


def test_no_model_layer_means_needs_triage(ctx, host):
    ctx.models = None
    n = host.add(*BUG).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert host.issues[n].labels == ["needs-triage"]


def test_label_map_and_repo_labels_from_config(ctx, host):
    host.repo_labels = ["T: defect", "T: idea"]
    host.files[".github/smolbot.yml"] = "triage:\n  label_map:\n    bug: 'T: defect'\n"
    n = host.add(BUG[0], FULL_BUG_BODY).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert host.issues[n].labels == ["T: defect"]


def test_dry_run_config_writes_nothing_but_audits(ctx, host):
    host.files[".github/smolbot.yml"] = "dry_run: true\n"
    n = host.add(*BUG).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert host.writes == []
    assert {r["outcome"] for r in audits(ctx, n)} >= {"dry-run"}


def test_edited_triaged_issue_is_left_alone_but_untriaged_is_retried(ctx, host):
    n = host.add("hmm", "see title").number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    host.issues[n].body = FULL_BUG_BODY
    host.issues[n].title = BUG[0]
    handle_issue_event(ctx, "d2", issue_payload(host, n, "edited"))
    assert host.issues[n].labels == ["bug"]  # needs-triage removed
    handle_issue_event(ctx, "d3", issue_payload(host, n, "edited"))
    assert any(r["reason"] == "edited, but already triaged" for r in audits(ctx, n))


def test_bot_events_and_pull_requests_are_ignored(ctx, host):
    n = host.add(*BUG).number
    handle_issue_event(ctx, "d1", issue_payload(host, n, sender="smolbot[bot]", sender_type="Bot"))
    pr = issue_payload(host, n)
    pr["issue"]["pull_request"] = {"url": "x"}
    handle_issue_event(ctx, "d2", pr)
    assert host.writes == [] and [r["reason"] for r in audits(ctx, n)] == [
        "event caused by a bot",
        "pull request",
    ]


def test_issue_template_fields_are_what_is_asked_for(ctx, host):
    host.files[".github/ISSUE_TEMPLATE/bug_report.yml"] = (
        "name: Bug report\nlabels: [bug]\nbody:\n"
        "  - type: input\n    attributes: {label: Operating system}\n    validations: {required: true}\n"
        "  - type: textarea\n    attributes: {label: Steps to reproduce}\n    validations: {required: true}\n"
    )
    host.files[".github/ISSUE_TEMPLATE/config.yml"] = "blank_issues_enabled: false\n"
    body = "### Operating system\n\n_No response_\n\n### Steps to reproduce\n\n1. click save, it crashes"
    n = host.add(BUG[0], body).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    (ask,) = [b for (_, b) in writes(host, "comment")]
    assert "- Operating system" in ask and "Steps to reproduce" not in ask


@pytest.mark.parametrize(
    "broken",
    [
        "name: Crash\nbody:\n  - type: input\n    attributes: {label: Version}\n"
        "    validations: [required]\n",  # a list where GitHub wants a mapping
        "name: Crash\nbody:\n  - type: textarea\n    attributes: Steps\n",
        "name: Crash\nbody:\n  - type: input\n    attributes: {label: Day, placeholder: 2024-02-30}\n",
    ],
)
def test_a_broken_issue_template_is_skipped_not_the_triage(ctx, host, broken):
    """A template that parses as YAML but holds what no form can (raised AttributeError or
    ValueError in the parser) is left out; the repository's other bug template still counts."""
    host.files[".github/ISSUE_TEMPLATE/bug_report.yml"] = (
        "name: Bug report\nlabels: [bug]\nbody:\n"
        "  - type: input\n    attributes: {label: Operating system}\n    validations: {required: true}\n"
    )
    host.files[".github/ISSUE_TEMPLATE/crash.yml"] = broken
    n = host.add(BUG[0], "### Operating system\n\n_No response_\n").number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    (ask,) = [b for (_, b) in writes(host, "comment")]
    assert "- Operating system" in ask
    assert any("needs-info" in labels for _, labels in writes(host, "add_labels"))


def test_a_bold_line_inside_a_template_section_is_its_text_not_a_heading(ctx, host):
    host.files[".github/ISSUE_TEMPLATE/bug_report.yml"] = (
        "name: Bug report\nlabels: [bug]\nbody:\n"
        "  - type: textarea\n    attributes: {label: Steps to reproduce}\n    validations: {required: true}\n"
        "  - type: input\n    attributes: {label: Version}\n    validations: {required: true}\n"
    )
    body = (
        "### Steps to reproduce\n\n**On Windows:**\n1. open the app\n2. click save\n\n"
        "### Version\n\n**2.4.1**\n"
    )
    n = host.add(BUG[0], body).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert not writes(host, "comment")  # nothing is missing: nothing is asked


def test_duplicates_are_suggested_with_state_never_closed(ctx, host):
    old = host.add(
        "Crash when clicking the save button in the editor",
        "TypeError on save button click",
        state="closed",
    )
    ctx.store.upsert_issue(REPO, issue_payload(host, old.number)["issue"])
    ctx.store.upsert_issue(
        REPO, {"number": 50, "title": "Add dark mode", "body": "theme", "state": "open"}
    )
    n = host.add(
        "Editor crashes when clicking save button",
        "TypeError after clicking the save button. " + FULL_BUG_BODY,
    ).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    (advice,) = [b for (_, b) in writes(host, "comment") if "duplicates" in b]
    assert f"#{old.number} (closed" in advice and "#50" not in advice
    assert not writes(host, "close")


@pytest.mark.parametrize("gone", ["deleted", "transferred"])
def test_an_issue_that_left_the_repository_is_no_longer_a_likely_duplicate(ctx, host, gone):
    first = host.add("Editor crashes when clicking save button", "TypeError on save click")
    handle_issue_event(ctx, "d1", issue_payload(host, first.number))  # stored; the index fitted
    second = host.add("Editor crashes when clicking the save button", "TypeError after save")
    handle_issue_event(ctx, "d2", issue_payload(host, second.number))
    (advice,) = [b for (_, b) in writes(host, "comment") if "duplicates" in b]
    assert f"#{first.number} (open" in advice
    payload = issue_payload(host, first.number, gone)
    del host.issues[first.number]
    handle_issue_event(ctx, "d3", payload)
    third = host.add("Editor crashes when I click the save button", "TypeError on save click")
    handle_issue_event(ctx, "d4", issue_payload(host, third.number))
    advice = [b for (_, b) in writes(host, "comment") if "duplicates" in b][1:]
    assert all(f"#{first.number} " not in b for b in advice)
    assert advice and f"#{second.number} (open" in advice[0]
    assert any(f"issues.{gone}" in r["reason"] for r in audits(ctx, first.number))


def test_first_response_failing_the_check_posts_nothing(ctx, host):
    class Writer:
        def __init__(self, inner, text):  # type: ignore[no-untyped-def]
            self.inner, self.text = inner, text

        def classify(self, *a, **k):  # type: ignore[no-untyped-def]
            return self.inner.classify(*a, **k)

        def learn(self, *a, **k):  # type: ignore[no-untyped-def]
            return self.inner.learn(*a, **k)

        def ask(self, task, prompt, variables, schema, use_unsure=True):  # type: ignore[no-untyped-def]
            from bot.llm.api import Answer, ModelRecord

            rec = ModelRecord(task, "scripted", "scripted", prompt, 0.9, False, 1.0)
            return Answer(schema(comment=self.text), 0.9, rec, "ok", [rec])

    host.files[".github/smolbot.yml"] = "triage:\n  first_response: true\n"
    ctx.models = Writer(ctx.models, "Thanks! @everyone see https://evil.example")
    n = host.add(BUG[0], FULL_BUG_BODY).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert not writes(host, "comment")
    row = next(r for r in audits(ctx, n) if "first response failed" in r["reason"])
    assert json.loads(row["detail"])["model"]["backend"] == "scripted"
    ctx.models = Writer(ctx.models.inner, "Thanks for the report! This looks like a bug.")
    m = host.add(BUG[0], FULL_BUG_BODY).number
    handle_issue_event(ctx, "d2", issue_payload(host, m))
    assert [num for (num, b) in writes(host, "comment") if "first-response" in b] == [m]


@pytest.mark.parametrize(("bar", "posted"), [(0.5, True), (0.9, False)])
def test_the_first_response_asks_its_own_prompt_under_the_comment_threshold(
    store, host, tmp_path, monkeypatch, bar, posted
):
    """The triage prompt (kind, next steps, related issues) under task `comment`, whose threshold
    (SMOLBOT_THRESHOLDS) decides: the scripted local answer (0.8) passes 0.5, not 0.9."""
    script = fake_local.install(monkeypatch)
    script.replies = ['{"comment": "Thanks for the report! A maintainer will look at it."}']
    model = fake_local.model_file(tmp_path / "m.gguf", b"qwen")
    thresholds = {**THRESHOLDS, "comment": bar}
    settings = load_settings(
        data_dir=tmp_path / "data", env="test", model_path=model, thresholds=thresholds
    )
    layer = ModelLayer(settings, store)
    for text, label in labeled():
        layer.learn(REPO, text, label, "backfill")
    layer.classifier(force=True)
    ctx = JobContext(settings, store, OneRepoGitHub(host), layer, lambda: NOW)  # type: ignore[arg-type]
    host.files[".github/smolbot.yml"] = "triage:\n  first_response: true\n"
    n = host.add(BUG[0], FULL_BUG_BODY).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    (asked,) = [c["user"] for c in script.calls if "Write the acknowledgement" in c["user"]]
    assert "What happens next:" in asked and "Related issues:" in asked
    (row,) = [r for r in layer.records.calls() if r["final"] and r["task"] == "comment"]
    assert row["prompt_version"] == "first_response_triage@2"
    assert row["status"] == ("ok" if posted else "not_escalated")
    acks = [num for (num, b) in writes(host, "comment") if "first-response" in b]
    assert acks == ([n] if posted else [])


def test_the_repository_threshold_is_the_layer_s_bar(ctx, host):
    """triage: threshold: reaches the model layer, which escalates (or is cautious) below it."""
    asked = []

    class Recording:
        def __init__(self, inner):  # type: ignore[no-untyped-def]
            self.inner = inner

        def classify(self, *a, **k):  # type: ignore[no-untyped-def]
            asked.append(k["threshold"])
            return self.inner.classify(*a, **k)

        def learn(self, *a, **k):  # type: ignore[no-untyped-def]
            return self.inner.learn(*a, **k)

    ctx.models = Recording(ctx.models)
    host.files[".github/smolbot.yml"] = "triage:\n  threshold: 0.99\n"
    n = host.add(*BUG).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert asked == [0.99]
    assert host.issues[n].labels == ["needs-triage"]  # the same bug passes the default bar
    assert any("no large-model answer was used" in r["reason"] for r in audits(ctx, n))


def test_invalid_config_keeps_last_good_and_opens_one_issue(ctx, host):
    host.files[".github/smolbot.yml"] = "dry_run: false\ntriage:\n  needs_triage_label: triage-me\n"
    cfg = load_repo_config(ctx.store, host, REPO, bot_login="smolbot[bot]")
    assert cfg.triage.needs_triage_label == "triage-me"
    assert load_repo_config(ctx.store, host, REPO, bot_login=host.bot) == cfg
    assert host.file_reads[-1] == (".github/smolbot.yml", True)  # served by ETag, no new body
    host.files[".github/smolbot.yml"] = "triage:\n  threshold: 7\n"
    for _ in range(3):
        assert load_repo_config(ctx.store, host, REPO, bot_login=host.bot) == cfg
    created = writes(host, "create_issue")
    assert len(created) == 1 and created[0][1] == CONFIG_ERROR_TITLE  # type: ignore[index]
    host.files[".github/smolbot.yml"] = "triage: [oops"
    load_repo_config(ctx.store, host, REPO, bot_login=host.bot)
    assert len(writes(host, "create_issue")) == 1 and len(writes(host, "edit_issue")) == 1


def test_a_deleted_config_error_issue_is_opened_again_not_a_failure(ctx, host):
    """A maintainer deleting the bot's config-error issue must not fail every later delivery
    (reading it raised): the next invalid config opens a new one."""
    host.files[".github/smolbot.yml"] = "triage:\n  threshold: 7\n"
    load_repo_config(ctx.store, host, REPO, bot_login=host.bot)
    (first,) = [n for n, i in host.issues.items() if i.title == CONFIG_ERROR_TITLE]
    del host.issues[first]  # deleted; reading it answers as GitHub's 410 does
    host.files[".github/smolbot.yml"] = "triage: [oops"
    load_repo_config(ctx.store, host, REPO, bot_login=host.bot)
    assert len(writes(host, "create_issue")) == 2
    assert [i.title for i in host.issues.values()].count(CONFIG_ERROR_TITLE) == 1


def test_commands_need_write_access(ctx, host):
    n = host.add(*BUG).number
    handle_comment_event(ctx, "c1", comment_payload(host, n, "/smolbot duplicate #1", "mallory"))
    handle_comment_event(
        ctx, "c2", comment_payload(host, n, "/smolbot ignore", "smolbot[bot]", "Bot")
    )
    assert host.writes == []
    reasons = [r["reason"] for r in audits(ctx, n)]
    assert "mallory has read access; commands need write, maintain or admin" in reasons
    assert any("written by a bot" in r for r in reasons)


def test_maintainer_duplicate_command_closes(ctx, host):
    orig = host.add("first report").number
    n = host.add(*BUG).number
    handle_comment_event(
        ctx, "c1", comment_payload(host, n, "Same thing.\n/smolbot duplicate #1", "maint")
    )
    assert (
        writes(host, "close") == [(n, "duplicate")] and f"#{orig}" in writes(host, "comment")[0][1]
    )  # type: ignore[index]
    handle_comment_event(ctx, "c2", comment_payload(host, n, "/smolbot duplicate #77", "maint"))
    assert any("no such issue" in r["reason"] for r in audits(ctx, n))


def test_ignore_then_retriage_and_summarize(ctx, host):
    n = host.add(*BUG).number
    handle_comment_event(ctx, "c1", comment_payload(host, n, "/smolbot ignore", "admin1"))
    handle_issue_event(ctx, "d1", issue_payload(host, n, "reopened"))
    assert host.writes == []
    handle_comment_event(
        ctx, "c2", comment_payload(host, n, "/smolbot retriage\n/smolbot summarize", "maint")
    )
    assert "bug" in host.issues[n].labels
    summary = [r for r in audits(ctx, n) if r["action"] == "command.summarize"]
    assert summary and summary[0]["outcome"] in ("done", "skipped")


def test_backfill_pages_through_rate_limit_and_learns_closed_labeled(ctx, host):
    for i in range(6):
        host.add(f"Crash number {i} when saving", "it crashes", state="closed", labels=["bug"])
    host.add("Open one", "still open", labels=["bug"])
    host.add("Closed unlabeled", "x", state="closed")
    host.add("A pull request", "x", state="closed", labels=["bug"], is_pull_request=True)
    host.page_size, host.rate_limit_once_after = 2, 3  # page 3 (issues 5 and 6) is refused once
    slept: list[float] = []
    seen: list[int] = []
    result = backfill_repo(ctx, host, REPO, progress=seen.append, sleep=slept.append)
    assert slept == [2.0] and result.seen == 9 and sum(seen) == 9
    assert host.pages_fetched == [1, 2, 2, 3, 4, 5]  # resumed at the last page fetched, not at 1
    assert (result.stored, result.learned, result.skipped) == (8, 6, 1)
    assert len(ctx.store.issues(REPO)) == 8
    assert result.not_learned == {"no label": 1}  # the open one is stored, not counted


def test_backfill_rides_out_a_5xx_mid_listing_and_resumes_there(ctx, host):
    for i in range(7):
        host.add(f"Crash number {i} when saving", "it crashes", state="closed", labels=["bug"])
    host.page_size, host.unavailable_at_page = 2, 3
    slept: list[float] = []
    result = backfill_repo(ctx, host, REPO, sleep=slept.append)
    assert slept == [5.0] and (result.seen, result.stored, result.learned) == (7, 7, 7)
    assert host.pages_fetched == [1, 2, 2, 3, 4]


def test_backfill_gives_up_on_a_lasting_5xx_for_the_queue_to_retry(ctx, host):
    host.add("Crash", "it crashes", state="closed", labels=["bug"])
    host.down_at_page = 1  # GitHub stays down: every attempt fails
    slept: list[float] = []
    with pytest.raises(Unavailable, match="502"):
        backfill_repo(ctx, host, REPO, sleep=slept.append)
    assert slept == [5.0, 30.0, 120.0]


def test_a_stopped_backfill_resumes_at_its_page_in_a_later_call(ctx, host):
    """The task queue's retry after a long outage (or the CLI run again) starts where the last
    call stopped: the cursor lives in the store, not in the call."""
    for i in range(7):
        host.add(f"Crash number {i} when saving", "it crashes", state="closed", labels=["bug"])
    host.page_size, host.down_at_page = 2, 3  # page 3 fails on every attempt
    with pytest.raises(Unavailable):
        backfill_repo(ctx, host, REPO, sleep=lambda s: None)
    row = cursor(ctx.store, REPO)
    assert row is not None and (row["status"], row["page"]) == ("stopped", 2)
    assert "Unavailable" in row["error"] and len(ctx.store.issues(REPO)) == 4
    stopped = [r for r in ctx.store.audit_rows(REPO, limit=50) if r["outcome"] == "stopped"]
    assert "a backfill within a day resumes at page 2" in stopped[0]["reason"]

    host.down_at_page, host.pages_fetched = None, []
    result = backfill_repo(ctx, host, REPO, sleep=lambda s: None)
    assert host.pages_fetched == [2, 3, 4] and result.first_page == 2
    assert (result.seen, result.learned, result.known) == (5, 3, 2)  # page 2 again: known
    assert len(ctx.store.issues(REPO)) == 7
    assert cursor(ctx.store, REPO)["status"] == "done"  # type: ignore[index]

    host.pages_fetched = []  # a finished backfill run again starts at page 1 and learns nothing
    again = backfill_repo(ctx, host, REPO, sleep=lambda s: None)
    assert host.pages_fetched == [1, 2, 3, 4] and (again.learned, again.known) == (0, 7)


def test_a_backfill_stopped_long_ago_lists_from_page_1(ctx, host):
    for i in range(5):
        host.add(f"Crash number {i} when saving", "it crashes", state="closed", labels=["bug"])
    host.page_size = 2
    backfill_repo(ctx, host, REPO, sleep=lambda s: None)
    stale = time.time() - RESUME_WITHIN_S - 60
    ctx.store.db.table(CURSORS).update(REPO, {"status": "stopped", "updated_at": stale, "page": 3})
    host.pages_fetched = []
    assert backfill_repo(ctx, host, REPO, sleep=lambda s: None).first_page == 1
    assert host.pages_fetched == [1, 2, 3]
    ctx.store.db.table(CURSORS).update(REPO, {"status": "stopped", "updated_at": time.time()})
    host.pages_fetched = []
    assert backfill_repo(ctx, host, REPO, sleep=lambda s: None).first_page == 3
    assert host.pages_fetched == [3]


def test_a_second_backfill_of_a_repository_refuses_while_one_runs(ctx, host):
    """The CLI beside a worker: the second says who is at it and touches nothing (one cursor row)."""
    for i in range(5):
        host.add(f"Crash number {i} when saving", "it crashes", state="closed", labels=["bug"])
    host.page_size = 2
    other = Locks(ctx.store)  # another process's backfill, running at page 3
    assert other.try_acquire(lock_key(REPO))
    ctx.store.db.table(CURSORS).upsert(
        {
            "repo": REPO,
            "status": "running",
            "page": 3,
            "started_at": time.time(),
            "updated_at": time.time(),
        },
        pk="repo",
    )
    with pytest.raises(BackfillBusy, match=r"already running \(at page 3, last progress 0 s ago\)"):
        backfill_repo(ctx, host, REPO, sleep=lambda s: None)
    assert host.pages_fetched == [] and cursor(ctx.store, REPO)["page"] == 3  # type: ignore[index]
    other._release(lock_key(REPO))  # it finished, or died and its lease ran out
    assert backfill_repo(ctx, host, REPO, sleep=lambda s: None).first_page == 3


def test_a_backfill_that_lost_its_lock_stops_and_leaves_the_cursor_to_the_new_holder(ctx, host):
    for i in range(5):
        host.add(f"Crash number {i} when saving", "it crashes", state="closed", labels=["bug"])
    host.page_size = 2

    def taken_over(n: int) -> None:  # paused past its lease mid-listing; another took the key
        ctx.store.db.execute("update coord_locks set owner = 'other'")
        ctx.store.db.table(CURSORS).update(REPO, {"page": 1, "delivery_id": "theirs"})

    with pytest.raises(BackfillBusy, match="already running"):
        backfill_repo(ctx, host, REPO, progress=taken_over, sleep=lambda s: None)
    assert host.pages_fetched == [1, 2]
    row = cursor(ctx.store, REPO)
    assert row is not None and (row["status"], row["delivery_id"]) == ("running", "theirs")
    assert [r["owner"] for r in ctx.store.db.table("coord_locks").rows] == ["other"]


def test_a_maintainer_s_label_outranks_the_backfill(ctx, host):
    """A person relabeled the issue's text (source human): backfill's older label is not learned."""
    n = host.add("Crash number 1 when saving", "it crashes", state="closed", labels=["bug"])
    ctx.models.learn(REPO, f"{n.title}\n\n{n.body}", "question", "human")
    result = backfill_repo(ctx, host, REPO, sleep=lambda s: None)
    assert (result.learned, result.known) == (0, 0)
    assert result.not_learned == {"labeled otherwise before by a person": 1}


def test_backfill_from_csv_and_jsonl(ctx, tmp_path: Path):
    csv_file = tmp_path / "l.csv"
    csv_file.write_text(
        'title,body,label\nCrash,"it crashes",bug\nIdea,"add x",enhancement\nHuh,"x",wontfix\n'
    )
    assert backfill_from_file(ctx, "other/repo", csv_file).learned == 2
    jl = tmp_path / "l.jsonl"
    jl.write_text(json.dumps({"title": "How?", "body": "how do I", "label": "question"}) + "\n")
    assert backfill_from_file(ctx, "other/repo", jl).learned == 1


def test_backfill_reads_every_label_column_of_a_jira_export(ctx, tmp_path: Path):
    """Jira writes one `Labels` column per label: DictReader kept the last (mostly empty), and
    the rows were learned as unlabeled."""
    src = tmp_path / "jira.csv"
    src.write_text(
        "Title,Body,Labels,Labels,Labels\n"
        'Crash,"it crashes",bug,,\n'
        'Idea,"add x",,enhancement,\n'
        'How?,"how do I",,,question\n'
    )
    assert backfill_from_file(ctx, "other/repo", src).learned == 3


def test_backfill_refuses_a_title_column_given_twice(ctx, tmp_path: Path):
    src = tmp_path / "twice.csv"
    src.write_text("title,title,body,label\nCrash,Other,x,bug\n")
    with pytest.raises(ValueError, match="the column title is there 2 times; keep one"):
        backfill_from_file(ctx, "other/repo", src)


def test_backfill_reads_a_csv_after_blank_lines(ctx, tmp_path: Path):
    """The blank line was taken for the header: "the columns are none"."""
    src = tmp_path / "blank.csv"
    src.write_text('\n\ntitle,body,label\nCrash,"it crashes",bug\nIdea,"add x",enhancement\n')
    assert backfill_from_file(ctx, "other/repo", src).learned == 2
    src.write_text('\ntitle,body,label\nCrash,"it crashes,bug\n')
    with pytest.raises(ValueError, match=r"blank\.csv:3: not CSV from this line on"):
        backfill_from_file(ctx, "other/repo", src)


def test_backfill_reads_the_label_objects_gh_issue_list_writes(ctx, tmp_path: Path):
    """`gh issue list --json number,title,body,labels --jq '.[]'`: each label an object. Their
    dict text was taken for the label names, so nothing was learned."""
    src = tmp_path / "gh.jsonl"
    rows = [
        {
            "number": 3,
            "title": "Crash",
            "body": "it crashes",
            "labels": [{"id": "LA_1", "name": "bug", "color": "d73a4a"}],
        },
        {
            "number": 4,
            "title": "Idea",
            "body": "add x",
            "labels": [{"id": "LA_2", "name": "enhancement"}],
        },
    ]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = backfill_from_file(ctx, "other/repo", src)
    assert (result.learned, result.skipped) == (2, 0), result.not_learned


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("semi.csv", 'title;body;label\nCrash;"it crashes";bug\nIdea;"add x, y";enhancement\n'),
        ("tabs.csv", "Title\tBody\tLabel\nCrash\tit crashes\tbug\nIdea\tadd x\tenhancement\n"),
        ("export.txt", 'title,body,label\nCrash,"it crashes",bug\nIdea,"add x",enhancement\n'),
        ("export", '{"title": "Crash", "label": "bug"}\n{"title": "Idea", "label": "feature"}\n'),
    ],
)
def test_backfill_from_a_file_reads_other_separators_and_names(ctx, tmp_path, name, text):
    """A spreadsheet in a comma-decimal locale saves with semicolons; an export may have no
    .csv or .jsonl name: both were refused with advice to rename columns or use CSV."""
    src = tmp_path / name
    src.write_text(text)
    assert backfill_from_file(ctx, "other/repo", src).learned == 2


def test_backfill_from_a_file_counts_what_it_could_not_learn_and_why(ctx, tmp_path: Path):
    src = tmp_path / "jira.csv"  # another tracker's names, in its own case
    src.write_text(
        "Title,Body,Label\n"
        'Crash on save,"it crashes",Bug\n'
        'Faster sync,"make it faster",Improvement\n'
        'Ship it,"a task",Task\n'
        'Another,"a task",Task\n'
        'Odd one,"x","Bug, Improvement"\n'
        'No label,"x",\n'
        ",,Bug\n"
    )
    result = backfill_from_file(ctx, "other/repo", src)
    assert (result.seen, result.learned, result.skipped) == (7, 2, 5)
    assert result.not_learned == {
        "no label names a kind": 2,
        "its labels name several kinds (bug, feature)": 1,
        "no label": 1,
        "no title or body": 1,
    }
    assert result.their_labels == {"Task": 2}
    lines = result.explain()
    assert lines[0].startswith("not learned: 5 (2 no label names a kind;")
    assert lines[1] == "  their labels: 'Task' (2)" and "label_map: {bug: " in lines[2]
    assert "again with --config smolbot.yml" in lines[2]  # a file's labels: the option to use
    row = ctx.store.audit_rows("other/repo", limit=5)[0]
    assert json.loads(row["detail"])["not_learned"]["no label"] == 1


def test_backfill_from_a_file_reads_labels_with_the_repositorys_label_map(ctx, host, tmp_path):
    host.files[".github/smolbot.yml"] = "triage:\n  label_map:\n    bug: 'T: defect'\n"
    load_repo_config(ctx.store, host, REPO, bot_login="smolbot[bot]")  # the store keeps it
    src = tmp_path / "l.jsonl"
    rows = [
        {"title": "Crash", "body": "it crashes", "labels": ["T: Defect", "p1"]},
        {"title": "Crash 2", "body": "it crashes", "label": "bug"},  # not the mapped label
    ]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert backfill_from_file(ctx, REPO, src).learned == 1
    assert backfill_from_file(ctx, "never/seen", src).learned == 1  # defaults: only "bug"


@pytest.mark.parametrize(
    ("name", "text", "error"),
    [
        ("jira.csv", "Summary,Description,Type\nx,y,Bug\n", "the columns are Summary, Desc"),
        ("l.jsonl", '{"title": "a", "label": "bug"}\n[1, 2]\n', "l.jsonl:2: not a JSON object"),
    ],
)
def test_backfill_from_a_file_it_cannot_read_says_what_it_found(ctx, tmp_path, name, text, error):
    src = tmp_path / name
    src.write_text(text)
    with pytest.raises(ValueError, match=error):
        backfill_from_file(ctx, "other/repo", src)


def test_backfill_from_a_file_keeps_what_it_learned_before_a_bad_line(ctx, tmp_path):
    src = tmp_path / "l.jsonl"
    good = json.dumps({"title": "Crash", "body": "it crashes", "label": "bug"}) + "\n"
    src.write_text(good + '{"title": "cut off\n')
    with pytest.raises(ValueError) as err:
        backfill_from_file(ctx, "other/repo", src)
    assert str(err.value) == (
        f"{src}:2: not a JSON object; use CSV or JSON lines. 1 issue before that line was"
        " learned; fix it and run the file again: nothing is learned twice"
    )
    failed = ctx.store.audit_rows("other/repo", limit=1)[0]
    assert (failed["action"], failed["outcome"]) == ("backfill", "failed")
    assert json.loads(failed["detail"])["learned"] == 1
    mixed = tmp_path / "m.jsonl"  # a line before it that teaches nothing is counted apart
    mixed.write_text(good + json.dumps({"title": "Ship", "label": "task"}) + "\n" + "[1]\n")
    with pytest.raises(ValueError, match=r":3: .* 1 of the 2 issues before that line was learned"):
        backfill_from_file(ctx, "other/repo", mixed)
    src.write_text(good + json.dumps({"title": "Idea", "body": "add x", "label": "feature"}))
    fixed = backfill_from_file(ctx, "other/repo", src)
    assert (fixed.learned, fixed.known) == (1, 1)  # the line before the bad one: known already
    mine = [e.label for e in ctx.models.records.examples() if e.scope == "other/repo"]
    assert mine == ["bug", "feature"]  # once each


def test_backfill_from_a_file_reads_excel_utf8_and_refuses_other_encodings(ctx, tmp_path):
    excel = tmp_path / "excel.csv"  # Excel's "CSV UTF-8" starts with a byte-order mark
    excel.write_bytes(b"\xef\xbb\xbftitle,body,label\nCaf\xc3\xa9 crashes,on start,bug\n")
    assert backfill_from_file(ctx, "other/repo", excel).learned == 1
    (mine,) = [e.text for e in ctx.models.records.examples() if e.scope == "other/repo"]
    assert mine == "Caf\u00e9 crashes\n\non start"  # the title is read: no "\ufefftitle" column
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(b"title,body,label\nCaf\xe9 crashes,on start,bug\n")
    with pytest.raises(ValueError) as err:
        backfill_from_file(ctx, "other/repo", latin1)
    assert str(err.value) == (
        f"{latin1}:2: not UTF-8 text (byte 0xe9 at offset 20); save it as UTF-8, e.g."
        " `iconv -f latin1 -t utf-8`, and run it again"
    )


def test_edit_that_adds_the_details_drops_needs_info(ctx, host):
    n = host.add(*BUG).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert "needs-info" in host.issues[n].labels
    host.issues[n].body = FULL_BUG_BODY
    handle_issue_event(ctx, "d2", issue_payload(host, n, "edited"))
    assert host.issues[n].labels == ["bug"]
    assert len([w for w in writes(host, "comment")]) == 1  # no second question


def test_the_bot_s_labels_are_found_whatever_their_case(ctx, host):
    """GitHub matches label names case aside: a repository's `Needs-Info` / `Needs-Triage` are
    the bot's labels, and the bot removes them when their reason is gone (needs-info: the bot's
    own ask is on the issue, so the label is the bot's, and the report now has the details)."""
    host.repo_labels += ["Needs-Info", "Needs-Triage"]
    n = host.add(BUG[0], FULL_BUG_BODY, labels=["bug", "Needs-Info"]).number
    host.notes[n] = [
        CommentData(1, host.bot, "Could you add …\n\n<!-- smolbot:triage:needs-info -->", "", "Bot")
    ]
    handle_issue_event(ctx, "d1", issue_payload(host, n, "edited"))
    assert host.issues[n].labels == ["bug"]
    assert ("remove_label", (n, "Needs-Info")) in host.writes
    m = host.add(*BUG, labels=["Needs-Triage"]).number  # untriaged: triage runs again
    handle_issue_event(ctx, "d2", issue_payload(host, m, "edited"))
    assert "bug" in host.issues[m].labels and "Needs-Triage" not in host.issues[m].labels
    assert "needs-info" not in host.issues[m].labels and "Needs-Info" in host.issues[m].labels


def test_a_kind_the_repository_has_no_label_for_is_not_forced_onto_another(ctx, host):
    """A repository labelling only bugs: a question is not a sure bug (it was: with one label to
    choose from, the confidence was 1.0), it is left for a maintainer."""
    host.repo_labels = ["bug", "wontfix"]
    n = host.add(
        "How do I configure the proxy?",
        "I could not find in the docs how to set a proxy. How can I do it?",
    ).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert host.issues[n].labels == ["needs-triage"]
    assert writes(host, "comment") == []  # nobody is asked for a bug report's details
    m = host.add(*BUG).number  # bugs still get their label
    handle_issue_event(ctx, "d2", issue_payload(host, m))
    assert "bug" in host.issues[m].labels


def test_commands_on_pull_requests_and_unknown_verbs(ctx, host):
    n = host.add(*BUG).number
    pr = comment_payload(host, n, "/smolbot retriage\n/smolbot close-everything", "maint")
    pr["issue"]["pull_request"] = {"url": "x"}
    handle_comment_event(ctx, "c1", pr)
    assert host.writes == []
    reasons = [r["reason"] for r in audits(ctx, n)]
    assert "not for pull requests" in reasons
    assert any(r.startswith("unknown command 'close-everything'") for r in reasons)
