"""The issue first responder over HTTP against the fake GitHub: the real adapter and store, a
scripted model layer (so each test says what the model answered)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.github import GitHubApp
from bot.jobs.commands import handle_comment_event
from bot.jobs.context import JobContext
from bot.jobs.triage import handle_issue_event
from bot.llm.api import Answer, ModelRecord
from bot.store import open_store
from tests.fake_github.plugin import make_settings
from tests.triage.test_e2e_http import payload as e2e_payload
from tests.triage.test_report_languages import OTHERS

REPO = "octo/app"

# GitHub's stock bug_report.md
MD_TEMPLATE = """---
name: Bug report
about: Create a report to help us improve
title: ''
labels: ''
assignees: ''

---

**Describe the bug**
A clear and concise description of what the bug is.

**To Reproduce**
Steps to reproduce the behavior:
1. Go to '...'
2. Click on '....'
3. Scroll down to '....'
4. See error

**Expected behavior**
A clear and concise description of what you expected to happen.

**Additional context**
Add any other context about the problem here.
"""
FORM_DEFAULT = (
    "name: Bug report\nlabels: [bug]\nbody:\n"
    "  - type: textarea\n    attributes:\n      label: Steps to reproduce\n"
    "      value: |\n        1.\n        2.\n        3.\n    validations: {required: true}\n"
)


class _Value:
    def __init__(self, label: str) -> None:
        self.label = label


class Scripted:
    """classify answers `kind` at `confidence`; ask answers `comment` and keeps the variables."""

    def __init__(self) -> None:
        self.kind, self.confidence, self.comment = "bug", 0.95, "Thanks for the report!"
        self.asked: list[dict[str, Any]] = []

    def classify(self, *, task, scope, text, labels, threshold):  # type: ignore[no-untyped-def]
        rec = ModelRecord(task, "scripted", "scripted", "x", self.confidence, False, 1.0)
        return Answer(_Value(self.kind), self.confidence, rec, "ok", [rec])

    def learn(self, *a: Any, **k: Any) -> None:
        return None

    def ask(self, task, prompt, variables, schema, use_unsure=True):  # type: ignore[no-untyped-def]
        self.asked.append(dict(variables))
        rec = ModelRecord(task, "scripted", "scripted", prompt, 0.9, False, 1.0)
        return Answer(schema(comment=self.comment), 0.9, rec, "ok", [rec])


@pytest.fixture
def world(fake_github, tmp_path: Path):  # type: ignore[no-untyped-def]
    state = fake_github.state
    state.add_installation(1, [REPO])
    state.set_permission(REPO, "maint", "maintain")
    settings = make_settings(fake_github, tmp_path, thresholds={"triage": 0.5, "comment": 0.5})
    store = open_store(settings.db_path)
    models = Scripted()
    yield state, JobContext(settings, store, GitHubApp(settings), models), models  # type: ignore[arg-type]
    store.close()


def payload(state, number: int, action: str = "opened") -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The end-to-end tests' delivery, with the issue's labels as GitHub sends them."""
    out = e2e_payload(state, number, action)
    out["issue"]["labels"] = [{"name": n} for n in state.issue(REPO, number).labels]
    return out


def comment(state, number: int, body: str, author: str = "maint") -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The delivery of a comment posted on the fake first (a new id each call), as GitHub has
    every comment it delivers: a command is read again from GitHub before it runs."""
    cid = state.add_comment(REPO, number, body, user=author).id
    return {
        "action": "created",
        "issue": {"number": number},
        "comment": {"id": cid, "body": body, "user": {"login": author, "type": "User"}},
        "repository": {"full_name": REPO},
        "installation": {"id": 1},
    }


def labels(state, *names: str) -> None:  # type: ignore[no-untyped-def]
    for name in names:
        state.add_label(REPO, name)


def asks(state, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [c.body for c in state.comments(REPO, n) if "triage:needs-info" in c.body]


def _filled_stock_template() -> str:
    return (
        MD_TEMPLATE.split("---\n", 2)[2]
        .replace(
            "A clear and concise description of what the bug is.",
            "Saving crashes the editor with TypeError.",
        )
        .replace(
            "A clear and concise description of what you expected to happen.",
            "The file is saved instead of a crash.",
        )
    )


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_placeholder_left_in_a_markdown_template_is_asked_for_with_any_line_endings(
    world, newline: str
):  # type: ignore[no-untyped-def]
    """GitHub's web form sends `\\r\\n`: the untouched "To Reproduce" text still counts as missing."""
    state, ctx, _ = world
    labels(state, "bug", "enhancement")
    state.put_file(REPO, ".github/ISSUE_TEMPLATE/bug_report.md", MD_TEMPLATE)
    body = _filled_stock_template().replace("\n", newline)
    n = state.add_issue(REPO, "Save crashes", body).number
    handle_issue_event(ctx, "d1", payload(state, n))
    asked = asks(state, n)
    assert asked and "To Reproduce" in asked[0], (state.issue(REPO, n).labels, asked)
    assert "Expected behavior" not in asked[0]


