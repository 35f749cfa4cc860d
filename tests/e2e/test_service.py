"""The backbone end to end: signed delivery -> web -> real broker -> real worker -> fake GitHub."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.store import open_store
from tests.e2e.harness import Worker, broker_url, deliver, issue_payload, wait_for, web_client
from tests.fake_github.plugin import WEBHOOK_SECRET, make_settings
from tests.llm.fake_openai import free_port

pytestmark = [pytest.mark.broker, pytest.mark.slow]
REPO = "octo/widgets"


def _labels(fake, number: int) -> list[str]:  # type: ignore[no-untyped-def]
    return list(fake.state.issue(REPO, number).labels)


@pytest.mark.parametrize("kind", ["sqla", "redis", "amqp"])
def test_issue_opened_is_labelled_through_the_real_queue(
    fake_github, tmp_path: Path, kind: str
) -> None:  # type: ignore[no-untyped-def]
    fake_github.state.add_installation(1, [REPO])
    fake_github.state.add_issue(REPO, "Crash on start", "It crashes.")
    settings = make_settings(fake_github, tmp_path, broker_url=broker_url(kind, tmp_path))
    client = web_client(settings)
    worker = Worker(settings, tmp_path / "worker.log")
    try:
        r = deliver(
            client, WEBHOOK_SECRET, "issues", issue_payload(REPO, 1, "Crash on start"), "d-1"
        )
        assert r.status_code == 202, r.text
        wait_for(lambda: "needs-triage" in _labels(fake_github, 1), what="label", log=worker.log)
        store = open_store(settings.db_path)
        wait_for(lambda: store.delivery("d-1")["status"] == "done", what="done", log=worker.log)
        rows = store.audit_rows(repo=REPO, number=1)
        assert [r["reason"] for r in rows if r["action"] == "add_labels" and r["outcome"] == "done"]
        # the same delivery again: acknowledged, and no second effect
        again = deliver(
            client, WEBHOOK_SECRET, "issues", issue_payload(REPO, 1, "Crash on start"), "d-1"
        )
        assert again.status_code == 200 and again.json()["duplicate"]
        time.sleep(1)
        assert len(fake_github.state.writes()) == 1
    finally:
        worker.stop()


def test_worker_killed_with_task_in_flight_completes_after_restart(
    fake_github, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """kill -9 while a delivery is in flight: the embedded broker never redelivers, the store does."""
    fake_github.state.add_installation(1, [REPO])
    fake_github.state.add_issue(REPO, "Slow one")
    settings = make_settings(
        fake_github, tmp_path, broker_url=broker_url("sqla", tmp_path), recovery_after_s=2
    )
    client = web_client(settings)
    store = open_store(settings.db_path)
    # GitHub answers "secondary rate limit" first: the task is claimed, then held for a retry
    # due in 4 s; the worker dies holding it (the SQLite transport never redelivers).
    fake_github.state.secondary_limit(
        n=1, retry_after=4, match="/repos/"
    )  # not start-up's GET /app
    worker = Worker(settings, tmp_path / "w1.log")
    try:
        deliver(client, WEBHOOK_SECRET, "issues", issue_payload(REPO, 1, "Slow one"), "d-kill")
        wait_for(lambda: store.delivery("d-kill")["attempts"] >= 1, what="claim", log=worker.log)
        wait_for(
            lambda: store.delivery("d-kill")["status"] == "queued",
            what="retry held",
            log=worker.log,
        )
        worker.kill9()
    finally:
        worker.stop()
    assert store.delivery("d-kill")["status"] != "done"
    time.sleep(6.5)  # past the retry's due time plus recovery_after_s
    worker2 = Worker(settings, tmp_path / "w2.log")
    try:
        wait_for(
            lambda: store.delivery("d-kill")["status"] == "done", what="recovered", log=worker2.log
        )
        assert "needs-triage" in _labels(fake_github, 1)
        assert len(fake_github.state.writes()) == 1
    finally:
        worker2.stop()


def test_github_5xx_retried_then_done(fake_github, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fake_github.state.add_installation(1, [REPO])
    fake_github.state.add_issue(REPO, "Flaky")
    settings = make_settings(
        fake_github, tmp_path, broker_url=broker_url("redis", tmp_path), retry_base_s=0.5
    )
    client = web_client(settings)
    store = open_store(settings.db_path)
    fake_github.state.fail_next(n=2, status=502, match="/repos/")  # the delivery's requests
    worker = Worker(settings, tmp_path / "w.log")
    try:
        deliver(client, WEBHOOK_SECRET, "issues", issue_payload(REPO, 1, "Flaky"), "d-5xx")
        wait_for(
            lambda: store.delivery("d-5xx")["status"] == "done",
            timeout=60,
            what="done",
            log=worker.log,
        )
        assert store.delivery("d-5xx")["attempts"] >= 2
        assert "needs-triage" in _labels(fake_github, 1)
    finally:
        worker.stop()


def test_an_issue_opened_during_a_long_backfill_is_triaged_between_its_parts(
    fake_github, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """One worker on every queue, as `smolbot serve` runs it. The installation's backfill lists a
    page a job, so an issue opened while it lists (each page answers 0.4 s late) is labeled
    before the backfill ends, not after its eight pages."""
    state = fake_github.state
    state.add_installation(1, [REPO])
    for i in range(750):
        state.add_issue(REPO, f"Issue {i}", "it crashes", state="closed", labels=["bug"])
    state.slow(0.4, match=f"/repos/{REPO}/issues?")  # the listing's pages, nothing else
    model = tmp_path / "model.gguf"  # the worker takes model-queue jobs when the file is there;
    model.write_bytes(b"GGUF" + b"\0" * 64)  # these jobs never load it
    settings = make_settings(
        fake_github,
        tmp_path,
        broker_url=broker_url("sqla", tmp_path),
        backfill_pages_per_part=1,
        model_path=str(model),
    )
    client = web_client(settings)
    store = open_store(settings.db_path)
    worker = Worker(settings, tmp_path / "worker.log")
    installed = {
        "action": "created",
        "installation": {"id": 1, "account": {"login": "octo", "type": "Organization"}},
        "repositories": [{"full_name": REPO, "id": 1}],
    }
    try:
        assert deliver(client, WEBHOOK_SECRET, "installation", installed, "i-1").status_code == 202
        wait_for(
            lambda: state.requests("GET", f"/repos/{REPO}/issues"),
            what="the backfill's first page",
            log=worker.log,
        )
        n = state.add_issue(REPO, "Crash on start", "It crashes.").number
        opened = issue_payload(REPO, n, "Crash on start")
        assert deliver(client, WEBHOOK_SECRET, "issues", opened, "d-1").status_code == 202

        def backfill(outcome: str) -> list[dict]:  # type: ignore[type-arg]
            rows = store.audit_rows(REPO, limit=1000)
            return [r for r in rows if r["task"] == "backfill" and r["outcome"] == outcome]

        wait_for(lambda: backfill("done"), timeout=180, what="the backfill", log=worker.log)
        labeled = [r for r in store.audit_rows(REPO, n) if r["action"] == "add_labels"]
        assert labeled and _labels(fake_github, n), worker.log.read_text()[-3000:]
        parts = backfill("continues")
        assert len(parts) == 7 and backfill("done")[0]["reason"].endswith("in all 8 parts")
        assert labeled[0]["id"] < parts[-1]["id"]  # between the parts, not after the last
        assert len(store.issues(REPO)) == 751
    finally:
        worker.stop()


@pytest.mark.parametrize("kind", ["sqla", "redis"])
def test_a_batch_published_together_is_handled_one_by_one(
    fake_github, tmp_path: Path, kind: str
) -> None:  # type: ignore[no-untyped-def]
    """The web process's group commit: three deliveries, one message; the one GitHub fails for
    leaves the batch as its own retry, and the other two are neither held up nor run twice."""
    import json
    import threading

    from bot.webhook import intake
    from bot.webhook.batcher import IntakeBatcher, Pending
    from workers.tasks import enqueue_deliveries

    fake_github.state.add_installation(1, [REPO])
    for title in ("One", "Two", "Three"):
        fake_github.state.add_issue(REPO, title)
    settings = make_settings(
        fake_github, tmp_path, broker_url=broker_url(kind, tmp_path), retry_base_s=0.5
    )
    web_client(settings)  # configures the Celery app for this broker, as the web process does
    store = open_store(settings.db_path)
    batch = []
    for n in (1, 2, 3):
        payload = issue_payload(REPO, n, f"#{n}")
        d = intake.describe(f"b-{n}", "issues", payload)
        batch.append(Pending(d, json.dumps(payload).encode(), False))
    fake_github.state.fail_next(n=2, status=502, match=f"/repos/{REPO}/issues/2")
    answers = IntakeBatcher(store, enqueue_deliveries, threading.Lock()).process(batch)
    assert [a[1]["queued"] for a in answers] == [True, True, True]
    worker = Worker(settings, tmp_path / "w.log")
    try:
        for n in (1, 2, 3):
            wait_for(
                lambda n=n: store.delivery(f"b-{n}")["status"] == "done",  # type: ignore[misc]
                timeout=90,
                what=f"b-{n} done",
                log=worker.log,
            )
        attempts = {n: store.delivery(f"b-{n}")["attempts"] for n in (1, 2, 3)}
        assert attempts[1] == attempts[3] == 1 and attempts[2] >= 2, attempts
        assert all("needs-triage" in _labels(fake_github, n) for n in (1, 2, 3))
        assert len(fake_github.state.writes()) == 3
    finally:
        worker.stop()


def test_smolbot_web_process_answers_over_http_and_the_worker_labels(
    fake_github, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """`smolbot web` as its own process (what production runs: run_web, heap frozen), real HTTP."""
    import httpx

    from tests.e2e.harness import Proc

    fake_github.state.add_installation(1, [REPO])
    fake_github.state.add_issue(REPO, "Crash on start", "It crashes.")
    settings = make_settings(fake_github, tmp_path, broker_url=broker_url("sqla", tmp_path))
    port = free_port()
    web = Proc(settings, ["web", "--host", "127.0.0.1", "--port", str(port)], tmp_path / "web.log")
    worker = Worker(settings, tmp_path / "worker.log")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _up(base), timeout=60, what="smolbot web", log=tmp_path / "web.log")
        body, headers = _signed_issue_opened("w-1")
        r = httpx.post(f"{base}/webhook", content=body, headers=headers)
        assert r.status_code == 202 and r.json()["queued"], r.text
        bad = httpx.post(
            f"{base}/webhook", content=body, headers={**headers, "X-Hub-Signature-256": "sha256=0"}
        )
        assert bad.status_code == 401
        wait_for(lambda: "needs-triage" in _labels(fake_github, 1), what="label", log=worker.log)
        assert httpx.get(f"{base}/healthz").json()["store"] == "ok"
    finally:
        web.stop()
        worker.stop()


def _signed_issue_opened(delivery: str) -> tuple[bytes, dict[str, str]]:
    """Issue #1's `issues.opened` delivery as GitHub sends it over HTTP: body and headers."""
    import json

    from bot.webhook.signature import sign

    body = json.dumps(issue_payload(REPO, 1, "Crash on start")).encode()
    headers = {
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": sign(WEBHOOK_SECRET.encode(), body),
        "Content-Type": "application/json",
    }
    return body, headers


