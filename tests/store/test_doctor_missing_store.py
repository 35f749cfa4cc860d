"""`smolbot doctor` checks the store the settings name and never creates it.

Settings come from the environment and ./.env; doctor run from another directory (or with a
mistyped SMOLBOT_DATA_DIR) opened the store with open_store(..., migrate=True), which made the
directories and an empty, migrated smolbot.db, then answered "✓ store: … (0 deliveries)" (and
the classifier check did the same). audit/stats/retry/digest refuse a missing store in one line
(bot.cli.open_stored); doctor, the command meant to find this mistake, hid it."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from bot.cli.doctor import _classifier, _store, doctor
from bot.settings import load_settings
from bot.store import open_store


def test_doctor_does_not_create_a_missing_store(tmp_path: Path) -> None:
    data = tmp_path / "mistyped" / "smolbot"
    settings = load_settings(env="test", data_dir=data)
    ok, detail = _store(settings)
    assert not ok and f"no store at {data / 'smolbot.db'} yet" in detail, detail
    assert "SMOLBOT_DATA_DIR" in detail, detail
    assert _classifier(settings)[0]  # nothing learned, and nothing opened
    assert not (data / "smolbot.db").exists(), f"doctor created {data / 'smolbot.db'}"


def test_doctor_still_checks_a_store_that_exists(tmp_path: Path) -> None:
    settings = load_settings(env="test", data_dir=tmp_path)
    open_store(settings.db_path).close()
    ok, detail = _store(settings)
    assert ok and detail.endswith("(0 deliveries)"), detail


def test_the_doctor_command_says_it_in_its_store_line(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "mistyped"
    monkeypatch.setenv("SMOLBOT_DATA_DIR", str(data))
    monkeypatch.delenv("SMOLBOT_DATABASE_URL", raising=False)
    out = CliRunner().invoke(doctor).output
    assert f"✗ store: no store at {data / 'smolbot.db'} yet" in out, out
    assert not (data / "smolbot.db").exists()


def test_doctor_does_not_create_a_missing_embedded_broker(tmp_path: Path) -> None:
    """The embedded broker's SQLite file, like the store: a mistyped SMOLBOT_DATA_DIR got the
    directories and an empty broker.sqlite, and a ✓."""
    from bot.cli.doctor import _broker

    data = tmp_path / "mistyped" / "smolbot"
    settings = load_settings(env="test", data_dir=data)
    assert settings.effective_broker_url.startswith("sqla+sqlite:///")
    ok, detail = _broker(settings)
    assert not ok and "no broker file at" in detail and "yet" in detail, detail
    assert not data.exists(), sorted(p.name for p in data.rglob("*"))
