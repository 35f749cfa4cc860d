"""CLI commands that read what the service stored (audit, retry, stats, digest), run
away from the service's settings: settings are the environment and ./.env, so from another
directory they opened a new, empty store under the default data dir and said "audit log is
empty" or "replayed 0 dead letter(s)". Now they create nothing and say in one line where they
looked and how to point at the service's store. And a PostgreSQL store without psycopg (the
[postgres] extra) is said in one line with what to install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.store import open_store

ROOT = Path(__file__).resolve().parents[1]


def smolbot(
    cwd: Path, home: Path, *args: str, env: dict[str, str] | None = None, pre: str = ""
) -> subprocess.CompletedProcess[str]:
    """`smolbot ARGS` run in `cwd` by a user whose home is `home`, with no SMOLBOT_* variable but
    those in `env` (a .env in `cwd` is read, as always)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SMOLBOT_")}
    clean.pop("XDG_DATA_HOME", None)
    code = f"import sys\n{pre}\nfrom bot.cli import main\nsys.argv[0] = 'smolbot'\nmain()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=cwd,
        env={**clean, "HOME": str(home), "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip


@pytest.fixture
def service(tmp_path: Path) -> Path:
    """The service's directory: its .env names its data dir, whose store holds an audit row and
    a dead letter."""
    where = tmp_path / "srv"
    data = where / "data"
    where.mkdir()
    (where / ".env").write_text(f"SMOLBOT_DATA_DIR={data}\nSMOLBOT_ENV=test\n")
    store = open_store(data / "smolbot.db")
    store.audit(
        "add_labels", "done", "triage: looks like a bug", task="triage", repo="o/r", number=7
    )
    store.dead_letter("smolbot.something_old", {"what": 1}, "from an older release")
    return where


@pytest.mark.parametrize(
    "args",
    [
        ["audit"],
        ["audit", "--repo", "o/r"],
        ["retry"],
        ["stats"],
        ["digest", "o/r"],
    ],
)
def test_away_from_the_service_a_reading_command_creates_no_store(
    tmp_path: Path, service: Path, args: list[str]
) -> None:
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    home.mkdir()
    elsewhere.mkdir()
    out = smolbot(elsewhere, home, *args)
    default = home / ".local" / "share" / "smolbot"
    assert out.returncode == 1, out.stdout + out.stderr
    assert out.stderr.strip().splitlines() == [
        f"Error: no store at {default / 'smolbot.db'}: settings come from the environment and"
        " ./.env, so run this where the service's .env is, or set SMOLBOT_DATA_DIR (or"
        " SMOLBOT_DATABASE_URL) to the service's"
    ]
    assert out.stdout == ""
    # no empty store to be found later (retry's broker set-up makes the directory, empty)
    assert [p for p in default.rglob("*") if not p.is_dir()] == []


def test_a_malformed_argument_is_said_before_the_missing_store(tmp_path: Path) -> None:
    out = smolbot(tmp_path, tmp_path, "audit", "--issue", "o/r#x")
    assert out.returncode == 2 and "expected owner/repo#N, N a number" in out.stderr
    assert "no store" not in out.stderr


def test_a_store_named_by_a_relative_url_is_looked_for_from_where_it_runs(
    tmp_path: Path, service: Path
) -> None:
    out = smolbot(
        tmp_path, tmp_path, "audit", env={"SMOLBOT_DATABASE_URL": "sqlite:///srv/other.db"}
    )
    assert out.returncode == 1 and f"no store at {tmp_path / 'srv' / 'other.db'}:" in out.stderr
    assert not (tmp_path / "srv" / "other.db").exists()


def test_where_the_service_is_they_read_its_store(tmp_path: Path, service: Path) -> None:
    home = tmp_path / "home"
    audit = smolbot(service, home, "audit")
    assert audit.returncode == 0, audit.stderr
    assert "o/r#7" in audit.stdout and "triage: looks like a bug" in audit.stdout
    data = {"SMOLBOT_DATA_DIR": str(service / "data")}  # or from anywhere, naming it
    assert "o/r#7" in smolbot(tmp_path, home, "audit", env=data).stdout


@pytest.mark.parametrize("args", [["audit", "--help"], ["digest", "--sample", "--no-model"]])
def test_help_and_the_offline_digest_need_no_store(tmp_path: Path, args: list[str]) -> None:
    out = smolbot(tmp_path, tmp_path, *args, env={"SMOLBOT_DATA_DIR": str(tmp_path / "d")})
    assert out.returncode == 0, out.stderr
    assert "no store" not in out.stderr


NO_PSYCOPG = "sys.modules['psycopg'] = None"  # `import psycopg` fails as if not installed
PG = "postgresql://smolbot:a-password@127.0.0.1:9/smolbot"


@pytest.mark.parametrize("args", [["web", "--port", "9"], ["audit"], ["retry"]])
def test_a_postgresql_store_without_psycopg_says_what_to_install(
    tmp_path: Path, args: list[str]
) -> None:
    env = {"SMOLBOT_DATABASE_URL": PG, "SMOLBOT_DATA_DIR": str(tmp_path / "d"),
           "SMOLBOT_WEBHOOK_SECRET": "a-webhook-secret-for-tests"}  # fmt: skip
    out = smolbot(tmp_path, tmp_path, *args, env=env, pre=NO_PSYCOPG)
    assert out.returncode == 2
    (line,) = out.stderr.strip().splitlines()  # one line, no traceback
    assert line.startswith("smolbot: ") and "SMOLBOT_DATABASE_URL" in line
    assert "pip install 'smolbot[postgres]'" in line


def test_doctor_says_what_to_install_for_a_postgresql_store(tmp_path: Path) -> None:
    env = {"SMOLBOT_DATABASE_URL": PG, "SMOLBOT_DATA_DIR": str(tmp_path / "d")}
    out = smolbot(tmp_path, tmp_path, "doctor", env=env, pre=NO_PSYCOPG)
    store = [ln for ln in out.stdout.splitlines() if "store:" in ln]
    assert out.returncode != 0 and store, out.stdout + out.stderr
    assert "pip install 'smolbot[postgres]'" in store[0] and "ModuleNotFound" not in store[0]
