"""A comment-only commit.template saved with Windows line endings gets the draft, as one saved
with `\\n` does: the hook's awk took a lone `\\r` for a written line; has_message (the pre-commit
framework's path) never did, and the two disagreed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.commits.commit_time import SCISSORS, has_message
from tests.commits.conftest import Git, wait_for

NO_MODEL = {"SMOLBOT_MODEL_PATH": "/nonexistent/model.gguf"}
EDIT = {"GIT_EDITOR": "sed -i '1a edited'"}  # git refuses an unedited template
TEMPLATES = {
    "comment only": b"\r\n# Describe the change\r\n",
    "words under the scissors line": f"\r\n# {SCISSORS}\r\nfix: not a message\r\n".encode(),
}


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_a_crlf_comment_only_template_gets_the_draft(repo: Git, tmp_path: Path, name: str) -> None:
    template = tmp_path / "gitmessage.txt"
    template.write_bytes(TEMPLATES[name])
    assert not has_message(template.read_text())  # the Python path: no message
    repo("config", "commit.template", str(template))
    assert repo.smolbot("hook", "install", "--no-start").returncode == 0
    repo.write("src/shop/cart.py", "def total(items):\n    return 0\n")
    repo("add", "src/shop/cart.py", env=NO_MODEL)
    draft = repo.draft_file()
    wait_for(draft.is_file, timeout=60)
    repo("commit", env={**NO_MODEL, **EDIT})
    assert repo.last_message().startswith(draft.read_text().strip()), repo.last_message()
