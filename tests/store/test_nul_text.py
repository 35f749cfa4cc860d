"""Text with a NUL character (U+0000) is stored on PostgreSQL as on SQLite.

PostgreSQL's text refuses the character (psycopg.DataError, not a database outage), so a
delivery that carried one was parked and every replay failed the same way. It reaches the store
in an issue body (valid JSON: "\\u0000"), an audit reason quoting it, and a .github/smolbot.yml
saved as UTF-16 (Windows Notepad's "Unicode"), read through bot/github/repo.py's
`decode("utf-8", errors="replace")` with a NUL after every ASCII letter."""

from __future__ import annotations

import json

from bot.jobs.repo_config import load_repo_config
from bot.store import Store
from tests.triage.fakes import FakeRepoHost

UTF16_CONFIG = "triage:\n  enabled: false\n".encode("utf-16").decode("utf-8", errors="replace")


def test_a_utf16_config_file_falls_back_on_both_stores(any_store: Store) -> None:
    assert "\x00" in UTF16_CONFIG
    host = FakeRepoHost(files={".github/smolbot.yml": UTF16_CONFIG})
    cfg = load_repo_config(any_store, host, host.repo, bot_login="smolbot[bot]")
    assert not cfg.from_file  # the defaults stand in for the unreadable file


def test_issue_text_with_nul_is_stored_on_both_stores(any_store: Store) -> None:
    any_store.upsert_issue("o/r", {"number": 1, "title": "crash", "body": "log:\x00end"})
    row = any_store.issue("o/r", 1)
    assert row is not None and row["body"].startswith("log:") and row["body"].endswith("end")


def test_an_audit_reason_and_detail_with_nul_are_kept(any_store: Store) -> None:
    any_store.audit("label", "skipped", "title 'a\x00b'", repo="o/r", detail={"t": ["x\x00y"]})
    (row,) = any_store.audit_rows(repo="o/r")
    assert row["reason"].startswith("title 'a") and row["reason"].endswith("b'")
    assert json.loads(row["detail"])["t"][0].startswith("x")  # JSON escapes it: kept as it was
