"""The drafter under stress: killed mid-draft, two commits in quick succession, the pre-commit framework."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from bot.commits.style import CC_SUBJECT
from tests.commits.conftest import SMOLBOT, Git, needs_model, wait_for

ROOT = Path(__file__).resolve().parents[2]
NO_MODEL = {"SMOLBOT_MODEL_PATH": "/nonexistent/model.gguf"}


@pytest.mark.model
@needs_model
def test_killed_drafter_leaves_no_stale_lock(repo: Git) -> None:
    assert repo.smolbot("hook", "install", "--no-start").returncode == 0
    repo.write(
        "src/shop/cart.py",
        "def total(items, tax=0):\n    return sum(i.price for i in items) * (1 + tax)\n",
    )
    repo("add", "src/shop/cart.py")
    pending = repo.draft_file().with_suffix(".pending")
    wait_for(pending.is_file, timeout=60)  # the drafter is mid-draft
    pid = wait_for(repo.drafter_pid, timeout=10)
    assert isinstance(pid, int)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: repo.drafter_pid() is None, timeout=10)
    assert repo.git_path("smolbot/drafter.pid").exists()  # stale pid file, lock freed by the kernel
    repo.write(
        "src/shop/cart.py",
        "def total(items, tax=0.2):\n    return sum(i.price for i in items) * (1 + tax)\n",
    )
    repo("add", "src/shop/cart.py")  # the next stage starts a new drafter
    new_pid = wait_for(repo.drafter_pid, timeout=30)
    assert new_pid != pid
    draft = repo.draft_file()
    wait_for(draft.is_file)
    repo("commit", env={"SMOLBOT_COMMIT_WAIT_MS": "0"})
    assert repo.last_message() == draft.read_text().strip()


@pytest.mark.model
@needs_model
def test_two_commits_in_quick_succession_each_get_their_own_draft(repo: Git) -> None:
    assert repo.smolbot("hook", "install").returncode == 0
    env = {"SMOLBOT_COMMIT_WAIT_MS": "240000"}
    repo.write("docs/usage.md", "# Usage\n\nInstall with pip, then run `shop serve`.\n")
    repo("add", "docs/usage.md")
    repo("commit", env=env)
    first = repo.last_message()
    repo.write(
        "src/shop/pay.py",
        "def pay(amount):\n    if amount <= 0:\n        raise ValueError(amount)\n    return amount\n",
    )
    repo("add", "src/shop/pay.py")
    second_draft = repo.draft_file()
    repo("commit", env=env)
    second = repo.last_message()
    assert first.startswith("docs") and first != second
    assert second == second_draft.read_text().strip()
    assert CC_SUBJECT.match(second.splitlines()[0])


def local_config(stages_env: str) -> str:
    """Our .pre-commit-hooks.yaml as a `repo: local` config (system language: no network, this venv)."""
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    for hook in hooks:
        hook["language"] = "system"
        hook["entry"] = hook["entry"].replace("smolbot", SMOLBOT, 1)
    return yaml.safe_dump(
        {
            "default_install_hook_types": ["pre-commit", "prepare-commit-msg"],
            "repos": [{"repo": "local", "hooks": hooks}],
        }
    )


def test_pre_commit_framework_runs_our_hooks(repo: Git) -> None:
    repo.write(".pre-commit-config.yaml", local_config(""))
    repo("add", ".pre-commit-config.yaml")
    repo("commit", "-q", "--no-verify", "-m", "ci: add pre-commit config")
    pre_commit = str(Path(SMOLBOT).parent / "pre-commit")
    done = subprocess.run(
        [pre_commit, "install"],
        cwd=repo.root,
        env={**repo.env, **NO_MODEL},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "pre-commit" in (repo.git_path("hooks") / "prepare-commit-msg").read_text()
    repo.write("docs/usage.md", "# Usage\n\nRun `shop serve`.\n")
    repo("add", "docs/usage.md", env=NO_MODEL)
    started = time.monotonic()
    repo("commit", env={**NO_MODEL, "SMOLBOT_COMMIT_WAIT_MS": "60000"})
    assert time.monotonic() - started < 120
    assert repo.last_message().startswith("docs")
    repo("commit", "--allow-empty", "-m", "chore: mine", env=NO_MODEL)  # -m still wins
    assert repo.last_message() == "chore: mine"
