"""Route a recorded delivery to the job for its event."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.core.actions import AddLabels, NoOp
from bot.core.config import CONFIG_PATH, ConfigError, default_config, parse_config
from bot.jobs.perform import Performer, Target

if TYPE_CHECKING:
    from bot.jobs.runtime import Runtime

log = logging.getLogger(__name__)
Handler = Callable[["Runtime", dict[str, Any], dict[str, Any]], None]


def on_installation(rt: Runtime, row: dict[str, Any], payload: dict[str, Any]) -> None:
    inst = payload.get("installation") or {}
    account = (inst.get("account") or {}).get("login", "")
    action = payload.get("action")
    if action == "deleted":
        rt.store.remove_installation(inst["id"])
    elif action in ("suspend", "unsuspend"):
        rt.store.set_installation_suspended(inst["id"], action == "suspend")
    else:
        rt.store.upsert_installation(
            inst["id"], account, (inst.get("account") or {}).get("type", "")
        )
        rt.store.add_repositories(inst["id"], payload.get("repositories") or [])
    rt.store.audit(
        f"installation.{action}",
        "done",
        "installation table updated",
        task="installation",
        delivery_id=row["id"],
        detail={"installation": inst.get("id")},
    )


def on_installation_repositories(rt: Runtime, row: dict[str, Any], payload: dict[str, Any]) -> None:
    inst = payload.get("installation") or {}
    account = (inst.get("account") or {}).get("login", "")
    rt.store.upsert_installation(inst["id"], account)
    rt.store.add_repositories(inst["id"], payload.get("repositories_added") or [])
    rt.store.remove_repositories(r["full_name"] for r in payload.get("repositories_removed") or [])
    rt.store.audit(
        "installation_repositories",
        "done",
        "repository list updated",
        task="installation",
        delivery_id=row["id"],
    )


def on_issues(rt: Runtime, row: dict[str, Any], payload: dict[str, Any]) -> None:
    repo, issue = row["repo"], payload.get("issue") or {}
    rt.store.upsert_issue(repo, issue)
    if row.get("installation_id"):
        rt.store.add_repositories(
            row["installation_id"], [payload.get("repository") or {"full_name": repo}]
        )
    if payload.get("action") != "opened":
        rt.store.audit(
            "issues." + str(payload.get("action")),
            "skipped",
            "recorded only",
            task="issues",
            delivery_id=row["id"],
            repo=repo,
            number=issue.get("number"),
        )
        return
    first_label(rt, row, repo, issue)


def first_label(rt: Runtime, row: dict[str, Any], repo: str, issue: dict[str, Any]) -> None:
    """The first real task: label a new issue for triage when the repository enables triage."""
    host = rt.github.repo(row["installation_id"], repo)
    text = host.file(CONFIG_PATH)
    try:
        cfg = parse_config(text) if text is not None else default_config()
    except ConfigError as err:
        cfg = default_config()
        log.warning("%s: %s", repo, err)
    target = Target(
        repo, issue["number"], "issues.opened", row["id"], cfg.dry_run, rt.settings.bot_login
    )
    action = (
        AddLabels((cfg.triage.needs_triage_label,), "new issue awaits triage")
        if cfg.triage.enabled
        else NoOp("triage disabled in " + CONFIG_PATH)
    )
    Performer(host, rt.store, target).perform([action])


def ignore(rt: Runtime, row: dict[str, Any], payload: dict[str, Any]) -> None:
    rt.store.audit(
        row["event"],
        "skipped",
        "event not acted on",
        task=row["event"],
        delivery_id=row["id"],
        repo=row.get("repo"),
        number=row.get("number"),
    )


HANDLERS: dict[str, Handler] = {
    "installation": on_installation,
    "installation_repositories": on_installation_repositories,
    "issues": on_issues,
}


def dispatch(rt: Runtime, row: dict[str, Any], payload: dict[str, Any]) -> None:
    HANDLERS.get(row["event"], ignore)(rt, row, payload)
