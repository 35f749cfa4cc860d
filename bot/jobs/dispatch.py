"""Route a recorded delivery to the job for its event."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.jobs.backfill import handle_installation_event
from bot.jobs.commands import handle_comment_event
from bot.jobs.triage import handle_issue_event

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
    if action == "created":
        handle_installation_event(rt.context(), row["id"], payload)


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
    if payload.get("repositories_added"):
        handle_installation_event(rt.context(), row["id"], payload)


def on_issues(rt: Runtime, row: dict[str, Any], payload: dict[str, Any]) -> None:
    """Issues: triage on opened / reopened / edited, learning from maintainers' labels."""
    if row.get("installation_id") and row.get("repo"):
        rt.store.add_repositories(
            row["installation_id"], [payload.get("repository") or {"full_name": row["repo"]}]
        )
    handle_issue_event(rt.context(), row["id"], payload)


def on_issue_comment(rt: Runtime, row: dict[str, Any], payload: dict[str, Any]) -> None:
    """Comments: `/smolbot …` commands from people with write access."""
    handle_comment_event(rt.context(), row["id"], payload)


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
    "issue_comment": on_issue_comment,
}


def dispatch(rt: Runtime, row: dict[str, Any], payload: dict[str, Any]) -> None:
    HANDLERS.get(row["event"], ignore)(rt, row, payload)
