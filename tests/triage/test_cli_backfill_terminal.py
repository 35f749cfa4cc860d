"""`smolbot backfill o/r` through the API as a person at a terminal sees it: a rate limit it waits
out is said on stderr (when, and until when), and its progress counts issues read without claiming a
total it does not know; stdout carries only the results."""

from __future__ import annotations

import re

import click._termui_impl
from click.testing import CliRunner

from bot.cli import cli
from bot.jobs.backfill import backfill_repo
from bot.settings import get_settings
from tests.fake_github.plugin import point_cli_at
from tests.triage import test_e2e_http
from tests.triage.test_e2e_http import REPO, closed_labeled

world = test_e2e_http.world


def _backfill(world, monkeypatch, fake_github, n):  # type: ignore[no-untyped-def]
    state, ctx = world
    ctx.store.upsert_installation(1, "octo")
    ctx.store.add_repositories(1, [{"full_name": REPO, "id": 7}])
    closed_labeled(state, n)
    point_cli_at(fake_github, ctx.settings.data_dir, monkeypatch)
    try:
        return CliRunner().invoke(cli, ["backfill", REPO])
    finally:
        get_settings.cache_clear()


def test_a_rate_limit_the_cli_waits_out_is_said(world, monkeypatch, fake_github):  # type: ignore[no-untyped-def]
    state, _ = world
    state.secondary_limit(1, retry_after=600, match="&page=2&")  # 10 min: waited out, not stopped
    slept: list[float] = []
    monkeypatch.setitem(backfill_repo.__kwdefaults__, "sleep", slept.append)
    out = _backfill(world, monkeypatch, fake_github, 250)
    assert out.exit_code == 0 and slept == [600.0], out.output
    assert "250 read" in out.stdout
    said = re.search(r"GitHub rate limit: waiting 600 s \(until \d\d:\d\d UTC\)", out.stderr)
    assert said, out.stderr


def test_the_progress_on_a_terminal_counts_without_a_made_up_total(world, monkeypatch, fake_github):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(click._termui_impl, "isatty", lambda f: True)  # as on a terminal
    out = _backfill(world, monkeypatch, fake_github, 250)
    assert out.exit_code == 0, out.output
    frames = [f.strip() for f in re.split(r"\r|\x1b\[\?25[lh]", out.stderr) if "[" in f]
    assert frames and frames[-1].endswith("250"), frames[-3:]
    assert not any(re.search(r"\b\d+/\d+\b", f) for f in frames), frames[:3]  # 1/0 ... 250/0
    assert out.stdout.startswith(f"{REPO}: 250 read"), out.stdout


def test_stdout_that_is_no_terminal_gets_the_results_only(world, monkeypatch, fake_github):  # type: ignore[no-untyped-def]
    out = _backfill(world, monkeypatch, fake_github, 30)
    assert out.exit_code == 0, out.output
    assert out.stdout.startswith(f"{REPO}: 30 read, 30 stored"), out.stdout
    assert f"backfill {REPO}" not in out.stdout
