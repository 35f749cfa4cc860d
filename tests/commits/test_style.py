"""What history teaches: commits with empty messages change nothing, and ties are settled the same way every run."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

from bot.commits.git import Repo
from bot.commits.style import infer_scope, learn
from tests.commits.conftest import Git


def test_a_commit_without_a_message_does_not_shift_scopes_onto_other_files(
    make_repo: Callable[..., Git],
) -> None:
    g = make_repo(history=False)
    g.write("api/a.py", "a = 1\n")
    g("add", ".")
    g("commit", "-q", "--no-verify", "-m", "feat(api): add a")
    g.write("docs/x.md", "x\n")
    g("add", ".")
    g("commit", "-q", "--no-verify", "--allow-empty-message", "-m", "")
    history = Repo(g.root).history()
    assert [msg for msg, _ in history] == ["", "feat(api): add a"]
    style = learn(history)
    assert dict(style.scope_paths) == {"api": {"api": 1}, "a": {"api": 1}}  # not docs/x.md's
    assert infer_scope(["docs/y.md"], style) is None
    assert infer_scope(["api/b.py"], style) == "api"


def test_a_tie_between_scopes_goes_to_the_newest_whatever_the_hash_seed() -> None:
    code = (
        "from bot.commits.style import learn, infer_scope\n"
        "s = learn([('feat(cli): a', ['pkg/cli.py']), ('feat(history): b', ['pkg/history.py'])])\n"
        "print(infer_scope(['pkg/cli.py', 'pkg/history.py'], s))\n"
    )
    seen = {
        subprocess.run(
            [sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True, text=True, check=True, timeout=60,
        ).stdout.strip()
        for seed in range(8)
    }  # fmt: skip
    assert seen == {"cli"}
