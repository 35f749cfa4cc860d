"""CLI options that take a number refuse what is no number, or out of range, as a usage error
(exit 2, naming the option) instead of a traceback from int(), SQLite or timedelta."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_deploy_cli_store import service, smolbot  # noqa: F401  (fixture and helper)


@pytest.mark.parametrize("issue", ["o/r#²", "o/r#٣", "o/r#99999999999999999999", "o/r#", "o/r#-1"])
def test_audit_issue_that_is_no_number_is_a_usage_error(
    tmp_path: Path,
    service: Path,  # noqa: F811
    issue: str,
) -> None:
    """ "²".isdigit() is True and int() refused it; 20 digits passed int() and overflowed SQLite:
    a traceback each. The dashboard's filter takes ASCII digits, at most 18; so does the CLI."""
    out = smolbot(service, tmp_path / "home", "audit", "--issue", issue)
    assert "Traceback" not in out.stderr, out.stderr[-300:]
    assert out.returncode == 2, out.stderr
    assert "--issue" in out.stderr and "expected owner/repo#N, N a number" in out.stderr


def test_audit_issue_with_a_number_tells_its_story(
    tmp_path: Path,
    service: Path,  # noqa: F811
) -> None:
    out = smolbot(service, tmp_path / "home", "audit", "--issue", "o/r#7")
    assert out.returncode == 0, out.stderr
    assert "o/r#7" in out.stdout and "triage: looks like a bug" in out.stdout
    out = smolbot(service, tmp_path / "home", "audit", "--issue", "o/r#" + "9" * 18)
    assert (out.returncode, out.stdout.strip()) == (0, "audit log is empty for o/r#" + "9" * 18)


@pytest.mark.parametrize("limit", ["-1", "0", "99999999999999999999", "1000001"])
def test_audit_limit_below_one_is_a_usage_error(
    tmp_path: Path,
    service: Path,  # noqa: F811
    limit: str,
) -> None:
    """SQLite read LIMIT -1 as no limit and PostgreSQL refused it with a traceback; --limit 0
    said "audit log is empty" for a store with rows; one past SQLite's integers ended in a
    traceback (datatype mismatch). At most a million rows."""
    out = smolbot(service, tmp_path / "home", "audit", "--limit", limit)
    assert out.returncode == 2 and "--limit" in out.stderr, (out.stdout, out.stderr)
    assert out.stdout == ""


def test_audit_limit_of_one_shows_one_row(
    tmp_path: Path,
    service: Path,  # noqa: F811
) -> None:
    out = smolbot(service, tmp_path / "home", "audit", "--limit", "1")
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.splitlines()) == 1 and "o/r#7" in out.stdout


@pytest.mark.parametrize("since", ["99999999999w", "999999d", "87601h"])
def test_digest_since_too_far_back_is_a_usage_error(tmp_path: Path, since: str) -> None:
    """They matched the pattern, then timedelta() or the date before year 1 overflowed."""
    env = {"SMOLBOT_DATA_DIR": str(tmp_path / "d")}
    args = ("digest", "--sample", "--no-model", "--since", since)
    out = smolbot(tmp_path, tmp_path, *args, env=env)
    assert "Traceback" not in out.stderr, out.stderr[-300:]
    assert out.returncode == 2 and "--since" in out.stderr and "at most 3650 days" in out.stderr


def test_digest_since_ten_years_is_taken() -> None:
    from bot.cli.digest import parse_since

    assert parse_since("3650d") == 3650.0
    assert parse_since("87600h") == pytest.approx(3650.0)


@pytest.mark.parametrize("command", ["web", "serve"])
@pytest.mark.parametrize("port", ["0", "70000", "-1"])
def test_a_port_out_of_range_is_a_usage_error(tmp_path: Path, command: str, port: str) -> None:
    """70000 was logged as the port while the socket took 70000 mod 65536 (4464); 0 silently
    became SMOLBOT_PORT."""
    env = {"SMOLBOT_DATA_DIR": str(tmp_path / "d")}
    out = smolbot(tmp_path, tmp_path, command, "--port", port, env=env)
    assert out.returncode == 2 and "--port" in out.stderr and "1<=x<=65535" in out.stderr, (
        out.stderr[-400:]
    )


@pytest.mark.parametrize("epochs", ["0", "-1"])
def test_tune_epochs_below_one_is_a_usage_error(tmp_path: Path, epochs: str) -> None:
    """-1 ended in an IndexError traceback (losses[0]); 0 silently ran the default 4 epochs."""
    env = {"SMOLBOT_DATA_DIR": str(tmp_path / "d")}
    for args in (("models", "tune", "--force"), ("models", "eval", "--tune")):
        out = smolbot(tmp_path, tmp_path, *args, "--epochs", epochs, env=env)
        assert out.returncode == 2 and "--epochs" in out.stderr, (args, out.stderr[-400:])
