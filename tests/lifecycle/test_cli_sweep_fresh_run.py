"""`smolbot sweep --installation N` sweeps now: a run of its own, not the day's scheduled run
(whose id is the UTC date), so on a day the scheduled sweep already ran it still sweeps, and it
prints what this run did. --run-id resumes a run, and says so when that run had finished."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import cli
from bot.jobs.lifecycle import sweep_installation
from bot.sandbox.fake_github.server import FakeGitHubServer
from bot.settings import get_settings
from tests.fake_github.plugin import point_cli_at
from tests.lifecycle.http_world import DAY, INST, asked, bot_bodies, world


@pytest.fixture
def cli_at(
    fake_github: FakeGitHubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)
    for name in ("SMOLBOT_DATABASE_URL", "SMOLBOT_DASHBOARD_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    point_cli_at(fake_github, tmp_path, monkeypatch)
    try:
        yield
    finally:
        get_settings.cache_clear()


def smolbot_sweep(*args: str) -> Result:
    return CliRunner().invoke(cli, ["sweep", "--installation", str(INST), *args])


def test_smolbot_sweep_after_the_daily_run_sweeps_now(
    fake_github: FakeGitHubServer, tmp_path: Path, cli_at: None
) -> None:
    st, ctx = world(fake_github, tmp_path)
    first = asked(st, st.now() - 60 * DAY)
    # the scheduled job's run this morning (workers/tasks.py schedule_sweeps: run_id = UTC date)
    today = time.strftime("%Y-%m-%d", time.gmtime())
    sweep_installation(ctx, INST, run_id=today)
    assert len(bot_bodies(st, first)) == 1
    # later that day a maintainer fixes the config / an issue becomes due; they run a sweep now
    second = asked(st, st.now() - 60 * DAY)
    out = smolbot_sweep()
    assert out.exit_code == 0, out.output
    assert len(bot_bodies(st, second)) == 1, out.output
    head = out.output.splitlines()[0]
    assert head.startswith("sweep cli-") and head.endswith(": done, 1 operations"), out.output
    # asked to resume the morning's run, it says that run had finished and sweeps nothing
    third = asked(st, st.now() - 60 * DAY)
    out = smolbot_sweep("--run-id", today)
    assert out.exit_code == 0, out.output
    assert out.output.splitlines()[0] == (
        f"sweep {today}: finished earlier; nothing was swept now (leave out --run-id to sweep"
        " again). What that run did:"
    )
    assert bot_bodies(st, third) == []


def test_a_stopped_cli_sweep_names_the_run_to_resume(
    fake_github: FakeGitHubServer, tmp_path: Path, cli_at: None
) -> None:
    st, _ = world(fake_github, tmp_path)
    numbers = [asked(st, st.now() - 60 * DAY) for _ in range(3)]
    st.fail_for(30, status=502, match=f"/issues/{numbers[1]}/timeline")
    out = smolbot_sweep()
    assert out.exit_code == 1
    (line,) = out.output.strip().splitlines()
    assert f"run smolbot sweep --installation {INST} --run-id cli-" in line, line
    run_id = line.split("--run-id ")[1].split(";")[0]
    st.advance(31)
    out = smolbot_sweep("--run-id", run_id)
    assert out.exit_code == 0, out.output
    assert out.output.splitlines()[0] == f"sweep {run_id}: done, 3 operations", out.output
    assert [len(bot_bodies(st, n)) for n in numbers] == [1, 1, 1]
