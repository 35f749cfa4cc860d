"""A `!!set` is refused with its line: Python orders a set per process (PYTHONHASHSEED), so the
same file gave each worker its own error positions and config hash."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from bot.core.config import ConfigError, parse_config
from tests.commands.conftest import CONFIG, REPO, error_issues
from tests.commands.test_repo_config_file import _load


@pytest.mark.parametrize(
    "text",
    [
        "dry_run: false\nexempt_labels: !!set {alpha, beta}\n",
        "dry_run: false\nexempt_labels: !!set\n  ? alpha\n  ? beta\n",
    ],
    ids=["flow", "block"],
)
def test_a_set_is_refused_naming_its_line(text: str) -> None:
    with pytest.raises(ConfigError, match=r"(?s)!!set.*write a list.*line 2"):
        parse_config(text)


def test_a_file_with_a_set_keeps_the_last_good_config(world: Any) -> None:
    state, ctx = world
    state.put_file(REPO, CONFIG, "exempt_labels: [pinned]\n")
    assert _load(state, ctx).exempt_labels == ("pinned",)
    state.put_file(REPO, CONFIG, "exempt_labels: !!set {pinned, security}\n")
    assert _load(state, ctx).exempt_labels == ("pinned",)
    (report,) = error_issues(state)
    assert "!!set" in report.body


def test_every_process_reads_the_file_alike() -> None:
    """The error named the too long label by its place in the set: another in each process."""
    probe = (
        "from bot.core.config import ConfigError, parse_config\n"
        "try:\n"
        f"    parse_config('exempt_labels: !!set {{alpha, beta, gamma, {'x' * 60}}}\\n')\n"
        "except ConfigError as err:\n"
        "    print(err)\n"
    )
    said = {
        subprocess.run(
            [sys.executable, "-c", probe],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3", "4")
    }
    assert len(said) == 1 and "!!set" in said.pop()
