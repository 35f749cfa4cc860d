"""Secrets never leak: a realistic flow with distinctive secret values, then grep all it wrote.

The run: web app + a real worker process (embedded SQLite broker and store) against the fake GitHub,
with an opened issue, GitHub 502s and a secondary limit, revoked installation tokens, a delivery for a
repository the App cannot see (a dead letter), `smolbot doctor`, `smolbot audit`, `smolbot retry`,
the dashboard after sign-in, /metrics and /healthz. Then every log file, the store's rows, the
captured output and every HTTP response are searched for the secrets.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.store import open_store
from tests.e2e.harness import ROOT, Worker, broker_url, deliver, issue_payload, wait_for, web_client
from tests.fake_github.plugin import make_settings

pytestmark = [pytest.mark.slow]
REPO = "octo/secrets"
WEBHOOK_SECRET = "whsec-Zq8VnT3kLp0xRw7e"
LARGE_KEY = "sk-large-M4rT9qXv2LbN8cW1"
DASH_TOKEN = "dash-Yh5JkP2sQd9Vw3Lm"


def _cli(settings, *args: str) -> str:  # type: ignore[no-untyped-def]
    env = {**os.environ, **settings.to_env(), "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], env=env, cwd=ROOT, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    return out.stdout + out.stderr


def _dump(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


def test_no_secret_reaches_logs_store_output_or_responses(
    fake_github, tmp_path: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    fake_github.state.add_installation(1, [REPO])
    fake_github.state.add_issue(REPO, "Crash", "It crashes.")
    fake_github.state.add_issue(REPO, "Second", "Also.")
    settings = make_settings(
        fake_github, tmp_path, broker_url=broker_url("sqla", tmp_path), webhook_secret=WEBHOOK_SECRET,
        large_provider="openai", large_model="gpt-x", large_api_key=LARGE_KEY,
        large_base_url="http://127.0.0.1:9/v1", dashboard_token=DASH_TOKEN, retry_base_s=0.2,
        task_max_retries=2, log_level="DEBUG",
    )  # fmt: skip
    client = web_client(settings)
    store = open_store(settings.db_path)
    responses: list[str] = []
    worker = Worker(settings, tmp_path / "worker.log")
    try:
        fake_github.state.fail_next(n=2, status=502, match="/repos/")  # the deliveries' requests
        fake_github.state.secondary_limit(n=1, retry_after=1, match="/repos/")
        for d, (repo, n) in {"s-1": (REPO, 1), "s-2": (REPO, 2), "s-x": ("octo/hidden", 1)}.items():
            r = deliver(client, WEBHOOK_SECRET, "issues", issue_payload(repo, n, "Crash"), d)
            responses.append(r.text + str(r.headers))
            if d == "s-1":
                wait_for(lambda: store.delivery("s-1")["status"] in ("done", "dead"), timeout=90,
                         what="s-1", log=worker.log)  # fmt: skip
                fake_github.state.revoke_tokens()  # the next task meets a 401 and mints again
        final = ("done", "dead")
        wait_for(lambda: all(store.delivery(d)["status"] in final for d in ("s-2", "s-x")),
                 timeout=90, what="all final", log=worker.log)  # fmt: skip
        bad = deliver(client, "not-the-secret", "issues", issue_payload(REPO, 1, "x"), "s-bad")
        responses.append(bad.text)
        outputs = [_cli(settings, "doctor"), _cli(settings, "audit", "--limit", "100"),
                   _cli(settings, "retry")]  # fmt: skip
        login = client.post("/login", data={"token": DASH_TOKEN}, follow_redirects=False)
        responses.append(login.text + str(login.headers))
        for path in ("/", "/audit", "/models", "/api/overview", "/api/audit", "/api/models",
                     "/metrics", "/healthz"):  # fmt: skip
            r = client.get(path)
            responses.append(f"{path} {r.status_code} {r.text}")
    finally:
        worker.stop()
    tokens = list(fake_github.state.tokens)
    assert tokens, "the flow minted installation tokens"
    assert store.delivery("s-1")["status"] == "done"
    secrets = _secret_values(settings.private_key_pem() or "") + tokens
    haystacks = {
        "worker log": worker.log.read_text(),
        "store rows": _dump(settings.db_path),
        "cli output": "\n".join(outputs),
        "http responses": "\n".join(responses),
        "test-process logs": caplog.text,
        "captured stdout/stderr": "".join(capfd.readouterr()),
    }
    for f in tmp_path.rglob("*.log"):
        haystacks[str(f)] = f.read_text(errors="replace")
    leaks = [(where, s[:12]) for where, text in haystacks.items() for s in secrets if s in text]
    assert leaks == []
    assert "s-x" in haystacks["store rows"]  # the searched text is the real thing


def _secret_values(pem: str) -> list[str]:
    body = [ln for ln in pem.splitlines() if ln and not ln.startswith("-----")]
    return [WEBHOOK_SECRET, LARGE_KEY, DASH_TOKEN, *body[1:4]]  # lines of the key's base64 body
