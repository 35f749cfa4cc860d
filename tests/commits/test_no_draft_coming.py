"""A commit waits for a draft only while one can still come: not with its interpreter gone, not
with nothing to draft, not after the drafter gave up on the pair. Each of these cost ~2 s a commit.
(No timings here, on a shared machine: each test checks what the hook saw, and a hang shows as a
timeout far above any wait that should happen.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.commits.conftest import Git

NO_MODEL = {"SMOLBOT_MODEL_PATH": "/nonexistent/model.gguf"}
# the whole budget, and a drafter that stays: a commit that keeps waiting would hang well past HANG_S
FOREVER = {"SMOLBOT_COMMIT_WAIT_MS": "600000", "SMOLBOT_DRAFTER_IDLE_S": "600", **NO_MODEL}
HANG_S = 60


def test_hooks_with_their_interpreter_gone_do_nothing(
    repo: Git, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deleted venv: the hooks exit before asking for a draft (they asked, and waited 2 s)."""
    from bot.commits import hooks
    from bot.commits.git import find_repo

    monkeypatch.setattr(hooks, "python", lambda: str(tmp_path / "deleted-venv" / "python"))
    hooks.install(find_repo(repo.root))
    repo.write("docs/usage.md", "# Usage\n\nRun it.\n")
    repo("add", "docs/usage.md", env=FOREVER)
    repo("commit", env=FOREVER, timeout=HANG_S)
    assert repo.last_message() == "manual message"
    assert not repo.git_path("smolbot").exists()  # no request written, no drafter asked for


def test_an_empty_commit_does_not_wait_for_a_draft(repo: Git) -> None:
    assert repo.smolbot("hook", "install", "--no-start").returncode == 0
    repo.write("docs/usage.md", "# Usage\n\nRun it.\n")
    repo("add", "docs/usage.md", env=FOREVER)  # starts a drafter that stays
    repo("commit", env=FOREVER, timeout=HANG_S)
    assert repo.last_message().startswith("docs")
    repo("commit", "--allow-empty", env=FOREVER, timeout=HANG_S)  # nothing staged: no draft
    assert repo.last_message() == "manual message"


def test_a_draft_that_failed_is_not_waited_for(repo: Git) -> None:
    """The drafter marks a (HEAD, tree) pair it could not draft, and the commit stops waiting."""
    assert repo.smolbot("hook", "install", "--no-start").returncode == 0
    repo.write("docs/usage.md", "# Usage\n\nRun it.\n")
    repo("-c", "core.hooksPath=/dev/null", "add", "docs/usage.md")
    draft = repo.draft_file()
    draft.with_suffix(".json").mkdir(parents=True)  # the draft cannot be saved: drafting fails
    repo("commit", env=FOREVER, timeout=HANG_S)
    assert repo.last_message() == "manual message"
    assert "drafting failed" in draft.with_suffix(".none").read_text()
    assert "drafting" in repo.git_path("smolbot/drafter.log").read_text()


@pytest.mark.parametrize("entry", ["hook script", "pre-commit framework entry"])
def test_a_commit_that_goes_on_without_a_draft_withdraws_its_request(repo: Git, entry: str) -> None:
    """Its request (`want`) stayed: the drafter took it for a pair someone waited for, and kept
    drafting that tree past the next `git add` (minutes of model time) before the new one."""
    from tests.commits.test_no_editor import installed

    installed(repo, entry)
    repo.write("notes.txt", "hello\n")
    repo("-c", "core.hooksPath=/nonexistent", "add", "notes.txt")  # no drafter started
    done = repo("commit", env={"SMOLBOT_COMMIT_WAIT_MS": "0", **NO_MODEL}, timeout=HANG_S)
    assert done.returncode == 0 and repo.last_message() == "manual message"
    assert not repo.git_path("smolbot/want").exists()
