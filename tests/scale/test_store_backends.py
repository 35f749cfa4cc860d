"""The store's delivery, claim, audit and dead-letter paths and the migrations, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
import time

import pytest

from bot.llm.records import Records
from bot.store import Store, open_store
from bot.store.migrations import migrations
from bot.store.pg import translate


def test_migrations_apply_once_and_match_sqlite(store_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = open_store(store_url)
    again = open_store(store_url)  # a second process starting: nothing pending, nothing raised
    assert migrations.pending(again.db) == []
    sqlite_tables = set(open_store(tmp_path / "ref.db").db.table_names())
    assert sqlite_tables <= set(first.db.table_names())
    applied = [m.name for m in migrations.applied(first.db)]
    assert applied[0] == "m001_core" and "m050_coord" in applied


def test_delivery_is_recorded_once_and_claimed_once(any_store: Store) -> None:
    s = any_store
    assert s.record_delivery("d1", "issues", "{}", repo="o/r", number=1, installation_id=7)
    assert not s.record_delivery("d1", "issues", "{}")  # a redelivery
    assert s.delivery("d1")["status"] == "received"
    assert s.claim_delivery("d1", lease_s=60)
    assert not s.claim_delivery("d1", lease_s=60)  # another worker: the lease is live
    assert s.delivery("d1")["attempts"] == 1
    s.set_delivery_status("d1", "done")
    assert not s.claim_delivery("d1", lease_s=0)  # final
    assert s.delivery_counts() == {"done": 1}


def test_expired_lease_is_claimable_and_stuck(any_store: Store) -> None:
    s = any_store
    s.record_delivery("d2", "issues", "{}")
    assert s.claim_delivery("d2")
    s.db.execute("update deliveries set updated_at = ? where id = ?", [time.time() - 100, "d2"])
    s.db.conn.commit()
    assert s.stuck_deliveries(50) == ["d2"]
    assert s.claim_delivery("d2", lease_s=50)  # the dead worker's lease ran out
    assert s.delivery("d2")["attempts"] == 2
    s.set_delivery_status("d2", "queued", next_at=time.time() + 30)
    assert s.stuck_deliveries(0) == []  # a retry's due time keeps the sweep off


def test_the_sweep_requeues_only_what_is_still_stuck(any_store: Store) -> None:
    """Between the sweep's listing and its update a worker may finish or claim the row: the
    update must not turn a `done` row back to `queued` (it ran again) or steal a fresh claim."""
    from bot.coord import jobs

    s, old = any_store, time.time() - 100
    for did in ("lost", "finished", "fresh"):
        s.record_delivery(did, "issues", "{}")
        assert s.claim_delivery(did)
    s.db.execute("update deliveries set updated_at = ? where id != 'fresh'", [old])
    s.db.conn.commit()
    s.set_delivery_status("finished", "done")  # its worker finished after the listing
    cutoff = time.time() - 50
    assert s.requeue_stuck("deliveries", "lost", cutoff, "swept")
    assert not s.requeue_stuck("deliveries", "finished", cutoff, "swept")
    assert not s.requeue_stuck("deliveries", "fresh", cutoff, "swept")
    assert [s.delivery(d)["status"] for d in ("lost", "finished", "fresh")] == [
        "queued", "done", "running",
    ]  # fmt: skip
    # a job a fast worker claims while it is being submitted stays claimed
    claimed: list[str] = []
    before = list(jobs._enqueuer)
    jobs.bind_enqueuer(lambda jid, name, kwargs: claimed.append(jid) or jobs.claim(s, jid, 60))
    try:
        jid, new = jobs.submitted(s, "summarize", {"repo": "o/r", "number": 9})
    finally:
        jobs._enqueuer[:] = before
    assert new and claimed == [jid] and jobs.run(s, jid)["status"] == "running"  # type: ignore[index]


def test_audit_and_dead_letters(any_store: Store) -> None:
    s = any_store
    s.audit("add_labels", "done", "why", task="t", delivery_id="d1", repo="o/r", number=3)
    s.audit("close", "skipped", "nah", repo="o/r", number=4, detail={"x": 1})
    assert [r["action"] for r in s.audit_rows(repo="o/r")] == ["add_labels", "close"]
    assert json.loads(s.audit_rows(number=4)[0]["detail"]) == {"x": 1}
    s.dead_letter("smolbot.handle_delivery", {"delivery_id": "d1"}, "boom 100% broken")
    dead = s.dead_letters()
    assert len(dead) == 1 and dead[0]["error"] == "boom 100% broken"
    s.mark_replayed(dead[0]["id"])
    assert s.dead_letters() == [] and len(s.dead_letters(include_replayed=True)) == 1


def test_issue_upsert_alter_and_installations(any_store: Store) -> None:
    s = any_store
    s.upsert_issue("o/r", {"number": 5, "title": "a", "labels": [{"name": "bug"}]})
    s.upsert_issue("o/r", {"number": 5, "title": "b", "labels": []})
    s.set_issue_kind("o/r", 5, "bug")
    row = s.issue("o/r", 5)
    assert row["title"] == "b" and row["kind"] == "bug" and row["labels"] == "[]"
    s.db.table("issues").upsert(
        {"repo": "o/r", "number": 5, "extra": 1.5}, pk=("repo", "number"), alter=True
    )
    assert s.issue("o/r", 5)["extra"] == 1.5
    s.upsert_installation(9, "acme")
    s.add_repositories(9, [{"full_name": "acme/x", "id": 1, "private": True}])
    s.set_installation_suspended(9, True)
    assert s.installations()[0]["suspended"] == 1
    assert s.installation_for_repo("acme/x") == 9
    assert s.repo_spelling("ACME/X") == "acme/x" and s.repo_spelling("O/R") == "o/r"
    assert s.repo_spelling("acme/y") == "acme/y"  # unknown: as given
    s.remove_installation(9)
    assert s.installations() == [] and s.repositories() == []


def test_suspension_survives_other_installation_events(any_store: Store) -> None:
    """A suspended installation stayed suspended only until the next installation or
    installation_repositories delivery (a retried one, say) upserted it; and a suspend event for
    an installation the store had not seen raised on SQLite and was lost on PostgreSQL."""
    s = any_store
    s.upsert_installation(1, "octo", "Organization")
    s.set_installation_suspended(1, True)
    s.upsert_installation(1, "octo")  # installation_repositories: no account type in its payload
    assert s.suspended_installations() == {1}
    assert s.installations()[0]["account_type"] == "Organization"
    s.upsert_installation(1, "", "")
    assert (s.installations()[0]["account"], s.installations()[0]["account_type"]) == (
        "octo",
        "Organization",
    )
    s.set_installation_suspended(2, True, "acme", "User")  # never seen before
    assert s.suspended_installations() == {1, 2}
    s.set_installation_suspended(1, False)
    assert s.suspended_installations() == {2}


def test_model_budget_upsert_increments(any_store: Store) -> None:
    """`on conflict … set calls = calls + 1` (SQLite spelling) works on PostgreSQL too."""
    r = Records(any_store)
    assert r.spend("openai", 5) and r.spend("openai", 5)
    assert r.budget_used("openai") == 2


def test_workers_together_never_spend_past_the_daily_budget(store_url: str) -> None:
    """Eight workers (connections) spending at once take exactly the budget, no more."""
    limit, took = 5, []
    guard = threading.Lock()

    def worker() -> None:
        r = Records(open_store(store_url))
        for _ in range(3):
            ok = r.spend("openai:big", limit)
            with guard:
                took.append(ok)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert took.count(True) == limit and len(took) == 24
    assert Records(open_store(store_url)).budget_used("openai:big") == limit
    assert not Records(open_store(store_url)).spend("openai:big", 0)


def test_rows_where_delete_where_and_count(any_store: Store) -> None:
    t = any_store.db.table("triage_ignored")
    t.upsert({"repo": "o/r", "number": 1, "by": "me", "at": 1.0}, pk=("repo", "number"))
    t.insert_all([{"repo": "o/r", "number": n, "by": "x", "at": float(n)} for n in (2, 3)])
    assert [
        r["number"] for r in t.rows_where("repo = ?", ["o/r"], order_by="number desc", limit=2)
    ] == [3, 2]
    t.delete_where("repo = ? and number = ?", ["o/r", 2])
    assert t.count == 2 and t.exists() and t.pks == ["repo", "number"]


@pytest.mark.parametrize(
    ("sql", "want"),
    [
        ("select * from t where a = ? and b = ?", "select * from t where a = %s and b = %s"),
        (
            "select '?' , x from t where y like 'a%' and z = ?",
            "select '?' , x from t where y like 'a%%' and z = %s",
        ),
        ("select 5 % 2", "select 5 %% 2"),
        (
            "select date(at, 'unixepoch') as day from t",
            "select to_char(to_timestamp(at) at time zone 'UTC', 'YYYY-MM-DD') as day from t",
        ),
    ],
)
def test_placeholders_translate_outside_quotes(sql: str, want: str) -> None:
    assert translate(sql) == want


def test_dashboard_style_aggregates_read_the_same(any_store: Store) -> None:
    """`date(at, 'unixepoch')`, avg() of integers: same values on both backends (floats)."""
    day = 1_795_000_000.0  # 2026-11-18 UTC
    for hit in (0, 1, 1, 1):
        any_store.db.table("model_calls").insert({"at": day, "cache_hit": hit, "final": 1})
    rows = list(
        any_store.rows(
            "select date(at, 'unixepoch') as day, avg(cache_hit) as rate from model_calls"
            " group by day"
        )
    )
    assert rows == [{"day": "2026-11-18", "rate": 0.75}]
    assert isinstance(rows[0]["rate"], float)


def _open_at(path: str, start: float) -> str:
    time.sleep(max(0.0, start - time.time()))
    try:
        open_store(path).close()
    except Exception as err:  # reported, not raised: the parent counts them
        return f"{type(err).__name__}: {err}"
    return "ok"


def test_processes_starting_together_migrate_a_new_sqlite_file_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A web and workers starting at the same moment on a fresh data dir: none may crash."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    results = []
    with ctx.Pool(4) as pool:
        for round_ in range(5):
            path = str(tmp_path / f"fresh-{round_}.db")
            start = time.time() + 1.5  # after every worker process has imported bot.store
            results += pool.starmap(_open_at, [(path, start)] * 4)
    assert results == ["ok"] * 20, [r for r in results if r != "ok"]
    assert migrations.pending(open_store(tmp_path / "fresh-0.db").db) == []


def test_a_backfill_cursor_round_trips(any_store: Store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A stopped backfill's page, saved and read back on both stores; the retry resumes there."""
    from bot.jobs.backfill import backfill_repo, cursor
    from bot.jobs.context import JobContext
    from bot.ports import Unavailable
    from bot.settings import load_settings
    from tests.triage.fakes import FakeRepoHost

    host = FakeRepoHost(page_size=2)
    for i in range(5):
        host.add(f"Crash {i}", "it crashes", state="closed", labels=["bug"])
    ctx = JobContext(load_settings(data_dir=tmp_path, env="test"), any_store, None, None)
    host.down_at_page = 3  # page 3 fails on every attempt
    with pytest.raises(Unavailable):
        backfill_repo(ctx, host, host.repo, sleep=lambda s: None)
    row = cursor(any_store, host.repo)
    assert row is not None and (row["status"], row["page"]) == ("stopped", 2)
    host.down_at_page, host.pages_fetched = None, []
    assert backfill_repo(ctx, host, host.repo, sleep=lambda s: None).first_page == 2
    assert host.pages_fetched == [2, 3] and cursor(any_store, host.repo)["status"] == "done"  # type: ignore[index]
    assert len(any_store.issues(host.repo)) == 5


def test_an_in_memory_store_serves_other_threads() -> None:
    """A background retrain reads the store from its own thread; ':memory:' must allow that too."""
    store = open_store(":memory:")
    errors: list[BaseException] = []

    def record() -> None:
        try:
            store.record_delivery("d1", "issues", "{}", repo="o/r", number=1)
        except BaseException as err:
            errors.append(err)

    worker = threading.Thread(target=record)
    worker.start()
    worker.join()
    assert errors == [] and store.delivery("d1")["status"] == "received"
