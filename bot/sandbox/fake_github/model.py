"""The fake GitHub's records (repos, issues, comments, labels) and their GitHub-shaped JSON."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def user_json(base: str, login: str, user_type: str = "User") -> dict[str, Any]:
    uid = int(hashlib.sha1(login.encode()).hexdigest()[:7], 16)
    return {
        "login": login,
        "id": uid,
        "node_id": f"U_{uid}",
        "type": user_type,
        "site_admin": False,
        "url": f"{base}/users/{login}",
        "html_url": f"https://github.com/{login}",
    }


@dataclass
class Label:
    name: str
    color: str = "ededed"
    description: str = ""
    id: int = 0

    def json(self, base: str, repo: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "node_id": f"LA_{self.id}",
            "url": f"{base}/repos/{repo}/labels/{self.name}",
            "name": self.name,
            "color": self.color,
            "description": self.description,
            "default": False,
        }


@dataclass
class Comment:
    id: int
    number: int
    user: str
    body: str
    created_at: float
    updated_at: float
    user_type: str = "User"

    def json(self, base: str, r: Repo) -> dict[str, Any]:
        repo = r.full_name
        return {
            "id": self.id,
            "node_id": f"IC_{self.id}",
            "url": f"{base}/repos/{repo}/issues/comments/{self.id}",
            "html_url": f"https://github.com/{repo}/issues/{self.number}#issuecomment-{self.id}",
            "issue_url": f"{base}/repos/{repo}/issues/{self.number}",
            "user": user_json(base, self.user, self.user_type),
            "body": self.body,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "author_association": r.association(self.user),
        }


@dataclass
class Issue:
    number: int
    title: str
    body: str
    user: str
    created_at: float
    updated_at: float
    state: str = "open"
    state_reason: str | None = None
    closed_at: float | None = None
    labels: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    milestone: str | None = None
    reactions: int = 0  # all 👍, unless reaction_kinds says by kind
    reaction_kinds: dict[str, int] = field(default_factory=dict)  # {"-1": 40, "confused": 3}
    is_pr: bool = False
    draft: bool = False  # a draft pull request
    locked: bool = False
    user_type: str = "User"
    comment_ids: list[int] = field(default_factory=list)

    def json(self, base: str, r: Repo) -> dict[str, Any]:
        repo, labels = r.full_name, r.labels
        url = f"{base}/repos/{repo}/issues/{self.number}"
        kind = "pull" if self.is_pr else "issues"
        data: dict[str, Any] = {
            "id": 100000 + self.number,
            "node_id": f"I_{self.number}",
            "url": url,
            "repository_url": f"{base}/repos/{repo}",
            "labels_url": url + "/labels{/name}",
            "comments_url": url + "/comments",
            "events_url": url + "/events",
            "html_url": f"https://github.com/{repo}/{kind}/{self.number}",
            "number": self.number,
            "title": self.title,
            "user": user_json(base, self.user, self.user_type),
            "labels": [labels.get(n, Label(n)).json(base, repo) for n in self.labels],
            "state": self.state,
            "state_reason": self.state_reason,
            "locked": self.locked,
            "assignee": user_json(base, self.assignees[0]) if self.assignees else None,
            "assignees": [user_json(base, a) for a in self.assignees],
            "milestone": _milestone(base, repo, self.milestone),
            "comments": len(self.comment_ids),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "closed_at": iso(self.closed_at) if self.closed_at else None,
            "author_association": r.association(self.user),
            "body": self.body,
            "reactions": self._reactions(url),
        }
        if self.is_pr:
            data["pull_request"] = {
                "url": f"{base}/repos/{repo}/pulls/{self.number}",
                "html_url": data["html_url"],
            }
            data["draft"] = self.draft
        return data

    def _reactions(self, url: str) -> dict[str, Any]:
        """GitHub's rollup: the total and every kind's count."""
        kinds = self.reaction_kinds or {"+1": self.reactions}
        counts = {k: int(kinds.get(k, 0)) for k in REACTION_KINDS}
        return {"url": url + "/reactions", "total_count": sum(counts.values()), **counts}


REACTION_KINDS = ("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes")


def _milestone(base: str, repo: str, title: str | None) -> dict[str, Any] | None:
    if title is None:
        return None
    return {"id": 1, "number": 1, "title": title, "url": f"{base}/repos/{repo}/milestones/1"}


@dataclass
class Repo:
    owner: str
    name: str
    id: int
    private: bool = False
    default_branch: str = "main"
    issues: dict[int, Issue] = field(default_factory=dict)
    comments: dict[int, Comment] = field(default_factory=dict)
    labels: dict[str, Label] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)
    custom_roles: dict[str, str] = field(default_factory=dict)  # login -> an org's custom role
    members: set[str] = field(default_factory=set)  # the owning organisation's members
    files: dict[str, bytes] = field(default_factory=dict)
    timeline: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)  # issues an admin deleted: 410 Gone
    archived: bool = False  # read-only: every write answers 403

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def association(self, login: str) -> str:
        """GitHub's author_association, from ownership, membership and the permissions set on
        the fake. As GitHub: MEMBER for any member of the owning organisation and COLLABORATOR
        for anyone given a role on the repository, whatever their permission (read too)."""
        if login == self.owner:
            return "OWNER"
        if login in self.members:
            return "MEMBER"
        if self.permissions.get(login, "none") != "none":
            return "COLLABORATOR"
        return "NONE"

    def json(self, base: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "node_id": f"R_{self.id}",
            "name": self.name,
            "full_name": self.full_name,
            "owner": user_json(base, self.owner, "Organization"),
            "private": self.private,
            "html_url": f"https://github.com/{self.full_name}",
            "url": f"{base}/repos/{self.full_name}",
            "default_branch": self.default_branch,
            "has_issues": True,
            "archived": self.archived,
            "open_issues_count": sum(1 for i in self.issues.values() if i.state == "open"),
        }


def blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


ROLE_TO_LEGACY = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
    "none": "none",
}
