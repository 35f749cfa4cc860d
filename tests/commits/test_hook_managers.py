"""Hooks that dispatch on their own name or directory keep working once smolbot chains them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.commits.hooks import START_GRACE_MS
from tests.commits.conftest import Git, wait_for

NO_MODEL = {"SMOLBOT_MODEL_PATH": "/nonexistent/model.gguf"}
WAIT = {"SMOLBOT_COMMIT_WAIT_MS": "240000", **NO_MODEL}
GRACE, EARLIER = f"-ge {START_GRACE_MS} ]", "-ge 2000 ]"  # an earlier release waited 2 s
# husky v9 as `husky` (9.1) writes it: core.hooksPath=.husky/_, each hook sources _/h, which runs
# .husky/<basename "$0">; .husky/_ is git-ignored
HUSKY_H = """#!/usr/bin/env sh
[ "$HUSKY" = "2" ] && set -x
n=$(basename "$0")
s=$(dirname "$(dirname "$0")")/$n

[ ! -f "$s" ] && exit 0

[ "${HUSKY-}" = "0" ] && exit 0

export PATH="node_modules/.bin:$PATH"
sh -e "$s" "$@"
c=$?

[ $c != 0 ] && echo "husky - $n script failed (code $c)"
[ $c = 127 ] && echo "husky - command not found in PATH=$PATH"
exit $c
"""
HUSKY_HOOK = '#!/usr/bin/env sh\n. "${0%/*}/h"'


def husky(g: Git, log: Path) -> None:
    hooks = g.root / ".husky" / "_"
    hooks.mkdir(parents=True)
    (hooks / ".gitignore").write_text("*")
    (hooks / "h").write_text(HUSKY_H)
    for name in ("pre-commit", "prepare-commit-msg", "commit-msg"):
        (hooks / name).write_text(HUSKY_HOOK)
        (hooks / name).chmod(0o755)
    (g.root / ".husky" / "prepare-commit-msg").write_text(f'echo "husky: $1 ${{2:-}}" >> {log}\n')
    g("config", "core.hooksPath", ".husky/_")


def stage_and_commit(g: Git) -> None:
    g.write("docs/usage.md", "# Usage\n\nRun `shop serve`.\n")
    g("add", "docs/usage.md", env=NO_MODEL)
    wait_for(g.draft_file().is_file, timeout=60)
    g("commit", env=WAIT)


def test_a_husky_hook_still_runs(repo: Git, tmp_path: Path) -> None:
    """husky's `_/h` looks up the user's hook by `basename "$0"`: renamed to
    prepare-commit-msg.smolbot-chained it looked for .husky/prepare-commit-msg.smolbot-chained,
    found none and exited 0, while install said the hook still ran first."""
    log = tmp_path / "husky.log"
    husky(repo, log)
    out = repo.smolbot("hook", "install", "--no-start")
    assert out.returncode == 0, out.stderr
    assert "it still runs first" in out.stdout
    stage_and_commit(repo)
    assert log.read_text().startswith("husky: .git/COMMIT_EDITMSG")  # husky ran the user's hook
    assert repo.last_message().startswith("docs")  # and ours put the draft
    assert repo.smolbot("hook", "uninstall").returncode == 0
    assert (repo.root / ".husky" / "_" / "prepare-commit-msg").read_text() == HUSKY_HOOK


@pytest.mark.parametrize(
    ("first", "name"),
    [
        ("#!/bin/sh -e", "prepare-commit-msg"),
        ("#!/usr/bin/env sh", "prepare-commit-msg"),
        ("#!/bin/sh -", "prepare-commit-msg"),  # `-` ends the options: passed on, dash refused
        ("#!/bin/sh --", "prepare-commit-msg"),
    ],
)
def test_a_hook_that_dispatches_on_its_name_keeps_it(
    repo: Git, tmp_path: Path, first: str, name: str
) -> None:
    """A sh script (sourced with our $0, in a sh of its own, with its flags) still sees its own
    name in $0 and its directory."""
    log = tmp_path / "dispatch.log"
    hook = repo.git_path("hooks") / "prepare-commit-msg"
    hook.write_text(f'{first}\necho "hook $(basename "$0") in $(dirname "$0") $1" >> {log}\n')
    hook.chmod(0o755)
    assert repo.smolbot("hook", "install", "--no-start").returncode == 0
    stage_and_commit(repo)
    assert log.read_text().startswith(f"hook {name} in .git/hooks .git/COMMIT_EDITMSG")
    assert repo.last_message().startswith("docs")


@pytest.mark.parametrize(
    "legacy_name", ["prepare-commit-msg.smolbot-chained", "smolbot-chained/prepare-commit-msg"]
)
def test_an_earlier_releases_chained_hook_moves_and_keeps_running(
    repo: Git, tmp_path: Path, legacy_name: str
) -> None:
    """Kept as `<name>.smolbot-chained` or `smolbot-chained/<name>` by an earlier release: the
    script update that the drafter makes moves it to .smolbot-kept-<name>, where the new script
    looks for it, with its bytes and mode; uninstall then puts it back."""
    from bot.commits import hooks
    from bot.commits.git import find_repo

    log = tmp_path / "user.log"
    git = find_repo(repo.root)
    hooks.install(git)
    prepare = repo.git_path("hooks") / "prepare-commit-msg"
    prepare.write_text(prepare.read_text().replace(GRACE, EARLIER))  # the earlier release's
    legacy = prepare.parent / legacy_name
    legacy.parent.mkdir(exist_ok=True)
    mine = f'#!/bin/sh\necho "user hook $1" >> {log}\n'
    legacy.write_text(mine)
    legacy.chmod(0o751)
    assert hooks.refresh(git) == [f"updated {prepare} to this version's script"]
    assert not legacy.exists() and not (prepare.parent / "smolbot-chained").exists()
    kept = prepare.parent / ".smolbot-kept-prepare-commit-msg"
    assert kept.read_text() == mine and kept.stat().st_mode & 0o777 == 0o751
    stage_and_commit(repo)
    assert log.read_text().startswith("user hook .git/COMMIT_EDITMSG")
    hooks.uninstall(git)
    assert prepare.read_text() == mine and prepare.stat().st_mode & 0o777 == 0o751
    assert not kept.exists()


def test_uninstall_puts_back_a_hook_an_earlier_release_kept_in_smolbot_chained(
    repo: Git,
) -> None:
    """Installed by the release that kept hooks in smolbot-chained/, removed by this one: the
    user's hook comes back byte for byte, with its mode, and the directory goes."""
    from bot.commits import hooks
    from bot.commits.git import find_repo

    git = find_repo(repo.root)
    hooks.install(git)
    prepare = repo.git_path("hooks") / "prepare-commit-msg"
    prepare.write_text(prepare.read_text().replace(GRACE, EARLIER))  # the earlier release's
    legacy = prepare.parent / "smolbot-chained" / "prepare-commit-msg"
    legacy.parent.mkdir()
    mine = b"#!/bin/sh\r\necho mine\n"
    legacy.write_bytes(mine)
    legacy.chmod(0o700)
    assert "chains smolbot-chained/prepare-commit-msg" in repo.smolbot("hook", "status").stdout
    assert repo.smolbot("hook", "uninstall").returncode == 0
    assert prepare.read_bytes() == mine and prepare.stat().st_mode & 0o777 == 0o700
    assert not legacy.parent.exists()