def _up(base: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code in (200, 503)
    except httpx.HTTPError:
        return False


def test_smolbot_serve_starts_on_a_fresh_data_dir_and_labels(fake_github, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The README's one-machine command on an empty data dir: web, worker and beat from one
    command, the store and the embedded broker created on first start, nothing logged as failed.
    (The start-up races themselves are provoked by tests/scale and tests/broker: here the worker's
    imports take seconds, so the web has migrated before the worker opens anything.)"""
    import httpx

    from tests.e2e.harness import Proc

    fake_github.state.add_installation(1, [REPO])
    fake_github.state.add_issue(REPO, "Crash on start", "It crashes.")
    data = tmp_path / "fresh"
    settings = make_settings(fake_github, tmp_path, data_dir=data)  # the default, embedded broker
    assert settings.broker_url is None and not data.exists()
    port = free_port()
    log = tmp_path / "serve.log"
    serve = Proc(settings, ["serve", "--port", str(port)], log)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _up(base), timeout=90, what="smolbot serve", log=log)
        body, headers = _signed_issue_opened("s-1")
        r = httpx.post(f"{base}/webhook", content=body, headers=headers)
        assert r.status_code == 202 and r.json()["queued"], r.text
        wait_for(
            lambda: "needs-triage" in _labels(fake_github, 1), timeout=120, what="label", log=log
        )
        assert serve.proc.poll() is None, log.read_text()
    finally:
        serve.stop()
    text = log.read_text()
    assert "Traceback" not in text and "database is locked" not in text, text[-3000:]
