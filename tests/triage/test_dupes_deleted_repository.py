"""A deleted repository's issues leave the store with it: never offered as duplicates to a new
repository given its name. A repository removed from the installation still exists and keeps
them."""

from __future__ import annotations

from typing import Any

from bot.jobs.dispatch import dispatch
from bot.jobs.triage import handle_issue_event
from bot.llm.records import Learned, Records
from bot.store import Store
from tests.triage.conftest import REPO, issue_payload
from tests.triage.fakes import FakeRepoHost

CRASH = ("Parquet reader crashes on empty files", "The parquet reader throws on an empty file.")
SENDER = {"login": "maint", "type": "User"}


class _Rt:
    """What dispatch reads of a Runtime for repository events: the store."""

    def __init__(self, store: Store) -> None:
        self.store = store


def _repository_event(store: Store, action: str, **more: Any) -> None:
    repo = {"id": 77, "name": "app", "full_name": REPO, "owner": {"login": "octo"}}
    payload = {"action": action, "repository": repo, "installation": {"id": 1}, "sender": SENDER}
    row = {"id": f"d-{action}", "event": "repository", "repo": REPO}
    dispatch(_Rt(store), row, {**payload, **more})  # type: ignore[arg-type]


def test_a_deleted_repository_s_issues_are_not_offered_to_a_new_one_of_that_name(
    ctx: Any, store: Store
) -> None:
    """octo/app is deleted on GitHub and a new octo/app is made (a new repository id): its first
    issue must not be told about the old repository's #42, an issue the new one does not have."""
    store.add_repositories(1, [{"full_name": REPO, "id": 77}])
    store.upsert_issue(REPO, {"number": 42, "title": CRASH[0], "body": CRASH[1]})
    _repository_event(store, "deleted")
    assert store.issues(REPO) == []
    host: FakeRepoHost = ctx.github.host  # the new octo/app (id 78): no issue #42
    store.add_repositories(1, [{"full_name": REPO, "id": 78}])
    n = host.add(*CRASH).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    said = [str(w) for w in host.writes if w[0] == "comment"]
    assert not any("#42" in s for s in said), said


def test_a_repository_removed_from_the_installation_keeps_its_issues(store: Store) -> None:
    """Removed from the App's installation, the repository still exists on GitHub: its issues
    stay (added back, it has them as they were)."""
    store.add_repositories(1, [{"full_name": REPO, "id": 77}])
    store.upsert_issue(REPO, {"number": 42, "title": CRASH[0], "body": CRASH[1]})
    payload = {
        "action": "removed",
        "installation": {"id": 1, "account": {"login": "octo"}},
        "repositories_added": [],
        "repositories_removed": [{"full_name": REPO, "id": 77}],
        "sender": SENDER,
    }
    row = {"id": "d-removed", "event": "installation_repositories", "repo": None}
    dispatch(_Rt(store), row, payload)  # type: ignore[arg-type]
    assert [i["number"] for i in store.issues(REPO)] == [42]


def test_a_late_delete_of_the_old_repository_keeps_the_new_one_s_issues(store: Store) -> None:
    """octo/app (id 77) is deleted and a new octo/app (id 78) made; the id-77 deletion handled
    after the new one's issues were stored (a retry, the recovery sweep, a spooled delivery)
    must leave the new repository's issues and its place among the installation's repositories
    alone."""
    store.add_repositories(1, [{"full_name": REPO, "id": 78}])
    store.upsert_issue(REPO, {"number": 1, "title": CRASH[0], "body": CRASH[1]})
    _repository_event(store, "deleted")  # the old octo/app's, id 77
    assert [i["number"] for i in store.issues(REPO)] == [1]
    assert [r["id"] for r in store.repositories(1)] == [78]
    done = store.db.execute(
        "select outcome, detail from audit where delivery_id = 'd-deleted'"
    ).fetchall()
    assert [o for o, _ in done] == ["skipped"] and "78" in done[0][1], done


def test_a_deleted_repository_the_store_knew_without_an_id_loses_its_issues(store: Store) -> None:
    """A repository recorded before the store kept GitHub's ids (no id): taken to be the one
    deleted, as before."""
    store.add_repositories(1, [{"full_name": REPO}])
    store.upsert_issue(REPO, {"number": 42, "title": CRASH[0], "body": CRASH[1]})
    _repository_event(store, "deleted")
    assert store.issues(REPO) == []
    assert store.repositories(1) == []


def test_a_new_repository_of_a_deleted_ones_name_keeps_its_own_labels(store: Store) -> None:
    """The examples of the deleted octo/app lose their issue numbers: the new octo/app's issue 1,
    a feature request, is its own example, not the old issue 1's maintainer label moved onto it."""
    records = Records(store)
    store.add_repositories(1, [{"full_name": REPO, "id": 77}])
    records.learn(REPO, "Crash on save\n\nthe app crashes", "bug", "human", issue=1)
    _repository_event(store, "deleted")
    store.add_repositories(1, [{"full_name": REPO, "id": 78}])
    got = records.learn(REPO, "Dark mode\n\nplease add a dark theme", "feature", "large", issue=1)
    assert got == Learned.NEW
    rows = store.rows("select label, issue from llm_examples where scope = ? order by seq", [REPO])
    assert [(r["label"], r["issue"]) for r in rows] == [("bug", None), ("feature", 1)]
