"""Repository events: a rename or transfer carries the stored state to the new name; an archived
repository is left alone. Through the webhook, the worker's routing, the real store (SQLite and
PostgreSQL), the real classifier and the GitHub adapter over HTTP against the fake GitHub."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.github import GitHubApp
from bot.jobs.context import JobContext
from bot.jobs.digest import run_due_digests
from bot.jobs.dispatch import dispatch
from bot.jobs.lifecycle import sweep_installation
from bot.jobs.runtime import Runtime
from bot.llm import get_model_layer
from bot.llm.records import Records
from bot.ports import ReadOnly
from bot.store import Store, open_store
from tests.e2e.harness import deliver, web_client
from tests.fake_github.plugin import WEBHOOK_SECRET, make_settings
from tests.triage.conftest import THRESHOLDS
from tests.triage.examples import labeled

OLD, NEW = "octo/app", "octo/app-next"


def renamed(old: str = OLD, new: str = NEW, inst: int = 1) -> dict[str, Any]:
    owner, name = new.split("/")
    return {
        "action": "renamed",
        "changes": {"repository": {"name": {"from": old.split("/")[1]}}},
        "repository": {"id": 77, "name": name, "full_name": new, "owner": {"login": owner}},
        "installation": {"id": inst},
        "sender": {"login": "maint", "type": "User"},
    }


def transferred(old: str, new: str, inst: int = 1) -> dict[str, Any]:
    owner, name = new.split("/")
    return {
        "action": "transferred",
        "changes": {"owner": {"from": {"organization": {"login": old.split("/")[0]}}}},
        "repository": {"id": 77, "name": name, "full_name": new, "owner": {"login": owner}},
        "installation": {"id": inst},
        "sender": {"login": "maint", "type": "User"},
    }


def row(event: str, payload: dict[str, Any], delivery: str = "d-repo") -> dict[str, Any]:
    repo = payload.get("repository") or {}
    return {"id": delivery, "event": event, "installation_id": 1, "repo": repo.get("full_name")}


class _Rt:
    """What dispatch reads of a Runtime for repository events: the store."""

    def __init__(self, store: Store) -> None:
        self.store = store


def _count(store: Store, table: str, col: str, name: str) -> int:
    return int(
        store.db.execute(f"select count(*) from {table} where {col} = ?", [name]).fetchone()[0]
    )


def test_rename_carries_every_table_and_keeps_history(any_store: Store) -> None:
    s = any_store
    s.upsert_installation(1, "octo")
    s.add_repositories(1, [{"full_name": OLD, "id": 77}])
    for n in (1, 2, 3):
        s.upsert_issue(OLD, {"number": n, "title": f"old {n}", "state": "open"})
    s.upsert_issue(NEW, {"number": 3, "title": "handled under the new name first"})
    records = Records(s)
    for i in range(5):
        records.learn(OLD, f"old example {i}", "bug", "backfill")
    records.learn("octo/other", "another repository's example", "question", "human")
    s.db.table("repo_configs").insert({"repo": OLD})
    s.db.table("lifecycle_roles").insert(
        {"repo": OLD, "login": "maint", "can_write": 1, "checked_at": 0.0}
    )
    s.db.table("digests").insert({"repo": OLD, "week": "2026-W48"})
    s.db.table("sweeps").insert({"installation_id": 1, "run_id": "r1", "repo": OLD, "issue": 2})
    s.audit("label", "done", "labelled", repo=OLD, number=1)

    moved = s.rename_repository(OLD, NEW)

    assert moved["issues"] == 2 and moved["llm_examples"] == 5 and moved["repositories"] == 1
    assert [i["title"] for i in s.issues(NEW)] == [
        "old 1",
        "old 2",
        "handled under the new name first",
    ]
    assert s.issues(OLD) == []
    assert s.installation_for_repo(NEW) == 1 and s.installation_for_repo(OLD) is None
    for table, col in [
        ("repo_configs", "repo"),
        ("lifecycle_roles", "repo"),
        ("digests", "repo"),
        ("sweeps", "repo"),
    ]:
        assert (_count(s, table, col, OLD), _count(s, table, col, NEW)) == (0, 1), table
    assert s.audit_rows(repo=OLD)[0]["reason"] == "labelled"  # history keeps its name
    # the renamed examples keep their order and come after every other: each process's
    # classifier sees new examples and retrains with the scope under its new name
    examples = records.examples()
    assert [e.scope for e in examples] == ["octo/other"] + [NEW] * 5
    assert [e.text for e in examples[1:]] == [f"old example {i}" for i in range(5)]
    assert records.example_seq() > 6


def test_transfer_forgets_who_may_write(any_store: Store) -> None:
    s = any_store
    s.db.table("lifecycle_roles").insert(
        {"repo": OLD, "login": "maint", "can_write": 1, "checked_at": 0.0}
    )
    s.upsert_issue(OLD, {"number": 1, "title": "kept"})
    s.rename_repository(OLD, "acme/app", new_owner=True)
    assert _count(s, "lifecycle_roles", "repo", "acme/app") == 0
    assert [i["title"] for i in s.issues("acme/app")] == ["kept"]


def test_payloads_name_the_old_repository(tmp_path: Path) -> None:
    s = open_store(tmp_path / "s.db")
    s.upsert_issue(OLD, {"number": 1, "title": "renamed"})
    s.upsert_issue("alice/tool", {"number": 1, "title": "transferred"})
    dispatch(_Rt(s), row("repository", renamed()), renamed())  # type: ignore[arg-type]
    t = transferred("alice/tool", "octo/tool")
    dispatch(_Rt(s), row("repository", t, "d-2"), t)  # type: ignore[arg-type]
    assert [i["title"] for i in s.issues(NEW)] == ["renamed"]
    assert [i["title"] for i in s.issues("octo/tool")] == ["transferred"]
    audits = {r["action"]: json.loads(r["detail"]) for r in s.audit_rows()}
    assert audits["repository.renamed"]["from"] == OLD
    assert audits["repository.transferred"]["rows"] == {"issues": 1}
    assert s.installation_for_repo("octo/tool") == 1  # one of the installation's now
    # a payload without the old name changes nothing and says so
    odd = {**renamed(), "changes": {}}
    dispatch(_Rt(s), row("repository", odd, "d-3"), odd)  # type: ignore[arg-type]
    assert s.audit_rows()[-1]["outcome"] == "skipped"
    assert [i["title"] for i in s.issues(NEW)] == ["renamed"]


DAY = 86400.0
CONFIG = "lifecycle:\n  days_until_ping: 7\n"


@pytest.fixture
def world(fake_github: Any, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Two repositories of installation 1, each with an issue a maintainer asked about 8.5 days
    ago (a sweep pings its author); the classifier trained on OLD's examples."""
    state = fake_github.state
    state.add_installation(1, [OLD, "octo/zzz"])
    t0 = state.now() - 8.5 * DAY
    for repo in (OLD, "octo/zzz"):
        for name in ("bug", "enhancement", "question"):
            state.add_label(repo, name)
        state.set_permission(repo, "mia", "maintain")
        state.put_file(repo, ".github/smolbot.yml", CONFIG)
        state.add_issue(repo, "Crash on start", "It crashes.", user="alice", created_at=t0)
        state.add_comment(repo, 1, "Which version?", user="mia", created_at=t0 + 0.1 * DAY)
    settings = make_settings(fake_github, tmp_path, thresholds=THRESHOLDS)
    rt = Runtime(settings, open_store(settings.db_path))
    rt.store.upsert_installation(1, "octo")
    rt.store.add_repositories(
        1, [{"full_name": OLD, "id": 77}, {"full_name": "octo/zzz", "id": 78}]
    )
    layer = get_model_layer(settings, rt.store)
    for text, label in labeled():
        layer.learn(OLD, text, label, "backfill")
    rt.__dict__["models"] = layer
    rt.__dict__["github"] = GitHubApp(settings, clock=state.now)
    yield state, rt
    rt.store.close()


