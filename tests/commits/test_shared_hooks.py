"""A core.hooksPath from the global or system git config is every repository's hooks directory:
`smolbot hook install` or `uninstall` in one repository changes it for all, so only with --global."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.commits.conftest import Git


@pytest.mark.parametrize("scope", ["global", "system"])
def test_a_shared_hooks_path_changes_only_with_global(
    make_repo: Callable[..., Git], tmp_path: Path, scope: str
) -> None:
    """Installing in repository a put our hooks in every repository; uninstalling in b took
    them from a too, each without a word."""
    shared = tmp_path / "my-hooks"
    shared.mkdir()
    a, b = make_repo("a"), make_repo("b")
    if scope == "system":  # a.env is the fixture's env, b's too
        a.env.pop("GIT_CONFIG_NOSYSTEM")
        a.env["GIT_CONFIG_SYSTEM"] = str(tmp_path / "system-gitconfig")
        a("config", "--system", "core.hooksPath", str(shared))
    else:
        a("config", "--global", "core.hooksPath", str(shared))  # HOME is the test's directory

    out = a.smolbot("hook", "install", "--no-start")
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert f"core.hooksPath is set in your {scope} git config ({shared})" in out.stderr
    assert "`smolbot hook install --global`" in out.stderr
    assert not list(shared.iterdir())

    out = a.smolbot("hook", "install", "--no-start", "--global")
    assert out.returncode == 0, out.stderr
    assert f"in your {scope} git config: this changed the hooks of every repository" in out.stdout
    assert (shared / "prepare-commit-msg").is_file()
    status = b.smolbot("hook", "status").stdout
    assert f"{shared} (core.hooksPath in your {scope} git config: every repository" in status
    assert "prepare-commit-msg: smolbot [" in status

    out = b.smolbot("hook", "uninstall")
    assert out.returncode != 0 and "`smolbot hook uninstall --global`" in out.stderr
    assert (shared / "prepare-commit-msg").is_file()
    out = b.smolbot("hook", "uninstall", "--global")
    assert out.returncode == 0 and f"removed {shared / 'prepare-commit-msg'}" in out.stdout
    assert not (shared / "prepare-commit-msg").exists()


def test_a_repositorys_own_hooks_path_needs_no_global(repo: Git) -> None:
    repo("config", "core.hooksPath", str(repo.root.parent / "private-hooks"))
    out = repo.smolbot("hook", "install", "--no-start")
    assert out.returncode == 0 and "every repository" not in out.stdout, out.stderr
    assert repo.smolbot("hook", "uninstall").returncode == 0
