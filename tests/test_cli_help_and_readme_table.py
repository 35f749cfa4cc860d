"""What a new maintainer reads first: `smolbot --help` and README's command table. Every command
the CLI has is in the table (`sweep` was not), and the options say what they do and why their
defaults are what they are (`audit --limit` said nothing; `sweep --summaries` defaulted to 0,
where the daily job writes 3, with no reason given)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import click
from click.testing import CliRunner

from bot.cli import _register, cli
from bot.jobs.lifecycle import sweep_installation

README = Path(__file__).resolve().parents[1] / "README.md"


def _table() -> str:
    section = README.read_text(encoding="utf-8").split("## Commands", 1)[1].split("\n## ", 1)[0]
    return "\n".join(line for line in section.splitlines() if line.startswith("| `smolbot"))


def test_the_readme_table_names_every_command_and_subcommand() -> None:
    """Those `smolbot --help` shows: hidden ones (what the git hooks run) are no one's to type."""
    _register()
    table = _table()
    missing = []
    for name, command in cli.commands.items():
        if command.hidden:
            continue
        subs = command.commands if isinstance(command, click.Group) else {}
        if not subs and not re.search(rf"`(?:smolbot )?{name}\b", table):
            missing.append(name)
        for sub in (s for s, c in subs.items() if not c.hidden):
            if not re.search(rf"`smolbot {name} [^`]*\b{sub}\b|/ `{sub}`", table):
                missing.append(f"{name} {sub}")
    assert not missing, f"not in README's command table: {missing}"


def _help(*args: str) -> str:
    _register()
    out = CliRunner().invoke(cli, [*args, "--help"], terminal_width=200)
    assert out.exit_code == 0, out.output
    return " ".join(out.output.split())


def test_audit_limit_says_what_it_limits() -> None:
    assert "--limit INTEGER RANGE Print the newest this many rows (oldest first)." in _help("audit")


def test_sweep_summaries_says_why_0_and_what_the_daily_job_writes() -> None:
    daily = inspect.signature(sweep_installation).parameters["max_summaries"].default
    said = _help("sweep")
    assert "0 loads no model and writes none, so a sweep run by hand is quick" in said
    assert f"The daily job writes up to {daily} a run" in said


def test_sweep_refuses_a_negative_number_of_summaries() -> None:
    _register()
    out = CliRunner().invoke(cli, ["sweep", "--installation", "1", "--summaries", "-1"])
    assert out.exit_code == 2 and "-1 is not in the range x>=0" in out.output
