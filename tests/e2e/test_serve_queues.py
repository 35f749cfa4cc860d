"""`smolbot serve` runs one worker per queue: an issue opened while a long job runs on the model
queue is labeled at once. With one process taking every queue, a summary or a backfill held every
delivery behind it (a newcomer's issue waited 42 s behind a 33 s summary)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bot.store import open_store
from tests.e2e.harness import Proc, deliver, issue_payload, wait_for
from tests.e2e.test_service import _labels, _up
from tests.fake_github.plugin import WEBHOOK_SECRET, make_settings
from tests.llm.fake_openai import free_port

pytestmark = [pytest.mark.broker, pytest.mark.slow]
REPO = "octo/widgets"


def test_an_issue_is_labeled_while_a_long_model_job_runs(fake_github, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    state = fake_github.state
    state.add_installation(1, [REPO])
    for i in range(600):
        state.add_issue(REPO, f"Issue {i}", "it crashes", state="closed", labels=["bug"])
    state.slow(1.5, match=f"/repos/{REPO}/issues?")  # the backfill's six pages: one long job
    model = tmp_path / "model.gguf"  # a worker takes model-queue jobs when the file is there;
    model.write_bytes(b"GGUF" + b"\0" * 64)  # the backfill never loads it
    settings = make_settings(
        fake_github, tmp_path, data_dir=tmp_path / "data", backfill_pages_per_part=100,
        model_path=str(model),
    )  # fmt: skip
    port, log = free_port(), tmp_path / "serve.log"
    serve = Proc(settings, ["serve", "--port", str(port)], log)
    base = f"http://127.0.0.1:{port}"
    installed = {
        "action": "created",
        "installation": {"id": 1, "account": {"login": "octo", "type": "Organization"}},
        "repositories": [{"full_name": REPO, "id": 1}],
    }
    try:
        wait_for(lambda: _up(base), timeout=90, what="smolbot serve", log=log)
        web = httpx.Client(base_url=base)
        assert deliver(web, WEBHOOK_SECRET, "installation", installed, "i-1").status_code == 202
        wait_for(
            lambda: state.requests("GET", f"/repos/{REPO}/issues"),
            what="the backfill's first page",
            log=log,
        )
        n = state.add_issue(REPO, "Crash on start", "It crashes.").number
        opened = issue_payload(REPO, n, "Crash on start")
        assert deliver(web, WEBHOOK_SECRET, "issues", opened, "d-1").status_code == 202
        wait_for(lambda: _labels(fake_github, n), timeout=120, what="the label", log=log)
        store = open_store(settings.db_path)
        done = [
            r
            for r in store.audit_rows(REPO, limit=1000)
            if r["task"] == "backfill" and r["outcome"] == "done"
        ]
        assert not done, "the label came only after the backfill: " + log.read_text()[-3000:]
    finally:
        serve.stop()
