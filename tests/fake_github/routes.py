"""The fake's endpoints: what each GitHub REST route does to the state and answers."""

from __future__ import annotations

import base64
import calendar
import re
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fake_github.model import ROLE_TO_LEGACY, Issue, Label, Repo, blob_sha, iso, user_json
from tests.fake_github.state import FakeGitHub


@dataclass
class Req:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    base: str
    state: FakeGitHub
    installation: int | None = None
    repo: Repo | None = None
    args: tuple[str, ...] = ()

    @property
    def r(self) -> Repo:
        assert self.repo is not None
        return self.repo

    @property
    def bot(self) -> str:
        return f"{self.state.app_slug}[bot]"


@dataclass
class Resp:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    free: bool = False  # costs no primary quota (304s, /rate_limit)


Handler = Callable[[Req], Resp]


def not_found() -> Resp:
    return Resp(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})


def invalid(message: str) -> Resp:
    return Resp(422, {"message": "Validation Failed", "errors": [{"message": message}]})


def paginated(req: Req, items: list[Any], key: str | None = None) -> Resp:
    """Slice by page/per_page and add GitHub's Link header (next, last, first, prev)."""
    per_page = max(1, min(100, int(req.query.get("per_page", 30))))
    page = max(1, int(req.query.get("page", 1)))
    last = max(1, -(-len(items) // per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    links = []
    for rel, p in (("prev", page - 1), ("next", page + 1), ("last", last), ("first", 1)):
        if (rel in ("prev", "first") and page > 1) or (rel in ("next", "last") and page < last):
            q = urllib.parse.urlencode({**req.query, "page": p, "per_page": per_page})
            links.append(f'<{req.base}{req.path}?{q}>; rel="{rel}"')
    headers = {"link": ", ".join(links)} if links else {}
    body: Any = {"total_count": len(items), key: chunk} if key else chunk
    return Resp(200, body, headers)


def _touch(req: Req, issue: Issue) -> None:
    issue.updated_at = req.state.now()


# -- app ---------------------------------------------------------------------------------------
def _installation_json(req: Req, iid: int) -> dict[str, Any]:
    owner = (req.state.installations[iid] or ["octo/x"])[0].split("/")[0]
    return {
        "id": iid,
        "app_id": req.state.app_id,
        "app_slug": req.state.app_slug,
        "account": user_json(req.base, owner, "Organization"),
        "target_type": "Organization",
        "repository_selection": "selected",
        "access_tokens_url": f"{req.base}/app/installations/{iid}/access_tokens",
        "repositories_url": f"{req.base}/installation/repositories",
        "permissions": {"issues": "write", "contents": "read", "metadata": "read"},
        "events": ["issues", "issue_comment"],
        "created_at": iso(0),
        "updated_at": iso(0),
    }


def access_token(req: Req) -> Resp:
    iid = int(req.args[0])
    if iid not in req.state.installations:
        return not_found()
    token, expires = req.state.mint_token(iid)
    body = {
        "token": token,
        "expires_at": iso(expires),
        "permissions": {"issues": "write", "contents": "read", "metadata": "read"},
        "repository_selection": "selected",
    }
    return Resp(201, body)


def list_installations(req: Req) -> Resp:
    return paginated(req, [_installation_json(req, i) for i in sorted(req.state.installations)])


def get_installation(req: Req) -> Resp:
    iid = int(req.args[0])
    return (
        Resp(200, _installation_json(req, iid)) if iid in req.state.installations else not_found()
    )


def installation_repos(req: Req) -> Resp:
    assert req.installation is not None
    names = req.state.installations.get(req.installation, [])
    items = [req.state.repos[n].json(req.base) for n in names]
    return paginated(req, items, key="repositories")


def rate_limit(req: Req) -> Resp:
    assert req.installation is not None
    q = req.state.quota(req.installation)
    core = {"limit": q.limit, "remaining": q.remaining, "reset": int(q.reset_at), "used": q.used}
    return Resp(200, {"resources": {"core": core}, "rate": core}, free=True)


# -- repos and issues -------------------------------------------------------------------------
def get_repo(req: Req) -> Resp:
    return Resp(200, req.r.json(req.base))


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
    return paginated(req, [i.json(req.base, req.r.full_name, req.r.labels) for i in items])


def _issue(req: Req) -> Issue | None:
    return req.r.issues.get(int(req.args[0]))


def _issue_resp(req: Req, issue: Issue, status: int = 200) -> Resp:
    return Resp(status, issue.json(req.base, req.r.full_name, req.r.labels))


def get_issue(req: Req) -> Resp:
    issue = _issue(req)
    return _issue_resp(req, issue) if issue else not_found()


def create_issue(req: Req) -> Resp:
    b = req.body or {}
    if not b.get("title"):
        return invalid("title is required")
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


def create_label(req: Req) -> Resp:
    b = req.body or {}
    name = b.get("name", "")
    if not name or name in req.r.labels:
        return invalid("already_exists" if name else "name is required")
    label = req.state.add_label(
        req.r.full_name, name, b.get("color", "ededed"), b.get("description") or ""
    )
    return Resp(201, label.json(req.base, req.r.full_name))


# -- comments ----------------------------------------------------------------------------------
def issue_comments(req: Req) -> Resp:
    issue = _issue(req)
    if issue is None:
        return not_found()
    comments = [req.r.comments[i].json(req.base, req.r.full_name) for i in issue.comment_ids]
    return paginated(req, comments)


def create_comment(req: Req) -> Resp:
    issue, body = _issue(req), (req.body or {}).get("body")
    if issue is None:
        return not_found()
    if not body:
        return invalid("body is required")
    c = req.state.add_comment(req.r.full_name, issue.number, body, user=req.bot, user_type="Bot")
    _touch(req, issue)
    return Resp(201, c.json(req.base, req.r.full_name))


def comment(req: Req) -> Resp:
    c = req.r.comments.get(int(req.args[0]))
    if c is None:
        return not_found()
    if req.method == "PATCH":
        c.body, c.updated_at = (req.body or {}).get("body", c.body), req.state.now()
    elif req.method == "DELETE":
        del req.r.comments[c.id]
        req.r.issues[c.number].comment_ids.remove(c.id)
        return Resp(204)
    return Resp(200, c.json(req.base, req.r.full_name))


# -- permissions, contents, timeline ------------------------------------------------------------
def permission(req: Req) -> Resp:
    login = req.args[0]
    role = req.r.permissions.get(login, "none")
    body = {
        "permission": ROLE_TO_LEGACY[role],
        "role_name": role,
        "user": user_json(req.base, login),
    }
    return Resp(200, body)


def contents(req: Req) -> Resp:
    path = urllib.parse.unquote(req.args[0])
    data = req.r.files.get(path)
    if data is None:
        return _listing(req, path)
    sha = blob_sha(data)
    etag = f'"{sha}"'
    if req.headers.get("if-none-match") in (etag, f"W/{etag}"):
        return Resp(304, None, {"etag": etag}, free=True)
    body = {
        "type": "file",
        "encoding": "base64",
        "size": len(data),
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "sha": sha,
        "content": base64.encodebytes(data).decode(),
        "url": f"{req.base}/repos/{req.r.full_name}/contents/{path}",
        "html_url": f"https://github.com/{req.r.full_name}/blob/main/{path}",
        "download_url": None,
        "git_url": None,
    }
    return Resp(200, body, {"etag": etag})


def _listing(req: Req, folder: str) -> Resp:
    """A folder's entries (files and subfolders), or 404 when nothing lives under it."""
    prefix, entries = folder.strip("/") + "/", {}
    for path, data in req.r.files.items():
        if path.startswith(prefix):
            name = path[len(prefix) :].split("/")[0]
            is_file = "/" not in path[len(prefix) :]
            entries[name] = {
                "type": "file" if is_file else "dir",
                "name": name,
                "path": prefix + name,
                "sha": blob_sha(data) if is_file else "0" * 40,
                "size": len(data) if is_file else 0,
                "url": f"{req.base}/repos/{req.r.full_name}/contents/{prefix}{name}",
            }
    if not entries:
        return not_found()
    return Resp(200, [entries[k] for k in sorted(entries)])


def timeline(req: Req) -> Resp:
    issue = _issue(req)
    if issue is None:
        return not_found()
    events = [_event_json(req, e) for e in req.r.timeline.get(issue.number, [])]
    return paginated(req, events)


def _event_json(req: Req, e: dict[str, Any]) -> dict[str, Any]:
    actor = e["actor"]
    out: dict[str, Any] = {
        "id": e["id"],
        "node_id": f"E_{e['id']}",
        "event": e["event"],
        "actor": user_json(req.base, actor, "Bot" if actor.endswith("[bot]") else "User"),
        "created_at": iso(e["created_at"]),
        "commit_id": None,
        "commit_url": None,
    }
    if "label" in e:
        label = req.r.labels.get(e["label"], Label(e["label"]))
        out["label"] = {"name": label.name, "color": label.color}
    if "source_number" in e and e["source_number"] in req.r.issues:
        src = req.r.issues[e["source_number"]]
        out["source"] = {
            "type": "issue",
            "issue": src.json(req.base, req.r.full_name, req.r.labels),
        }
    for k in ("body", "rename"):
        if k in e:
            out[k] = e[k]
    if e["event"] == "commented":
        out["user"] = out["actor"]
    return out


R = r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"
ROUTES: list[tuple[str, re.Pattern[str], Handler, str]] = [
    (m, re.compile(p + r"\Z"), h, auth)
    for m, p, h, auth in [
        ("POST", r"/app/installations/(\d+)/access_tokens", access_token, "jwt"),
        ("GET", r"/app/installations", list_installations, "jwt"),
        ("GET", r"/app/installations/(\d+)", get_installation, "jwt"),
        ("GET", r"/installation/repositories", installation_repos, "token"),
        ("GET", r"/rate_limit", rate_limit, "token"),
        ("GET", R, get_repo, "repo"),
        ("GET", R + r"/issues", list_issues, "repo"),
        ("POST", R + r"/issues", create_issue, "repo"),
        ("GET", R + r"/issues/(\d+)", get_issue, "repo"),
        ("PATCH", R + r"/issues/(\d+)", edit_issue, "repo"),
        ("GET", R + r"/issues/(\d+)/labels", issue_labels, "repo"),
        ("POST", R + r"/issues/(\d+)/labels", add_issue_labels, "repo"),
        ("DELETE", R + r"/issues/(\d+)/labels/([^/]+)", remove_issue_label, "repo"),
        ("GET", R + r"/issues/(\d+)/comments", issue_comments, "repo"),
        ("POST", R + r"/issues/(\d+)/comments", create_comment, "repo"),
        ("GET", R + r"/issues/comments/(\d+)", comment, "repo"),
        ("PATCH", R + r"/issues/comments/(\d+)", comment, "repo"),
        ("DELETE", R + r"/issues/comments/(\d+)", comment, "repo"),
        ("GET", R + r"/issues/(\d+)/timeline", timeline, "repo"),
        ("GET", R + r"/labels", repo_labels, "repo"),
        ("POST", R + r"/labels", create_label, "repo"),
        ("GET", R + r"/collaborators/([^/]+)/permission", permission, "repo"),
        ("GET", R + r"/contents/(.+)", contents, "repo"),
    ]
]
