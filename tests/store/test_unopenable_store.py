"""A store that cannot be opened is one line naming the setting and status 2, not a traceback.

A PostgreSQL database that is missing or a server that is down (psycopg.OperationalError), a
data dir this user cannot write (PermissionError on `smolbot.db.setup-lock`: the service's data
dir read by an operator's `smolbot audit`), a store path that is no database file: `smolbot web`,
`worker`, `serve`, `audit`, `stats` and `retry` printed a 40-50 line Python traceback."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from bot.store import open_store
from tests.fake_github.plugin import WEBHOOK_SECRET, generate_keypair

ROOT = Path(__file__).resolve().parents[2]


def _run(
    args: list[str], env: dict[str, str], user: int | None = None
) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "bot.cli", *args]
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    base = {k: v for k, v in os.environ.items() if not k.startswith("SMOLBOT_")}
    base.update(PYTHONPATH=str(ROOT), HOME=env.get("SMOLBOT_DATA_DIR", "/tmp"), **env)
    # its own session: a command that starts after all (the old code's worker) is stopped whole
    proc = subprocess.Popen(
        cmd, env=base, cwd="/tmp", text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _one_line_error(r: subprocess.CompletedProcess[str], setting: str) -> str:
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stderr, r.stderr[-600:]
    line = r.stderr.strip().splitlines()[-1]
    assert line.startswith("smolbot: configuration error: cannot open the store"), r.stderr
    assert setting in line, line
    return line


def _app_env() -> dict[str, str]:
    """Enough of an App for `worker` and `serve` to get as far as the store (GitHub unreachable:
    the login check warns and goes on)."""
    return {
        "SMOLBOT_APP_ID": "1",
        "SMOLBOT_PRIVATE_KEY": generate_keypair().private_pem,
        "SMOLBOT_GITHUB_API_URL": f"http://127.0.0.1:{_free_port()}",
        "SMOLBOT_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres:s3cret@127.0.0.1:5432/smolbot_no_such_db",
        "postgresql://postgres:s3cret@127.0.0.1:{port}/smolbot",  # server down / wrong port
    ],
    ids=["no-database", "server-down"],
)
@pytest.mark.parametrize(
    "command",
    [
        ["audit"],
        ["stats"],
        ["retry"],
        ["web", "--port", "1"],
        ["worker"],
        ["serve", "--port", "1"],
        ["sweep", "--installation", "1"],
        ["models", "tune"],
        ["models", "reader"],
        ["backfill", "octo/app"],
        ["triage", "--repo", "octo/app", "--title", "Crash"],
    ],
    ids=lambda c: "-".join(c[:2]) if c[0] == "models" else c[0],
)
def test_an_unreachable_postgres_store_is_one_line(
    tmp_path: Path, url: str, command: list[str]
) -> None:
    env = {
        "SMOLBOT_DATA_DIR": str(tmp_path),
        "SMOLBOT_DATABASE_URL": url.format(port=_free_port()),
        **_app_env(),
    }
    line = _one_line_error(_run(command, env), "SMOLBOT_DATABASE_URL")
    assert "s3cret" not in line and "postgresql://***@127.0.0.1" in line, line


@pytest.mark.parametrize("command", [["audit"], ["web", "--port", "1"]], ids=lambda c: c[0])
def test_a_store_path_that_is_no_database_file_is_one_line(
    tmp_path: Path, command: list[str]
) -> None:
    (tmp_path / "smolbot.db").mkdir()  # a backup restored as a directory, say
    env = {"SMOLBOT_DATA_DIR": str(tmp_path), **_app_env()}
    _one_line_error(_run(command, env), "SMOLBOT_DATA_DIR")


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root")
@pytest.mark.parametrize("command", [["audit"], ["stats"]], ids=lambda c: c[0])
def test_a_data_dir_this_user_cannot_write_is_one_line(command: list[str]) -> None:
    """The service's data dir (another owner, 0755), read by an operator as `nobody`."""
    base = Path(tempfile.mkdtemp(prefix="smolbot-svc-", dir="/tmp"))
    try:
        data = base / "svc"
        open_store(data / "smolbot.db").close()  # the service's store
        os.chmod(base, 0o755)
        os.chmod(data, 0o755)
        r = _run(command, {"SMOLBOT_DATA_DIR": str(data)}, user=65534)
        line = _one_line_error(r, "SMOLBOT_DATA_DIR")
        assert "Permission denied" in line, line
    finally:
        shutil.rmtree(base)
