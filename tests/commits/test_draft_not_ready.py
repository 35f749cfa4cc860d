"""A commit whose draft is not ready when the wait ends says so in the editor: comment lines (git
drops them) with how long it waited and how to get the draft. Before, the editor opened empty
and git aborted the commit, with nothing saying a draft was still being written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.commits.conftest import Git, needs_model, wait_for

NO_MODEL = {"SMOLBOT_MODEL_PATH": "/nonexistent/model.gguf"}
NOTE = re.compile(r"^(\S+) smolbot: no draft yet: not ready after (\d+\.\d) s\.", re.M)


@pytest.fixture
def editor(tmp_path: Path) -> Path:
    """An editor that keeps a copy of what it was shown, then writes $PREPEND above it (or
    nothing, and git aborts the commit)."""
    path = tmp_path / "capture.sh"
    path.write_text(
        f'#!/bin/sh\ncp "$1" {tmp_path}/shown.txt\n[ -z "$PREPEND" ] && exit 0\n'
        '{ printf "%s\\n" "$PREPEND"; cat "$1"; } >"$1.new" && mv "$1.new" "$1"\n'
    )
    path.chmod(0o755)
    return path


def staged_without_drafter(g: Git) -> None:
    assert g.smolbot("hook", "install", "--no-start").returncode == 0
    g.write("notes.txt", "hello\n")
    g("-c", "core.hooksPath=/nonexistent", "add", "notes.txt")  # no drafter started


@pytest.mark.parametrize(
    ("config", "comment", "where"),
    [
        ([], "#", "# Please enter"),  # above git's own comments
        (["-c", "core.commentChar=;"], ";", "; Please enter"),
        (["-c", "commit.cleanup=scissors"], "#", None),  # below the scissors line: dropped
    ],
)
def test_a_draft_not_ready_leaves_a_comment_saying_so(
    repo: Git, editor: Path, config: list[str], comment: str, where: str | None
) -> None:
    staged_without_drafter(repo)
    env = {"GIT_EDITOR": str(editor), "SMOLBOT_COMMIT_WAIT_MS": "0", **NO_MODEL}
    done = repo(*config, "commit", env=env, check=False)
    assert "Aborting commit due to empty commit message" in done.stderr  # as without smolbot
    shown = (editor.parent / "shown.txt").read_text()
    note = NOTE.search(shown)
    assert note and note.groups() == (comment, "0.0"), shown
    assert "`smolbot draft`" in shown and "smolbot.commitWaitMs" in shown
    assert all(line.startswith(comment) for line in shown.splitlines() if "smolbot" in line)
    if where:
        assert shown.startswith("\n") and shown.index(where) > note.start()
    else:
        assert shown.index(f"{comment} ------------------------ >8") < note.start()
    repo(*config, "commit", env={**env, "PREPEND": "fix: my own words"})
    assert repo.last_message() == "fix: my own words"  # the comment never reaches the commit


@pytest.mark.parametrize("case", ["-m", "amend"])
def test_a_given_message_gets_no_comment(repo: Git, editor: Path, case: str) -> None:
    staged_without_drafter(repo)
    before = repo.last_message()
    env = {"GIT_EDITOR": str(editor), "SMOLBOT_COMMIT_WAIT_MS": "0", **NO_MODEL}
    if case == "-m":  # no editor: whitespace cleanup keeps a comment the hook would write
        repo("commit", "--cleanup=whitespace", "-m", "fix: mine", env=env)
        assert repo.last_message() == "fix: mine"
    else:
        repo("commit", "--amend", env=env)
        assert repo.last_message() == before
        assert "smolbot" not in (editor.parent / "shown.txt").read_text()


@pytest.mark.model
@needs_model
def test_a_draft_still_being_written_is_there_after_smolbot_draft(repo: Git, editor: Path) -> None:
    """The note's way to the draft works: `git add` starts the real model's draft, the commit
    right after gives up at 1 s and says so, `smolbot draft` waits for it, the next commit has it."""
    assert repo.smolbot("hook", "install", "--no-start").returncode == 0
    repo.write("src/shop/ship.py", "def ship(order, carrier='post'):\n    return carrier, order\n")
    repo("add", "src/shop/ship.py")
    env = {"GIT_EDITOR": str(editor), "SMOLBOT_COMMIT_WAIT_MS": "1000"}
    done = repo("commit", env=env, check=False)
    assert done.returncode != 0
    note = NOTE.search((editor.parent / "shown.txt").read_text())
    assert note and note.group(2) in ("0.5", "1.0")  # no sooner than the start grace
    drafted = repo.smolbot("draft")
    assert drafted.returncode == 0, drafted.stderr
    wait_for(repo.draft_file().is_file, timeout=10)
    repo("commit", env={**env, "SMOLBOT_COMMIT_WAIT_MS": "0"})
    assert repo.last_message() == drafted.stdout.strip()


@pytest.mark.parametrize(
    ("text", "before"),
    [
        ("\n# Please enter the commit message.\n", "# Please enter"),
        (f"\n# {'-' * 24} >8 {'-' * 24}\ndiff --git a/x b/x\n", None),  # scissors first: at the end
    ],
)
def test_the_pre_commit_framework_entry_says_so_too(
    repo: Git, tmp_path: Path, text: str, before: str | None
) -> None:
    """`smolbot hook run prepare-commit-msg` (the pre-commit framework's hook) writes the note
    the shell hook writes: the same lines, in the same place."""
    staged_without_drafter(repo)
    msg = tmp_path / "COMMIT_EDITMSG"
    msg.write_text(text)
    env = {"SMOLBOT_COMMIT_WAIT_MS": "0", "GIT_EDITOR": "vi", **NO_MODEL}
    out = repo.smolbot("hook", "run", "prepare-commit-msg", str(msg), "", env=env)
    assert out.returncode == 0, out.stderr
    shown = msg.read_text()
    note = NOTE.search(shown)
    assert note and note.groups() == ("#", "0.0"), shown
    assert shown.replace(shown[note.start() : shown.index("60000\n") + 6], "") == text
    if before:
        assert shown.index(before) > note.start()
    else:
        assert shown.endswith("60000\n")