def test_a_tracked_hooks_path_is_left_to_the_team(repo: Git) -> None:
    """core.hooksPath=.githooks, committed: install replaced the team's hook with a script
    naming this machine's interpreter, without a word."""
    team = repo.root / ".githooks" / "prepare-commit-msg"
    team.parent.mkdir()
    team.write_text("#!/bin/sh\necho team hook\n")
    team.chmod(0o755)
    repo("add", ".githooks")
    repo("commit", "-q", "--no-verify", "-m", "chore: team hooks")
    repo("config", "core.hooksPath", ".githooks")
    out = repo.smolbot("hook", "install", "--no-start")
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "tracks (.githooks/prepare-commit-msg)" in out.stderr and "--force" in out.stderr
    assert repo("status", "--porcelain").stdout == ""  # nothing touched
    forced = repo.smolbot("hook", "install", "--no-start", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "smolbot-hook" in team.read_text()
    from bot.commits import hooks
    from bot.commits.git import find_repo

    team.write_text(team.read_text().replace(GRACE, EARLIER))  # as an earlier release wrote it
    assert hooks.refresh(find_repo(repo.root)) == []  # a drafter never changes the team's files


@pytest.mark.parametrize("there", [True, False], ids=["target-there", "target-not-yet"])
def test_a_symlinked_hook_keeps_running_and_comes_back_as_it_was(
    repo: Git, tmp_path: Path, there: bool
) -> None:
    """.git/hooks/prepare-commit-msg -> ../../githooks/prepare-commit-msg (the team's tracked
    script): moved into smolbot-chained/ as it was, the relative target dangled and the team's
    hook silently stopped; uninstall took the dangling link for no hook and did not put it back.
    A link whose target is not there yet (a branch without githooks/) was written over."""
    team, log = repo.root / "githooks" / "prepare-commit-msg", tmp_path / "team.log"
    link = repo.git_path("hooks") / "prepare-commit-msg"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to("../../githooks/prepare-commit-msg")

    def add_team_hook() -> None:
        repo.write("githooks/prepare-commit-msg", f'#!/bin/sh\necho "team hook $1" >> {log}\n')
        team.chmod(0o755)
        repo("add", "githooks", env=NO_MODEL)
        repo("commit", "-q", "--no-verify", "-m", "chore: team hooks", env=NO_MODEL)

    if there:
        add_team_hook()
    out = repo.smolbot("hook", "install", "--no-start")
    assert out.returncode == 0, out.stderr
    assert "kept your prepare-commit-msg hook" in out.stdout
    if not there:
        add_team_hook()
    log.unlink(missing_ok=True)  # it ran for the team's own commit (--no-verify runs it, too)
    stage_and_commit(repo)
    assert log.read_text() == "team hook .git/COMMIT_EDITMSG\n"
    assert repo.last_message().startswith("docs")
    status = repo.smolbot("hook", "status").stdout
    assert "chains .smolbot-kept-prepare-commit-msg" in status
    assert repo.smolbot("hook", "uninstall").returncode == 0
    assert link.is_symlink() and os.readlink(link) == "../../githooks/prepare-commit-msg"
    assert not os.path.lexists(link.parent / ".smolbot-kept-prepare-commit-msg")


@pytest.mark.parametrize(
    ("legacy_name", "target"),
    [
        ("prepare-commit-msg.smolbot-chained", "../../githooks/prepare-commit-msg"),
        ("smolbot-chained/prepare-commit-msg", "../../../githooks/prepare-commit-msg"),
    ],
)
def test_an_earlier_releases_chained_symlink_moves_as_the_same_link(
    repo: Git, legacy_name: str, target: str
) -> None:
    """A relative link an earlier release kept moves as a link to the same file: one `../` less
    out of smolbot-chained/ (hard-linked, it became a copy of the team's script)."""
    from bot.commits import hooks
    from bot.commits.git import find_repo

    git = find_repo(repo.root)
    hooks.install(git)
    prepare = repo.git_path("hooks") / "prepare-commit-msg"
    prepare.write_text(prepare.read_text().replace(GRACE, EARLIER))  # the earlier release's
    legacy = prepare.parent / legacy_name
    legacy.parent.mkdir(exist_ok=True)
    legacy.symlink_to(target)
    assert hooks.refresh(git) == [f"updated {prepare} to this version's script"]
    kept = prepare.parent / ".smolbot-kept-prepare-commit-msg"
    assert os.readlink(kept) == "../../githooks/prepare-commit-msg"
    assert not os.path.lexists(legacy)
    hooks.uninstall(git)
    assert os.readlink(prepare) == "../../githooks/prepare-commit-msg"


@pytest.mark.parametrize(
    "hook_text",
    [
        '#!/bin/bash\ncase "$(basename "$0")" in prepare-commit-msg) echo ok ;; *) exit 69 ;; esac\n',
        "#!/usr/bin/env node\nconst t = require('path').basename(process.argv[1]);\n"
        "if (t !== 'prepare-commit-msg') process.exit(69);\n",  # overcommit's dispatch, in node
    ],
)
def test_a_non_sh_hook_that_dispatches_on_its_name_is_refused_and_kept(
    repo: Git, hook_text: str
) -> None:
    """Kept beside ours, a hook that is not a sh script runs as .smolbot-kept-<name>; one that
    finds what to do by its own name (overcommit's Ruby hook) would fail every commit. Install
    refuses, says why and what to do, and moves nothing: commits go on as before."""
    hook = repo.git_path("hooks") / "prepare-commit-msg"
    hook.write_text(hook_text)
    hook.chmod(0o755)
    out = repo.smolbot("hook", "install", "--no-start")
    assert out.returncode != 0 and "reads its own name" in out.stderr, (out.stdout, out.stderr)
    assert "Nothing was installed" in out.stderr
    assert hook.read_text() == hook_text
    assert not (repo.git_path("hooks") / ".smolbot-kept-prepare-commit-msg").exists()
    assert not (repo.git_path("hooks") / "post-index-change").exists() or (
        "smolbot" not in (repo.git_path("hooks") / "post-index-change").read_text()
    )
