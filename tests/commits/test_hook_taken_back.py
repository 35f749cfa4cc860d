"""A hook manager that writes its hook again over ours (husky v9 on every `npm install`): the
same hook as the one we keep (.smolbot-kept-<name>), so `smolbot hook install` puts ours back (it
refused, until the user deleted a file by hand), and `smolbot hook status` says what happened."""

from __future__ import annotations

from pathlib import Path

from tests.commits.conftest import Git, wait_for
from tests.commits.test_hook_managers import HUSKY_HOOK, NO_MODEL, WAIT, husky


def npm_install(g: Git) -> None:
    """What husky's index.js does on each `npm install`: every hook in .husky/_ written again."""
    for name in ("pre-commit", "prepare-commit-msg", "commit-msg"):
        (g.root / ".husky" / "_" / name).write_text(HUSKY_HOOK)


def test_install_again_after_husky_took_the_hook_back(repo: Git, tmp_path: Path) -> None:
    log = tmp_path / "husky.log"
    husky(repo, log)
    assert repo.smolbot("hook", "install", "--no-start").returncode == 0
    npm_install(repo)
    status = repo.smolbot("hook", "status").stdout
    assert "took it back" in status and "smolbot hook install" in status, status
    again = repo.smolbot("hook", "install", "--no-start")
    assert again.returncode == 0, again.stderr
    assert "the same as the kept .smolbot-kept-prepare-commit-msg" in again.stdout, again.stdout
    assert "took it back" not in repo.smolbot("hook", "status").stdout
    repo.write("docs/usage.md", "# Usage\n\nRun `shop serve`.\n")
    repo("add", "docs/usage.md", env=NO_MODEL)
    draft = repo.draft_file()
    wait_for(draft.is_file, timeout=60)
    repo("commit", env=WAIT)
    assert repo.last_message() == draft.read_text().strip()
    assert "husky: " in log.read_text()  # husky's own hook still runs first


def test_another_hook_over_ours_is_still_refused(repo: Git) -> None:
    assert repo.smolbot("hook", "install", "--no-start").returncode == 0
    hooks = repo.git_path("hooks")
    kept = hooks / ".smolbot-kept-prepare-commit-msg"
    kept.write_text("#!/bin/sh\necho kept\n")
    (hooks / "prepare-commit-msg").write_text("#!/bin/sh\necho another\n")
    again = repo.smolbot("hook", "install", "--no-start")
    assert again.returncode != 0 and "move one away" in again.stderr, again.stderr
    assert (hooks / "prepare-commit-msg").read_text() == "#!/bin/sh\necho another\n"


def test_a_link_made_again_to_the_same_script(repo: Git) -> None:
    """A team's hook linked into .git/hooks (`ln -s ../../githooks/prepare-commit-msg`), linked
    again by its setup script after we kept it."""
    repo.write("githooks/prepare-commit-msg", "#!/bin/sh\nexit 0\n")
    (repo.root / "githooks" / "prepare-commit-msg").chmod(0o755)
    hook = repo.git_path("hooks") / "prepare-commit-msg"
    hook.symlink_to("../../githooks/prepare-commit-msg")
    assert repo.smolbot("hook", "install", "--no-start").returncode == 0
    hook.unlink()
    hook.symlink_to("../../githooks/prepare-commit-msg")
    again = repo.smolbot("hook", "install", "--no-start")
    assert again.returncode == 0, again.stderr
    assert not hook.is_symlink() and "# smolbot-hook" in hook.read_text()
    kept = hook.parent / ".smolbot-kept-prepare-commit-msg"
    assert kept.resolve() == (repo.root / "githooks" / "prepare-commit-msg").resolve()
