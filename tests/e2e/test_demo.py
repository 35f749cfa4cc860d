"""`smolbot demo`, the README's first command: the whole loop on the embedded defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import _register, cli
from bot.settings import get_settings
from tests.llm.conftest import real_model_path


@pytest.mark.model
@pytest.mark.slow
def test_demo_runs_every_step_and_says_why_triage_did_not_guess(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = real_model_path()
    if not model.is_file():
        pytest.skip(f"the default model is not installed at {model}: run `smolbot models install`")
    monkeypatch.setenv("SMOLBOT_MODEL_PATH", str(model))
    monkeypatch.setenv("SMOLBOT_LARGE_PROVIDER", "none")
    get_settings.cache_clear()
    _register()
    keep = tmp_path / "demo"
    out = CliRunner().invoke(cli, ["demo", "--keep", str(keep), "--timeout", "400"])
    get_settings.cache_clear()
    text = out.output
    assert out.exit_code == 0, text[-3000:]
    for step in range(1, 6):
        assert f"== {step}. " in text
    assert "1/1 deliveries processed" in text and "9/9 deliveries processed" in text
    assert "backfill: 24 issues stored, 3 learned" in text
    # no history and no large model: nothing is guessed, and the demo says why
    assert "9 of 9 labeled needs-triage" in text and "has 3 labeled issues" in text
    assert "cautious path" in text
    assert "no summary posted" not in text  # the local model wrote the summary of #210
    assert "waiting on author" in text  # the sweep re-pings under needs-info
    assert "## What the bot did" in text  # the digest
    assert (keep / "worker.log").is_file()