def test_a_form_s_default_value_left_untouched_with_crlf_counts_as_missing(world):  # type: ignore[no-untyped-def]
    state, ctx, _ = world
    labels(state, "bug", "enhancement")
    state.put_file(REPO, ".github/ISSUE_TEMPLATE/bug.yml", FORM_DEFAULT)
    body = "### Steps to reproduce\r\n\r\n1.\r\n2.\r\n3.\r\n"
    n = state.add_issue(REPO, "Crash", body, labels=["bug"]).number
    handle_issue_event(ctx, "d1", payload(state, n))
    asked = asks(state, n)
    assert asked and "Steps to reproduce" in asked[0], (asked, state.issue(REPO, n).labels)


OPTIONAL_FORM = (
    "name: Bug report\nlabels: [bug]\nbody:\n"
    "  - type: textarea\n    attributes: {label: What happened}\n"
    "  - type: input\n    attributes: {label: Version}\n"
)


def test_a_bug_form_with_no_required_field_asks_for_nothing(world):  # type: ignore[no-untyped-def]
    """The repository's bug form requires nothing: not the default four either."""
    state, ctx, _ = world
    labels(state, "bug", "enhancement")
    state.put_file(REPO, ".github/ISSUE_TEMPLATE/bug.yml", OPTIONAL_FORM)
    body = (
        "### What happened\n\nThe editor crashes when I press save.\n\n### Version\n\n_No response_"
    )
    n = state.add_issue(REPO, "Editor crashes on save", body, labels=["bug"]).number
    handle_issue_event(ctx, "d1", payload(state, n))
    assert not asks(state, n), "\n".join(asks(state, n))
    assert "needs-info" not in state.issue(REPO, n).labels


@pytest.mark.parametrize(
    "path", [".github/ISSUE_TEMPLATE.md", "ISSUE_TEMPLATE.md", "docs/ISSUE_TEMPLATE.md"]
)
def test_the_legacy_single_issue_template_is_honoured(world, path: str):  # type: ignore[no-untyped-def]
    """GitHub still shows a single ISSUE_TEMPLATE.md (no front matter needed) to reporters:
    its sections are what a report needs, not the default four."""
    state, ctx, _ = world
    labels(state, "bug", "enhancement")
    template = "### Steps to reproduce (optional)\n\n### Version\n\n### Logs (optional)\n"
    state.put_file(REPO, path, template)
    n = state.add_issue(REPO, "Crash on save", "### Version\n\n2.3.1\n", labels=["bug"]).number
    handle_issue_event(ctx, "d1", payload(state, n))
    assert not asks(state, n), "\n".join(asks(state, n))
    m = state.add_issue(REPO, "Crash on load", "### Version\n\n\n", labels=["bug"]).number
    handle_issue_event(ctx, "d2", payload(state, m))
    (asked,) = asks(state, m)
    assert "Version" in asked and "steps to reproduce" not in asked.lower(), asked


CLI_BUG = (
    "name: CLI bug\nlabels: [bug]\nbody:\n"
    "  - type: input\n    attributes: {label: CLI version}\n    validations: {required: true}\n"
    "  - type: textarea\n    attributes: {label: Command run}\n    validations: {required: true}\n"
)
WEB_BUG = (
    "name: Web UI bug\nlabels: [bug]\nbody:\n"
    "  - type: input\n    attributes: {label: Browser}\n    validations: {required: true}\n"
    "  - type: textarea\n    attributes: {label: Steps to reproduce}\n"
    "    validations: {required: true}\n"
)


