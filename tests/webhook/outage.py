"""A store outage as the spool tests make one: deliveries refused until the store is back."""

from __future__ import annotations

import sqlite3
from typing import Any

from bot.store import Store


def store_down(store: Store) -> dict[str, bool]:
    """store.record_deliveries raises "database is locked" (an outage) while down["on"]; set it
    False and the store takes deliveries again."""
    real = store.record_deliveries
    down = {"on": True}

    def flaky(rows: Any) -> list[bool]:
        if down["on"]:
            raise sqlite3.OperationalError("database is locked")
        return real(rows)

    store.record_deliveries = flaky  # type: ignore[method-assign]
    return down
