"""`smolbot draft` says on stderr, in one line, that it is drafting with the local model (20 s to
minutes on two cores, silent before: it read as hung), and only when it drafts here with a model
file: not for a ready draft, one the background drafter is making, or with no model file (rules
draft at once). Stdout stays the message alone. A file with GGUF's magic that gpt4all cannot load
stands in for the model: it is tried (the line comes), fails at once, and rules draft as with no
file. Real git, real smolbot processes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.commits.conftest import SMOLBOT, Git
from tests.commits.test_draft_waits import BUSY_DRAFTER, CHANGE

SAYS = (
    "smolbot draft: drafting the message with the local model (broken.gguf; 20 s to a few"
    " minutes on a small CPU)"
)


def broken_model(tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "broken.gguf"
    path.write_bytes(b"GGUF\x03\x00\x00\x00")  # magic and version, no model
    return {"SMOLBOT_MODEL_PATH": str(path)}


def smolbot_draft(g: Git, model: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SMOLBOT, "draft", *args], cwd=g.root, env={**g.env, **model},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def staged(g: Git) -> Git:
    g.write("docs/usage.md", CHANGE)
    g("add", "docs/usage.md")
    return g


def test_the_line_comes_when_drafting_here_and_not_for_the_ready_draft(
    make_repo: Callable[..., Git], tmp_path: Path
) -> None:
    model = broken_model(tmp_path)
    repo = staged(make_repo())
    tried = smolbot_draft(repo, model)
    assert tried.returncode == 0, tried.stderr
    assert tried.stderr.splitlines()[0] == SAYS, tried.stderr
    assert tried.stdout.strip() == repo.draft_file().read_text().strip()
    ready = smolbot_draft(repo, model)
    assert ready.returncode == 0 and "smolbot draft:" not in ready.stderr, ready.stderr
    assert ready.stdout == tried.stdout
    other = staged(make_repo("other"))  # the same change, and no model file: rules, at once
    missing = smolbot_draft(other, {"SMOLBOT_MODEL_PATH": str(tmp_path / "none.gguf")})
    assert missing.returncode == 0 and "smolbot draft:" not in missing.stderr, missing.stderr
    assert missing.stdout == tried.stdout  # the rules' draft, byte for byte


def test_no_line_while_the_background_drafter_makes_it(repo: Git, tmp_path: Path) -> None:
    """A drafter at work on the change: `smolbot draft` waits for its draft (here past --wait, and
    says so) and drafts nothing itself, so it says nothing of drafting."""
    model = broken_model(tmp_path)
    staged(repo)
    busy = subprocess.Popen(
        [sys.executable, "-c", BUSY_DRAFTER, str(repo.root)], cwd=repo.root,
        env={**repo.env, **model}, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert busy.stdout is not None and busy.stdout.readline().strip() == "drafting"
        out = smolbot_draft(repo, model, "--wait", "1")
        assert out.returncode == 1 and "still drafting" in out.stderr, out.stderr
        assert "smolbot draft:" not in out.stderr
    finally:
        busy.terminate()
        busy.wait(timeout=30)
