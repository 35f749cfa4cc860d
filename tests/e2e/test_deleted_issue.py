"""A delivery for an issue GitHub answers 404 for: on the first run it may be GitHub not showing a
new issue yet, so it is tried once more; on the second it is gone (deleted spam, or a repository
the App no longer sees) and the delivery is done, audited as skipped: no dead letter, which
`smolbot retry` could never clear. Real worker and broker, the fake GitHub over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.store import open_store
from tests.e2e.harness import Worker, broker_url, deliver, issue_payload, wait_for, web_client
from tests.fake_github.plugin import WEBHOOK_SECRET, make_settings

pytestmark = [pytest.mark.broker, pytest.mark.slow]
REPO = "octo/widgets"


def test_a_deleted_issue_is_skipped_and_a_late_one_is_triaged(fake_github, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    state = fake_github.state
    state.add_installation(1, [REPO])
    state.add_issue(REPO, "Crash on start", "It crashes when I click save. Version 2.1.")
    settings = make_settings(fake_github, tmp_path, broker_url=broker_url("sqla", tmp_path))
    settings = settings.model_copy(update={"retry_base_s": 0.2})
    client = web_client(settings)
    store = open_store(settings.db_path)
    state.fail_next(1, status=404, match=f"/repos/{REPO}/issues/1")  # not shown yet, once
    worker = Worker(settings, tmp_path / "worker.log")
    try:
        for n, did in ((2, "d-gone"), (1, "d-late")):  # #2 was deleted before its delivery ran
            payload = issue_payload(REPO, n, "BUY CHEAP" if n == 2 else "Crash on start")
            assert deliver(client, WEBHOOK_SECRET, "issues", payload, did).status_code == 202
        for did in ("d-gone", "d-late"):
            wait_for(
                lambda did=did: store.delivery(did)["status"] in ("done", "dead"),  # type: ignore[misc]
                timeout=120, what=did, log=worker.log,
            )  # fmt: skip
    finally:
        worker.stop()
    gone, late = store.delivery("d-gone"), store.delivery("d-late")
    assert (gone["status"], gone["attempts"]) == ("done", 2), gone["error"]
    assert late["status"] == "done" and late["attempts"] == 2, late["error"]
    assert store.dead_letters() == []
    skipped = [r for r in store.audit_rows(REPO, 2) if r["outcome"] == "skipped"]
    assert len(skipped) == 1 and "deleted" in skipped[0]["reason"], store.audit_rows(REPO, 2)
    assert state.issue(REPO, 1).labels, "the issue GitHub showed late is triaged"
    assert "Traceback" not in worker.log.read_text()
