"""`smolbot digest` says on stderr, in one line, that the local model is writing the top issues'
lines (a minute or more on two cores, silent before: it read as hung), once, and only when the
model is about to generate: not with --no-model or a missing model file. Stdout stays the digest
alone. A file with GGUF's magic that gpt4all cannot load stands in for the model: it is tried (the
line comes), fails at once, and every line falls back to the title as with no file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import _register, cli
from bot.settings import get_settings

SAYS = "smolbot digest: writing the top issues' one-line summaries with the local model"


@pytest.fixture
def broken_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SMOLBOT_DATA_DIR", str(tmp_path / "data"))
    _register()
    path = tmp_path / "broken.gguf"
    path.write_bytes(b"GGUF\x03\x00\x00\x00")  # magic and version, no model
    yield path
    get_settings.cache_clear()


def digest(monkeypatch: pytest.MonkeyPatch, model: Path, *args: str) -> Result:
    monkeypatch.setenv("SMOLBOT_MODEL_PATH", str(model))
    get_settings.cache_clear()
    out = CliRunner().invoke(cli, ["digest", "--sample", *args])
    assert out.exit_code == 0, out.output
    return out


def test_the_line_comes_once_before_the_model_and_stdout_is_the_digest_alone(
    monkeypatch: pytest.MonkeyPatch, broken_model: Path, tmp_path: Path
) -> None:
    tried = digest(monkeypatch, broken_model, "--format", "html")
    said = [line for line in tried.stderr.splitlines() if line.startswith("smolbot digest:")]
    assert said == [
        f"{SAYS} (broken.gguf; a minute or more on a small CPU; --no-model for their titles at"
        " once)"
    ], tried.stderr
    assert tried.stderr.startswith(SAYS)  # before the model's first failure is logged
    missing = digest(monkeypatch, tmp_path / "none.gguf", "--format", "html")
    assert "smolbot digest:" not in missing.stderr
    assert tried.stdout == missing.stdout  # titles for every line, byte for byte
    assert tried.stdout.startswith("<article class='digest'>")
    as_json = digest(monkeypatch, broken_model, "--format", "json")
    assert json.loads(as_json.stdout)["repo"] == "octo-org/sample-app"


def test_no_line_with_no_model(monkeypatch: pytest.MonkeyPatch, broken_model: Path) -> None:
    out = digest(monkeypatch, broken_model, "--no-model")
    assert out.stderr == ""
    assert out.stdout.startswith("# Weekly digest for octo-org/sample-app")
