"""What counts as a message already written: the draft goes in with `git commit -v`, another
comment character and a comment-only template, and still never over words someone wrote."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.commits.conftest import Git, wait_for

NO_MODEL = {"SMOLBOT_MODEL_PATH": "/nonexistent/model.gguf"}
WAIT = {"SMOLBOT_COMMIT_WAIT_MS": "240000", **NO_MODEL}
SCISSORS = "------------------------ >8 ------------------------"


def staged_with_draft(g: Git) -> Path:
    g.write("docs/usage.md", "# Usage\n\nRun `shop serve`.\n")
    g("add", "docs/usage.md", env=NO_MODEL)
    draft = g.draft_file()
    wait_for(draft.is_file, timeout=60)
    return draft


@pytest.mark.parametrize(
    "args",
    [
        ["commit", "-v"],
        ["-c", "commit.verbose=true", "commit"],
        ["-c", "core.commentChar=;", "commit"],
        ["-c", "core.commentChar=;", "commit", "-v"],
        ["-c", "core.commentChar=auto", "commit"],
        ["-c", "commit.template={tpl}", "commit"],
    ],
    ids=["-v", "commit.verbose", "commentChar", "commentChar -v", "commentChar auto", "template"],
)
def test_the_editor_gets_the_draft(repo: Git, tmp_path: Path, args: list[str]) -> None:
    """Each of these stopped drafting: git's diff under the scissors line, `;` comments or a
    template's comments were taken for a message (and an untouched one aborted the commit)."""
    tpl = tmp_path / "template.txt"
    tpl.write_text("\n# Why this change? Which issue?\n")
    assert repo.smolbot("hook", "install", "--no-start").returncode == 0
    draft = staged_with_draft(repo)
    repo(*[a.format(tpl=tpl) for a in args], env=WAIT)
    assert repo.last_message() == draft.read_text().strip()


@pytest.mark.parametrize("comment", ["#", ";"])
def test_the_pre_commit_framework_entry_reads_the_file_as_git_does(
    repo: Git, tmp_path: Path, comment: str
) -> None:
    """`smolbot hook run prepare-commit-msg` (the pre-commit framework's hook) decides the same."""
    repo("config", "core.commentChar", comment)
    repo.write("docs/usage.md", "# Usage\n\nRun `shop serve`.\n")
    repo("add", "docs/usage.md")
    assert repo.smolbot("draft", env=NO_MODEL).returncode == 0  # no hooks here: drafted now
    draft = repo.draft_file()
    verbose = f"\n{comment} Enter the message.\n{comment} {SCISSORS}\ndiff --git a/x b/x\n+x\n"
    cases = {
        "": (verbose, True),
        "template": (f"\n{comment} a comment-only template\n", True),
        "template ": ("fix: the template's words\n", False),  # words of a template stay
        "message": ("fix: my words\n" + verbose, False),
    }
    for source, (text, drafted) in cases.items():
        msg = tmp_path / "COMMIT_EDITMSG"
        msg.write_text(text)
        out = repo.smolbot("hook", "run", "prepare-commit-msg", str(msg), source.strip(), env=WAIT)
        assert out.returncode == 0, out.stderr
        expected = draft.read_text().rstrip("\n") + "\n\n" + text if drafted else text
        assert msg.read_text() == expected, source


def test_a_template_with_words_is_kept_under_v(repo: Git, tmp_path: Path) -> None:
    tpl = tmp_path / "template.txt"
    tpl.write_text("fix: the template's words\n\n# Why?\n")
    assert repo.smolbot("hook", "install", "--no-start").returncode == 0
    draft = staged_with_draft(repo)
    edit = {"GIT_EDITOR": "sed -i '1a edited'"}  # git refuses an unedited template
    repo("-c", f"commit.template={tpl}", "commit", "-v", env={**WAIT, **edit})
    message = repo.last_message()
    assert (
        message.startswith("fix: the template's words") and draft.read_text().strip() not in message
    )