def context(state: Any, rt: Runtime) -> JobContext:
    ctx = rt.context()
    ctx.now = lambda: datetime.fromtimestamp(state.now(), UTC)
    return ctx


def opened(repo: str, number: int, title: str, body: str) -> dict[str, Any]:
    return {
        "action": "opened",
        "issue": {
            "number": number,
            "title": title,
            "body": body,
            "state": "open",
            "user": {"login": "alice"},
        },
        "repository": {"full_name": repo, "id": 77},
        "installation": {"id": 1},
        "sender": {"login": "alice", "type": "User"},
    }


def bot_comments(state: Any, repo: str, number: int) -> list[str]:
    return [c.body for c in state.comments(repo, number) if c.user_type == "Bot"]


def test_renamed_through_the_webhook_keeps_the_trained_scope(world: Any) -> None:
    state, rt = world
    before = rt.models.classifier(force=True)
    assert OLD in before.scoped and NEW not in before.scoped
    rt.store.upsert_issue(OLD, {"number": 1, "title": "Crash on start", "state": "open"})
    state.rename_repo(OLD, NEW)

    client = web_client(rt.settings)
    answer = deliver(client, WEBHOOK_SECRET, "repository", renamed(), "d-renamed")
    assert answer.status_code == 202, answer.text
    assert rt.store.delivery("d-renamed")["status"] != "ignored"
    rt.dispatch("d-renamed")  # as the worker does with the queued delivery

    after = rt.models.classifier()  # retrained: the examples moved past the last training
    assert NEW in after.scoped and OLD not in after.scoped
    assert after.counts[NEW] == before.counts[OLD]
    assert [i["number"] for i in rt.store.issues(NEW)] == [1]

    title, body = "App crashes with a TypeError when I click save", "It crashes, broken."
    n = state.add_issue(NEW, title, body).number
    assert (
        deliver(client, WEBHOOK_SECRET, "issues", opened(NEW, n, title, body), "d-o").status_code
        == 202
    )
    rt.dispatch("d-o")
    assert "bug" in state.issue(NEW, n).labels


