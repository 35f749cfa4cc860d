"""Without the GitHub App's id and key, `smolbot serve` and `smolbot worker` refuse to start in
one line; a key GitHub refuses parks each delivery with one log line saying what to fix and to
run `smolbot retry`, no traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.store import open_store
from tests.e2e.harness import ROOT, Worker, broker_url, deliver, issue_payload, wait_for, web_client
from tests.fake_github.plugin import WEBHOOK_SECRET, make_settings

pytestmark = [pytest.mark.broker, pytest.mark.slow]
REPO = "octo/widgets"


def _run(tmp_path: Path, args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SMOLBOT_")}
    base.update(
        PYTHONPATH=str(ROOT),
        SMOLBOT_DATA_DIR=str(tmp_path / "data"),
        SMOLBOT_WEBHOOK_SECRET=WEBHOOK_SECRET,
        **env,
    )
    # its own session: a command that starts after all (the old code) is stopped whole
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *args], env=base, cwd=tmp_path, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _other_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.mark.parametrize("command", [["serve", "--port", "1"], ["worker"], ["worker", "--split"]])
def test_serve_and_worker_refuse_to_start_without_the_app_id_and_key(
    tmp_path: Path, command: list[str]
) -> None:
    out = _run(tmp_path, command)
    assert out.returncode == 2, out.stdout + out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert "SMOLBOT_APP_ID" in lines[0] and "SMOLBOT_PRIVATE_KEY" in lines[0], lines[0]
    assert "Traceback" not in out.stderr and "worker+beat pid" not in out.stdout


def test_a_bot_login_that_is_not_the_apps_stops_the_worker_in_one_line(
    fake_github, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """GitHub shows the App's comments as acme-triage[bot]; SMOLBOT_BOT_LOGIN was left at its
    default, so the bot would answer its own comments and post again on every retry."""
    fake_github.state.app_slug = "acme-triage"
    app = {
        "SMOLBOT_APP_ID": str(fake_github.app_id),
        "SMOLBOT_PRIVATE_KEY": fake_github.private_key_pem,
        "SMOLBOT_GITHUB_API_URL": fake_github.url,
    }
    out = _run(tmp_path, ["worker"], **app)
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.count("\n") == 1, out.stderr
    assert "SMOLBOT_BOT_LOGIN=acme-triage[bot]" in out.stderr, out.stderr


def test_a_key_that_is_not_an_rsa_pem_stops_the_worker_in_one_line(tmp_path: Path) -> None:
    out = _run(tmp_path, ["worker"], SMOLBOT_APP_ID="4242", SMOLBOT_PRIVATE_KEY="not a key")
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.count("\n") == 1 and "SMOLBOT_PRIVATE_KEY" in out.stderr, out.stderr


def test_a_delivery_and_a_job_github_refuses_the_app_key_for_are_parked_in_one_line(
    fake_github, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The key is an RSA key (start-up takes it) but not the App's: GitHub answers 401. The
    delivery (fast queue) and a job run (model queue) are each parked with one log line, and the
    audit log says so on the issue."""
    from bot.coord import jobs
    from workers.jobs import bind

    fake_github.state.add_installation(1, [REPO])
    fake_github.state.add_issue(REPO, "Crash on start", "It crashes.")
    model = tmp_path / "model.gguf"  # the worker takes model-queue jobs when the file is there;
    model.write_bytes(b"GGUF" + b"\0" * 64)  # the probe job never loads it
    settings = make_settings(
        fake_github, tmp_path, broker_url=broker_url("sqla", tmp_path), private_key=_other_key(),
        job_modules=["tests.scale.probe_jobs"], model_path=str(model),
    )  # fmt: skip
    client = web_client(settings)
    bind(["tests.scale.probe_jobs"])
    store = open_store(settings.db_path)
    worker = Worker(settings, tmp_path / "worker.log")
    try:
        r = deliver(client, WEBHOOK_SECRET, "issues", issue_payload(REPO, 1, "Crash"), "c-1")
        assert r.status_code == 202, r.text
        wait_for(lambda: store.delivery("c-1")["status"] == "dead", what="dead", log=worker.log)
        kwargs = {"installation_id": 1, "repo": REPO, "number": 1, "key": "k1"}
        jid = jobs.submit(store, "probe_comment", kwargs)
        wait_for(
            lambda: jobs.run(store, jid)["status"] == "dead",  # type: ignore[index]
            what="job parked", log=worker.log,
        )  # fmt: skip
    finally:
        worker.stop()
    letters = store.dead_letters()
    assert [letter["task"] for letter in letters] == ["smolbot.handle_delivery", "smolbot.run_job"]
    for letter in letters:
        assert "SMOLBOT_PRIVATE_KEY" in letter["error"] and "smolbot retry" in letter["error"]
    log = worker.log.read_text()
    assert "Traceback" not in log, log[-3000:]
    for what in ("c-1", f"job {jid}"):
        said = [ln for ln in log.splitlines() if what in ln and "SMOLBOT_PRIVATE_KEY" in ln]
        assert len(said) == 1 and "smolbot retry" in said[0], (what, log[-3000:])
    parked = [r for r in store.audit_rows(REPO, 1) if r["outcome"] == "parked"]
    assert sorted((r["action"], r["task"]) for r in parked) == [
        ("deliver", "smolbot.handle_delivery"),
        ("probe_comment", "smolbot.run_job"),
    ], parked
    assert all("SMOLBOT_PRIVATE_KEY" in r["reason"] for r in parked)
    assert not fake_github.state.writes()
