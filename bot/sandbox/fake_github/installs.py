"""Fake endpoints for the App and its installations: tokens, installations, repositories, quota."""

from __future__ import annotations

from typing import Any

from bot.sandbox.fake_github.model import iso, user_json
from bot.sandbox.fake_github.web import Req, Resp, not_found, paginated


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
        "events": ["issues", "issue_comment", "repository"],
        "created_at": iso(0),
        "updated_at": iso(0),
    }


def get_app(req: Req) -> Resp:
    """GET /app as the App: its id and slug (its bot comments as `{slug}[bot]`)."""
    slug = req.state.app_slug
    body = {
        "id": req.state.app_id,
        "slug": slug,
        "name": slug,
        "owner": user_json(req.base, "octo", "Organization"),
        "html_url": f"https://github.com/apps/{slug}",
        "created_at": iso(0),
        "updated_at": iso(0),
        "permissions": {"issues": "write", "contents": "read", "metadata": "read"},
        "events": ["issues", "issue_comment", "repository"],
    }
    return Resp(200, body)


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


def repo_installation(req: Req) -> Resp:
    """GET /repos/{owner}/{name}/installation as the App: the installation that has the
    repository (names matched case aside, as GitHub does), else 404."""
    full = "/".join(req.args).lower()
    for iid, names in sorted(req.state.installations.items()):
        if full in (n.lower() for n in names):
            return Resp(200, _installation_json(req, iid))
    return not_found()


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


def get_repo(req: Req) -> Resp:
    return Resp(200, req.r.json(req.base))
