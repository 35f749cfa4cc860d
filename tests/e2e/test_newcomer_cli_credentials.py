"""Commands that act as the GitHub App, run without its id or key (or with a broken key): one
click error line naming the setting, status 1, no traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import _register, cli
from bot.settings import get_settings
from bot.store import open_store

COMMANDS = [
    ["backfill", "me/proj"],
    ["digest", "me/proj", "--no-model"],
    ["sweep", "--installation", "7"],
]


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    for name in ("SMOLBOT_APP_ID", "SMOLBOT_PRIVATE_KEY", "SMOLBOT_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env of the checkout's
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("SMOLBOT_DATA_DIR", str(data))
    monkeypatch.setenv("SMOLBOT_ENV", "test")
    monkeypatch.setenv("SMOLBOT_MODEL_PATH", str(tmp_path / "absent.gguf"))
    store = open_store(data / "smolbot.db")  # an installed repository, as after a delivery
    store.upsert_installation(7, "me")
    store.add_repositories(7, [{"full_name": "me/proj", "id": 1}])
    store.close()
    get_settings.cache_clear()
    _register()
    yield CliRunner()
    get_settings.cache_clear()


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_without_the_app_id_a_github_command_says_so_in_one_line(
    runner: CliRunner, args: list[str]
) -> None:
    out = runner.invoke(cli, args)
    assert out.exit_code == 1, out.output
    assert isinstance(out.exception, SystemExit), out.exception  # no exception escaped
    assert "Error: SMOLBOT_APP_ID is not set" in out.stderr, out.stderr
    assert "Traceback" not in out.output


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_with_a_key_that_is_no_pem_a_github_command_says_so_in_one_line(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    monkeypatch.setenv("SMOLBOT_APP_ID", "4242")
    monkeypatch.setenv("SMOLBOT_PRIVATE_KEY", "-----BEGIN RSA PRIVATE KEY-----\nnope\n")
    get_settings.cache_clear()
    out = runner.invoke(cli, args)
    assert out.exit_code == 1, out.output
    assert "Error: SMOLBOT_PRIVATE_KEY is not a valid RSA private key" in out.stderr, out.stderr


def test_what_github_answers_a_command_is_one_line_too(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, fake_github
) -> None:  # type: ignore[no-untyped-def]
    """An installation GitHub does not know (a mistyped id): its 404 in one line, no traceback."""
    fake_github.state.add_installation(1, ["me/proj"])
    monkeypatch.setenv("SMOLBOT_APP_ID", str(fake_github.app_id))
    monkeypatch.setenv("SMOLBOT_PRIVATE_KEY", fake_github.private_key_pem)
    monkeypatch.setenv("SMOLBOT_GITHUB_API_URL", fake_github.url)
    get_settings.cache_clear()
    out = runner.invoke(cli, ["sweep", "--installation", "999"])
    assert out.exit_code == 1, out.output
    assert isinstance(out.exception, SystemExit), out.exception
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "installation" in lines[0], out.stderr
