"""A store migrated by a newer smolbot, then opened by this one (a rollback, one worker not
upgraded yet): it refuses at open, naming the migrations it does not know."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError
from bot.store import open_store


def test_a_store_of_a_newer_version_is_refused_with_a_clear_error(store_url: str) -> None:
    s = open_store(store_url)
    s.db.table("_sqlite_migrations").insert(
        {"migration_set": "smolbot", "name": "m999_from_the_future", "applied_at": "2030-01-01"}
    )
    s.db.conn.commit()
    s.close()
    with pytest.raises(SettingsError, match=r"newer smolbot.*m999_from_the_future.*upgrade"):
        open_store(store_url)


def test_this_version_s_own_store_opens_again(store_url: str) -> None:
    """Only names this version does not know refuse: its own store opens as before."""
    open_store(store_url).close()
    again = open_store(store_url)
    assert again.ping()