def test_an_issue_from_the_second_bug_form_is_checked_against_that_form(world):  # type: ignore[no-untyped-def]
    state, ctx, _ = world
    labels(state, "bug", "enhancement")
    state.put_file(REPO, ".github/ISSUE_TEMPLATE/cli_bug.yml", CLI_BUG)
    state.put_file(REPO, ".github/ISSUE_TEMPLATE/web_bug.yml", WEB_BUG)
    steps = "### Steps to reproduce\n\n1. open /settings\n2. click save\n3. page goes blank"
    full = state.add_issue(REPO, "Settings goes blank", f"### Browser\n\nFirefox 124\n\n{steps}")
    handle_issue_event(ctx, "d1", payload(state, full.number))
    assert not asks(state, full.number), asks(state, full.number)  # not "CLI version"
    part = state.add_issue(REPO, "Profile goes blank", f"### Browser\n\n_No response_\n\n{steps}")
    handle_issue_event(ctx, "d2", payload(state, part.number))
    (asked,) = asks(state, part.number)
    assert "Browser" in asked and "CLI version" not in asked and "Command run" not in asked


def test_a_report_from_none_of_several_bug_forms_is_asked_nothing_template_specific(world):  # type: ignore[no-untyped-def]
    """Written by hand (or through the API): which form's fields it lacks cannot be told."""
    state, ctx, _ = world
    labels(state, "bug", "enhancement")
    state.put_file(REPO, ".github/ISSUE_TEMPLATE/cli_bug.yml", CLI_BUG)
    state.put_file(REPO, ".github/ISSUE_TEMPLATE/web_bug.yml", WEB_BUG)
    n = state.add_issue(REPO, "It crashes", "It crashes.", labels=["bug"]).number
    handle_issue_event(ctx, "d1", payload(state, n))
    assert not asks(state, n), asks(state, n)


def test_a_reopen_does_not_put_back_needs_info_a_maintainer_removed(world):  # type: ignore[no-untyped-def]
    state, ctx, _ = world
    labels(state, "bug", "enhancement")
    n = state.add_issue(REPO, "Crash on save", "It crashes when I click save.").number
    handle_issue_event(ctx, "d1", payload(state, n))
    assert "needs-info" in state.issue(REPO, n).labels and len(asks(state, n)) == 1
    # the maintainer finds the report good enough; the issue is closed and reopened later
    state.issue(REPO, n).labels.remove("needs-info")
    handle_issue_event(ctx, "d2", payload(state, n, "reopened"))
    assert "needs-info" not in state.issue(REPO, n).labels
    assert len(asks(state, n)) == 1


def test_retriage_removes_every_label_naming_the_old_kind(world):  # type: ignore[no-untyped-def]
    """A repository with both `bug` and `type: bug`: the one on the issue goes too."""
    state, ctx, models = world
    labels(state, "bug", "type: bug", "enhancement", "duplicate")
    issue = state.add_issue(REPO, "Add dark mode", "A dark theme.", labels=["type: bug", "bug"])
    models.kind = "feature"
    handle_comment_event(ctx, "c1", comment(state, issue.number, "/smolbot retriage"))
    assert sorted(state.issue(REPO, issue.number).labels) == ["enhancement"]


def test_needs_triage_and_needs_info_use_the_repository_s_own_spelling(world):  # type: ignore[no-untyped-def]
    state, ctx, models = world
    labels(state, "bug", "enhancement", "needs triage", "Needs Info")
    models.confidence = 0.1  # unsure: needs-triage
    odd = state.add_issue(REPO, "Something odd", "Hmm.").number
    handle_issue_event(ctx, "d1", payload(state, odd))
    models.confidence = 0.95
    bug = state.add_issue(REPO, "Crash on save", "It crashes when I click save.").number
    handle_issue_event(ctx, "d2", payload(state, bug))
    repo_labels = sorted(state.repos[REPO].labels)
    assert repo_labels == ["Needs Info", "bug", "enhancement", "needs triage"], repo_labels
    assert state.issue(REPO, odd).labels == ["needs triage"]
    assert sorted(state.issue(REPO, bug).labels) == ["Needs Info", "bug"]
    # the reporter adds what was asked for: the repository's needs-info label goes
    state.issue(
        REPO, bug
    ).body = "Version 1.2. Steps: 1. click save. Expected a saved file, got TypeError in the log."
    handle_issue_event(ctx, "d3", payload(state, bug, "edited"))
    assert state.issue(REPO, bug).labels == ["bug"]


