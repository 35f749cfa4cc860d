"""The dashboard's routes: sign-in, overview, digests, audit log and model statistics (HTML + JSON)."""

# no `from __future__ import annotations`: FastAPI must see the local Annotated aliases below
import math
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from bot.dashboard import queries
from bot.dashboard.auth import (
    COOKIE,
    CROSS_SITE,
    HTTPS_PROBE,
    SESSION_S,
    TOKEN_USER,
    LoginThrottle,
    User,
    from_this_site,
    read_session,
    sign_session,
    token_ok,
)
from bot.dashboard.charts import line_chart
from bot.dashboard.filters import BadFilter, audit_rows, audit_url, before_id, issue_number
from bot.settings import Settings
from bot.store import Store

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.filters["utc"] = lambda ts: datetime.fromtimestamp(float(ts), UTC).strftime(
    "%Y-%m-%d %H:%M"
)
Page = Annotated[int, Query(ge=1, le=10**9)]  # the overview's repositories table: a page, from 1
NO_TOKEN = "Sign-in is off: set SMOLBOT_DASHBOARD_TOKEN and restart smolbot."
BAD_TOKEN = "That token is not right; it is the value of SMOLBOT_DASHBOARD_TOKEN."
TOO_MANY = "Too many wrong tokens from this address: try again in {seconds} s."
NEEDS_HTTPS = (
    "The dashboard needs HTTPS in production (SMOLBOT_ENV=production): this browser is on plain"
    " http, where it drops the Secure session cookie, so no sign-in would last. Put the dashboard"
    " behind a TLS proxy and set SMOLBOT_TRUSTED_PROXIES to the proxy's address."
)


# Every dashboard answer: no other site may show a page in a frame (a page of its own laid over
# the Sign out button or a filter form, clicked through); no sniffing a JSON answer into HTML.
PAGE_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class _FramedNowhere(APIRoute):
    """A dashboard route whose answers carry PAGE_HEADERS (errors included: the login page is
    shown for a refused sign-in). The webhook's route is not one: GitHub needs none of them."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_headers(request: Request) -> Response:
            try:
                response = await handler(request)
            except HTTPException as err:
                err.headers = {**PAGE_HEADERS, **(err.headers or {})}
                raise
            response.headers.update(PAGE_HEADERS)
            return response

        return with_headers


class SignInRequired(Exception):
    """Raised by the HTML dependency; the app's handler turns it into a redirect to /login."""


def _token(settings: Settings) -> str | None:
    return settings.dashboard_token.get_secret_value() if settings.dashboard_token else None


