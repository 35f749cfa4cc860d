"""Fake endpoints for issues, their labels and comments, and the repository's labels."""

from __future__ import annotations

import calendar
import re
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

from bot.sandbox.fake_github.model import Issue, Label
from bot.sandbox.fake_github.web import Req, Resp, invalid, not_found, paginated

BODY_MAX = 65_536  # characters GitHub takes in an issue or comment body
LOCKED = "Unable to create comment because issue is locked."
LOCKING_DOCS = "https://docs.github.com/articles/locking-conversations"


def _touch(req: Req, issue: Issue) -> None:
    issue.updated_at = req.state.now()


def _since(value: str) -> float:
    return float(calendar.timegm(time.strptime(value[:19], "%Y-%m-%dT%H:%M:%S")))


def list_issues(req: Req) -> Resp:
    q, items = req.query, list(req.r.issues.values())
    state = q.get("state", "open")
    if state != "all":
        items = [i for i in items if i.state == state]
    if q.get("labels"):
        wanted = set(q["labels"].split(","))
        items = [i for i in items if wanted <= set(i.labels)]
    if q.get("since"):
        since = _since(q["since"])
        items = [i for i in items if i.updated_at >= since]
    if q.get("creator"):
        items = [i for i in items if i.user == q["creator"]]
    sort = q.get("sort", "created")
    key: Callable[[Issue], Any] = {
        "updated": lambda i: (i.updated_at, i.number),
        "comments": lambda i: (len(i.comment_ids), i.number),
    }.get(sort, lambda i: (i.created_at, i.number))
    items.sort(key=key, reverse=q.get("direction", "desc") == "desc")
    return paginated(req, [i.json(req.base, req.r) for i in items])


def _issue(req: Req) -> Issue | None:
    return req.r.issues.get(int(req.args[0]))


def _issue_resp(req: Req, issue: Issue, status: int = 200) -> Resp:
    return Resp(status, issue.json(req.base, req.r))


def get_issue(req: Req) -> Resp:
    issue = _issue(req)
    if issue is None and int(req.args[0]) in req.r.deleted:
        return Resp(410, {"message": "This issue was deleted"})
    return _issue_resp(req, issue) if issue else not_found()


def too_long(body: object) -> Resp | None:
    """GitHub's answer to an issue or comment body over 65,536 characters."""
    if isinstance(body, str) and len(body) > BODY_MAX:
        return invalid(f"body is too long (maximum is {BODY_MAX} characters)")
    return None


def create_issue(req: Req) -> Resp:
    b = req.body or {}
    if not b.get("title"):
        return invalid("title is required")
    if (long := too_long(b.get("body"))) is not None:
        return long
    issue = req.state.add_issue(
        req.r.full_name,
        b["title"],
        b.get("body") or "",
        user=req.bot,
        user_type="Bot",
        labels=list(b.get("labels", [])),
        assignees=list(b.get("assignees", [])),
    )
    return _issue_resp(req, issue, 201)


def edit_issue(req: Req) -> Resp:
    issue, b = _issue(req), req.body or {}
    if issue is None:
        return not_found()
    if (long := too_long(b.get("body"))) is not None:
        return long
    full = req.r.full_name
    if "title" in b and b["title"] != issue.title:
        req.state.add_event(
            full, issue.number, "renamed", req.bot, rename={"from": issue.title, "to": b["title"]}
        )
        issue.title = b["title"]
    if "body" in b:
        issue.body = b["body"] or ""
    if "labels" in b:
        _set_labels(req, issue, [x if isinstance(x, str) else x["name"] for x in b["labels"]])
    if "assignees" in b:
        issue.assignees = list(b["assignees"])
    if b.get("state") in ("open", "closed") and b["state"] != issue.state:
        issue.state = b["state"]
        issue.closed_at = req.state.now() if issue.state == "closed" else None
        req.state.add_event(
            full, issue.number, "closed" if issue.closed_at else "reopened", req.bot
        )
    if "state_reason" in b or "state" in b:
        default = "completed" if issue.state == "closed" else None
        issue.state_reason = b.get("state_reason") or default
    _touch(req, issue)
    return _issue_resp(req, issue)


