"""The body formatter: lists stay lists, and no line starts with the comment character (`#`, or
core.commentChar): git would drop it, the subject too."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.commits.git import find_repo
from bot.commits.message import BODY_WIDTH, CommitDraft, compose
from bot.commits.pipeline import DraftOptions, draft_tree
from bot.commits.style import Style, learn
from bot.llm.api import Answer, ModelRecord
from tests.commits.conftest import Git

CC = learn([("feat(cart): add totals", ["src/shop/cart.py"])])
WORDS = ["as", "reported", "in", "#123", "and", "#4.", "(#56)", "x" * 30, "the-fix", "#"]


def body_of(body: str) -> str:
    message, _ = compose(CommitDraft(type="fix", subject="fix it", body=body), CC, "fix", None)
    return message.split("\n\n", 1)[1]


def committed(message: str, comment: str = "#") -> str:
    """What `git commit` keeps of a message it opened in the editor (comments stripped)."""
    done = subprocess.run(
        ["git", "-c", f"core.commentChar={comment}", "stripspace", "--strip-comments"],
        input=message, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout


def test_bullets_after_prose_stay_bullets() -> None:
    assert body_of("Changes:\n- a\n- b") == "Changes:\n- a\n- b\n"
    long = "- " + "word " * 20 + "\n  more of it\n2. next\nThat is all."
    assert body_of(long) == (
        "- word word word word word word word word word word word word word word\n"
        "  word word word word word word more of it\n2. next\nThat is all.\n"
    )


def test_no_wrapped_line_is_lost_as_a_git_comment() -> None:
    for n in range(1, 90):
        message, _ = compose(
            CommitDraft(
                type="fix",
                subject="fix the parser",
                body=f"{'x' * n} This fixes the crash on empty input, as reported in\n#123 and #456.",
            ),
            CC,
            "fix",
            None,
        )
        assert committed(message) == message, message
    assert committed(body_of("#12 was the report")) == " #12 was the report\n"
    run = f"{'x' * 30} #123 reported #4. as reported reported # #4. reported"  # a run of #s
    assert committed(body_of(run)) == body_of(run)


@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=60))
def test_wrapping_keeps_every_word_and_starts_no_line_with_a_hash(words: list[str]) -> None:
    body = body_of(" ".join(words))
    assert body.split() == words
    assert not any(line.startswith("#") for line in body.splitlines())
    assert all(len(line) <= BODY_WIDTH for line in body.splitlines())  # words of 30 at most


PLAIN = Style(conventional=False, capitalized=True)  # a repository of plain subjects


@pytest.mark.parametrize(
    ("subject", "kept"),
    [
        ("# Installation section", "Installation section"),  # the model copies a heading
        ("#123 Handle an empty cart", "123 Handle an empty cart"),
        ("'## Usage'", "Usage"),
    ],
)
def test_a_subject_starting_with_a_hash_is_not_lost_as_a_comment(subject: str, kept: str) -> None:
    """compose() kept the `#`: in the editor the subject was a comment, and git made the body, or
    nothing, the subject."""
    message, repairs = compose(
        CommitDraft(subject=subject, body="Explain it."), PLAIN, "docs", None
    )
    assert committed(message).splitlines()[0] == kept
    assert any("taken off the subject" in r for r in repairs)


def test_the_configured_comment_character_is_kept_off_every_line() -> None:
    """core.commentChar=; : a subject or a wrapped body line starting with `;` was dropped (the
    body guarded against `#` only)."""
    for n in range(1, 90):  # ;123 at every place a line can break
        body = f"{'x' * n} This fixes the crash on empty input, as reported in\n;123 and ;456."
        draft = CommitDraft(subject="; Handle an empty cart", body=body)
        message, _ = compose(draft, PLAIN, "fix", None, ";")
        assert message.startswith("Handle an empty cart\n")
        assert committed(message, ";") == message, message


class Answers:
    """A model port that answers every prompt with one draft."""

    def __init__(self, draft: CommitDraft) -> None:
        self.draft = draft

    def ask(
        self, prompt: str, variables: dict[str, str], schema: type[Any], *, allow_large: bool
    ) -> Answer[Any]:
        rec = ModelRecord("commit", "scripted", "scripted", f"{prompt}@1", 0.8, False, 1.0)
        return Answer(self.draft, 0.8, rec, "ok")


@pytest.mark.parametrize("comment", ["#", ";"])
def test_drafts_keep_the_repositorys_comment_character_off_the_subject(
    make_repo: Any, comment: str
) -> None:
    """Through the pipeline, with the repository's own core.commentChar; a subject that is all
    comment gets the rule-made draft instead."""
    g: Git = make_repo(history=False)
    for i, msg in enumerate(["Describe usage", "Add cart totals", "Count quantities"]):
        g.write(f"notes/{i}.md", f"# {i}\n")
        g("add", ".")
        g("commit", "-q", "--no-verify", "-m", msg)  # plain subjects, not Conventional Commits
    g("config", "core.commentChar", comment)
    g.write("README.md", "# Shop\n\n## Installation\n\npip install shop\n")
    g("add", "README.md")
    repo = find_repo(g.root)
    drafted = draft_tree(
        repo, g.tree(), Answers(CommitDraft(subject=f"{comment} Installation")), DraftOptions()
    )
    assert drafted is not None and committed(drafted.message, comment).strip() == "Installation"
    bare = draft_tree(
        repo, g.tree(), Answers(CommitDraft(subject=f"{comment}{comment}")), DraftOptions()
    )
    assert bare is not None and bare.confidence == 0.0
    assert committed(bare.message, comment).startswith("Add README.md")
    assert any("only a comment" in note for note in bare.notes)


def test_a_plain_repository_s_area_prefix_stays_on_the_subject() -> None:
    """Go's `runtime: fix deadlock`, git.git's `doc: ...`: learned as not Conventional Commits,
    the model copies the house style, and the prefix was cut as if it were a type."""
    plain = learn([(f"runtime: fix race {i}", ["src/runtime/proc.go"]) for i in range(5)])
    assert not plain.conventional
    draft = CommitDraft(subject="runtime: avoid deadlock in the scheduler")
    message, _ = compose(draft, plain, "fix", None)
    assert message.splitlines()[0].lower() == "runtime: avoid deadlock in the scheduler"
    typed = CommitDraft(subject="fix: avoid deadlock in the scheduler")  # a type: taken off
    assert compose(typed, plain, "fix", None)[0].splitlines()[0].lower() == (
        "avoid deadlock in the scheduler"
    )


def test_changes_without_code_are_no_feature() -> None:
    from bot.commits.style import path_type

    added = {"README.md": "A", "tests/test_x.py": "A"}
    assert path_type(list(added), added) is None  # docs and tests: the history decides
    assert path_type(["CHANGELOG.md", "pyproject.toml"], {}) is None
    new = {"src/x.py": "A", "tests/test_x.py": "A"}
    assert path_type(list(new), new) == "feat"  # new code with its tests


def test_a_conventional_repository_s_capitalized_descriptions_are_learned() -> None:
    """`feat: Add X`: the subject starts with its lowercase type, so capitalization was never
    learned there, and every draft came out `feat: add x`."""
    capital = learn([(f"feat(cart): Add totals {i}", ["src/shop/cart.py"]) for i in range(5)])
    assert capital.conventional and capital.capitalized
    assert "Capitalized description" in capital.describe()
    message, _ = compose(
        CommitDraft(type="fix", subject="handle an empty cart"), capital, "fix", "cart"
    )
    assert message.splitlines()[0] == "fix(cart): Handle an empty cart"
    lower = learn([(f"feat(cart): add totals {i}", ["src/shop/cart.py"]) for i in range(5)])
    assert not lower.capitalized and "lowercase description" in lower.describe()
    message, _ = compose(
        CommitDraft(type="fix", subject="Handle an empty cart"), lower, "fix", "cart"
    )
    assert message.splitlines()[0] == "fix(cart): handle an empty cart"
