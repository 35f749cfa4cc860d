"""A repository's name in a delivery's payload and in the store differ (found by GitHub's
repository id): the newer one stands. The store missed a rename (an account renamed sends
installation_target.renamed, not a repository.renamed per repository; or the rename's delivery
was lost): the payload's name is the newer, and the stored state follows it. It used to be the
other way round: every later delivery was rewritten to the store's stale name, for good. A
delivery sent before a rename the store knows (spooled, retried) still runs under today's name
and does not rename back. Through the worker's routing and the real store (SQLite and
PostgreSQL)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.jobs import dispatch as routing
from bot.jobs.runtime import Runtime
from bot.settings import Settings
from bot.store import Store
from bot.webhook.intake import HANDLED_EVENTS

INST = 7


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The repository name each `issues` delivery's job was given (the job itself stubbed)."""
    names: list[str] = []

    def handled(ctx: Any, delivery_id: str, payload: dict[str, Any]) -> None:
        names.append(payload["repository"]["full_name"])

    monkeypatch.setattr(routing, "handle_issue_event", handled)
    return names


class _Rt(Runtime):
    def context(self) -> Any:  # the stubbed job needs none
        return None


def _opened(name: str, rid: int, number: int = 1) -> dict[str, Any]:
    return {
        "action": "opened",
        "issue": {"number": number, "title": "t", "body": None},
        "repository": {"id": rid, "full_name": name},
        "installation": {"id": INST},
        "sender": {"login": "alice", "type": "User"},
    }


def _renamed(old: str, new: str, rid: int) -> dict[str, Any]:
    owner, name = new.split("/")
    return {
        "action": "renamed",
        "changes": {"repository": {"name": {"from": old.split("/")[1]}}},
        "repository": {"id": rid, "name": name, "full_name": new, "owner": {"login": owner}},
        "installation": {"id": INST},
        "sender": {"login": "maint", "type": "User"},
    }


def _account_renamed(old: str, new: str) -> dict[str, Any]:
    return {
        "action": "renamed",
        "account": {"login": new, "id": 900, "type": "Organization"},
        "changes": {"login": {"from": old}},
        "target_type": "Organization",
        "installation": {"id": INST},
        "sender": {"login": "owner", "type": "User"},
    }


def _handle(
    rt: Runtime, did: str, event: str, payload: dict[str, Any], at: float
) -> dict[str, Any]:
    """Record a delivery that came at `at` (as the web does; a spooled one keeps its time), then
    route it as the worker does."""
    repo = (payload.get("repository") or {}).get("full_name")
    number = (payload.get("issue") or {}).get("number")
    row = {
        "id": did,
        "event": event,
        "action": payload.get("action"),
        "installation_id": INST,
        "repo": repo,
        "number": number,
        "payload": json.dumps(payload),
        "received_at": at,
    }
    assert rt.store.record_deliveries([row]) == [True]
    got = rt.store.delivery(did)
    assert got is not None
    routing.dispatch(rt, got, json.loads(got["payload"]))
    return got


def _repos(store: Store) -> list[tuple[str, int]]:
    return [(r["full_name"], r["id"]) for r in store.repositories(INST)]


def _world(store: Store, name: str = "oldorg/app", rid: int = 42) -> None:
    store.upsert_installation(INST, name.split("/")[0], "Organization")
    store.add_repositories(INST, [{"full_name": name, "id": rid}])
    store.upsert_issue(name, {"number": 5, "title": "stored before the rename", "state": "open"})
    store.db.table("lifecycle_roles").insert(
        {"repo": name, "login": "mia", "can_write": 1, "checked_at": 0.0}
    )


def _roles(store: Store, name: str) -> list[str]:
    rows = store.db.execute("select login from lifecycle_roles where repo = ?", [name])
    return [r[0] for r in rows.fetchall()]


def test_a_rename_the_store_missed_is_learned_from_the_next_delivery(
    settings: Settings, any_store: Store, seen: list[str]
) -> None:
    rt = _Rt(settings, any_store)
    _world(any_store)
    _handle(rt, "d1", "issues", _opened("neworg/app", 42), 1000.0)
    assert seen == ["neworg/app"]  # it used to be given oldorg/app, the store's stale name
    assert _repos(any_store) == [("neworg/app", 42)]
    assert [i["title"] for i in any_store.issues("neworg/app")] == ["stored before the rename"]
    assert any_store.issues("oldorg/app") == []
    assert _roles(any_store, "neworg/app") == ["mia"]  # the same installation: its account renamed
    (audit,) = [r for r in any_store.audit_rows() if r["action"] == "repository.renamed"]
    assert audit["outcome"] == "done" and audit["delivery_id"] == "d1"
    assert json.loads(audit["detail"])["from"] == "oldorg/app"
    # the next delivery finds the name known: nothing more to move
    _handle(rt, "d2", "issues", _opened("neworg/app", 42, 2), 1001.0)
    assert seen == ["neworg/app", "neworg/app"]
    assert len([r for r in any_store.audit_rows() if r["action"] == "repository.renamed"]) == 1


def test_a_delivery_sent_before_the_learned_rename_does_not_rename_back(
    settings: Settings, store: Store, seen: list[str]
) -> None:
    rt = _Rt(settings, store)
    _world(store)
    _handle(rt, "d-new", "issues", _opened("neworg/app", 42), 2000.0)
    # a delivery that came before it (replayed from the spool, or retried) names the old name
    _handle(rt, "d-old", "issues", _opened("oldorg/app", 42, 3), 1000.0)
    assert seen == ["neworg/app", "neworg/app"]
    assert _repos(store) == [("neworg/app", 42)]
    assert store.issues("oldorg/app") == []


