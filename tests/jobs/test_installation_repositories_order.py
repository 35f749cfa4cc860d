"""A "repository removed" delivery handled after a later "repository added" (spooled and live
deliveries are published apart, and several workers take them in any order) took from the App a
repository GitHub has it installed on. A removal now leaves a repository that a delivery which
came at or after it added again."""

from __future__ import annotations

import json
from typing import Any

from bot.jobs.dispatch import on_installation, on_installation_repositories
from bot.jobs.runtime import Runtime
from bot.settings import Settings
from bot.store import Store

INST = {"id": 7, "account": {"login": "o", "type": "Organization"}}


def _changed(action: str, added: list[str], removed: list[str]) -> dict[str, Any]:
    return {
        "action": action,
        "installation": INST,
        "repositories_added": [{"full_name": n} for n in added],
        "repositories_removed": [{"full_name": n} for n in removed],
    }


def _recorded(
    store: Store, did: str, event: str, payload: dict[str, Any], at: float
) -> dict[str, Any]:
    row = {
        "id": did,
        "event": event,
        "action": payload["action"],
        "installation_id": 7,
        "payload": json.dumps(payload),
        "received_at": at,
    }
    assert store.record_deliveries([row]) == [True]
    got = store.delivery(did)
    assert got is not None
    return got


def _names(store: Store) -> list[str]:
    return [r["full_name"] for r in store.repositories(7)]


def test_an_older_removal_handled_after_a_later_add_leaves_the_repository(
    settings: Settings, any_store: Store
) -> None:
    store = any_store
    rt = Runtime(settings, store)
    removed_p = _changed("removed", [], ["o/r", "o/gone"])
    added_p = _changed("added", ["o/r"], [])
    store.add_repositories(7, [{"full_name": "o/gone"}])
    removed = _recorded(store, "removed", "installation_repositories", removed_p, 1000.0)
    added = _recorded(store, "added", "installation_repositories", added_p, 2000.0)
    on_installation_repositories(rt, added, added_p)
    on_installation_repositories(rt, removed, removed_p)
    assert _names(store) == ["o/r"]  # o/gone, added by nothing since, is removed


def test_an_older_removal_handled_after_a_later_install_leaves_the_repository(
    settings: Settings, store: Store
) -> None:
    rt = Runtime(settings, store)
    removed_p = _changed("removed", [], ["o/r"])
    created_p = {"action": "created", "installation": INST, "repositories": [{"full_name": "o/r"}]}
    removed = _recorded(store, "removed", "installation_repositories", removed_p, 1000.0)
    created = _recorded(store, "created", "installation", created_p, 2000.0)
    on_installation(rt, created, created_p)
    on_installation_repositories(rt, removed, removed_p)
    assert _names(store) == ["o/r"]


def test_a_later_removal_still_removes(settings: Settings, store: Store) -> None:
    """A control: in the order they came, add then remove, the repository is gone."""
    rt = Runtime(settings, store)
    added_p = _changed("added", ["o/r"], [])
    removed_p = _changed("removed", [], ["o/r"])
    added = _recorded(store, "added", "installation_repositories", added_p, 1000.0)
    removed = _recorded(store, "removed", "installation_repositories", removed_p, 2000.0)
    on_installation_repositories(rt, added, added_p)
    on_installation_repositories(rt, removed, removed_p)
    assert _names(store) == []


def test_an_older_add_handled_after_a_later_removal_does_not_bring_it_back(
    settings: Settings, any_store: Store
) -> None:
    """The other order: "added" handled after a later "removed" put the repository back, and
    nothing took it off the sweeps, digests and dashboard again."""
    store = any_store
    rt = Runtime(settings, store)
    added_p = _changed("added", ["o/r", "o/kept"], [])
    removed_p = _changed("removed", [], ["o/r"])
    added = _recorded(store, "added", "installation_repositories", added_p, 1000.0)
    removed = _recorded(store, "removed", "installation_repositories", removed_p, 2000.0)
    on_installation_repositories(rt, removed, removed_p)
    on_installation_repositories(rt, added, added_p)
    assert _names(store) == ["o/kept"]


def test_an_install_handled_after_its_uninstall_is_not_registered(
    settings: Settings, store: Store
) -> None:
    rt = Runtime(settings, store)
    created_p = {"action": "created", "installation": INST, "repositories": [{"full_name": "o/r"}]}
    deleted_p = {"action": "deleted", "installation": INST}
    created = _recorded(store, "created", "installation", created_p, 1000.0)
    deleted = _recorded(store, "deleted", "installation", deleted_p, 2000.0)
    on_installation(rt, deleted, deleted_p)
    on_installation(rt, created, created_p)
    assert [i["id"] for i in store.installations()] == [] and _names(store) == []
    (row,) = [r for r in store.audit_rows(limit=50) if r["action"] == "installation.created"]
    assert row["outcome"] == "skipped" and "(deleted) undid it" in row["reason"], row


def test_a_suspend_handled_after_a_later_unsuspend_leaves_it_running(
    settings: Settings, store: Store
) -> None:
    rt = Runtime(settings, store)
    suspend_p = {"action": "suspend", "installation": INST}
    unsuspend_p = {"action": "unsuspend", "installation": INST}
    suspend = _recorded(store, "suspend", "installation", suspend_p, 1000.0)
    unsuspend = _recorded(store, "unsuspend", "installation", unsuspend_p, 2000.0)
    on_installation(rt, unsuspend, unsuspend_p)
    on_installation(rt, suspend, suspend_p)
    assert store.suspended_installations() == set()
