"""GitHub's JSON (as PyGithub received it) to the plain records in bot.ports."""

from __future__ import annotations

import re
from typing import Any

from bot.ports import CommentData, EventData, IssueData


def raw(obj: Any) -> dict[str, Any]:
    """The JSON PyGithub parsed the object from.

    `raw_data` would first "complete" a list item with one GET per item; `_rawData` is the same
    dict without that request.
    """
    data = getattr(obj, "_rawData", None)
    return data if isinstance(data, dict) else {}


def _login(user: dict[str, Any] | None) -> str:
    return str((user or {}).get("login") or "ghost")


def _type(user: dict[str, Any] | None) -> str:
    return str((user or {}).get("type") or "User")


REACTION_KINDS = ("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes")  # GitHub's


def reaction_counts(reactions: dict[str, Any]) -> dict[str, int]:
    """The reaction rollup by kind (the ranking counts 👎 and 😕 apart); {} when it has none."""
    return {k: int(v) for k, v in reactions.items() if k in REACTION_KINDS and isinstance(v, int)}


def issue_data(repo: str, d: dict[str, Any]) -> IssueData:
    pr = d.get("pull_request")
    reactions = d.get("reactions") or {}
    return IssueData(
        repo=repo,
        number=int(d["number"]),
        title=d.get("title") or "",
        body=d.get("body") or "",
        state=d.get("state") or "open",
        author=_login(d.get("user")),
        labels=[lb["name"] for lb in d.get("labels") or [] if isinstance(lb, dict)],
        created_at=d.get("created_at") or "",
        updated_at=d.get("updated_at") or "",
        assignees=[_login(a) for a in d.get("assignees") or []],
        milestone=(d.get("milestone") or {}).get("title"),
        locked=bool(d.get("locked")),
        html_url=d.get("html_url") or "",
        comments=int(d.get("comments") or 0),
        reactions=int(reactions.get("total_count") or 0),
        is_pull_request=pr is not None,
        draft=bool(d.get("draft")),
        author_association=d.get("author_association") or "",
        author_type=_type(d.get("user")),
        closed_at=d.get("closed_at") or None,
        reaction_counts=reaction_counts(reactions),
    )


def comment_data(d: dict[str, Any]) -> CommentData:
    return CommentData(
        id=int(d["id"]),
        author=_login(d.get("user")),
        body=d.get("body") or "",
        created_at=d.get("created_at") or "",
        author_type=_type(d.get("user")),
        html_url=d.get("html_url") or "",
        author_association=d.get("author_association") or "",
        updated_at=d.get("updated_at") or "",
    )


def event_data(d: dict[str, Any]) -> EventData:
    actor = d.get("actor") or d.get("user")
    source = ((d.get("source") or {}).get("issue")) or {}
    return EventData(
        kind=str(d.get("event") or ""),
        actor=_login(actor),
        created_at=d.get("created_at") or d.get("submitted_at") or "",
        actor_type=_type(actor),
        label=(d.get("label") or {}).get("name"),
        assignee=_login(d["assignee"]) if d.get("assignee") else None,
        source_number=int(source["number"]) if "number" in source else None,
        source_is_pull_request="pull_request" in source,
        source_repo=_source_repo(source) or _commit_repo(d.get("commit_url")),
        commit_id=str(d["commit_id"]) if d.get("commit_id") else None,
    )


# a timeline source's repository when it names no full_name: from its API or web address
_REPO_IN_URL = re.compile(r"/repos/([^/]+/[^/]+)/?$|^https?://[^/]+/([^/]+/[^/]+)/(?:pull|issues)/")


def _source_repo(source: dict[str, Any]) -> str:
    """The repository ("owner/name") of a cross-referencing issue or PR, "" when unsaid."""
    full = ((source.get("repository") or {}).get("full_name")) or ""
    if full:
        return str(full)
    for url in (source.get("repository_url"), source.get("html_url")):
        got = _REPO_IN_URL.search(str(url or ""))
        if got:
            return got.group(1) or got.group(2)
    return ""


_COMMIT_URL = re.compile(r"/repos/([^/]+/[^/]+)/commits/[0-9a-fA-F]+/?$")


def _commit_repo(url: object) -> str:
    """The repository a `referenced` event's commit was pushed to, from its commit_url (a fork's
    commit names the fork); "" when there is none."""
    got = _COMMIT_URL.search(str(url or ""))
    return got.group(1) if got else ""
