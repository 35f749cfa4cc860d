"""Request and response records of the fake, and GitHub-style pagination."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.fake_github.model import Repo
from bot.sandbox.fake_github.state import FakeGitHub


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


DOCS_URL = "https://docs.github.com/rest"


def not_found() -> Resp:
    return Resp(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})


def invalid(message: str) -> Resp:
    return Resp(422, {"message": "Validation Failed", "errors": [{"message": message}]})


CURSOR = "Y3Vyc29yOnYyOpK"  # an `after=` cursor's opaque start, then the page it leads to
PAGE_PARAM_REFUSED = (
    "Pagination with the page parameter is not supported for large datasets, please use cursor"
    " based pagination (after/before)"
)


def paginated(req: Req, items: list[Any], key: str | None = None) -> Resp:
    """Slice by page/per_page and add GitHub's Link header (next, last, first, prev). Past the
    state's page_param_cap items, ?page= is refused as GitHub refuses it, and the next link
    carries an `after=` cursor instead."""
    per_page = max(1, min(100, int(req.query.get("per_page", 30))))
    cap = getattr(req.state, "page_param_cap", None)
    after = req.query.get("after", "")
    if after.startswith(CURSOR) and after[len(CURSOR) :].isdigit():
        page = int(after[len(CURSOR) :])
    else:
        page = max(1, int(req.query.get("page", 1)))
        if cap is not None and (page - 1) * per_page >= cap:
            return Resp(422, {"message": PAGE_PARAM_REFUSED, "documentation_url": DOCS_URL})
    last = max(1, -(-len(items) // per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    links = []
    for rel, p in (("prev", page - 1), ("next", page + 1), ("last", last), ("first", 1)):
        if (rel in ("prev", "first") and page > 1) or (rel in ("next", "last") and page < last):
            query = {k: v for k, v in req.query.items() if k not in ("page", "after")}
            if cap is not None and (p - 1) * per_page >= cap:
                query["after"] = f"{CURSOR}{p}"
            else:
                query["page"] = str(p)
            q = urllib.parse.urlencode({**query, "per_page": per_page})
            links.append(f'<{req.base}{req.path}?{q}>; rel="{rel}"')
    headers = {"link": ", ".join(links)} if links else {}
    body: Any = {"total_count": len(items), key: chunk} if key else chunk
    return Resp(200, body, headers)
