"""`smolbot web` while another writer holds its SQLite store past GitHub's 10 s: each delivery is
answered 202 in time and kept in the spool; the web is killed with the deliveries only on disk;
the store released and the web restarted, they are recorded and the worker acts on them once."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from bot.store import open_store
from tests.e2e.harness import Proc, Worker, broker_url, wait_for
from tests.e2e.test_service import REPO, _labels, _signed_issue_opened, _up
from tests.fake_github.plugin import make_settings
from tests.llm.fake_openai import free_port

pytestmark = [pytest.mark.broker, pytest.mark.slow]


def test_deliveries_while_the_store_is_locked_survive_a_kill_and_are_acted_on_once(
    fake_github, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    fake_github.state.add_installation(1, [REPO])
    fake_github.state.add_issue(REPO, "Crash on start", "It crashes.")
    settings = make_settings(fake_github, tmp_path, broker_url=broker_url("sqla", tmp_path))
    port = free_port()
    base, log = f"http://127.0.0.1:{port}", tmp_path / "web.log"
    args = ["web", "--host", "127.0.0.1", "--port", str(port)]
    web = Proc(settings, args, log)
    worker = None
    try:
        wait_for(lambda: _up(base), timeout=60, what="smolbot web", log=log)
        writer = sqlite3.connect(settings.db_path, isolation_level=None)
        writer.execute("begin exclusive")  # held past SQLite's 30 s busy timeout, in effect
        body, headers = _signed_issue_opened("locked-1")
        t0 = time.monotonic()
        r = httpx.post(f"{base}/webhook", content=body, headers=headers, timeout=10)  # GitHub's
        assert r.status_code == 202 and r.json()["spooled"], r.text
        assert time.monotonic() - t0 < 9.5
        t0 = time.monotonic()  # the maintainer's "Redeliver": the store still hangs
        again = httpx.post(f"{base}/webhook", content=body, headers=headers, timeout=10)
        assert again.status_code == 202 and again.json()["spooled"], again.text
        assert time.monotonic() - t0 < 2  # not queued behind the hung write
        health = httpx.get(f"{base}/healthz", timeout=10)
        assert health.status_code == 503
        assert health.json()["spool"].startswith("2 deliveries kept while the store was")
        web.kill9()  # only the spool has them now
        writer.rollback()
        writer.close()
        store = open_store(settings.db_path)
        assert store.delivery("locked-1") is None
        web = Proc(settings, args, log)  # restarted: it replays the spool at start
        worker = Worker(settings, tmp_path / "worker.log")
        wait_for(lambda: "needs-triage" in _labels(fake_github, 1), what="label", log=log)
        row = wait_for(lambda: store.delivery("locked-1"), what="recorded", log=log)
        wait_for(
            lambda: store.delivery("locked-1")["status"] == "done", what="done", log=worker.log
        )
        assert row["event"] == "issues" and store.delivery_counts() == {"done": 1}
        time.sleep(1)
        assert len(fake_github.state.writes()) == 1
        assert list((settings.data_dir / "spool").glob("*.jsonl")) == []
    finally:
        web.stop()
        if worker is not None:
            worker.stop()
