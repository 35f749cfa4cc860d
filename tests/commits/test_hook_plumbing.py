"""smolbot's own git commands and the drafter's pid, seen from the hooks: no hook runs for our
temporary index, and a stale pid file is never taken for a drafter."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.commits.conftest import Git, wait_for

NO_MODEL = {"SMOLBOT_MODEL_PATH": "/nonexistent/model.gguf"}


def user_hook(g: Git, name: str, log: Path) -> None:
    """A hook of the user's that logs each run and the index it was given."""
    hook = g.git_path("hooks") / name
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text(f'#!/bin/sh\necho "$0 index=$GIT_INDEX_FILE" >> {log}\n')
    hook.chmod(0o755)


def test_smolbot_draft_runs_no_hook_on_its_index_copy(repo: Git, tmp_path: Path) -> None:
    """`smolbot draft` computes the staged tree on a copy of the index; git's write-tree on it
    ran the user's chained post-index-change hook (GIT_INDEX_FILE=/tmp/smolbot-idx-…/index) and
    ours, which took the copy for a real index and started a drafter."""
    log = tmp_path / "user-hook.log"
    user_hook(repo, "post-index-change", log)
    assert repo.smolbot("hook", "install", "--no-start").returncode == 0
    repo.write("docs/usage.md", "# Usage\n\nRun it.\n")
    repo("-c", "core.hooksPath=/dev/null", "add", "docs/usage.md")  # cache tree now stale
    out = repo.smolbot("draft", env=NO_MODEL)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("docs")
    assert not log.exists(), log.read_text()  # the chained hook runs before ours, in write-tree
    repo("add", "docs/usage.md")  # a real index write still reaches the user's hook
    assert "index=\n" in log.read_text()


@pytest.fixture
def stranger() -> Iterator[subprocess.Popen[bytes]]:
    """An unrelated process, as one that got a dead drafter's pid."""
    proc = subprocess.Popen(["sleep", "600"])
    yield proc
    proc.kill()
    proc.wait()


def stale_pid(g: Git, pid: int) -> None:
    """What a drafter killed with -9 leaves: its pid file and a lock file nobody holds."""
    g.git_path("smolbot").mkdir(parents=True, exist_ok=True)
    g.git_path("smolbot/drafter.pid").write_text(str(pid))
    g.git_path("smolbot/drafter.lock").touch()


def test_uninstall_never_signals_a_process_that_reused_a_stale_pid(
    repo: Git, stranger: subprocess.Popen[bytes]
) -> None:
    assert repo.smolbot("hook", "install", "--no-start").returncode == 0
    stale_pid(repo, stranger.pid)
    assert "drafter: not running" in repo.smolbot("hook", "status").stdout
    assert repo.smolbot("hook", "uninstall").returncode == 0
    time.sleep(0.2)  # a SIGTERM, had one been sent, is delivered by now
    assert stranger.poll() is None


def test_a_stale_pid_does_not_stop_the_hooks_starting_a_drafter(
    repo: Git, stranger: subprocess.Popen[bytes]
) -> None:
    assert repo.smolbot("hook", "install", "--no-start").returncode == 0
    stale_pid(repo, stranger.pid)
    repo.write("docs/usage.md", "# Usage\n\nRun it.\n")
    repo("add", "docs/usage.md", env=NO_MODEL)  # post-index-change: no drafter runs, so start one
    wait_for(lambda: repo.drafter_pid() not in (None, stranger.pid), timeout=60)
    draft = repo.git_path("smolbot/COMMIT_DRAFT.txt")
    wait_for(draft.is_file, timeout=60)
    assert draft.read_text().startswith("docs")