def test_archived_repository_is_left_alone_until_unarchived(world: Any) -> None:
    state, rt = world
    ctx = context(state, rt)
    state.archive_repo(OLD)
    event = {
        "action": "archived",
        "repository": {"id": 77, "name": "app", "full_name": OLD, "owner": {"login": "octo"}},
        "installation": {"id": 1},
    }
    dispatch(rt, row("repository", event), event)
    assert rt.store.repositories(1)[0]["archived"] == 1

    assert sweep_installation(ctx, 1, run_id="day-1").status == "done"
    assert bot_comments(state, OLD, 1) == []  # not listed by GitHub: not swept
    assert len(bot_comments(state, "octo/zzz", 1)) == 1
    run_due_digests(ctx)
    tried = [e for e in state.requests() if e.path.startswith(f"/repos/{OLD}/")]
    assert [e for e in tried if e.method != "GET"] == []  # not even tried

    # unarchived with no event reaching us: GitHub lists it again, and the store follows
    state.archive_repo(OLD, archived=False)
    sweep_installation(ctx, 1, run_id="day-2")
    assert not rt.store.repositories(1)[0]["archived"]
    assert len(bot_comments(state, OLD, 1)) == 1


class ListsArchived(GitHubApp):
    """GitHub's listing as it was a moment before the repository was archived."""

    def installation_repos(self, installation_id: int) -> list[str]:
        return [OLD, "octo/zzz"]


