"""What `smolbot serve`, `web`, `worker` and `beat` check before they start, each said in one line:
an API URL that is no GitHub API root, a data dir this user cannot write, a port already taken.

A wrong SMOLBOT_GITHUB_API_URL (a GitHub Enterprise Server host given without /api/v3) made GitHub
answer 404 to every call: the worker started with a warning blaming "the installation", and each
delivery was skipped as if its issue were deleted (marked done, nothing to replay). An unwritable
data dir ended `web` and `beat` in tracebacks (beat: one every few seconds, forever under systemd).
A second `smolbot serve` on a taken port ran a whole worker+beat beside the first before its web
failed to bind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.sandbox.fake_github.server import FakeGitHubServer
from tests.e2e.harness import ROOT
from tests.fake_github.plugin import WEBHOOK_SECRET

pytestmark = [pytest.mark.slow]
ENTERPRISE_FORM = "https://HOST/api/v3"


def _smolbot(cwd: Path, args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """`smolbot ARGS` with only the SMOLBOT_* variables given, in a session of its own (a command
    that starts after all is stopped whole)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("SMOLBOT_")}
    base.update(PYTHONPATH=str(ROOT), SMOLBOT_WEBHOOK_SECRET=WEBHOOK_SECRET, SMOLBOT_ENV="test")
    base.update(env)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *args], env=base, cwd=cwd, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        out, err = proc.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _app(fake_github: FakeGitHubServer, data: Path, **more: str) -> dict[str, str]:
    return {
        "SMOLBOT_APP_ID": str(fake_github.app_id),
        "SMOLBOT_PRIVATE_KEY": fake_github.private_key_pem,
        "SMOLBOT_GITHUB_API_URL": fake_github.url,
        "SMOLBOT_DATA_DIR": str(data),
        **more,
    }


def _one_line(out: subprocess.CompletedProcess[str], status: int) -> str:
    said = out.stdout + out.stderr
    assert out.returncode == status, said
    assert "Traceback" not in said, said
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    return lines[0]


# -- a wrong SMOLBOT_GITHUB_API_URL ------------------------------------------------------------


@pytest.mark.parametrize("command", [["worker"], ["worker", "--split"], ["serve"]])
def test_an_api_url_that_answers_404_for_the_app_stops_the_worker_in_one_line(
    fake_github: FakeGitHubServer, tmp_path: Path, command: list[str]
) -> None:
    """The fake's root + /api/v3: every path 404, as a GitHub Enterprise Server web root. Refused,
    the worker takes no delivery to skip as deleted; they wait for one started right."""
    wrong = fake_github.url + "/api/v3"
    env = _app(fake_github, tmp_path / "data", SMOLBOT_GITHUB_API_URL=wrong)
    line = _one_line(_smolbot(tmp_path, command, **env), 2)
    assert "SMOLBOT_GITHUB_API_URL" in line and ENTERPRISE_FORM in line and wrong in line, line
    assert "installation" not in line, line


