"""A delivery kept in the spool during an outage keeps its place: it is recorded with the time it
arrived, not the time it was replayed, and replayed before a live delivery that came after it.
The recovery sweep orders by received_at, and dispatch._lost_since compares it with a removal's."""

from __future__ import annotations

import json
import time

from fastapi.testclient import TestClient

from bot.jobs.dispatch import _lost_since
from bot.settings import Settings
from bot.store import Store
from bot.webhook.app import create_app
from tests.webhook.outage import store_down
from tests.webhook.test_app import OPENED, Recorder, post
from tests.webhook.test_spool import _recorded, _until

REMOVED = json.dumps(
    {
        "action": "removed",
        "installation": {"id": 7},
        "repositories_added": [],
        "repositories_removed": [{"full_name": "o/r"}],
        "sender": {"login": "alice", "type": "User"},
    }
).encode()


def test_spooled_delivery_keeps_its_place_before_a_later_one(
    settings: Settings, store: Store
) -> None:
    queue = Recorder()
    down = store_down(store)
    with TestClient(create_app(settings, store, queue)) as client:
        assert post(client, "issues", OPENED, delivery="first").json()["spooled"] is True
        time.sleep(0.05)
        down["on"] = False
        assert post(client, "issues", OPENED, delivery="second").status_code == 202
        _until(_recorded(store, "first"))
    first, second = store.delivery("first"), store.delivery("second")
    assert first is not None and second is not None
    assert queue.sent == ["first", "second"]
    assert first["received_at"] < second["received_at"]


def test_a_removal_after_a_spooled_issue_event_is_seen_by_lost_since(
    settings: Settings, store: Store
) -> None:
    """issues.opened spooled during an outage, then the repository removed from the App (recorded
    live): handling the issue event must not register o/r again."""
    queue = Recorder()
    down = store_down(store)
    with TestClient(create_app(settings, store, queue)) as client:
        assert post(client, "issues", OPENED, delivery="opened").json()["spooled"] is True
        time.sleep(0.05)
        down["on"] = False
        r = post(client, "installation_repositories", REMOVED, delivery="removed")
        assert r.status_code == 202, r.text
        _until(_recorded(store, "opened"))
    opened = store.delivery("opened")
    assert opened is not None and _lost_since(store, opened) is True


def test_a_spooled_removal_before_a_live_issue_event_does_not_hide_the_repository(
    settings: Settings, store: Store
) -> None:
    """The reverse: the removal came first (spooled), the repository was added back, and then an
    issue event came live: the removal is older, so the issue event registers o/r again."""
    queue = Recorder()
    down = store_down(store)
    with TestClient(create_app(settings, store, queue)) as client:
        r = post(client, "installation_repositories", REMOVED, delivery="removed")
        assert r.json()["spooled"] is True
        time.sleep(0.05)
        down["on"] = False
        assert post(client, "issues", OPENED, delivery="opened").status_code == 202
        _until(_recorded(store, "removed"))
    opened = store.delivery("opened")
    assert opened is not None and _lost_since(store, opened) is False


def test_record_deliveries_keeps_the_time_a_row_arrived(store: Store) -> None:
    row = {"id": "a", "event": "issues", "payload": "{}", "received_at": 1000.0}
    assert store.record_deliveries([row, {"id": "b", "event": "issues", "payload": "{}"}])
    a, b = store.delivery("a"), store.delivery("b")
    assert a is not None and b is not None
    assert a["received_at"] == 1000.0 and a["updated_at"] > 1000.0
    assert b["received_at"] > time.time() - 60