def test_archived_between_listing_and_write_the_sweep_goes_on(world: Any) -> None:
    state, rt = world
    rt.__dict__["github"] = ListsArchived(rt.settings, clock=state.now)
    ctx = context(state, rt)
    state.archive_repo(OLD)
    result = sweep_installation(ctx, 1, run_id="day-1")
    assert result.status == "done" and result.counts["archived"] == 1
    assert len(bot_comments(state, "octo/zzz", 1)) == 1  # the next repository was swept
    assert rt.store.repositories(1)[0]["archived"] == 1
    why = [r["reason"] for r in rt.store.audit_rows(repo=OLD) if r["outcome"] == "skipped"]
    assert any("archived" in w and "unarchived" in w for w in why)


def test_a_write_refused_as_archived_marks_the_repository(world: Any) -> None:
    state, rt = world
    state.archive_repo(OLD)
    with pytest.raises(ReadOnly, match="archived"):
        rt.github.repo(1, OLD).create_comment(1, "hello")
    title, body = "Crash on save", "TypeError when I click save, it crashes."
    n = state.add_issue(OLD, title, body).number
    payload = opened(OLD, n, title, body)
    dispatch(rt, {**row("issues", payload, "d-late"), "number": n}, payload)
    last = rt.store.audit_rows(repo=OLD)[-1]
    assert last["outcome"] == "skipped" and "archived" in last["reason"], last
    assert rt.store.repositories(1)[0]["archived"] == 1
    assert state.issue(OLD, n).labels == []


def past_the_week_s_slot(state: Any) -> None:
    """The fake's clock moved past this week's digest slot (Monday 08:00 UTC by default) when it
    is not yet: on a Monday morning no digest was due, and a test that needed one failed."""
    now = datetime.fromtimestamp(state.now(), UTC)
    slot = (now - timedelta(days=now.weekday())).replace(hour=8, minute=30, second=0)
    if now < slot:
        state.advance((slot - now).total_seconds())


def test_digest_refused_as_archived_is_not_tried_again(world: Any) -> None:
    state, rt = world
    past_the_week_s_slot(state)
    ctx = context(state, rt)
    state.archive_repo(OLD)  # and no event said so
    run_due_digests(ctx)
    assert rt.store.repositories(1)[0]["archived"] == 1
    (skipped,) = [r for r in rt.store.audit_rows(repo=OLD) if r["action"] == "digest"]
    assert (
        skipped["outcome"] == "skipped" and "no digest until it is unarchived" in skipped["reason"]
    )
    refused = len([e for e in state.requests() if e.status == 403])
    run_due_digests(ctx)
    assert len([e for e in state.requests() if e.status == 403]) == refused


def test_a_delivery_sent_before_the_rename_and_handled_after_it_follows(world: Any) -> None:
    state, rt = world
    state.rename_repo(OLD, NEW)
    dispatch(rt, row("repository", renamed()), renamed())
    title, body = "App crashes with a TypeError when I click save", "It crashes, broken."
    n = state.add_issue(NEW, title, body).number
    late = opened(OLD, n, title, body)  # sent under the old name, handled after the rename
    dispatch(rt, {**row("issues", late, "d-late"), "number": n}, late)
    assert rt.store.issue(NEW, n) is not None and rt.store.issue(OLD, n) is None
    assert [r["full_name"] for r in rt.store.repositories(1)] == [NEW, "octo/zzz"]
    assert "bug" in state.issue(NEW, n).labels
    labelled = [r["number"] for r in rt.store.audit_rows(repo=NEW) if r["action"] == "add_labels"]
    assert n in labelled and rt.store.audit_rows(repo=OLD) == []

    # a new repository given the old name is another repository (GitHub's id says so)
    state.add_repo(OLD, 1)
    state.add_issue(OLD, title, body)
    other = opened(OLD, 1, title, body)
    other["repository"]["id"] = 99
    dispatch(rt, {**row("issues", other, "d-other"), "number": 1}, other)
    assert rt.store.issue(OLD, 1) is not None