def test_duplicate_command_uses_the_repository_s_duplicate_label(world):  # type: ignore[no-untyped-def]
    state, ctx, _ = world
    labels(state, "bug", "status: duplicate")
    original = state.add_issue(REPO, "Crash on save", "It crashes.").number
    n = state.add_issue(REPO, "Crashes when saving", "Also crashes.").number
    handle_comment_event(ctx, "c1", comment(state, n, f"/smolbot duplicate #{original}"))
    assert state.issue(REPO, n).state == "closed"
    assert state.issue(REPO, n).labels == ["status: duplicate"]
    assert sorted(state.repos[REPO].labels) == ["bug", "status: duplicate"]


def test_the_first_response_is_told_only_likely_duplicates_are_related(world):  # type: ignore[no-untyped-def]
    """Issues under the duplicate threshold are not offered as duplicates, nor as related."""
    state, ctx, models = world
    labels(state, "bug", "enhancement")
    state.put_file(REPO, ".github/smolbot.yml", "triage:\n  first_response: true\n")

    def indexed(title: str, body: str) -> int:
        old = state.add_issue(REPO, title, body)
        ctx.store.upsert_issue(REPO, {"number": old.number, "title": title, "body": body})
        return int(old.number)

    typo = indexed("Docs typo in install page", "The word 'instal' on the install page")
    text = "Version 1.2. Steps: 1. click save. Expected save, got TypeError."
    unlike = state.add_issue(REPO, "Crash on save in the install wizard", text).number
    handle_issue_event(ctx, "d1", payload(state, unlike))
    assert not [c for c in state.comments(REPO, unlike) if "triage:duplicates" in c.body]
    assert models.asked[-1]["related"] == "none", (typo, models.asked[-1]["related"])
    crash = indexed("Crash on save in the editor", "Saving a file crashes the editor: TypeError.")
    like = state.add_issue(
        REPO, "Crash on save in the editor", "Saving a file crashes the editor with TypeError!"
    ).number
    handle_issue_event(ctx, "d2", payload(state, like))
    advice = [c.body for c in state.comments(REPO, like) if "triage:duplicates" in c.body]
    assert advice and f"#{crash}" in advice[0]
    assert models.asked[-1]["related"] == f"#{crash}", models.asked[-1]["related"]


def _replies(state, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [c.body for c in state.comments(REPO, n) if "commands:duplicate-refused" in c.body]


def test_duplicate_command_refuses_a_pull_request_and_says_so_once(world):  # type: ignore[no-untyped-def]
    state, ctx, _ = world
    labels(state, "bug", "duplicate")
    pr = state.add_issue(REPO, "Fix crash", "Fixes the crash", is_pr=True).number
    n = state.add_issue(REPO, "Crash on save").number
    command = comment(state, n, f"/smolbot duplicate #{pr}")
    handle_comment_event(ctx, "c1", command)
    handle_comment_event(ctx, "c1-redelivered", command)
    issue = state.issue(REPO, n)
    assert issue.state == "open" and "duplicate" not in issue.labels
    (reply,) = _replies(state, n)
    assert f"#{pr} is a pull request" in reply
    handle_comment_event(ctx, "c2", comment(state, n, f"/smolbot duplicate #{pr}"))
    assert len(_replies(state, n)) == 2  # a second command comment gets its own reply


@pytest.mark.parametrize("which", ["missing", "itself"])
def test_duplicate_command_says_why_it_refused_a_target(world, which: str):  # type: ignore[no-untyped-def]
    state, ctx, _ = world
    labels(state, "bug", "duplicate")
    n = state.add_issue(REPO, "Crash on save").number
    original = 999 if which == "missing" else n
    handle_comment_event(ctx, "c1", comment(state, n, f"/smolbot duplicate #{original}"))
    assert state.issue(REPO, n).state == "open"
    (reply,) = _replies(state, n)
    assert reply.startswith(f"#{original} ") and "not closed" in reply, reply


# A report in another language than English (tests/triage/test_report_languages.py): the
# default needs are recognised by English words, so what it has is not asked for.
RUSSIAN_REPORT = OTHERS["ru"]


def test_a_bug_report_in_russian_gets_no_request_for_details_it_has(world):  # type: ignore[no-untyped-def]
    state, ctx, _ = world
    labels(state, "bug", "enhancement")
    n = state.add_issue(REPO, "Приложение падает", RUSSIAN_REPORT).number
    handle_issue_event(ctx, "d1", payload(state, n))
    assert sorted(state.issue(REPO, n).labels) == ["bug"]
    assert asks(state, n) == []
    reasons = [r["reason"] for r in ctx.store.audit_rows(REPO, n)]
    assert any("not written in English" in r for r in reasons), reasons
