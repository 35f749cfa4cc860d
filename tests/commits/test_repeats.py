"""A draft never offers an earlier commit's subject as its own, and a scope never repeats the type.

A newcomer's scratch repository: after `feat: add calc module`, staging a new divide() (and later
a change to add()) was drafted `feat: add calc module` word for word, confidence 0.80; a docs
change came out `docs(docs): ...`."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import Any

import pytest

from bot.commits.git import Repo
from bot.commits.message import CommitDraft, compose
from bot.commits.pipeline import DraftOptions, draft_tree
from bot.commits.style import Style
from bot.llm.api import Answer, ModelRecord
from tests.commits.conftest import SMOLBOT, Git, needs_model

FIRST = "feat: add calc module"
ADD = "def add(a, b):\n    return a + b\n"
DIVIDE = ADD + "\n\ndef divide(a, b):\n    return a / b\n"


class ScriptedWriter:
    """A model port that answers with the next scripted draft, and keeps what it was shown."""

    def __init__(self, *drafts: CommitDraft) -> None:
        self.drafts = list(drafts)
        self.seen: list[dict[str, str]] = []

    def ask(
        self, prompt: str, variables: dict[str, str], schema: type[Any], *, allow_large: bool
    ) -> Answer[Any]:
        self.seen.append(dict(variables))
        draft = self.drafts[min(len(self.seen), len(self.drafts)) - 1]
        rec = ModelRecord("commit", "scripted", "scripted", f"{prompt}@1", 0.8, False, 1.0)
        return Answer(draft, 0.8, rec, "ok")


@pytest.fixture
def calc(make_repo: Callable[..., Git]) -> Git:
    """The newcomer's repository: one commit adding calc.py, then divide() staged."""
    g = make_repo("calc", history=False)
    g.write("calc.py", ADD)
    g("add", "calc.py")
    g("commit", "-q", "--no-verify", "-m", FIRST)
    g.write("calc.py", DIVIDE)
    g("add", "calc.py")
    return g


def draft(g: Git, writer: ScriptedWriter | None) -> Any:
    result = draft_tree(Repo(g.root), g.tree(), writer, DraftOptions())
    assert result is not None
    return result


def subject(message: str) -> str:
    return message.splitlines()[0]


def same(a: str, b: str) -> bool:
    """Two subjects that differ only in case and spacing."""
    return " ".join(subject(a).split()).casefold() == " ".join(subject(b).split()).casefold()


def test_a_repeated_subject_is_asked_for_again_without_that_example(calc: Git) -> None:
    writer = ScriptedWriter(
        CommitDraft(type="feat", subject="Add  calc module"),  # case and spacing aside: the same
        CommitDraft(type="feat", subject="add divide function"),
    )
    result = draft(calc, writer)
    assert subject(result.message) == "feat: add divide function"
    assert len(writer.seen) == 2
    assert FIRST in writer.seen[0]["examples"] and FIRST not in writer.seen[1]["examples"]
    assert writer.seen[0]["retry_hint"] == "" and "repeated" in writer.seen[1]["retry_hint"]
    assert result.confidence < 0.8  # asked twice: not as sure as a first answer
    assert any("repeated an earlier commit's subject" in n for n in result.notes)


def test_a_second_repeat_gets_the_rule_made_draft(calc: Git) -> None:
    writer = ScriptedWriter(CommitDraft(type="feat", subject="add calc module"))
    result = draft(calc, writer)
    assert not same(result.message, FIRST)
    assert subject(result.message) == "feat: update calc.py"  # the rules' own draft
    assert len(writer.seen) == 2 and result.confidence == 0.0
    assert any("deterministic draft" in n for n in result.notes)


def test_a_repeat_of_any_recent_subject_counts_not_only_the_examples(calc: Git) -> None:
    calc("commit", "-q", "--no-verify", "-m", "feat: add divide (#12)")
    calc.write("notes.txt", "x\n")
    calc("add", "notes.txt")
    calc.write("calc.py", DIVIDE.replace("a / b", "a / b if b else 0"))
    calc("add", "calc.py")
    fresh = ScriptedWriter(CommitDraft(type="fix", subject="return zero for a zero divisor"))
    result = draft(calc, fresh)  # a subject no commit used yet is kept as the model wrote it
    assert subject(result.message) == "fix: return zero for a zero divisor"
    assert len(fresh.seen) == 1 and result.confidence == 0.8
    writer = ScriptedWriter(
        CommitDraft(type="feat", subject="add divide"),  # the PR number aside: the same
        CommitDraft(type="fix", subject="return zero when dividing by zero"),
    )
    assert subject(draft(calc, writer).message) == "fix: return zero when dividing by zero"


@pytest.mark.parametrize(
    ("drafted", "fallback", "expected"),
    [
        ("docs", None, "docs: add usage"),  # the model's scope repeats the type
        (None, "docs", "docs: add usage"),  # the rules' scope (the docs/ directory) does
        ("DOCS", "guide", "docs(guide): add usage"),  # the rules' scope is the next best
        ("guide", "docs", "docs(guide): add usage"),
    ],
)
def test_a_scope_that_repeats_the_type_is_dropped(
    drafted: str | None, fallback: str | None, expected: str
) -> None:
    draft = CommitDraft(type="docs", scope=drafted, subject="add usage")
    message, repairs = compose(draft, Style(), "docs", fallback)
    assert message == expected + "\n"
    assert "scope 'docs' dropped (it repeats the type)" in repairs


def test_a_docs_change_in_docs_is_not_scoped_docs(make_repo: Callable[..., Git]) -> None:
    g = make_repo("site", history=False)
    g.write("calc.py", ADD)
    g("add", "calc.py")
    g("commit", "-q", "--no-verify", "-m", FIRST)
    g.write("docs/usage.md", "# Usage\n\nCall `add(1, 2)`.\n")
    g("add", "docs/usage.md")
    writer = ScriptedWriter(CommitDraft(type="docs", scope="docs", subject="describe usage"))
    assert subject(draft(g, writer).message) == "docs: describe usage"
    assert subject(draft(g, None).message) == "docs: add docs/usage.md"  # rules only


@pytest.mark.model
@needs_model
def test_the_local_model_does_not_offer_the_first_commit_s_subject_again(calc: Git) -> None:
    """The newcomer's steps with the real model, through `smolbot draft` as a user runs it."""
    out = subprocess.run(  # the model on a busy 2-core machine can take minutes
        [SMOLBOT, "draft", "--explain"], cwd=calc.root, env=calc.env,
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert not same(out.stdout, FIRST)
    assert out.stdout.startswith("feat")
