"""No draft when no editor will show it: `git commit --no-edit`, or an editor of `true` (or `:`)
in a script, with no message: as GIT_EDITOR, core.editor (in the config or `git -c`), VISUAL or
EDITOR, whichever git would start. git aborts an empty message; with a draft in, it committed one
nobody saw. git sets GIT_EDITOR=: for the hooks when it will not start an editor (git 2.39:
--no-edit, -m, -F); a GIT_EDITOR the user set reaches them as it is."""

from __future__ import annotations

import pytest

from tests.commits.conftest import SMOLBOT, Git

WAIT = {"SMOLBOT_COMMIT_WAIT_MS": "240000", "SMOLBOT_MODEL_PATH": "/nonexistent/model.gguf"}
PRE_COMMIT_ENTRY = f'#!/bin/sh\nexec {SMOLBOT} hook run prepare-commit-msg "$@"\n'
NO_EDITOR = {  # git's arguments, environment, and config; GIT_EDITOR unset unless given
    "--no-edit": (["--no-edit"], {}, {}),
    "GIT_EDITOR=true": ([], {"GIT_EDITOR": "true"}, {}),
    "GIT_EDITOR=:": ([], {"GIT_EDITOR": ":"}, {}),
    "GIT_EDITOR=/bin/true": ([], {"GIT_EDITOR": "/bin/true"}, {}),
    "core.editor=/usr/bin/true": ([], {}, {"core.editor": "/usr/bin/true"}),
    "core.editor=true": ([], {}, {"core.editor": "true"}),
    "git -c core.editor=:": (["-c", "core.editor=:"], {}, {}),
    "EDITOR=true": ([], {"EDITOR": "true"}, {}),
    "VISUAL=true": ([], {"VISUAL": "true", "EDITOR": "vi"}, {}),
}


def installed(repo: Git, how: str) -> None:
    if how == "hook script":
        assert repo.smolbot("hook", "install", "--no-start").returncode == 0
        return
    hook = repo.git_path("hooks/prepare-commit-msg")  # what the pre-commit framework runs
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text(PRE_COMMIT_ENTRY)
    hook.chmod(0o755)


def staged_with_draft(repo: Git) -> None:
    repo.write("src/shop/cart.py", "def total(items):\n    return 0\n")
    repo("add", "src/shop/cart.py")
    assert repo.smolbot("draft", env=WAIT).returncode == 0  # ready before the commit
    assert repo.draft_file().is_file()


@pytest.mark.parametrize("how", ["hook script", "pre-commit framework entry"])
@pytest.mark.parametrize("case", list(NO_EDITOR))
def test_no_editor_and_no_message_commits_nothing(repo: Git, how: str, case: str) -> None:
    installed(repo, how)
    staged_with_draft(repo)
    before = repo("rev-parse", "HEAD").stdout
    args, env, config = NO_EDITOR[case]
    if "--no-edit" not in args:  # the editor comes from where the case puts it, or nowhere
        repo.env = {k: v for k, v in repo.env.items() if k not in ("GIT_EDITOR", "VISUAL")}
    for key, value in config.items():
        repo("config", key, value)
    commit = ["-c", args[1], "commit"] if args[:1] == ["-c"] else ["commit", *args]
    done = repo(*commit, check=False, env={**WAIT, **env})
    assert done.returncode != 0 and "empty commit message" in done.stderr, done.stderr
    assert repo("rev-parse", "HEAD").stdout == before, repo.last_message()


@pytest.mark.parametrize("how", ["hook script", "pre-commit framework entry"])
def test_an_editor_still_gets_the_draft(repo: Git, how: str) -> None:
    installed(repo, how)
    staged_with_draft(repo)
    draft = repo.draft_file().read_text().strip()
    repo("commit", env=WAIT)  # the test's editor leaves a prepared message alone
    assert repo.last_message() == draft


@pytest.mark.parametrize("how", ["hook script", "pre-commit framework entry"])
@pytest.mark.parametrize(
    "args", [["-s"], ["--trailer", "Reviewed-by: Mia <mia@example.org>"]], ids=["-s", "--trailer"]
)
def test_a_sign_off_or_trailer_gets_the_draft_above_it(
    repo: Git, how: str, args: list[str]
) -> None:
    """`git commit -s` (every commit, in a DCO project) writes only its Signed-off-by line into
    the message: not the user's words. The draft goes in above it, and the line stays."""
    installed(repo, how)
    staged_with_draft(repo)
    draft = repo.draft_file().read_text().strip()
    repo("commit", *args, env=WAIT)
    message = repo.last_message()
    assert message.startswith(draft), message
    trailer = "Signed-off-by: " if args == ["-s"] else "Reviewed-by: Mia"
    assert message.splitlines()[-1].startswith(trailer), message
