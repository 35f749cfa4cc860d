"""A hook smolbot keeps and chains still runs as it did before install: one that finds its helpers
next to itself (`source "$(dirname "$0")/lib.sh"`, BASH_SOURCE, a Python hook importing a module
beside it) sees the hooks directory as its own, and uninstall puts it back byte for byte. Moved
into smolbot-chained/ and run from there, it no longer found them and every `git commit` failed;
sourced from there with the old $0, a bash hook's BASH_SOURCE still named smolbot-chained/."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.commits.conftest import Git, wait_for

NO_MODEL = {"SMOLBOT_MODEL_PATH": "/nonexistent/model.gguf"}
BASH_HOOK = '#!/usr/bin/env bash\nset -e\nsource "$(dirname "$0")/lib.sh"\nticket "$1"\n'
BASH_LIB = 'ticket() { echo "Refs: ABC-1 $(basename "$(dirname "$0")")" >> "$1"; }\n'
PY_HOOK = (
    "#!/usr/bin/env python3\nimport os\nimport sys\n\nimport ticket\n\n"
    "here = os.path.dirname(os.path.abspath(__file__))\n"
    "ticket.add(sys.argv[1], os.path.basename(here))\n"
)
PY_LIB = (
    "def add(path, where):\n"
    "    with open(path, 'a') as f:\n"
    "        f.write(f'Refs: ABC-1 in {where}\\n')\n"
)


def commit_with_the_hooks(repo: Git, hook: str, helpers: dict[str, str], hooks: Path) -> str:
    """The last message of a commit made before install, and of one made after it."""
    hooks.mkdir(parents=True, exist_ok=True)
    for name, text in helpers.items():
        (hooks / name).write_text(text)
    (hooks / "prepare-commit-msg").write_text(hook)
    (hooks / "prepare-commit-msg").chmod(0o751)
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
    assert (hooks / "prepare-commit-msg").stat().st_mode & 0o777 == 0o751
    assert not (hooks / ".smolbot-kept-prepare-commit-msg").exists()
    return after


@pytest.mark.parametrize("where", ["git-dir", "hooks-path"])
def test_a_bash_hook_that_sources_its_neighbour_still_lets_the_commit_through(
    repo: Git, where: str
) -> None:
    if where == "hooks-path":
        repo("config", "core.hooksPath", "my hooks")
    hooks = repo.git_path("hooks")
    after = commit_with_the_hooks(repo, BASH_HOOK, {"lib.sh": BASH_LIB}, hooks)
    assert after.endswith(f"Refs: ABC-1 {hooks.name}"), after


def test_a_python_hook_that_imports_its_neighbour_still_finds_it(repo: Git) -> None:
    hooks = repo.git_path("hooks")
    after = commit_with_the_hooks(repo, PY_HOOK, {"ticket.py": PY_LIB}, hooks)
    assert after.endswith("Refs: ABC-1 in hooks"), after


@pytest.mark.parametrize(
    ("first", "renamed"),
    [
        ("#!/usr/bin/env node", True),
        ("#!/bin/bash -e", True),
        ("#!/bin/sh", False),
        ("#!/bin/sh -e", False),
        ("#!/usr/bin/env sh", False),
        ("#!/usr/bin/env sh \t", False),  # the kernel drops trailing blanks
    ],
)
def test_install_says_when_a_kept_hook_sees_another_name(
    repo: Git, first: str, renamed: bool
) -> None:
    """Only a sh script is given its old name in $0 (it is sourced); any other runs by the kept
    file's path, in the same directory: install says so, and nothing for the ones that keep it."""
    hooks = repo.git_path("hooks")
    hooks.mkdir(parents=True, exist_ok=True)
    (hooks / "prepare-commit-msg").write_text(f"{first}\nexit 0\n")
    out = repo.smolbot("hook", "install", "--no-start")
    assert out.returncode == 0, out.stderr
    line = next(x for x in out.stdout.splitlines() if x.startswith("kept your"))
    assert f"still runs first, from {hooks}" in line, line
    assert ("sees .smolbot-kept-prepare-commit-msg" in line) == renamed, line


# The usual bash "run main only when executed, not when sourced" guard: sourced, BASH_SOURCE[0]
# was the kept file while $0 was the hook's path, and main never ran (the commit went through
# without the hook's work, and nothing said so).
GUARDED = (
    "#!/usr/bin/env bash\nset -euo pipefail\n"
    'main() { echo "Refs: ABC-1" >> "$1"; }\n'
    'if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then main "$@"; fi\n'
)
# The usual bash spelling of "the directory I am in".
BASH_SOURCE_DIR = (
    "#!/usr/bin/env bash\nset -euo pipefail\n"
    'here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"\n'
    'source "$here/lib.sh"\nticket "$1"\n'
)
LIB = 'ticket() { echo "Refs: ABC-1" >> "$1"; }\n'


def test_a_bash_hook_guarded_by_bash_source_still_runs(repo: Git) -> None:
    after = commit_with_the_hooks(repo, GUARDED, {}, repo.git_path("hooks"))
    assert after.endswith("Refs: ABC-1"), after


def test_a_bash_hook_finding_its_helper_by_bash_source_still_commits(repo: Git) -> None:
    after = commit_with_the_hooks(repo, BASH_SOURCE_DIR, {"lib.sh": LIB}, repo.git_path("hooks"))
    assert after.endswith("Refs: ABC-1"), after


@pytest.mark.parametrize("first", ["#!/bin/bash -e ", "#!/bin/sh -e ", "#!/usr/bin/env sh \t"])
def test_a_shebang_with_trailing_blanks_still_commits(repo: Git, first: str) -> None:
    """The kernel drops a shebang's trailing blanks: the chain passed `-e ` to the shell (an
    invalid option, so every `git commit` failed) or ran `env sh ` by path, under another name."""
    sh = "bash" not in first  # sourced: it keeps its name; bash runs by path, from hooks/
    name = '$(basename "$0")' if sh else '$(basename "$(dirname "$0")")'
    hook = f'{first}\necho "Refs: ABC-1 {name}" >> "$1"\n'
    after = commit_with_the_hooks(repo, hook, {}, repo.git_path("hooks"))
    assert after.endswith(f"Refs: ABC-1 {'prepare-commit-msg' if sh else 'hooks'}"), after
