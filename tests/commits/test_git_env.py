"""git's own variables given relative to where the user stands, as git itself takes them."""

from __future__ import annotations

import subprocess

from tests.commits.conftest import SMOLBOT, Git

NO_MODEL = {"SMOLBOT_MODEL_PATH": "/nonexistent/model.gguf"}


def test_relative_git_dir_and_work_tree_name_the_same_repository(repo: Git) -> None:
    """GIT_DIR=repo/.git GIT_WORK_TREE=repo smolbot draft: smolbot ran git from the worktree's
    top with them, where they named repo/repo/.git: `not a git repository`, for every command."""
    env = {**repo.env, **NO_MODEL, "GIT_DIR": "repo/.git", "GIT_WORK_TREE": "repo"}
    repo.write("docs/usage.md", "# Usage\n\nRun `shop serve`.\n")
    repo("add", "docs/usage.md")

    def smolbot(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [SMOLBOT, *args], cwd=repo.root.parent, env=env, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip

    out = smolbot("hook", "install", "--no-start")
    assert out.returncode == 0, out.stderr
    assert (repo.root / ".git" / "hooks" / "prepare-commit-msg").is_file()
    out = smolbot("hook", "status")
    assert out.returncode == 0 and "prepare-commit-msg: smolbot [" in out.stdout, out.stderr
    out = smolbot("draft", "--wait", "0")
    assert out.returncode == 0 and out.stdout.startswith("docs"), out.stderr
    assert repo.draft_file().read_text().strip() == out.stdout.strip()
