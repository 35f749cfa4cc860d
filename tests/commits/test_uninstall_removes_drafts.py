"""`smolbot hook uninstall` leaves the repository as it was: the user's hook back byte for byte,
and no `.git/smolbot/` (drafts, the drafter's log, COMMIT_DRAFT.txt) in any worktree; a file
someone else put there stays, and uninstall says so."""

from __future__ import annotations

import stat
from pathlib import Path

from tests.commits.conftest import Git, wait_for

NO_MODEL = {"SMOLBOT_MODEL_PATH": "/nonexistent/model.gguf"}  # rule-made drafts: quick
# bytes a rewrite would change: CRLF, no newline at the end, a byte that is not UTF-8
MINE = b'#!/bin/sh\r\necho "mine $*" >> "$(git rev-parse --git-dir)/user-hook.log" # caf\xe9'


def drafted(g: Git) -> None:
    """Stage a change and let the real drafter (started by the post-index-change hook) write
    its draft, its log and COMMIT_DRAFT.txt."""
    g.write("docs/usage.md", f"# Usage\n\nRun it in {g.root.name}.\n")
    g("add", "docs/usage.md", env=NO_MODEL)
    wait_for(g.draft_file().is_file, timeout=60)
    wait_for(g.git_path("smolbot/COMMIT_DRAFT.txt").is_file, timeout=60)
    assert g.git_path("smolbot/drafter.log").is_file() and g.drafter_pid()


def test_uninstall_removes_the_drafts_and_restores_the_hook(repo: Git) -> None:
    hook = repo.git_path("hooks") / "prepare-commit-msg"
    hook.write_bytes(MINE)
    hook.chmod(0o750)
    assert repo.smolbot("hook", "install", env=NO_MODEL).returncode == 0
    drafted(repo)
    wt = Git(repo.root.parent / "wt", repo.env)  # a linked worktree drafts in its own git dir
    repo("worktree", "add", "-q", str(wt.root), "-b", "feature", env=NO_MODEL)
    drafted(wt)
    pids = [repo.drafter_pid(), wt.drafter_pid()]
    out = repo.smolbot("hook", "uninstall")
    assert out.returncode == 0, out.stderr
    for g in (repo, wt):
        assert not g.git_path("smolbot").exists()
        assert f"removed {g.git_path('smolbot')}" in out.stdout
    assert hook.read_bytes() == MINE and stat.S_IMODE(hook.stat().st_mode) == 0o750
    assert not (hook.parent / "post-index-change").exists()
    assert not (hook.parent / ".smolbot-kept-prepare-commit-msg").exists()
    wait_for(lambda: all(not _running(pid) for pid in pids), timeout=10)  # stopped, not orphaned


def test_uninstall_keeps_a_file_smolbot_did_not_write(repo: Git) -> None:
    assert repo.smolbot("hook", "install", env=NO_MODEL).returncode == 0
    drafted(repo)
    notes = repo.git_path("smolbot/notes.md")
    notes.write_text("mine\n")
    out = repo.smolbot("hook", "uninstall")
    assert out.returncode == 0, out.stderr
    assert "holds files smolbot did not write (notes.md)" in out.stdout
    assert [p.name for p in notes.parent.iterdir()] == ["notes.md"]  # drafts and logs gone
    assert notes.read_text() == "mine\n"


def _running(pid: int | None) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
