"""`smolbot models eval|tune|reader` read the service's labeled examples (tune and reader also
write audit rows): away from the service's settings they opened a new, empty store under the
default data dir and said "nothing to evaluate … smolbot backfill" or "0 label(s)". Now, as
audit, retry, stats and digest, they create nothing and say where they looked."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.store import open_store
from tests.test_deploy_cli_store import service, smolbot  # noqa: F401  (fixture and helper)


@pytest.mark.parametrize(
    "args", [["models", "eval"], ["models", "tune"], ["models", "reader", "--force"]]
)
def test_away_from_the_service_a_models_command_creates_no_store(
    tmp_path: Path,
    service: Path,  # noqa: F811
    args: list[str],
) -> None:
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    home.mkdir()
    elsewhere.mkdir()
    out = smolbot(elsewhere, home, *args)
    made = home / ".local" / "share" / "smolbot" / "smolbot.db"
    rows = list(open_store(str(made)).audit_rows()) if made.exists() else []
    assert not made.exists(), f"created {made} (audit rows {rows}); said {out.stdout}{out.stderr}"
    assert out.returncode == 1, out.stdout + out.stderr
    assert out.stderr.startswith(f"Error: no store at {made}: settings come from the environment")
    assert out.stdout == ""


def test_at_the_service_models_eval_reads_its_store(
    tmp_path: Path,
    service: Path,  # noqa: F811
) -> None:
    """Where the service's .env is, eval finds its store (here with no labeled examples yet)."""
    out = smolbot(service, tmp_path / "home", "models", "eval")
    assert "no store at" not in out.stderr, out.stderr
    assert out.returncode == 1 and "nothing to evaluate" in out.stdout + out.stderr
    assert "smolbot backfill" in out.stdout + out.stderr
