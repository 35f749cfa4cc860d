"""`smolbot summarize` says on stderr, in one line, that the local model is writing the summary
(minutes on two cores, silent before: it read as hung), and only when the model is about to
generate: not with --no-model, a missing model file or an answer from the cache. Stdout stays the
summary alone. A file with GGUF's magic that gpt4all cannot load stands in for the model: it is
tried (the line comes), fails at once, and the summary falls back as with no file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bot.cli.lifecycle import summarize_cmd
from bot.llm.records import Records
from bot.settings import get_settings
from bot.store import open_store
from tests.lifecycle.test_cli import COMMENTS, ISSUE

SAYS = "smolbot summarize: writing the summary with the local model (broken.gguf; "


@pytest.fixture
def thread_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SMOLBOT_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    path = tmp_path / "thread.json"
    path.write_text(json.dumps({"issue": ISSUE, "comments": COMMENTS}))
    yield path
    get_settings.cache_clear()


@pytest.fixture
def broken_model(tmp_path: Path) -> Path:
    path = tmp_path / "broken.gguf"
    path.write_bytes(b"GGUF\x03\x00\x00\x00")  # magic and version, no model
    return path


def summarize(
    monkeypatch: pytest.MonkeyPatch, model: Path, thread_file: Path, *args: str
) -> Result:
    monkeypatch.setenv("SMOLBOT_MODEL_PATH", str(model))
    get_settings.cache_clear()
    out = CliRunner().invoke(summarize_cmd, ["--thread", str(thread_file), *args])
    assert out.exit_code == 0, out.output
    return out


def test_the_line_comes_before_the_model_and_stdout_is_the_summary_alone(
    monkeypatch: pytest.MonkeyPatch, thread_file: Path, broken_model: Path, tmp_path: Path
) -> None:
    tried = summarize(monkeypatch, broken_model, thread_file)
    assert tried.stderr.startswith(SAYS), tried.stderr
    assert tried.stderr.count("smolbot summarize:") == 1
    assert "--no-model for the extractive one" in tried.stderr.splitlines()[0]
    missing = summarize(monkeypatch, tmp_path / "none.gguf", thread_file)
    assert "smolbot summarize:" not in missing.stderr
    assert tried.stdout == missing.stdout  # the same fallback, byte for byte
    assert "extractive (local model unavailable)" in tried.stdout
    as_json = summarize(monkeypatch, broken_model, thread_file, "--json")
    assert json.loads(as_json.stdout)["how"] == "extractive (local model unavailable)"


def test_no_line_with_no_model(
    monkeypatch: pytest.MonkeyPatch, thread_file: Path, broken_model: Path
) -> None:
    out = summarize(monkeypatch, broken_model, thread_file, "--no-model")
    assert out.stderr == ""
    assert "extractive (no model)" in out.stdout


def test_no_line_for_an_answer_from_the_cache(
    monkeypatch: pytest.MonkeyPatch, thread_file: Path, broken_model: Path
) -> None:
    """The key the local model's answer is cached under is taken from a first run; with an answer
    kept there, a second run (the file touched: its failed load is not remembered) reads it and
    says nothing."""
    keys: list[str] = []
    get = Records.cache_get

    def seen(self: Records, key: str) -> tuple[dict[str, Any], float] | None:
        keys.append(key)
        return get(self, key)

    monkeypatch.setattr(Records, "cache_get", seen)
    assert summarize(monkeypatch, broken_model, thread_file).stderr.startswith(SAYS)
    (key,) = keys
    store = open_store(Path(get_settings().data_dir) / "smolbot.db")
    answer = {"problem": ["The app crashes on start [0]"]}
    Records(store).cache_put(key, "summary", "summary_thread", "broken.gguf", answer, 0.9)
    store.close()
    later = os.stat(broken_model).st_mtime_ns + 10**9
    os.utime(broken_model, ns=(later, later))
    cached = summarize(monkeypatch, broken_model, thread_file, "--json")
    assert keys == [key, key]
    assert cached.stderr == ""
    assert "local model unavailable" not in json.loads(cached.stdout)["how"]
