"""`smolbot digest`: offline on the bundled sample, in each format; clear errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import _register, cli
from bot.cli.digest import parse_since
from bot.settings import get_settings
from bot.store import open_store


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SMOLBOT_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    _register()
    return CliRunner()


def test_sample_digest_as_json(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["digest", "--sample", "--no-model", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["repo"] == "octo-org/sample-app" and data["week"] == "2026-w48"
    assert data["top"][0]["number"] == 206


def test_sample_digest_as_markdown_and_html(runner: CliRunner) -> None:
    md = runner.invoke(cli, ["digest", "octo-org/sample-app", "--sample", "--no-model"])
    assert md.exit_code == 0 and md.output.startswith("# Weekly digest for octo-org/sample-app")
    html = runner.invoke(
        cli, ["digest", "--sample", "--no-model", "--format", "html", "--since", "2w"]
    )
    assert html.exit_code == 0 and html.output.startswith("<article class='digest'>")


def test_errors_say_what_to_do(runner: CliRunner) -> None:
    other = runner.invoke(cli, ["digest", "someone/else", "--sample", "--no-model"])
    assert other.exit_code == 2 and "--sample has only octo-org/sample-app" in other.output
    open_store(Path(get_settings().data_dir) / "smolbot.db").close()  # the service's, empty
    unknown = runner.invoke(cli, ["digest", "someone/else", "--no-model"])
    assert unknown.exit_code == 1 and "install the App" in unknown.output
    bad = runner.invoke(cli, ["digest", "--sample", "--since", "soon"])
    assert bad.exit_code == 2 and "like 7d, 36h or 2w" in bad.output


@pytest.mark.parametrize(("text", "days"), [("7d", 7), ("36h", 1.5), ("2w", 14), ("0.5d", 0.5)])
def test_parse_since(text: str, days: float) -> None:
    assert parse_since(text) == days


def test_the_sample_writes_nothing_into_the_data_dir(runner: CliRunner) -> None:
    """The sample is printed, not kept: a service's store in the data dir gets none of the sample
    repository's rows, and where there is none, none is made."""
    data_dir = Path(get_settings().data_dir)
    before = sorted(p.name for p in data_dir.iterdir()) if data_dir.exists() else []
    result = runner.invoke(cli, ["digest", "--sample", "--no-model", "--format", "json"])
    assert result.exit_code == 0, result.output
    after = sorted(p.name for p in data_dir.iterdir()) if data_dir.exists() else []
    assert after == before and "smolbot.db" not in after
