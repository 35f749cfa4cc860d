"""What operators see: Prometheus text, `smolbot stats`, `smolbot models list`."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.cli.models import commands
from bot.llm import ModelLayer
from bot.llm.metrics import render_metrics
from bot.llm.modelfile import DEFAULT_SOURCE
from bot.settings import get_settings
from bot.store import Store, open_store
from tests.llm.conftest import make_settings
from tests.llm.examples import LABELS, seed

for _c in commands:
    if _c.name not in cli.commands:
        cli.add_command(_c)


def _some_calls(tmp_path: Path, store: Store) -> None:
    layer = ModelLayer(make_settings(tmp_path, thresholds={"triage": 0.0}), store)
    seed(layer)
    layer.classify("triage", "o/r", "It crashes\n\nerror", LABELS)
    layer.classify("triage", "o/r", "How do I?\n\nquestion", LABELS)


def test_render_metrics(tmp_path: Path, llm_store: Store) -> None:
    _some_calls(tmp_path, llm_store)
    text = render_metrics(llm_store).decode()
    assert (
        'smolbot_model_calls_total{backend="classifier",cache_hit="false",task="triage"} 2.0'
        in text
    )
    assert 'smolbot_model_answers_total{status="ok",task="triage"} 2.0' in text
    assert "smolbot_model_latency_seconds_bucket" in text
    assert 'smolbot_escalation_share{task="triage"} 0.0' in text


@pytest.fixture
def env_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "cli-data"
    monkeypatch.setenv("SMOLBOT_DATA_DIR", str(data))
    monkeypatch.delenv("SMOLBOT_MODEL_PATH", raising=False)
    get_settings.cache_clear()
    yield data
    get_settings.cache_clear()


def test_stats_command(tmp_path: Path, env_data: Path) -> None:
    store = open_store(env_data / "smolbot.db")
    _some_calls(tmp_path, store)
    out = CliRunner().invoke(cli, ["stats"])
    assert out.exit_code == 0, out.output
    assert "model calls 2" in out.output
    assert "triage/classifier" in out.output
    as_json = CliRunner().invoke(cli, ["stats", "--json"])
    assert '"escalation_share": 0.0' in as_json.output


def test_models_list_shows_a_truncated_file_as_bad(env_data: Path) -> None:
    models = env_data / "models"
    models.mkdir(parents=True)
    (models / DEFAULT_SOURCE.filename).write_bytes(b"GGUF" + b"\0" * 100)
    out = CliRunner().invoke(cli, ["models", "list"])
    assert out.exit_code == 0, out.output
    line = next(ln for ln in out.output.splitlines() if DEFAULT_SOURCE.filename in ln)
    assert "incomplete" in line and line.startswith("*")
