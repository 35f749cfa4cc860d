"""A hook smolbot keeps and chains still runs as it did before install: one that finds its helpers
next to itself (`source "$(dirname "$0")/lib.sh"`, a Python hook importing a module beside it)
sees the hooks directory as its own, and uninstall puts it back byte for byte. Moved into
smolbot-chained/ and run from there, it no longer found them and every `git commit` failed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.commits.conftest import Git, wait_for

NO_MODEL = {"SMOLBOT_MODEL_PATH": "/nonexistent/model.gguf"}
BASH_HOOK = '#!/usr/bin/env bash\nset -e\nsource "$(dirname "$0")/lib.sh"\nticket "$1"\n'
BASH_LIB = 'ticket() { echo "Refs: ABC-1 $(basename "$0")" >> "$1"; }\n'
PY_HOOK = (
    "#!/usr/bin/env python3\nimport os\nimport sys\n\nimport ticket\n\n"
    "here = os.path.dirname(os.path.abspath(__file__))\n"
    "ticket.add(sys.argv[1], os.path.basename(here), os.path.basename(sys.argv[0]))\n"
)
PY_LIB = (
    "def add(path, where, name):\n"
    "    with open(path, 'a') as f:\n"
    "        f.write(f'Refs: ABC-1 {name} in {where}\\n')\n"
)


def commit_with_the_hooks(repo: Git, hook: str, helpers: dict[str, str], hooks: Path) -> str:
    """The last message of a commit made before install, and of one made after it."""
    hooks.mkdir(parents=True, exist_ok=True)
    for name, text in helpers.items():
        (hooks / name).write_text(text)
    (hooks / "prepare-commit-msg").write_text(hook)
    (hooks / "prepare-commit-msg").chmod(0o755)
    repo.write("docs/usage.md", "# Usage\n\nRun it.\n")
    repo("add", "docs/usage.md", env=NO_MODEL)
    repo("commit", "-q")  # the user's hook works on its own
    before = repo.last_message()

    out = repo.smolbot("hook", "install", "--no-start")
    assert out.returncode == 0, out.stderr
    repo.write("docs/usage.md", "# Usage\n\nRun it twice.\n")
    repo("add", "docs/usage.md", env=NO_MODEL)
    wait_for(repo.draft_file().is_file, timeout=60)
    done = repo("commit", "-q", check=False, env=NO_MODEL)
    assert done.returncode == 0, done.stderr
    after = repo.last_message()
    assert after.startswith("docs"), after  # our draft, above what the user's hook added
    assert before.splitlines()[-1] == after.splitlines()[-1], (before, after)

    assert repo.smolbot("hook", "uninstall").returncode == 0
    assert (hooks / "prepare-commit-msg").read_text() == hook
    assert not (hooks / "smolbot-chained").exists()
    return after


@pytest.mark.parametrize("where", ["git-dir", "hooks-path"])
def test_a_bash_hook_that_sources_its_neighbour_still_lets_the_commit_through(
    repo: Git, where: str
) -> None:
    if where == "hooks-path":
        repo("config", "core.hooksPath", "my hooks")
    hooks = repo.git_path("hooks")
    after = commit_with_the_hooks(repo, BASH_HOOK, {"lib.sh": BASH_LIB}, hooks)
    assert after.endswith("Refs: ABC-1 prepare-commit-msg"), after


def test_a_python_hook_that_imports_its_neighbour_still_finds_it(repo: Git) -> None:
    hooks = repo.git_path("hooks")
    after = commit_with_the_hooks(repo, PY_HOOK, {"ticket.py": PY_LIB}, hooks)
    assert after.endswith("Refs: ABC-1 prepare-commit-msg in hooks"), after


def test_install_says_when_a_kept_hook_runs_from_smolbot_chained(repo: Git) -> None:
    """A hook in another language (node, perl, ruby) cannot be given its old path: install says
    so, and says nothing for the ones that keep it."""
    hooks = repo.git_path("hooks")
    hooks.mkdir(parents=True, exist_ok=True)
    (hooks / "prepare-commit-msg").write_text("#!/usr/bin/env node\nprocess.exit(0)\n")
    (hooks / "post-index-change").write_text("#!/bin/bash -e\nexit 0\n")
    out = repo.smolbot("hook", "install", "--no-start")
    assert out.returncode == 0, out.stderr
    lines = {line.split(" hook ")[0]: line for line in out.stdout.splitlines()}
    assert "next to itself" in lines["kept your prepare-commit-msg"], out.stdout
    assert "next to itself" not in lines["kept your post-index-change"], out.stdout
