"""`smolbot draft`, `hook install` and `hook status` when git cannot answer: one line saying what
to do and a non-zero exit, never a traceback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.commits.conftest import SMOLBOT, Git

NO_MODEL = {"SMOLBOT_MODEL_PATH": "/nonexistent/model.gguf"}


def one_line_error(out: subprocess.CompletedProcess[str]) -> str:
    assert out.returncode != 0, out.stdout
    assert "Traceback" not in out.stderr, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    return lines[0]


def test_draft_during_a_merge_conflict_says_to_resolve_it(repo: Git) -> None:
    repo("checkout", "-q", "-b", "side")
    repo.write("docs/usage.md", "# Usage\n\nSide.\n")
    repo("commit", "-q", "-am", "docs: side")
    repo("checkout", "-q", "main")
    repo.write("docs/usage.md", "# Usage\n\nMain.\n")
    repo("commit", "-q", "-am", "docs: main")
    assert repo("merge", "-q", "side", check=False).returncode != 0  # a conflict
    line = one_line_error(repo.smolbot("draft", env=NO_MODEL))
    assert "unmerged paths" in line and "resolve them and `git add`" in line


@pytest.mark.parametrize(
    "command", [["draft"], ["hook", "install", "--no-start"], ["hook", "status"]]
)
def test_without_git_on_path_the_cli_says_so(repo: Git, command: list[str]) -> None:
    out = subprocess.run(
        [SMOLBOT, *command], cwd=repo.root, env={**repo.env, **NO_MODEL, "PATH": str(Path(SMOLBOT).parent)},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "git was not found on PATH" in one_line_error(out)
