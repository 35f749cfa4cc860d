"""An installation_repositories or repository delivery handled after a later installation.deleted
(workers take deliveries in any order; a spooled one is published apart) recorded the deleted
installation again, or one of its repositories: the daily schedule then queued a lifecycle sweep
for an installation GitHub no longer has, every day for good. Now the uninstall stands, and the
skip is audited. Through the worker's routing and the real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.jobs import dispatch as routing
from bot.jobs.runtime import Runtime
from bot.settings import Settings
from bot.store import Store

INST = {"id": 7, "account": {"login": "acme", "type": "Organization"}}


@pytest.fixture
def backfills(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    calls: list[Any] = []

    def queued(ctx: Any, delivery_id: str, payload: dict[str, Any]) -> None:
        calls.append(payload.get("repositories_added") or payload.get("repositories"))

    monkeypatch.setattr(routing, "handle_installation_event", queued)
    return calls


class _Rt(Runtime):
    def context(self) -> Any:  # the stubbed backfill needs none
        return None


def _recorded(store: Store, did: str, event: str, payload: dict[str, Any], at: float) -> Any:
    repo = (payload.get("repository") or {}).get("full_name")
    row = {
        "id": did,
        "event": event,
        "action": payload["action"],
        "installation_id": 7,
        "repo": repo,
        "payload": json.dumps(payload),
        "received_at": at,
    }
    assert store.record_deliveries([row]) == [True]
    return store.delivery(did)


def _run(rt: Runtime, row: Any) -> None:
    routing.dispatch(rt, row, json.loads(row["payload"]))


ADDED = {
    "action": "added",
    "installation": INST,
    "repositories_added": [{"full_name": "acme/b", "id": 2}],
    "repositories_removed": [],
}
DELETED = {"action": "deleted", "installation": INST, "repositories": [{"full_name": "acme/a"}]}


def test_repositories_added_before_an_uninstall_and_handled_after_it_record_nothing(
    settings: Settings, any_store: Store, backfills: list[Any]
) -> None:
    store, rt = any_store, _Rt(settings, any_store)
    store.upsert_installation(7, "acme", "Organization")
    store.add_repositories(7, [{"full_name": "acme/a", "id": 1}])
    added = _recorded(store, "add", "installation_repositories", ADDED, 1000.0)
    deleted = _recorded(store, "del", "installation", DELETED, 1001.0)
    _run(rt, deleted)
    _run(rt, added)  # a worker took it after the later uninstall
    assert store.installations() == []  # it used to be recorded again: swept daily for good
    assert store.repositories() == [] and backfills == []
    (row,) = [r for r in store.audit_rows() if r["delivery_id"] == "add"]
    assert row["outcome"] == "skipped" and "(del) uninstalled the App" in row["reason"], row


def test_repositories_added_in_order_are_still_recorded(
    settings: Settings, store: Store, backfills: list[Any]
) -> None:
    """A control: added after the uninstall was undone by a reinstall, or with no uninstall."""
    rt = _Rt(settings, store)
    _run(rt, _recorded(store, "add", "installation_repositories", ADDED, 1000.0))
    assert [i["id"] for i in store.installations()] == [7]
    assert [r["full_name"] for r in store.repositories(7)] == ["acme/b"]
    assert backfills == [[{"full_name": "acme/b", "id": 2}]]


def test_a_rename_handled_after_an_uninstall_does_not_register_the_repository(
    settings: Settings, store: Store, backfills: list[Any]
) -> None:
    rt = _Rt(settings, store)
    store.upsert_installation(7, "acme", "Organization")
    store.add_repositories(7, [{"full_name": "acme/a", "id": 1}])
    store.upsert_issue("acme/a", {"number": 1, "title": "kept", "state": "open"})
    renamed = {
        "action": "renamed",
        "changes": {"repository": {"name": {"from": "a"}}},
        "repository": {"id": 1, "name": "a2", "full_name": "acme/a2", "owner": {"login": "acme"}},
        "installation": INST,
    }
    rename = _recorded(store, "ren", "repository", renamed, 1000.0)
    _run(rt, _recorded(store, "del", "installation", DELETED, 1001.0))
    _run(rt, rename)
    assert store.installations() == [] and store.repositories() == []
    assert [i["title"] for i in store.issues("acme/a2")] == ["kept"]  # its state still follows