def test_doctor_says_the_api_url_is_wrong_not_the_installation(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    from bot.cli.doctor import _github
    from tests.fake_github.plugin import make_settings

    wrong = fake_github.url + "/api/v3"
    ok, detail = _github(make_settings(fake_github, tmp_path, github_api_url=wrong))
    assert not ok
    assert "SMOLBOT_GITHUB_API_URL" in detail and ENTERPRISE_FORM in detail, detail
    assert "installation does not exist" not in detail, detail


def test_calls_on_the_app_itself_that_answer_404_are_no_installation_gone(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """GET /app and /app/installations exist on every API root: their 404 is the URL's fault.
    An installation's token that is 404 is still the installation's (removed, or a wrong id)."""
    from bot.github import GitHubApp
    from bot.github.errors import NotAnApiRoot
    from bot.ports import NotFound
    from tests.fake_github.plugin import make_settings

    wrong = GitHubApp(make_settings(fake_github, tmp_path, github_api_url=fake_github.url + "/x"))
    right = GitHubApp(make_settings(fake_github, tmp_path))
    try:
        with pytest.raises(NotAnApiRoot, match="SMOLBOT_GITHUB_API_URL"):
            wrong.app_login()
        with pytest.raises(NotAnApiRoot, match="SMOLBOT_GITHUB_API_URL"):
            wrong.installations()
        with pytest.raises(NotFound, match="installation does not exist"):
            right.client(999)  # no such installation: its token is GitHub's 404
    finally:
        wrong.close()
        right.close()


def test_github_s_404_for_an_app_id_it_does_not_know_is_a_setting_to_fix() -> None:
    """GitHub answers 404 "Integration not found" for a token whose App id is no App there (a
    GitHub Enterprise Server App's id on api.github.com): a setting, parked as a wrong key is,
    not an installation gone (a delivery skipped as deleted)."""
    from github import GithubException

    from bot.github.errors import NotAnApiRoot, app_error, credentials_error
    from bot.ports import AppCredentialsError, NotFound

    unknown = GithubException(404, {"message": "Integration not found"}, None)
    for err in (credentials_error(unknown), app_error(unknown)):
        assert isinstance(err, AppCredentialsError) and not isinstance(err, NotAnApiRoot)
        assert "SMOLBOT_APP_ID" in str(err) and "SMOLBOT_GITHUB_API_URL" in str(err)
    plain = GithubException(404, {"message": "Not Found"}, None)
    assert isinstance(app_error(plain), NotAnApiRoot)
    assert isinstance(credentials_error(plain), NotFound)


# -- a data dir this user cannot write ---------------------------------------------------------


def _unwritable(tmp_path: Path, kind: str) -> Path:
    """A data dir that cannot be made (a file where a directory must be), or one that exists and
    takes no file, whoever runs this (as root no mode bits stop a write: procfs does)."""
    if kind == "cannot be made":
        (tmp_path / "a-file").write_text("")
        return tmp_path / "a-file" / "data"
    return Path("/proc/self")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")
@pytest.mark.parametrize("kind", ["cannot be made", "takes no file"])
@pytest.mark.parametrize("command", ["serve", "web", "worker", "beat"])
def test_every_command_says_an_unwritable_data_dir_in_one_line(
    tmp_path: Path, command: str, kind: str
) -> None:
    data = _unwritable(tmp_path, kind)
    line = _one_line(_smolbot(tmp_path, [command], SMOLBOT_DATA_DIR=str(data)), 2)
    assert str(data) in line, line
    assert "SMOLBOT_DATA_DIR" in line and "a directory this user can write" in line, line


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")
@pytest.mark.parametrize("kind", ["cannot be made", "takes no file"])
def test_doctor_checks_that_the_data_dir_can_be_written(tmp_path: Path, kind: str) -> None:
    from bot.cli.doctor import _broker, _data_dir, _store
    from bot.settings import load_settings

    s = load_settings(env="test", data_dir=_unwritable(tmp_path, kind))
    ok, detail = _data_dir(s)
    assert not ok and "SMOLBOT_DATA_DIR" in detail, detail
    ok, detail = _store(s)  # not "`smolbot serve` starts it there": it cannot
    assert not ok and "cannot write" in detail and "starts it" not in detail, detail
    ok, detail = _broker(s)
    assert not ok and "cannot" in detail and "start the broker" not in detail, detail


def test_doctor_makes_no_data_dir_and_passes_one_it_can_make_or_write(tmp_path: Path) -> None:
    from bot.cli.doctor import _data_dir
    from bot.settings import load_settings

    later = tmp_path / "not" / "yet"
    ok, detail = _data_dir(load_settings(env="test", data_dir=later))
    assert ok and "not made yet" in detail, detail
    assert not (tmp_path / "not").exists()
    ok, detail = _data_dir(load_settings(env="test", data_dir=tmp_path))
    assert ok and "writable" in detail, detail
    assert list(tmp_path.iterdir()) == []  # its test file is gone


# -- a port already taken ----------------------------------------------------------------------


def test_serve_on_a_taken_port_says_so_before_it_starts_a_worker(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        env = _app(fake_github, tmp_path / "data", SMOLBOT_PORT=str(port))
        out = _smolbot(tmp_path, ["serve"], **env)
    line = _one_line(out, 3)
    assert f"127.0.0.1:{port}" in line and "SMOLBOT_PORT" in line, line
    assert "worker+beat pid" not in out.stdout, out.stdout
