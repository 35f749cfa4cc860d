"""Deliveries of an installation suspended on GitHub. GitHub refuses its tokens (403 "This
installation has been suspended"); that answer was a plain GitHubError, so the delivery was
parked as a dead letter with a traceback, and nothing ran it when the installation was
unsuspended. Now such a delivery is held (no retry, dead letter or traceback; audited as
skipped), as is one the store already knows to be suspended (no GitHub call), and
installation.unsuspend runs the held ones again. Through the worker's task code, the routing,
the real store (SQLite and PostgreSQL) and, for GitHub's answer, the GitHub adapter over HTTP
against the fake GitHub."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from celery.exceptions import Retry
from github import GithubException

from bot.coord.locks import Locks
from bot.coord.pacing import SharedPacer
from bot.github.errors import InstallationSuspended, credentials_error
from bot.jobs import dispatch as routing
from bot.jobs.runtime import Runtime
from bot.ports import GitHubError
from bot.settings import Settings
from bot.store import Store
from workers.runtime import WorkerRuntime
from workers.tasks import _run_delivery

SUSPENDED = "This installation has been suspended"
INST = {"id": 7, "account": {"login": "acme", "type": "Organization"}}


def _refused() -> Exception:
    """What the GitHub adapter raises when GitHub refuses the installation's token as suspended."""
    exc = GithubException(403, {"message": SUSPENDED, "documentation_url": "https://x"}, {})
    return credentials_error(exc)


def test_github_s_suspended_answer_is_an_error_of_its_own() -> None:
    err = _refused()
    assert isinstance(err, InstallationSuspended)
    assert SUSPENDED in str(err)
    other = credentials_error(GithubException(403, {"message": "Resource not accessible"}, {}))
    assert isinstance(other, GitHubError) and not isinstance(other, InstallationSuspended)


class _Task:
    request = SimpleNamespace(retries=0)

    def retry(self, countdown: float = 0, exc: Exception | None = None, **_: Any) -> Retry:
        return Retry(exc=exc, when=countdown)


class _Rt(Runtime):
    def context(self) -> Any:  # the stubbed jobs need none
        return None