def make_dashboard_router(
    settings: Settings,
    store: Store,
    lock: AbstractContextManager[Any] | None = None,
    *,
    throttle: LoginThrottle | None = None,
    now: Callable[[], datetime] | None = None,
) -> APIRouter:
    """All dashboard pages. Mount with app.include_router(router) and add_signin_redirect(app).

    `store` should be a connection of the dashboard's own (the web app opens one: see
    bot.webhook.app), `lock` whatever else uses it; each request reads under the lock.
    `throttle` counts wrong sign-in tokens per client address (a fresh one by default);
    `now` is the clock the first digests' slots are read against (tests set it).
    """
    router = APIRouter(route_class=_FramedNowhere)
    guard = lock or threading.Lock()
    failures = throttle if throttle is not None else LoginThrottle()  # it has a len()
    clock = now or (lambda: datetime.now(UTC))

    @contextmanager
    def reading() -> Iterator[Store]:
        with guard:  # sqlite-utils' query() opens a savepoint: one thread at a time
            yield store

    def signed_in(request: Request) -> User | None:
        user = read_session(request.cookies.get(COOKIE), _token(settings))
        if user is None:
            return None
        with reading() as db:
            return None if db.signed_out(user.session) else user

    def page_user(request: Request) -> User:
        user = signed_in(request)
        if user is None:
            raise SignInRequired()
        return user

    def api_user(request: Request) -> User:
        user = signed_in(request)
        if user is None:
            raise HTTPException(status_code=401, detail="sign in at /login first")
        return user

    PageUser = Annotated[User, Depends(page_user)]
    ApiUser = Annotated[User, Depends(api_user)]

    def render(request: Request, name: str, user: User | None, **ctx: Any) -> HTMLResponse:
        return TEMPLATES.TemplateResponse(request, name, {"user": user, **ctx})

    def probed(response: HTMLResponse) -> HTMLResponse:
        """The login page, with the HTTPS probe cookie in production (see plain_http)."""
        if settings.env == "production":
            response.set_cookie(
                HTTPS_PROBE, "1", max_age=SESSION_S, path="/login", httponly=True,
                samesite="lax", secure=True,
            )  # fmt: skip
        return response

    def refused(
        request: Request, note: str, status: int, headers: dict[str, str] | None = None
    ) -> HTMLResponse:
        context = {"user": None, "error": note}
        return probed(
            TEMPLATES.TemplateResponse(
                request, "login.html", context, status_code=status, headers=headers
            )
        )

    def secure(request: Request) -> bool:
        # behind a TLS-terminating proxy not in SMOLBOT_TRUSTED_PROXIES the app sees http
        # (uvicorn trusts only those addresses' X-Forwarded-Proto): in production the cookie is
        # Secure regardless
        return settings.env == "production" or request.url.scheme == "https"

    def plain_http(request: Request) -> bool:
        """A production sign-in from a browser on plain http: it would drop the Secure session
        cookie and land back on /login without a word. Not so when the app sees https (a
        trusted proxy's X-Forwarded-Proto counts), or when the browser sent back the Secure
        probe the login page set (it does so only over HTTPS: TLS ended at a proxy not trusted)."""
        if settings.env != "production" or request.url.scheme == "https":
            return False
        return HTTPS_PROBE not in request.cookies

    @router.get("/login", response_class=HTMLResponse)
    def login_form(request: Request) -> HTMLResponse:
        note = None if _token(settings) else NO_TOKEN
        return probed(render(request, "login.html", None, error=note))

    @router.post("/login", response_model=None)
    def login(request: Request, token: Annotated[str, Form()] = "") -> Response:
        if not _token(settings):
            return refused(request, NO_TOKEN, 401)
        if plain_http(request):
            return refused(request, NEEDS_HTTPS, 403)
        # uvicorn gives the address a trusted proxy (127.0.0.1 by default) forwarded
        client = request.client.host if request.client else ""
        wait = failures.wait_s(client)
        if wait > 0:  # even the right token waits: else its answer would tell a guess apart
            seconds = max(math.ceil(wait), 1)
            note = TOO_MANY.format(seconds=seconds)
            return refused(request, note, 429, {"Retry-After": str(seconds)})
        if not token_ok(token, _token(settings)):
            failures.failed(client)
            return refused(request, BAD_TOKEN, 401)
        failures.succeeded(client)
        response = RedirectResponse("/", status_code=303)
        cookie = sign_session(TOKEN_USER, token)
        response.set_cookie(
            COOKIE, cookie, max_age=SESSION_S, httponly=True, samesite="lax", secure=secure(request)
        )
        return response

    @router.post("/logout")
    def logout(request: Request) -> RedirectResponse:
        if not from_this_site(request.headers, request.headers.get("host", "")):
            raise HTTPException(status_code=403, detail=CROSS_SITE)
        user = read_session(request.cookies.get(COOKIE), _token(settings))
        if user is not None:  # a copy of the cookie kept elsewhere is refused from now on too
            with reading() as db:
                db.sign_out(user.session, user.expires)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, httponly=True, samesite="lax", secure=secure(request))
        return response

    @router.get("/", response_class=HTMLResponse)
    def overview(request: Request, user: PageUser, page: Page = 1) -> HTMLResponse:
        with reading() as db:
            data = _overview(db, user, clock(), page)
        accounts = {i["id"]: i for i in data["installations"]}  # one look-up per repository
        return render(request, "overview.html", user, **data, accounts=accounts)

    @router.get("/api/overview")
    def overview_json(user: ApiUser, page: Page = 1) -> dict[str, Any]:
        """`repositories`: one page of them (`repositories_page` of `repositories_pages`)."""
        with reading() as db:
            return _overview(db, user, clock(), page)

    @router.get("/digests/{owner}/{name}/{week}", response_class=HTMLResponse)
    def digest_page(
        request: Request, owner: str, name: str, week: str, user: PageUser
    ) -> HTMLResponse:
        repo = f"{owner}/{name}"
        with reading() as db:
            row = queries.digest(db, repo, week) if _can_see(db, user, repo) else None
        if row is None:
            raise HTTPException(status_code=404, detail=f"no digest for {repo} {week}")
        return render(request, "digest.html", user, digest=row)

    @router.get("/audit", response_class=HTMLResponse)
    def audit_page(
        request: Request,
        user: PageUser,
        repo: str = "",
        issue: str = "",
        outcome: str = "",
        before: str = "",
    ) -> HTMLResponse:
        try:
            number, below, error = issue_number(issue), before_id(before), None
        except BadFilter as err:  # the page says so, with the filters to correct
            number, below, error = None, None, str(err)
        with reading() as db:
            rows, next_before = (
                ([], None) if error else audit_rows(db, user, repo, number, outcome, below)
            )
            repos = [r["full_name"] for r in queries.visible_repos(db, user)]
            outcomes = queries.outcomes(db, outcome)
        filters = {"repo": repo, "issue": issue, "outcome": outcome}
        context = {
            "user": user,
            "rows": rows,
            "repos": repos,
            "outcomes": outcomes,
            "filters": filters,
            "error": error,
            "newest_url": audit_url(filters) if before else None,
            "older_url": audit_url(filters, next_before) if next_before else None,
            "page_rows": queries.AUDIT_LIMIT,
        }
        status = 422 if error else 200
        return TEMPLATES.TemplateResponse(request, "audit.html", context, status_code=status)

    @router.get("/api/audit")
    def audit_json(
        user: ApiUser, repo: str = "", issue: str = "", outcome: str = "", before: str = ""
    ) -> dict[str, Any]:
        """A page of rows, newest first; `next_before`: the `before` of the next (older) page,
        None on the last."""
        try:
            number, below = issue_number(issue), before_id(before)
        except BadFilter as err:
            raise HTTPException(status_code=422, detail=str(err)) from None
        with reading() as db:
            rows, next_before = audit_rows(db, user, repo, number, outcome, below)
        return {"rows": rows, "next_before": next_before}

    @router.get("/models", response_class=HTMLResponse)
    def models_page(request: Request, user: PageUser) -> HTMLResponse:
        now = clock()
        with reading() as db:
            days = queries.model_days(db, now)
        window = [f"{d:%Y-%m-%d}" for d in queries.window(now)]
        charts = _charts(days, window)
        return render(request, "models.html", user, days=days, charts=charts, window=window)

    @router.get("/api/models")
    def models_json(user: ApiUser) -> dict[str, Any]:
        """The days of the last 30 (UTC) with model calls, oldest first."""
        with reading() as db:
            return {"days": queries.model_days(db, clock())}

    return router


