"""`smolbot draft` right after `git add` (README's sequence) takes the background drafter's draft:
it asks for the pair and waits, as a commit does, instead of drafting beside it (two model loads on
two cores: 88 s instead of 61 s). With no drafter coming it drafts at once, and it never drafts the
same change while a drafter is still at it. Real git, real hooks, real drafter processes; rule-made
drafts (no model) keep the mechanics fast, and no test times anything on a shared machine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.commits.conftest import SMOLBOT, Git, drafters_under, wait_for

NO_MODEL = {"SMOLBOT_MODEL_PATH": "/nonexistent/model.gguf"}
CHANGE = "# Usage\n\nInstall with pip, then run `shop serve`.\n"


def smolbot_draft(g: Git, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SMOLBOT, "draft", *args], cwd=g.root, env={**g.env, **NO_MODEL},
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def test_draft_right_after_git_add_waits_for_the_drafter_the_hook_started(
    repo: Git, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hook's drafter is not up yet (no pid, no `.pending`): `smolbot draft` drafted the
    change itself, and the drafter, once up, found it drafted. Now a drafter drafts it, once."""
    from bot.commits import hooks
    from bot.commits.git import find_repo

    slow = tmp_path / "slow-python"  # the hooks' interpreter, late as on a loaded 2-core machine
    slow.write_text(f'#!/bin/sh\nsleep 3\nexec {hooks.python()} "$@"\n')
    slow.chmod(0o755)
    monkeypatch.setattr(hooks, "python", lambda: str(slow))
    hooks.install(find_repo(repo.root))
    repo.write("docs/usage.md", CHANGE)
    repo("add", "docs/usage.md", env=NO_MODEL)  # the hook starts a drafter, which is not up yet
    assert repo.drafter_pid() is None
    out = smolbot_draft(repo, "--explain", "--wait", "240")
    assert out.returncode == 0, out.stderr
    draft = repo.draft_file()
    assert out.stdout.startswith(draft.read_text().strip())
    log = repo.git_path("smolbot/drafter.log")
    drafted = f"drafted {repo.tree()[:12]}"
    wait_for(lambda: log.is_file() and drafted in log.read_text(), timeout=30)
    assert log.read_text().count(drafted) == 1  # drafted once, by a drafter


def test_draft_with_no_drafter_coming_drafts_at_once(repo: Git, tmp_path: Path) -> None:
    """No hook and no drafter: nothing drafts in the background, so nothing is waited for (a
    long --wait would show as a timeout) and no drafter is started."""
    repo.write("docs/usage.md", CHANGE)
    repo("add", "docs/usage.md")
    out = smolbot_draft(repo, "--wait", "600", timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("docs")
    assert repo.draft_file().is_file()
    assert not drafters_under(tmp_path) and repo.drafter_pid() is None
    assert not repo.git_path("smolbot/want").exists()  # nobody was asked


BUSY_DRAFTER = """
import sys, time
from pathlib import Path
from bot.commits.drafter import at, drafter_lock
from bot.commits.drafts import DraftBox
from bot.commits.git import find_repo

repo = find_repo(Path(sys.argv[1]))
box = DraftBox(repo.smolbot_dir())
with drafter_lock(box) as mine:
    assert mine
    head, on, _ = at(repo)
    box.mark_pending(head, repo.staged_tree(), on)
    print("drafting", flush=True)
    time.sleep(300)
"""


def test_draft_never_drafts_beside_a_drafter_still_at_it(repo: Git) -> None:
    """Past --wait with the drafter still drafting the change, `smolbot draft` drafted it
    again beside it (both slower); now it says so, in one line, and drafts nothing."""
    repo.write("docs/usage.md", CHANGE)
    repo("add", "docs/usage.md")
    busy = subprocess.Popen(  # a drafter on a long draft: holds the lock, the pid, the .pending
        [sys.executable, "-c", BUSY_DRAFTER, str(repo.root)], cwd=repo.root,
        env={**repo.env, **NO_MODEL}, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert busy.stdout is not None and busy.stdout.readline().strip() == "drafting"
        assert repo.drafter_pid() == busy.pid
        out = smolbot_draft(repo, "--wait", "1")
        assert out.returncode == 1, out.stdout
        assert "still drafting" in out.stderr and str(busy.pid) in out.stderr
        assert len(out.stderr.strip().splitlines()) == 1  # no traceback
        assert not repo.draft_file().exists()  # nothing drafted beside it
        assert repo.git_path("smolbot/want").read_text() == repo.draft_file().stem  # asked
    finally:
        busy.terminate()
        busy.wait(timeout=30)


def test_draft_takes_a_drafted_change_without_asking(repo: Git) -> None:
    """A draft on hand is printed as it is, whatever runs."""
    assert repo.smolbot("hook", "install", "--no-start").returncode == 0
    repo.write("docs/usage.md", CHANGE)
    repo("add", "docs/usage.md", env=NO_MODEL)
    wait_for(repo.draft_file().is_file, timeout=60)
    out = smolbot_draft(repo, "--wait", "0")
    assert out.returncode == 0 and out.stdout.strip() == repo.draft_file().read_text().strip()
