"""A repo-local core.hooksPath that names a directory another repository tracks (a team's hooks
clone, a submodule) is the team's, as a tracked .githooks/ is: install leaves it alone unless
forced. It moved the team's hook aside and wrote a script naming this machine's interpreter
into their clone, for every repository pointing at it, and left that clone dirty."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.commits import hooks
from bot.commits.git import find_repo
from tests.commits.conftest import Git


def team_hooks(make_repo: Callable[..., Git]) -> Git:
    team = make_repo("company-hooks", history=False)
    team.write("hooks/prepare-commit-msg", '#!/bin/sh\necho "company hook ran"\n')
    (team.root / "hooks/prepare-commit-msg").chmod(0o755)
    team("add", ".")
    team("commit", "-q", "--no-verify", "-m", "hooks")
    return team


@pytest.mark.parametrize("how", ["clone", "submodule"])
def test_hooks_another_repository_tracks_are_left_to_the_team(
    make_repo: Callable[..., Git], how: str
) -> None:
    team = team_hooks(make_repo)
    app = make_repo("app")
    if how == "clone":  # beside the repository: outside its worktree
        app("config", "core.hooksPath", str(team.root / "hooks"))
        clone = team
    else:  # inside the worktree, tracked by the submodule, not by app
        app("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(team.root), "tools")
        app("commit", "-q", "--no-verify", "-m", "chore: team hooks")
        app("config", "core.hooksPath", "tools/hooks")
        clone = Git(app.root / "tools", app.env)
    out = app.smolbot("hook", "install", "--no-start")
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "a repository tracks (hooks/prepare-commit-msg)" in out.stderr, out.stderr
    assert "--force" in out.stderr
    assert clone("status", "--porcelain", "--ignored").stdout == ""  # nothing touched
    assert hooks.refresh(find_repo(app.root)) == []  # nor by a drafter as it starts
    forced = app.smolbot("hook", "install", "--no-start", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "smolbot-hook" in (clone.root / "hooks/prepare-commit-msg").read_text()


def test_an_untracked_hooks_directory_outside_the_worktree_is_yours(
    make_repo: Callable[..., Git],
) -> None:
    """A private hooks directory (not in any repository) is installed into, as before."""
    app = make_repo("app")
    mine = app.root.parent / "my-hooks"
    mine.mkdir()
    (mine / "prepare-commit-msg").write_text("#!/bin/sh\necho mine\n")
    app("config", "core.hooksPath", str(mine))
    out = app.smolbot("hook", "install", "--no-start")
    assert out.returncode == 0, out.stderr
    assert "kept your prepare-commit-msg hook" in out.stdout
