"""A job queued under a repository's old name and run after its rename runs under today's name:
the backfill's issues, examples and cursor land where the rename moved the store's rows, not
apart under the old name. Through the real worker, broker and store, against the fake GitHub."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.coord import jobs
from bot.store import Store, open_store
from tests.e2e.harness import Worker, broker_url, wait_for, web_client
from tests.fake_github.plugin import make_settings

pytestmark = [pytest.mark.broker, pytest.mark.slow]
OLD, NEW = "octo/app", "octo/app-next"


def test_current_repo_name_follows_renames_until_a_repository_has_the_name(
    any_store: Store,
) -> None:
    s = any_store
    s.upsert_installation(1, "octo")
    s.add_repositories(1, [{"full_name": "a/one", "id": 7}])
    assert s.current_repo_name("a/one") == "a/one"
    assert s.current_repo_name("nobody/knows") == "nobody/knows"
    s.rename_repository("a/one", "a/two")
    s.rename_repository("a/two", "b/three", new_owner=True)
    assert s.current_repo_name("a/one") == "b/three"  # two renames on
    assert s.current_repo_name("a/two") == "b/three"
    s.rename_repository("b/three", "a/one")  # renamed back: no loop
    assert [s.current_repo_name(n) for n in ("a/one", "a/two", "b/three")] == ["a/one"] * 3
    s.rename_repository("a/one", "a/four")
    s.add_repositories(1, [{"full_name": "a/one", "id": 99}])  # a new repository takes the name
    assert s.current_repo_name("a/one") == "a/one"
    assert s.current_repo_name("a/two") == "a/four"


def test_a_backfill_queued_before_a_rename_runs_under_the_new_name(
    fake_github, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    state = fake_github.state
    state.add_installation(1, [OLD])
    for i in range(6):
        state.add_issue(OLD, f"Crash {i}", "It crashes.", state="closed", labels=["bug"])
    model = tmp_path / "model.gguf"  # the worker takes model-queue jobs when the file is there;
    model.write_bytes(b"GGUF" + b"\0" * 64)  # a backfill never loads it
    settings = make_settings(
        fake_github, tmp_path, broker_url=broker_url("sqla", tmp_path), model_path=str(model)
    )
    from workers.jobs import bind

    web_client(settings)  # configures the Celery app for this broker
    bind()  # jobs are queued through it
    store = open_store(settings.db_path)
    store.upsert_installation(1, "octo")
    store.add_repositories(1, [{"full_name": OLD, "id": 77}])
    jid = jobs.submit(store, "backfill", {"installation_id": 1, "repo": OLD})  # queued ...
    state.rename_repo(OLD, NEW)
    store.rename_repository(OLD, NEW)  # ... and the rename handled before it runs
    worker = Worker(settings, tmp_path / "worker.log")
    try:
        wait_for(
            lambda: jobs.run(store, jid)["status"] in ("done", "dead"),  # type: ignore[index]
            timeout=120, what="the backfill", log=worker.log,
        )  # fmt: skip
    finally:
        worker.stop()
    assert jobs.run(store, jid)["status"] == "done", worker.log.read_text()[-3000:]  # type: ignore[index]
    assert len(store.issues(NEW)) == 6 and store.issues(OLD) == []
    assert store.installation_for_repo(OLD) is None
    cursors = {r["repo"]: r["status"] for r in store.rows("select * from backfill_cursors")}
    assert cursors == {NEW: "done"}
    scopes = store.rows("select scope, count(*) as n from llm_examples group by scope")
    assert {r["scope"]: r["n"] for r in scopes} == {NEW: 6}
    assert f"names {OLD}, renamed since to {NEW}" in worker.log.read_text()
