"""The SQLite store (sqlite-utils): deliveries, installations, issues, audit log, dead letters."""

from bot.store.store import Store, open_store

__all__ = ["Store", "open_store"]
