"""Store.held_deliveries: what `smolbot doctor` lists of the deliveries held for suspended
installations, by installation, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from bot.store import Store


def _held(store: Store, did: str, inst: int) -> None:
    store.record_delivery(did, "issues", "{}", installation_id=inst, repo="o/r", number=1)
    store.set_delivery_status(did, "running")
    assert store.hold_delivery(did, "installation suspended on GitHub")


def test_held_deliveries_by_installation(any_store: Store) -> None:
    any_store.upsert_installation(7, "acme", "Organization")
    _held(any_store, "a", 7)
    _held(any_store, "b", 7)
    _held(any_store, "c", 9)  # an installation the store never recorded
    any_store.record_delivery("d", "issues", "{}", installation_id=7, repo="o/r", number=2)

    rows = any_store.held_deliveries()

    assert [(r["installation_id"], r["account"], r["held"]) for r in rows] == [
        (7, "acme", 2),
        (9, "", 1),
    ]
    assert all(r["since"] > 0 for r in rows)
    assert any_store.release_held(7, "unsuspended") == ["a", "b"]
    assert [r["installation_id"] for r in any_store.held_deliveries()] == [9]