def add_signin_redirect(app: Any) -> None:
    """Let the app answer SignInRequired with a redirect to /login (HTML pages only)."""

    async def _redirect(request: Request, exc: Exception) -> Response:
        return RedirectResponse("/login", status_code=303)

    app.add_exception_handler(SignInRequired, _redirect)


def _can_see(store: Store, user: User, repo: str) -> bool:
    return repo in {r["full_name"] for r in queries.visible_repos(store, user)}


def _overview(store: Store, user: User, now: datetime, page: int = 1) -> dict[str, Any]:
    """The overview: TOP_ROWS top issues in all (the repositories whose newest digest scores
    highest, `top_more_repositories` more have a digest) and one page of the repositories, each
    with its newest digest's week; the JSON of no other digest is read (10,000 repositories' took
    seconds, and the page with a row each was 6 MB)."""
    repos = queries.visible_repos(store, user)
    weeks = queries.newest_weeks(store, user)
    digests = queries.latest_digests(store, user)
    installations = queries.installations(store, user)
    suspended = {int(i["id"]) for i in installations if i.get("suspended")}
    first, more = queries.first_digests(store, repos, suspended, now, have=set(weeks))
    top = queries.current_top(
        queries.newest_digests(store, user, queries.TOP_ROWS), repositories=len(weeks)
    )
    pages = max(1, math.ceil(len(repos) / queries.REPOS_PAGE))
    page = min(page, pages)
    start = (page - 1) * queries.REPOS_PAGE
    shown = [
        dict(r, newest_week=weeks.get(r["full_name"]))
        for r in repos[start : start + queries.REPOS_PAGE]
    ]
    return {
        "installations": installations,
        "repositories": shown,
        "repositories_total": len(repos),
        "repositories_first": start + 1 if shown else 0,
        "repositories_page": page,
        "repositories_pages": pages,
        "top": top,
        "top_more_repositories": len(weeks) - len({t["repo"] for t in top}),
        "digests": [{k: v for k, v in d.items() if k != "data"} for d in digests],
        "first_digests": first,  # repositories with no digest yet: when the first one is due
        "first_digests_more": more,
    }


def _charts(days: list[dict[str, Any]], window: list[str]) -> list[str]:
    """The three charts over every day of the window: a day without calls is a gap."""
    by_day = {d["day"]: d for d in days}

    def series(key: str, scale: float = 1.0) -> list[tuple[str, float | None]]:
        values = {day: round(float(d[key] or 0) * scale, 1) for day, d in by_day.items()}
        return [(day, values.get(day)) for day in window]

    return [
        line_chart(series("latency_ms"), "Mean latency per day", " ms"),
        line_chart(series("cache_rate", 100), "Cache hit rate per day", " %", 100),
        line_chart(series("escalation_share", 100), "Escalation share per day", " %", 100),
    ]
