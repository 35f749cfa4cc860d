"""Load the bundled sample repository into a fake GitHub's state."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def ts(iso: str | None) -> float | None:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() if iso else None


def seed_sample(state: Any, sample: dict[str, Any], *, skip: set[int] = frozenset()) -> str:  # type: ignore[assignment]
    """Put the sample's repository, labels, people, config and issues into state; return its name.

    Issues in skip are left out, so the demo can open them through the webhook as new issues.
    """
    from bot.sandbox.fake_github.model import Comment, Issue

    repo_name = sample["repository"]["full_name"]
    inst = sample["installation"]["id"]
    state.add_installation(inst, [repo_name])
    repo = state.repos[repo_name]
    for lb in sample["labels"]:
        state.add_label(repo_name, lb["name"], lb.get("color", "ededed"), lb.get("description", ""))
    for c in sample["collaborators"]:
        state.set_permission(repo_name, c["login"], c["permission"])
    state.put_file(repo_name, ".github/smolbot.yml", sample["config"])
    for raw in sample["issues"]:
        if raw["number"] in skip:
            continue
        repo.issues[raw["number"]] = issue_from(raw, Issue)
        for c in sample["comments"].get(str(raw["number"]), []):
            comment = Comment(
                id=c["id"],
                number=raw["number"],
                user=c["user"]["login"],
                body=c["body"],
                created_at=ts(c["created_at"]) or 0.0,
                updated_at=ts(c["updated_at"]) or 0.0,
                user_type=c["user"].get("type", "User"),
            )
            repo.comments[comment.id] = comment
            repo.issues[raw["number"]].comment_ids.append(comment.id)
        repo.timeline[raw["number"]] = [
            _event(e) for e in sample["events"].get(str(raw["number"]), [])
        ]
    return str(repo_name)


def issue_from(raw: dict[str, Any], issue_cls: Any) -> Any:
    return issue_cls(
        number=raw["number"],
        title=raw["title"],
        body=raw.get("body") or "",
        user=raw["user"]["login"],
        user_type=raw["user"].get("type", "User"),
        created_at=ts(raw["created_at"]),
        updated_at=ts(raw["updated_at"]),
        state=raw["state"],
        state_reason=raw.get("state_reason"),
        closed_at=ts(raw.get("closed_at")),
        labels=[lb["name"] for lb in raw.get("labels", [])],
        assignees=[a["login"] for a in raw.get("assignees") or []],
        milestone=(raw.get("milestone") or {}).get("title"),
        reactions=(raw.get("reactions") or {}).get("total_count", 0),
        is_pr="pull_request" in raw,
        locked=raw.get("locked", False),
    )


def _event(e: dict[str, Any]) -> dict[str, Any]:
    """A REST timeline event in the fake's internal form (logins and label names, epoch times)."""
    out = {k: v for k, v in e.items() if k not in ("actor", "created_at", "label", "assignee")}
    out["actor"] = (e.get("actor") or {}).get("login", "")
    out["created_at"] = ts(e.get("created_at"))
    if isinstance(e.get("label"), dict):
        out["label"] = e["label"]["name"]
    if isinstance(e.get("assignee"), dict):
        out["assignee"] = e["assignee"]["login"]
    return out
