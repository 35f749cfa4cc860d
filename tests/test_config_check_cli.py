"""`smolbot config check [FILE]`: a .github/smolbot.yml read by the bot's own reader, before it
is pushed. Only `smolbot triage --config FILE --title x` validated one, and nobody found that."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import _register, cli
from bot.core.config import ConfigError, parse_config

KEPT = "until it is fixed the bot keeps the last valid version"


@pytest.fixture(autouse=True)
def in_a_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".github").mkdir()
    _register()
    return tmp_path


def check(*args: str) -> Result:
    return CliRunner().invoke(cli, ["config", "check", *args])


def test_a_good_file_is_ok_and_its_settings_that_differ_from_the_defaults_are_listed() -> None:
    Path(".github/smolbot.yml").write_text(
        "dry_run: true\n"
        "triage:\n  threshold: 0.7\n  label_map: {bug: 'type: bug'}\n"
        "lifecycle:\n  days_until_ping: 14\n  close: true\n"
    )
    out = check()
    assert out.exit_code == 0, out.output
    assert out.output.splitlines() == [
        ".github/smolbot.yml: ok; the settings that differ from the defaults:",
        "  dry_run: true",
        '  triage.label_map: {"bug":"type: bug"}',
        "  triage.threshold: 0.7",
        "  lifecycle.close: true",
    ]  # days_until_ping: 14 is the default, so not listed


def test_a_file_of_defaults_or_comments_only_is_ok() -> None:
    Path("mine.yml").write_text("# nothing yet\n")
    out = check("mine.yml")
    assert (out.exit_code, out.output) == (0, "mine.yml: ok; every setting is the default\n")


def _refused(text: str, name: str = "bad.yml") -> str:
    """check's message for a file the bot's parser refuses, which it must repeat word for word."""
    Path(name).write_text(text)
    with pytest.raises(ConfigError) as bot_says:
        parse_config(text, name)
    out = check(name)
    assert out.exit_code == 1, out.output
    assert str(bot_says.value) in out.output and KEPT in out.output
    assert "Traceback" not in out.output
    return out.output


def test_a_threshold_past_1_is_refused_naming_the_setting() -> None:
    said = _refused("triage:\n  threshold: 1.5\n")
    assert "bad.yml has invalid settings: triage.threshold:" in said
    assert "less than or equal to 1" in said


def test_an_unknown_key_is_refused_naming_it() -> None:
    said = _refused("dry_run: true\ntreshold: 0.5\n")
    assert "bad.yml has invalid settings: treshold: Extra inputs are not permitted" in said


def test_broken_yaml_is_refused_with_its_line() -> None:
    said = _refused("triage:\n  label_map: {bug: [\n")
    assert "bad.yml is not valid YAML" in said and "line 3" in said


def test_a_file_that_is_not_utf8_is_refused_as_the_bot_refuses_it() -> None:
    Path("latin1.yml").write_bytes("exempt_labels: [sécurité]\n".encode("latin-1"))
    out = check("latin1.yml")
    assert out.exit_code == 1 and "latin1.yml is not UTF-8 (byte 0xe9" in out.output


def test_a_missing_file_is_said_with_what_a_repository_without_one_gets() -> None:
    out = check("nowhere.yml")
    assert out.exit_code == 1 and "Traceback" not in out.output
    assert "no file nowhere.yml; a repository without one gets the defaults" in out.output
    out = check()  # no .github/smolbot.yml here: where to run it
    assert out.exit_code == 1
    assert "no file .github/smolbot.yml (nor .github/smolbot.yaml) in" in out.output
    assert "run this in the repository's top directory, or name the file" in out.output


def test_without_a_yml_the_yaml_is_checked_as_the_bot_reads_it() -> None:
    Path(".github/smolbot.yaml").write_text("dry_run: true\n")
    out = check()
    assert out.exit_code == 0 and out.output.startswith(".github/smolbot.yaml: ok;")
    Path(".github/smolbot.yml").write_text("dry_run: false\n")
    out = check()
    assert out.exit_code == 0 and out.stdout.startswith(".github/smolbot.yml: ok;")
    assert "smolbot.yaml is ignored: the bot reads .github/smolbot.yml where both" in out.stderr
