"""`smolbot serve` under a shell's job control: Ctrl-Z suspends the web and its workers together,
and `fg` resumes them all. The workers have process groups of their own (so that no terminal
signal reaches them), so the terminal's SIGTSTP stopped serve alone: its workers ran on, taking
deliveries from the broker while the web was stopped."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bot.webhook.signature import sign
from tests.e2e.harness import ROOT, issue_payload, wait_for
from tests.e2e.test_newcomer_serve_stops import _tree
from tests.e2e.test_service import _labels, _up
from tests.fake_github.plugin import WEBHOOK_SECRET, make_settings
from tests.llm.fake_openai import free_port

pytestmark = [
    pytest.mark.broker,
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]
REPO = "octo/widgets"


def _state(pid: int) -> str | None:
    """The process's state letter (T: stopped), None once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def _running(pids: list[int]) -> list[int]:
    """Those not stopped (and not gone)."""
    return [p for p in pids if _state(p) not in ("T", None)]


def _stopped(pids: list[int]) -> list[int]:
    return [p for p in pids if _state(p) == "T"]


def _deliver_issue_opened(base: str, number: int, title: str) -> None:
    body = json.dumps(issue_payload(REPO, number, title)).encode()
    headers = {
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": f"job-control-{number}",
        "X-Hub-Signature-256": sign(WEBHOOK_SECRET.encode(), body),
        "Content-Type": "application/json",
    }
    r = httpx.post(f"{base}/webhook", content=body, headers=headers)
    assert r.status_code == 202, r.text


def test_ctrl_z_suspends_serve_with_its_workers_and_fg_resumes_them(
    fake_github, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    fake_github.state.add_installation(1, [REPO])
    fake_github.state.add_issue(REPO, "Crash on start", "It crashes.")
    fake_github.state.add_issue(REPO, "Crash on save", "Saving crashes.")
    settings = make_settings(fake_github, tmp_path, data_dir=tmp_path / "data")
    port = free_port()
    log = tmp_path / "serve.log"
    # as a shell starts a job: a process group of its own, in the shell's (here pytest's) session
    serve = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
        env={**os.environ, **settings.to_env(), "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        process_group=0,
    )
    base = f"http://127.0.0.1:{port}"
    tree: set[int] = set()
    try:
        wait_for(lambda: _up(base), timeout=90, what="smolbot serve", log=log)
        _deliver_issue_opened(base, 1, "Crash on start")
        wait_for(lambda: "needs-triage" in _labels(fake_github, 1), 120, "a label", log)
        tree = _tree(serve.pid)
        assert len(tree) >= 4, "serve's supervisor and its three workers"

        every = [serve.pid, *tree]
        os.killpg(serve.pid, signal.SIGTSTP)  # Ctrl-Z: to the terminal's foreground group
        wait_for(lambda: not _running(every), 60, "serve and its workers to stop", log)

        os.killpg(serve.pid, signal.SIGCONT)  # `fg`: to the job's group, serve's
        wait_for(lambda: not _stopped(every), 60, "serve and its workers to run again", log)
        _deliver_issue_opened(base, 2, "Crash on save")
        wait_for(lambda: "needs-triage" in _labels(fake_github, 2), 120, "a label after fg", log)

        os.kill(serve.pid, signal.SIGTERM)
        assert serve.wait(timeout=180) == 0, log.read_text()[-3000:]
    finally:
        tree |= _tree(serve.pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(serve.pid, signal.SIGKILL)
        for pid in tree:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        serve.wait(timeout=30)