def test_a_delivery_sent_before_a_handled_rename_event_follows_it(
    settings: Settings, store: Store, seen: list[str]
) -> None:
    rt = _Rt(settings, store)
    _world(store)
    _handle(rt, "d-rename", "repository", _renamed("oldorg/app", "oldorg/app2", 42), 2000.0)
    _handle(rt, "d-old", "issues", _opened("oldorg/app", 42), 1000.0)
    assert seen == ["oldorg/app2"]
    assert _repos(store) == [("oldorg/app2", 42)]


def test_an_old_payload_handled_after_an_account_rename_does_not_rename_back(
    settings: Settings, store: Store, seen: list[str]
) -> None:
    """The account rename (no repository name on its delivery) moved oldorg/app to neworg/app;
    an issue delivery sent before it (a retry, the spool, a held one), recorded later still,
    names oldorg/app: it runs under neworg/app, and the store stays there."""
    rt = _Rt(settings, store)
    _world(store)
    _handle(rt, "d-acct", "installation_target", _account_renamed("oldorg", "neworg"), 1000.0)
    _handle(rt, "d-old", "issues", _opened("oldorg/app", 42), 2000.0)
    assert seen == ["neworg/app"] and _repos(store) == [("neworg/app", 42)]


def test_a_delivery_redelivered_from_github_after_a_handled_rename_follows_it(
    settings: Settings, store: Store, seen: list[str]
) -> None:
    # redelivered from the App's "Recent Deliveries" page: recorded anew, after the rename
    rt = _Rt(settings, store)
    _world(store)
    _handle(rt, "d-rename", "repository", _renamed("oldorg/app", "oldorg/app2", 42), 1000.0)
    _handle(rt, "d-redelivered", "issues", _opened("oldorg/app", 42), 2000.0)
    assert seen == ["oldorg/app2"] and _repos(store) == [("oldorg/app2", 42)]


def test_a_rename_event_older_than_a_name_learned_since_is_not_made(
    settings: Settings, store: Store, seen: list[str]
) -> None:
    """a/app became a/b, then c/b (an account rename, no repository event). The later issue
    delivery, handled first, taught the store c/b; the rename to a/b, handled after it, would
    have put a second row for the repository under a/b."""
    rt = _Rt(settings, store)
    _world(store, "a/app")
    _handle(rt, "d-issue", "issues", _opened("c/b", 42), 3000.0)
    _handle(rt, "d-rename", "repository", _renamed("a/app", "a/b", 42), 2000.0)
    assert _repos(store) == [("c/b", 42)]
    assert [i["title"] for i in store.issues("c/b")] == ["stored before the rename"]
    last = store.audit_rows()[-1]
    assert last["action"] == "repository.renamed" and last["outcome"] == "skipped", last


def test_an_account_rename_moves_every_repository_of_the_installation(
    settings: Settings, any_store: Store, seen: list[str]
) -> None:
    rt = _Rt(settings, any_store)
    _world(any_store)
    any_store.add_repositories(INST, [{"full_name": "oldorg/lib", "id": 43}])
    _handle(rt, "d-acct", "installation_target", _account_renamed("oldorg", "neworg"), 1000.0)
    assert _repos(any_store) == [("neworg/app", 42), ("neworg/lib", 43)]
    assert [i["title"] for i in any_store.issues("neworg/app")] == ["stored before the rename"]
    assert _roles(any_store, "neworg/app") == ["mia"]  # the same account: who may write is kept
    assert [i["account"] for i in any_store.installations()] == ["neworg"]
    _handle(rt, "d1", "issues", _opened("neworg/app", 42), 1001.0)
    assert seen == ["neworg/app"]
    last = [r for r in any_store.audit_rows() if r["action"] == "installation_target.renamed"]
    assert last[0]["outcome"] == "done"


def test_account_renames_handled_out_of_order_end_at_the_latest_login(
    settings: Settings, store: Store, seen: list[str]
) -> None:
    rt = _Rt(settings, store)
    _world(store)
    _handle(rt, "d-second", "installation_target", _account_renamed("neworg", "newest"), 2000.0)
    _handle(rt, "d-first", "installation_target", _account_renamed("oldorg", "neworg"), 1000.0)
    assert _repos(store) == [("newest/app", 42)]
    assert [i["account"] for i in store.installations()] == ["newest"]


def test_an_account_rename_naming_only_the_old_slug_moves_the_repositories(
    settings: Settings, store: Store, seen: list[str]
) -> None:
    """GitHub's installation_target.renamed may carry changes.slug and no changes.login; it was
    ignored, and the store kept the old login until an issue delivery taught it one repository
    at a time."""
    rt = _Rt(settings, store)
    _world(store)
    payload = _account_renamed("oldorg", "neworg")
    payload["changes"] = {"slug": {"from": "oldorg"}}
    _handle(rt, "d-acct", "installation_target", payload, 1000.0)
    assert _repos(store) == [("neworg/app", 42)]
    assert [i["account"] for i in store.installations()] == ["neworg"]


def test_every_event_with_a_handler_gets_past_the_intake() -> None:
    # an event the intake does not list is recorded as ignored and never reaches its handler
    assert set(routing.HANDLERS) <= HANDLED_EVENTS
