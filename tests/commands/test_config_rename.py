"""The last good config survives a rename whose events arrive out of order: a delivery under the
new name, handled before `repository.renamed`, saved a config row without the last good file,
and the rename kept that row and deleted the old name's, the one that held it."""

from __future__ import annotations

from typing import Any

from bot.jobs.repo_config import load_repo_config
from bot.store import Store
from tests.commands.conftest import CONFIG, REPO

NEW = "octo/app2"


def _load(ctx: Any, repo: str) -> Any:
    host = ctx.github.repo(1, repo)
    return load_repo_config(ctx.store, host, repo, bot_login=ctx.settings.bot_login)


def test_a_typo_pushed_before_the_rename_event_keeps_the_last_good_config(world: Any) -> None:
    state, ctx = world
    state.put_file(REPO, CONFIG, "triage:\n  enabled: false\n")
    assert _load(ctx, REPO).triage.enabled is False
    state.rename_repo(REPO, NEW)
    state.put_file(NEW, CONFIG, "triage:\n  enabled: false\n  treshold: 0.5\n")
    _load(ctx, NEW)  # an issue event under the new name, handled before repository.renamed
    ctx.store.rename_repository(REPO, NEW)
    assert _load(ctx, NEW).triage.enabled is False
    assert len([i for i in state.repos[NEW].issues.values() if i.state == "open"]) == 1
    state.put_file(NEW, CONFIG, "triage:\n  enabled: false\n")
    assert _load(ctx, NEW).triage.enabled is False
    assert not any(i.state == "open" for i in state.repos[NEW].issues.values())


def _row(store: Store, repo: str) -> dict[str, Any]:
    (row,) = store.db.table("repo_configs").rows_where("repo = ?", [repo])
    return {k: row[k] for k in ("good_text", "error", "error_issue")}


def test_the_new_name_s_row_keeps_its_own_and_takes_what_it_lacks(any_store: Store) -> None:
    configs = any_store.db.table("repo_configs")
    configs.insert({"repo": "o/a", "good_text": "dry_run: true\n", "error": "e1", "error_issue": 5})
    configs.insert({"repo": "o/b", "good_text": None, "error": "e2", "error_issue": None})
    configs.insert({"repo": "o/c", "good_text": "top: 1\n", "error": None, "error_issue": None})
    configs.insert({"repo": "o/d", "good_text": "", "error": None, "error_issue": 9})
    configs.insert({"repo": "o/e", "good_text": None, "error": None, "error_issue": None})
    any_store.rename_repository("o/a", "o/b")  # its own error; the old file and issue
    assert _row(any_store, "o/b") == {
        "good_text": "dry_run: true\n",
        "error": "e2",
        "error_issue": 5,
    }
    any_store.rename_repository("o/c", "o/e")  # nothing of its own: the old row's
    assert _row(any_store, "o/e") == {"good_text": "top: 1\n", "error": None, "error_issue": None}
    # a valid (empty) file of its own, and an issue it closed: the old error and its open issue
    any_store.rename_repository("o/b", "o/d")
    assert _row(any_store, "o/d") == {"good_text": "", "error": "e2", "error_issue": 5}
    assert [r["repo"] for r in configs.rows_where(order_by="repo")] == ["o/d", "o/e"]
