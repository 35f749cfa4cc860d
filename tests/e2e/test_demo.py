"""`smolbot demo`, the README's first command: the whole loop on the embedded defaults."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import _register, cli
from bot.settings import get_settings
from tests.llm.conftest import real_model_path


@pytest.mark.model
@pytest.mark.slow
def test_demo_runs_every_step_and_triage_acts_on_no_guess(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = real_model_path()
    if not model.is_file():
        pytest.skip(f"the default model is not installed at {model}: run `smolbot models install`")
    monkeypatch.setenv("SMOLBOT_MODEL_PATH", str(model))
    monkeypatch.setenv("SMOLBOT_LARGE_PROVIDER", "none")
    # a deployment's store and broker in the environment (nothing listens there): the demo keeps
    # to its embedded ones; it wrote its fake installation into the store named here, and its
    # worker took this broker's tasks
    monkeypatch.setenv("SMOLBOT_DATABASE_URL", "sqlite:////nonexistent/smolbot-demo-must-not.db")
    monkeypatch.setenv("SMOLBOT_BROKER_URL", "redis://127.0.0.1:1/0")
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
    # the sample's history (199 closed issues, 2 pages) is backfilled and learned
    assert (
        "triage): 223 issues stored (19 open: for duplicate search, only closed issues teach),"
        " 202 learned; not learned: 2 (2 no label names"
    ) in text
    # each new issue gets a kind label or needs-triage, never a guess acted on
    triaged = re.findall(r"^  #(\d+) '.*': labels \[(.*)\] \[done\]$", text, re.M)
    assert len(triaged) == 9
    unsure = [n for n, labels in triaged if "'needs-triage'" in labels]
    for n, labels in triaged:
        kinds = {"'bug'", "'enhancement'", "'question'", "'documentation'"} & set(
            labels.split(", ")
        )
        assert (n in unsure) != bool(kinds), (n, labels)
    assert "224" in unsure  # "it doesnt work": nothing to go on
    # the demo says why, and shows `smolbot models eval` on the history
    assert f"{len(unsure)} of 9 labeled needs-triage" in text
    assert "not acted on" in text and "sample's 202 labeled closed issues" in text
    assert re.search(r"octo-org/sample-app\s+140\s+62\s+0\.\d{3}", text)
    assert "<- now (SMOLBOT_THRESHOLDS triage)" in text
    assert "Loading weights" not in text
    assert "no summary posted" not in text  # the local model wrote the summary of #210
    assert "waiting on author" in text  # the sweep re-pings under needs-info
    assert "## What the bot did" in text  # the digest
    assert (keep / "worker.log").is_file()
