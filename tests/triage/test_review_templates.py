"""Issue templates as GitHub finds them, and which ones bug reports are written from.

The single legacy template: GitHub matches its name case aside (`.github/issue_template.md` is
its own example), with an extension such as .md or .txt or none, in `.github`, the root or
`docs`. Missed, the default needs were looked for in free text, where the template's own empty
headings satisfied them: a report that left every section empty was asked nothing.

A bug template: its labels decide when they name a kind, else a word of its own in its name,
title or about: `Debugging help` (a question form) is not one, and with a real bug form beside it
the two tied, so nothing was asked at all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.config import config_from, default_config
from bot.core.templates import (
    bug_templates,
    is_legacy_template,
    legacy_template,
    parse_template,
    pick_bug_template,
)
from bot.github import GitHubApp
from bot.jobs.repo_config import load_templates
from bot.jobs.triage import handle_issue_event
from bot.store import Store
from tests.fake_github import FakeGitHubServer
from tests.fake_github.plugin import make_settings
from tests.triage.conftest import REPO, issue_payload
from tests.triage.fakes import FakeRepoHost

TEMPLATE = "### Version\n\n### Steps to reproduce\n\n### Expected behaviour\n\n### Logs\n\n"
# the reporter typed a sentence above the template and left all its sections empty
BLANK_REPORT = "It crashes every time I click the save button.\n\n" + TEMPLATE
TITLE = "App crashes with an exception when I click save"


# -- F2: the legacy single template, its name case aside ------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        ".github/ISSUE_TEMPLATE.md",
        ".github/issue_template.md",
        ".github/Issue_Template.MD",
        ".github/ISSUE_TEMPLATE.txt",
        ".github/issue_template",
        "ISSUE_TEMPLATE.md",
        "issue_template.md",
        "issue_template.txt",
        "docs/issue_template.md",
        "docs/ISSUE_TEMPLATE",
    ],
)
def test_the_legacy_template_is_known_case_and_extension_aside(path: str) -> None:
    assert is_legacy_template(path)
    tpl = parse_template(path, TEMPLATE)  # .txt and no extension read as Markdown
    assert tpl is not None and tpl.is_bug
    assert [f.label for f in tpl.fields] == [
        "Version",
        "Steps to reproduce",
        "Expected behaviour",
        "Logs",
    ]


@pytest.mark.parametrize(
    "path",
    [
        ".github/ISSUE_TEMPLATE/bug.md",  # a template of the folder: not the single one
        ".github/ISSUE_TEMPLATE/issue_template.md",
        "src/issue_template.md",
        ".github/issue_template.yml",
        ".github/issue_template.md.bak",
        ".github/my_issue_template.md",
        "docs/issue_templates.md",
    ],
)
def test_other_files_are_not_the_legacy_template(path: str) -> None:
    assert not is_legacy_template(path)


@given(
    st.permutations(
        [
            ".github/issue_template.txt",
            ".github/issue_template",
            ".github/issue_template.md",
            ".github/ISSUE_TEMPLATE.md",
            ".github/ISSUE_TEMPLATE/bug.md",
            ".github/CODEOWNERS",
        ]
    )
)
def test_one_legacy_template_is_chosen_whatever_the_listing_order(paths: list[str]) -> None:
    """A case-sensitive tree can hold several: Markdown first, then by path, every time."""
    assert legacy_template(paths, ".github") == ".github/ISSUE_TEMPLATE.md"
    assert legacy_template(paths, "") is None  # only the folder listed counts
    txt_only = [p for p in paths if not p.lower().endswith(".md")]
    assert legacy_template(txt_only, ".github") == ".github/issue_template"


@pytest.mark.parametrize(
    ("files", "found"),
    [
        ({"docs/issue_template.md": "a", "issue_template.txt": "b"}, "issue_template.txt"),
        ({"issue_template.md": "b", ".github/Issue_Template.md": "c"}, ".github/Issue_Template.md"),
        ({"docs/ISSUE_TEMPLATE": "a"}, "docs/ISSUE_TEMPLATE"),
        ({"src/issue_template.md": "a"}, None),
    ],
)
def test_load_templates_looks_in_githubs_order(
    store: Store, files: dict[str, str], found: str | None
) -> None:
    """.github, then the root, then docs, as GitHub looks."""
    host = FakeRepoHost(repo=REPO)
    host.files.update({path: f"### Version {text}\n" for path, text in files.items()})
    got = load_templates(store, host, REPO)
    assert [t.path for t in got] == ([found] if found else [])


def test_the_template_folder_still_comes_first(store: Store) -> None:
    host = FakeRepoHost(repo=REPO)
    host.files[".github/issue_template.md"] = TEMPLATE
    host.files[".github/ISSUE_TEMPLATE/bug.md"] = "---\nname: Bug report\n---\n### Version\n"
    assert [t.path for t in load_templates(store, host, REPO)] == [".github/ISSUE_TEMPLATE/bug.md"]


@pytest.mark.parametrize(
    "path",
    [
        ".github/ISSUE_TEMPLATE.md",
        ".github/issue_template.md",
        "issue_template.md",
        ".github/ISSUE_TEMPLATE.txt",
        "docs/Issue_Template",
    ],
)
def test_a_report_leaving_the_legacy_template_empty_is_asked(
    ctx: Any, host: FakeRepoHost, path: str
) -> None:
    host.files[path] = TEMPLATE
    n = host.add(TITLE, BLANK_REPORT).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    asks = [body for kind, (_, body) in host.writes if kind == "comment"]
    assert asks, f"{path}: the template was not read, its empty sections not asked for"
    assert "Steps to reproduce" in asks[0]


@pytest.fixture
def github(fake_github: FakeGitHubServer, tmp_path: Path) -> tuple[FakeGitHubServer, Any]:
    fake_github.state.add_repo(REPO, 7)
    return fake_github, GitHubApp(make_settings(fake_github, tmp_path / "gh")).repo(7, REPO)


def test_the_adapter_lists_the_root_and_reads_the_template_by_etag(
    store: Store, github: tuple[FakeGitHubServer, Any]
) -> None:
    """Through the GitHub adapter: the folders are listed (the root too: `/contents/`), the
    template read, and read again by ETag at no quota."""
    gh, repo = github
    gh.state.put_file(REPO, "README.md", "hello")
    gh.state.put_file(REPO, "issue_template.md", TEMPLATE)
    gh.state.put_file(REPO, "docs/ISSUE_TEMPLATE.md", "### Other\n")  # the root's comes first
    (tpl,) = load_templates(store, repo, REPO)
    assert tpl.path == "issue_template.md" and tpl.is_bug
    left = gh.state.quota(7).remaining
    (again,) = load_templates(store, repo, REPO)
    assert again == tpl
    # the ISSUE_TEMPLATE folder, .github and the root listed; the file itself from a 304
    assert left - gh.state.quota(7).remaining == 3
    assert [e.status for e in gh.state.requests("GET", "/contents/issue_template.md")] == [200, 304]


def test_no_template_costs_what_the_exact_reads_did(
    store: Store, github: tuple[FakeGitHubServer, Any]
) -> None:
    """No template anywhere: the folder and three listings, as the folder and the three
    exact-path reads (a 404 each, which no ETag saves) were."""
    gh, repo = github
    gh.state.put_file(REPO, "README.md", "hello")
    assert load_templates(store, repo, REPO) == []
    left = gh.state.quota(7).remaining
    assert load_templates(store, repo, REPO) == []
    assert left - gh.state.quota(7).remaining == 4


# -- F3: which templates bug reports are written from -----------------------------------------

BUG_FORM = (
    "name: Bug report\nlabels: [bug]\nbody:\n"
    "  - type: input\n    attributes: {label: Version}\n    validations: {required: true}\n"
    "  - type: textarea\n    attributes: {label: Steps to reproduce}\n"
    "    validations: {required: true}\n"
)
HELP_FORM = (
    "name: Debugging help\ndescription: Ask the community for help with your setup\n"
    "labels: [question]\nbody:\n"
    "  - type: textarea\n    attributes: {label: 'What are you trying to do?'}\n"
    "    validations: {required: true}\n"
)


def _form(name: str, labels: str = "", more: str = "", path: str = "form.yml") -> Any:
    text = (
        f"name: {name!r}\n{more}"
        + (f"labels: [{labels}]\n" if labels else "")
        + "body:\n  - type: textarea\n    attributes: {label: Details}\n"
    )
    tpl = parse_template(f".github/ISSUE_TEMPLATE/{path}", text)
    assert tpl is not None
    return tpl


def test_a_debugging_help_form_is_not_a_bug_template() -> None:
    tpl = parse_template(".github/ISSUE_TEMPLATE/help.yml", HELP_FORM)
    assert tpl is not None and not tpl.is_bug
    assert not _form("Debugging help").is_bug  # also without its labels
    assert not _form("Help", path="debugging.yml").is_bug


@pytest.mark.parametrize(
    ("name", "more", "path", "is_bug"),
    [
        ("Bug report", "", "form.yml", True),
        ("🐛 Bug Report", "", "form.yml", True),
        ("Report bugs", "", "form.yml", True),
        ("Crash", "", "form.yml", True),
        ("Report a problem", "", "bug_report.yml", True),  # its file's name, word by word
        ("Report a problem", "title: '[Bug]: '\n", "form.yml", True),
        ("Report a problem", "description: Tell us about a bug\n", "form.yml", True),
        ("Debugging help", "", "form.yml", False),
        ("Debugger question", "description: debugging your setup\n", "form.yml", False),
        ("Feature request", "title: '[Debug]: '\n", "form.yml", False),
        ("Report a problem", "", "debugging.yml", False),
        ("Ladybugs", "", "form.yml", False),
    ],
)
def test_a_bug_template_says_so_in_a_word_of_its_own(
    name: str, more: str, path: str, is_bug: bool
) -> None:
    assert _form(name, more=more, path=path).is_bug is is_bug


def test_labels_naming_a_kind_decide_first() -> None:
    assert _form("Debugging help", labels="bug").is_bug
    assert _form("Debugging help", labels="'Type: Bug 🐛'").is_bug
    assert not _form("Help with a bug", labels="question").is_bug
    assert _form("Help with a bug", labels="triage").is_bug  # no kind named: the words decide
    # the repository's label_map is how its labels are read
    cfg = config_from({"triage": {"label_map": {"bug": "T: defect"}}})
    tpl = _form("Report a problem", labels="'t: defect'")
    assert not tpl.is_bug and tpl.asks_for_bugs(cfg)
    assert bug_templates([tpl], cfg) == [tpl] and pick_bug_template([tpl], "", cfg) is tpl
    assert bug_templates([tpl]) == [] and bug_templates([tpl], default_config()) == []


def test_a_help_form_is_not_asked_of_bug_reports(
    ctx: Any, host: FakeRepoHost, store: Store
) -> None:
    host.files[".github/ISSUE_TEMPLATE/help.yml"] = HELP_FORM
    assert bug_templates(load_templates(store, host, REPO)) == []  # the default needs, then
    n = host.add(TITLE, "It crashes every time I click the save button. Version 2.3.1.").number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    asks = [body for kind, (_, body) in host.writes if kind == "comment"]
    assert not any("What are you trying to do?" in b for b in asks)


def test_a_help_form_beside_the_bug_form_does_not_silence_the_ask(
    ctx: Any, host: FakeRepoHost, store: Store
) -> None:
    host.files[".github/ISSUE_TEMPLATE/bug.yml"] = BUG_FORM
    host.files[".github/ISSUE_TEMPLATE/help.yml"] = HELP_FORM
    picked = pick_bug_template(load_templates(store, host, REPO), "It crashes.")
    assert picked is not None and picked.name == "Bug report"
    n = host.add(TITLE, "It crashes every time I click the save button.").number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    asks = [body for kind, (num, body) in host.writes if kind == "comment" and num == n]
    assert any("Version" in b and "Steps to reproduce" in b for b in asks), asks
