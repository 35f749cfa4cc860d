"""`smolbot digest o/r` of a repository no installation has: the message says what the store holds
of it and what the digest needs. After an offline `backfill --from FILE` it said "o/r is not in
smolbot's store" while `smolbot doctor` listed the repository's labeled examples."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import _register, cli
from bot.settings import get_settings
from bot.store import open_store


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("SMOLBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SMOLBOT_MODEL_PATH", str(tmp_path / "absent.gguf"))
    get_settings.cache_clear()
    _register()
    yield CliRunner()
    get_settings.cache_clear()  # this test's data dir is gone: no later test may read it


def test_after_a_file_backfill_the_digest_says_the_examples_are_there_but_no_installation(
    runner: CliRunner, tmp_path: Path
) -> None:
    src = tmp_path / "labeled.jsonl"
    rows = [
        {"title": f"Crash {i}", "body": f"it crashes on step {i}", "label": "bug"} for i in range(4)
    ]
    src.write_text("\n".join(json.dumps(r) for r in rows))
    learned = runner.invoke(cli, ["backfill", "acme/widget", "--from", str(src)])
    assert learned.exit_code == 0 and "4 learned" in learned.output, learned.output
    doctor = runner.invoke(cli, ["doctor"])
    assert "acme/widget: 4" in doctor.output, doctor.output

    out = runner.invoke(cli, ["digest", "acme/widget", "--no-model"])
    assert out.exit_code == 1 and "Traceback" not in out.output
    said = " ".join(out.output.split())
    assert "not in smolbot's store" not in said
    assert "smolbot's store has 4 labeled examples of acme/widget" in said
    assert "`backfill --from FILE` stores only these), but no App installation on it" in said
    assert (
        "the digest reads the repository's issues from GitHub, as the App installed on it; install the App on acme/widget"
        in said
    )
    assert "`smolbot backfill acme/widget` finds and records the installation" in said


def test_a_repository_the_store_has_nothing_of_is_not_in_its_store(runner: CliRunner) -> None:
    open_store(Path(get_settings().data_dir) / "smolbot.db").close()  # the service's, empty
    out = runner.invoke(cli, ["digest", "someone/else", "--no-model"])
    said = " ".join(out.output.split())
    assert out.exit_code == 1 and "someone/else is not in smolbot's store: the digest" in said
    assert "labeled example" not in said and "or try --sample" in said
