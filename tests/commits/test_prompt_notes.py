"""The prompt's own notes (what it could not paste, and why) never become the commit's subject.

A 50,000-line big.py (0.85 MB: a file over 1 MB is shown as binary) and a binary logo.png: the
file summary line the prompt showed was `add big.py (+50000 -0 lines; summarized by the model): …`, and the model copied it, giving
`feat: add big.py (+50000 -0 lines; summarized by the model): One file's` (cut at 72) at 0.60,
status ok. The model's answers come from a scripted port; the pipeline, its check and the
repository are real."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from bot.commits import diffs
from bot.commits.git import Repo
from bot.commits.message import MAX_SUBJECT, CommitDraft
from bot.commits.model import FileSummary
from bot.commits.pipeline import SCAFFOLDING, DraftOptions, draft_changes, draft_tree
from bot.llm.api import Answer, ModelRecord
from tests.commits.conftest import Git, needs_model

LEAKED = "add big.py (+50000 -0 lines; summarized by the model): One file's constants table"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + bytes(40)


class NoteCopier:
    """A model that sums up each cut file, then answers the draft with a subject of its choice
    (by default: the prompt's summary line of the first summarized file, word for word)."""

    def __init__(self, subject: str | None = None, body: str = "") -> None:
        self.subject, self.body = subject, body
        self.diff = ""

    def ask(
        self, prompt: str, variables: dict[str, str], schema: type[Any], *, allow_large: bool
    ) -> Answer[Any]:
        rec = ModelRecord("commit", "scripted", "scripted", f"{prompt}@1", 0.6, False, 1.0)
        if schema is FileSummary:
            return Answer(FileSummary(summary="One file's constants table"), 0.6, rec, "ok")
        self.diff = variables["diff"]
        subject = self.subject or next(  # the line the prompt showed for the cut file
            line for line in self.diff.splitlines() if "summarized by the model" in line
        )
        return Answer(CommitDraft(type="feat", subject=subject, body=self.body), 0.6, rec, "ok")


@pytest.fixture
def big(make_repo: Callable[..., Git]) -> Git:
    g = make_repo("big", history=False)
    g.write("README.md", "# big\n")
    g("add", "README.md")
    g("commit", "-q", "--no-verify", "-m", "docs: add readme")
    g.write("big.py", "".join(f"VALUE_{i} = {i}\n" for i in range(50_000)))
    (g.root / "logo.png").write_bytes(PNG)
    g("add", "big.py", "logo.png")
    return g


def test_a_subject_copying_the_prompts_note_gives_the_rule_made_subject(big: Git) -> None:
    writer = NoteCopier()
    result = draft_tree(Repo(big.root), big.tree(), writer, DraftOptions())
    assert result is not None
    assert "(+50000 -0 lines; summarized by the model)" in writer.diff  # what the model saw
    subject = result.message.splitlines()[0]
    assert subject == "feat: add big.py and 1 other file", result.message
    assert not SCAFFOLDING.search(result.message)
    assert result.confidence == 0.0  # rule-made, as said
    assert any("copied the prompt's notes" in n for n in result.notes), result.notes


@pytest.mark.parametrize(
    "subject",
    [
        LEAKED,
        "add big.py (+50000 -0 lines, too large to show; touches: VALUE_1)",
        "add logo.png (binary file)",
        "add 2 files (... and 1 more file (./ 1; +0 -0 lines, 1 binary))",
        "add big.py [... 89000 more lines of big.py not shown]",
        "Suggested type: feat. Suggested scope: (none)",
    ],
)
def test_every_kind_of_note_is_caught(subject: str) -> None:
    patch = "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a = 1\n+a = 2\n"
    result = draft_changes(
        "t", diffs.changes_from_patch(patch), [], NoteCopier(subject), DraftOptions()
    )
    assert result.message.startswith("refactor: update x.py\n") or result.message.startswith(
        "fix: update x.py\n"
    ), result.message
    assert result.confidence == 0.0


@pytest.mark.parametrize(
    "subject",
    [
        "add big.py with the constants table",
        "fix tooltip not shown on hover",  # plain words the notes use, not the notes
        "count +1 and -1 steps in the summary",
        "add a binary file reader",
    ],
)
def test_subjects_that_only_share_words_with_the_notes_stand(subject: str) -> None:
    patch = "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a = 1\n+a = 2\n"
    result = draft_changes(
        "t", diffs.changes_from_patch(patch), [], NoteCopier(subject), DraftOptions()
    )
    assert result.message.splitlines()[0].endswith(subject), result.message
    assert result.confidence == 0.6


def test_body_lines_copying_a_note_are_dropped(big: Git) -> None:
    body = "Add the constants table.\n- add big.py (+50000 -0 lines; summarized by the model)"
    writer = NoteCopier("add the constants table and a logo", body)
    result = draft_tree(Repo(big.root), big.tree(), writer, DraftOptions())
    assert result is not None
    assert result.message == (
        "feat: add the constants table and a logo\n\nAdd the constants table.\n"
    )
    assert result.confidence == pytest.approx(0.6 * 0.85)
    assert any("copying the prompt's notes dropped" in r for r in result.repairs)


def test_a_subject_cut_at_the_limit_is_not_a_clean_answer() -> None:
    """compose cuts a long subject where a word ends; the message lost its end, and the
    confidence says so (it stayed at the model's 0.60)."""
    long = "add the constants table that maps every value name to its number for the lookups"
    patch = "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a = 1\n+a = 2\n"
    result = draft_changes(
        "t", diffs.changes_from_patch(patch), [], NoteCopier(long), DraftOptions()
    )
    subject = result.message.splitlines()[0]
    assert len(subject) <= MAX_SUBJECT and long.startswith(subject.split(": ", 1)[1])
    assert result.confidence == pytest.approx(0.6 * 0.85)
    assert any("was cut" in n for n in result.notes), result.notes
    short = draft_changes(
        "t", diffs.changes_from_patch(patch), [], NoteCopier("add the table"), DraftOptions()
    )
    assert short.confidence == 0.6


@pytest.mark.model
@needs_model
@pytest.mark.skipif(not os.environ.get("SMOLBOT_SLOW_TESTS"), reason="minutes of model time")
def test_the_local_model_on_the_big_diff_leaks_no_note(big: Git) -> None:
    """The newcomer's big diff with the real model (SMOLBOT_SLOW_TESTS=1: ~3 minutes)."""
    from bot.commits.drafter import writer_for_settings

    os.environ.update(SMOLBOT_MODEL_PATH=big.env["SMOLBOT_MODEL_PATH"])
    writer, opts = writer_for_settings()
    result = draft_tree(Repo(big.root), big.tree(), writer, opts)
    assert result is not None and not SCAFFOLDING.search(result.message), result.message