@pytest.fixture
def jobs(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The issue job, stubbed: each call's delivery id, or an error it is told to raise first."""
    calls: list[Any] = []

    def handled(ctx: Any, delivery_id: str, payload: dict[str, Any]) -> None:
        if calls and callable(calls[0]):  # a side effect, once: raise what it returns
            raise calls.pop(0)()
        calls.append(delivery_id)

    monkeypatch.setattr(routing, "handle_issue_event", handled)
    return calls


def _worker(settings: Settings, store: Store) -> WorkerRuntime:
    return WorkerRuntime(_Rt(settings, store), Locks(store), SharedPacer(store, 0.0))


def _record(store: Store, did: str, event: str, payload: dict[str, Any]) -> None:
    repo = (payload.get("repository") or {}).get("full_name")
    row = {
        "id": did,
        "event": event,
        "action": payload.get("action"),
        "installation_id": 7,
        "repo": repo,
        "number": (payload.get("issue") or {}).get("number"),
        "payload": json.dumps(payload),
    }
    assert store.record_deliveries([row]) == [True]


def _opened(number: int = 1) -> dict[str, Any]:
    return {
        "action": "opened",
        "issue": {"number": number, "title": "Crash", "body": "It crashes."},
        "repository": {"full_name": "acme/app", "id": 42},
        "installation": {"id": 7},
        "sender": {"login": "alice", "type": "User"},
    }


def _installation(wr: WorkerRuntime, did: str, action: str) -> None:
    """An installation event recorded and handled (by another worker)."""
    _record(wr.rt.store, did, "installation", {"action": action, "installation": INST})
    assert _run_delivery(_Task(), wr, did, 7, f"delivery:{did}") == "done"  # type: ignore[arg-type]


def _status(store: Store, did: str) -> str:
    row = store.delivery(did)
    assert row is not None
    return str(row["status"])


def _run(wr: WorkerRuntime, did: str) -> str:
    return _run_delivery(_Task(), wr, did, 7, f"delivery:{did}")  # type: ignore[arg-type]


def test_a_delivery_github_refuses_as_suspended_is_held_then_run_on_unsuspend(
    settings: Settings, any_store: Store, jobs: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    wr = _worker(settings, any_store)
    any_store.upsert_installation(7, "acme", "Organization")  # its suspend event was missed
    _record(any_store, "d1", "issues", _opened())
    jobs.append(_refused)
    with caplog.at_level(logging.INFO):
        assert _run(wr, "d1") == "held"  # it used to be "dead", with a traceback
    assert not [r for r in caplog.records if r.exc_info], "no traceback"
    assert _status(any_store, "d1") == "held" and any_store.dead_letters() == []
    assert any_store.installation_suspended(7)  # as GitHub said: the sweeps leave it alone
    (audit,) = [r for r in any_store.audit_rows() if r["delivery_id"] == "d1"]
    assert audit["outcome"] == "skipped" and "installation suspended" in audit["reason"], audit
    # held: the recovery sweep does not queue it again meanwhile
    assert "d1" not in any_store.stuck_deliveries(0.0, now=time.time() + 3600)

    _installation(wr, "d-unsuspend", "unsuspend")

    assert not any_store.installation_suspended(7)
    assert _status(any_store, "d1") == "received"  # the recovery sweep publishes it
    assert "d1" in any_store.stuck_deliveries(0.0, now=time.time() + 3600)
    assert _run(wr, "d1") == "done" and jobs == ["d1"]
    assert any_store.dead_letters() == []


def test_a_stale_suspended_flag_does_not_hold_what_github_accepts(
    settings: Settings, store: Store, jobs: list[Any]
) -> None:
    """The store says suspended (its unsuspend event was lost): GitHub sends no deliveries for a
    suspended installation and takes the token, so the delivery runs; only GitHub's refusal
    holds one (a flag alone held every later delivery for good)."""
    wr = _worker(settings, store)
    _installation(wr, "d-suspend", "suspend")
    _record(store, "d1", "issues", _opened())
    assert _run(wr, "d1") == "done" and jobs == ["d1"]


def test_unsuspended_while_the_refused_run_was_under_way_it_runs_again(
    settings: Settings, store: Store, jobs: list[Any]
) -> None:
    """GitHub refused the token, then the installation was unsuspended and its event handled by
    another worker before this run held its delivery: nothing would release it later, so the
    hold releases it at once, and the installation is not marked suspended over the unsuspend."""
    wr = _worker(settings, store)
    store.upsert_installation(7, "acme", "Organization")
    _record(store, "d1", "issues", _opened())

    def refused_then_unsuspended() -> Exception:
        _installation(wr, "d-unsuspend", "unsuspend")
        return _refused()

    jobs.append(refused_then_unsuspended)
    assert _run(wr, "d1") == "held"
    assert not store.installation_suspended(7)
    assert _status(store, "d1") == "received"
    assert _run(wr, "d1") == "done" and jobs == ["d1"]


def test_an_uninstall_lets_what_was_held_run_and_end(
    settings: Settings, store: Store, jobs: list[Any]
) -> None:
    wr = _worker(settings, store)
    _installation(wr, "d-suspend", "suspend")
    _record(store, "d1", "issues", _opened())
    jobs.append(_refused)
    assert _run(wr, "d1") == "held"
    _installation(wr, "d-deleted", "deleted")
    assert _status(store, "d1") == "received"  # not held for an unsuspend that never comes
    assert store.installations() == []


def test_through_the_github_adapter_the_token_refusal_holds_the_delivery(
    fake_github: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GitHub's real answer, over HTTP: the token request refused as suspended."""
    from bot.sandbox.fake_github import server
    from bot.sandbox.fake_github.web import Resp
    from tests.e2e.harness import deliver, issue_payload, web_client
    from tests.fake_github.plugin import WEBHOOK_SECRET, make_settings
    from workers.tasks import _wr, handle_delivery

    routes = list(server.ROUTES)
    at = next(i for i, r in enumerate(routes) if r[2].__name__ == "access_token")
    method, pattern, mint, auth = routes[at]
    suspended = [True]

    def token(req: Any) -> Any:
        if suspended[0]:
            return Resp(403, {"message": SUSPENDED, "documentation_url": "https://docs"})
        return mint(req)

    routes[at] = (method, pattern, token, auth)
    monkeypatch.setattr(server, "ROUTES", routes)
    fake_github.state.add_installation(1, ["octo/app"])
    settings = make_settings(fake_github, tmp_path, task_max_retries=2, retry_base_s=0.01)
    client = web_client(settings)
    rt = _wr().rt
    rt.__dict__["models"] = None
    rt.store.upsert_installation(1, "octo")
    n = fake_github.state.add_issue("octo/app", "Crash", "It crashes.").number
    opened = issue_payload("octo/app", n, "Crash", "It crashes.")
    assert deliver(client, WEBHOOK_SECRET, "issues", opened, "d-1").status_code == 202

    assert handle_delivery.run("d-1") == "held"
    assert rt.store.delivery("d-1")["status"] == "held"  # type: ignore[index]
    assert rt.store.dead_letters() == [] and rt.store.installation_suspended(1)

    suspended[0] = False
    unsuspend = {"action": "unsuspend", "installation": {"id": 1, "account": {"login": "octo"}}}
    assert deliver(client, WEBHOOK_SECRET, "installation", unsuspend, "d-u").status_code == 202
    assert handle_delivery.run("d-u") == "done"
    assert rt.store.delivery("d-1")["status"] == "received"  # type: ignore[index]
    assert handle_delivery.run("d-1") == "done"
    assert rt.store.dead_letters() == []


def test_a_job_github_refuses_as_suspended_is_parked_without_a_traceback(
    settings: Settings, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """A job on the model queue (a triage run deferred from a delivery, say) the token is
    refused for: parked for `smolbot retry`, with one line of log, not a traceback."""
    from bot.coord import jobs as registry
    from workers.tasks import _run_job

    @registry.register("review_suspended_job")
    def refused_job(rt: Runtime, *, repo: str, number: int) -> None:
        raise _refused()

    wr = _worker(settings, store)
    kwargs = {"repo": "acme/app", "number": 1}
    jid = registry.record(store, "review_suspended_job", kwargs)
    assert jid
    job = registry.get_job("review_suspended_job")
    with caplog.at_level(logging.INFO):
        assert _run_job(_Task(), wr, job, jid, kwargs, f"job:{jid}") == "dead"  # type: ignore[arg-type]
    assert not [r for r in caplog.records if r.exc_info], "no traceback"
    (letter,) = store.dead_letters()
    assert SUSPENDED in letter["error"] and "once it is unsuspended" in letter["error"]