def _set_labels(req: Req, issue: Issue, names: list[str]) -> None:
    for name in names:
        if name not in req.r.labels:
            req.r.labels[name] = Label(name, id=req.state.next_id())
    for gone in [n for n in issue.labels if n not in names]:
        req.state.add_event(req.r.full_name, issue.number, "unlabeled", req.bot, label=gone)
    for new in [n for n in names if n not in issue.labels]:
        req.state.add_event(req.r.full_name, issue.number, "labeled", req.bot, label=new)
    issue.labels = list(dict.fromkeys(names))


# -- labels ------------------------------------------------------------------------------------
def _labels_json(req: Req, names: list[str]) -> list[dict[str, Any]]:
    return [req.r.labels[n].json(req.base, req.r.full_name) for n in names]


def issue_labels(req: Req) -> Resp:
    issue = _issue(req)
    return Resp(200, _labels_json(req, issue.labels)) if issue else not_found()


def add_issue_labels(req: Req) -> Resp:
    issue = _issue(req)
    if issue is None:
        return not_found()
    body = req.body
    names = body.get("labels", []) if isinstance(body, dict) else body or []
    _set_labels(req, issue, issue.labels + [n for n in names if n not in issue.labels])
    _touch(req, issue)
    return Resp(200, _labels_json(req, issue.labels))


def remove_issue_label(req: Req) -> Resp:
    issue, name = _issue(req), urllib.parse.unquote(req.args[1])
    if issue is None or name not in issue.labels:
        return Resp(404, {"message": "Label does not exist"})
    _set_labels(req, issue, [n for n in issue.labels if n != name])
    _touch(req, issue)
    return Resp(200, _labels_json(req, issue.labels))


def repo_labels(req: Req) -> Resp:
    return paginated(req, _labels_json(req, sorted(req.r.labels, key=str.lower)))


def _refused(code: str, field: str) -> Resp:
    """GitHub's 422 naming the field and a code (no message), as for a label's name or colour."""
    error = {"resource": "Label", "code": code, "field": field}
    return Resp(422, {"message": "Validation Failed", "errors": [error]})


def create_label(req: Req) -> Resp:
    b = req.body or {}
    name, color = b.get("name", ""), b.get("color", "ededed")
    if not name:
        return invalid("name is required")
    if name.casefold() in {n.casefold() for n in req.r.labels}:  # case aside
        return _refused("already_exists", "name")
    if not re.fullmatch(r"[0-9a-fA-F]{6}", str(color)):
        return _refused("invalid", "color")
    label = req.state.add_label(req.r.full_name, name, color, b.get("description") or "")
    return Resp(201, label.json(req.base, req.r.full_name))


# -- comments ----------------------------------------------------------------------------------
def issue_comments(req: Req) -> Resp:
    issue = _issue(req)
    if issue is None:
        return not_found()
    comments = [req.r.comments[i].json(req.base, req.r) for i in issue.comment_ids]
    return paginated(req, comments)


def create_comment(req: Req) -> Resp:
    issue, body = _issue(req), (req.body or {}).get("body")
    if issue is None:
        return not_found()
    if issue.locked:  # as GitHub answers an App (it has no write access of a person's)
        return Resp(403, {"message": LOCKED, "documentation_url": LOCKING_DOCS})
    if not body:
        return invalid("body is required")
    if (long := too_long(body)) is not None:
        return long
    c = req.state.add_comment(req.r.full_name, issue.number, body, user=req.bot, user_type="Bot")
    _touch(req, issue)
    return Resp(201, c.json(req.base, req.r))


def comment(req: Req) -> Resp:
    c = req.r.comments.get(int(req.args[0]))
    if c is None:
        return not_found()
    if req.method == "PATCH":
        if (long := too_long((req.body or {}).get("body"))) is not None:
            return long
        c.body, c.updated_at = (req.body or {}).get("body", c.body), req.state.now()
        _touch(req, req.r.issues[c.number])  # as GitHub bumps it (no event says why)
    elif req.method == "DELETE":
        del req.r.comments[c.id]
        req.r.issues[c.number].comment_ids.remove(c.id)
        return Resp(204)
    return Resp(200, c.json(req.base, req.r))
