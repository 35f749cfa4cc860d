"""Fake endpoints for collaborator permissions, file contents (with ETags) and issue timelines."""

from __future__ import annotations

import base64
import urllib.parse
from typing import Any

from bot.sandbox.fake_github.model import ROLE_TO_LEGACY, Label, blob_sha, iso, user_json
from bot.sandbox.fake_github.web import Req, Resp, not_found, paginated

JSON_CONTENT_MAX = 1024 * 1024  # a larger file comes with empty content, encoding "none" (GitHub)
RAW = "application/vnd.github.raw"


def permission(req: Req) -> Resp:
    login = req.args[0]
    role = req.r.permissions.get(login, "none")
    body = {
        "permission": ROLE_TO_LEGACY[role],
        "role_name": req.r.custom_roles.get(login, role),
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
    if req.headers.get("accept", "").startswith(RAW):  # the file's bytes, up to 100 MB
        return Resp(200, data, {"etag": etag, "content-type": "application/vnd.github.raw"})
    large = len(data) > JSON_CONTENT_MAX
    body = {
        "type": "file",
        "encoding": "none" if large else "base64",
        "size": len(data),
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "sha": sha,
        "content": "" if large else base64.encodebytes(data).decode(),
        "url": f"{req.base}/repos/{req.r.full_name}/contents/{path}",
        "html_url": f"https://github.com/{req.r.full_name}/blob/main/{path}",
        "download_url": None,
        "git_url": None,
    }
    return Resp(200, body, {"etag": etag})


def contents_root(req: Req) -> Resp:
    """The repository's root folder (`/contents/`, as GitHub lists it)."""
    return _listing(req, "")


def _listing(req: Req, folder: str) -> Resp:
    """A folder's entries (files and subfolders), or 404 when nothing lives under it."""
    prefix, entries = (folder.strip("/") + "/" if folder.strip("/") else ""), {}
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
    issue = req.r.issues.get(int(req.args[0]))
    if issue is None:
        return not_found()
    events = [_event_json(req, e) for e in req.r.timeline.get(issue.number, [])]
    return paginated(req, events)


def _event_json(req: Req, e: dict[str, Any]) -> dict[str, Any]:
    if "raw" in e:  # added with add_raw_event: served as given
        return dict(e["raw"])
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
    if "commit_id" in e:  # referenced: a commit pushed to `commit_repo` (default: this one)
        where = e.get("commit_repo") or req.r.full_name
        out["commit_id"] = e["commit_id"]
        out["commit_url"] = f"{req.base}/repos/{where}/commits/{e['commit_id']}"
    if "label" in e:
        label = req.r.labels.get(e["label"], Label(e["label"]))
        out["label"] = {"name": label.name, "color": label.color}
    if "source_number" in e and e["source_number"] in req.r.issues:
        src = req.r.issues[e["source_number"]]
        out["source"] = {
            "type": "issue",
            "issue": src.json(req.base, req.r),
        }
    if "assignee" in e:
        out["assignee"] = user_json(req.base, e["assignee"])
    for k in ("body", "rename"):
        if k in e:
            out[k] = e[k]
    if e["event"] == "commented":
        out["user"] = out["actor"]
    return out
