"""The FastAPI application: /webhook, /healthz, /metrics, and the dashboard when present."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from bot.dashboard.router import add_signin_redirect, make_dashboard_router
from bot.llm.metrics import render_metrics
from bot.ports import Enqueue
from bot.settings import Settings
from bot.store import Store, open_store
from bot.store.store import StoreFileReplaced
from bot.webhook import intake, signature
from bot.webhook.batcher import Answer, IntakeBatcher, NotKept, public_error
from bot.webhook.spool import Spool, SpoolStatus

log = logging.getLogger(__name__)


class Edge:
    """The web process's collaborators: the intake's store connection (guarded by `lock`),
    batcher and spool, and a second connection for the dashboard and /metrics (`reads_lock`)."""

    def __init__(self, settings: Settings, store: Store, enqueue: Enqueue) -> None:
        self.settings, self.store = settings, store
        self.lock = threading.Lock()
        self.spool = Spool(settings.data_dir / "spool", settings.spool_max_bytes)
        self.batcher = IntakeBatcher(store, enqueue, self.lock, self.spool)
        self.reads, self.reads_lock = _read_connection(store, self.lock)
        # the secret, then the one it replaces while a rotation runs: either signs a delivery
        current, previous = settings.webhook_secret, settings.webhook_secret_previous
        self.secrets: list[bytes] = (
            [s.get_secret_value().encode() for s in (current, previous) if s is not None]
            if current is not None
            else []
        )

    async def accept(self, d: intake.Delivery, raw: bytes) -> Answer:
        """Record, then enqueue, together with whatever else arrived meanwhile (batcher.py)."""
        ignored = d.event not in intake.HANDLED_EVENTS or intake.is_own_event(
            d, self.settings.bot_login
        )
        return await self.batcher.submit(d, raw, ignored=ignored)


def _read_connection(store: Store, intake_lock: threading.Lock) -> tuple[Store, threading.Lock]:
    """The dashboard's and /metrics' own connection to the store's database, and its lock.

    On the intake's connection, sqlite-utils' query() opened savepoints in the middle of the
    batcher's transactions: dashboard pages failed, and a delivery that was stored was answered
    503. On a connection of their own, reads neither break intake nor wait for it. The lock is
    still needed: two threads' query() savepoints on one connection interleave the same way.
    An in-memory SQLite store has no file a second connection could open: its reads share the
    intake's connection and lock.
    """
    url = getattr(store.db, "url", None)  # a PostgreSQL store (bot.store.pg.PgDatabase)
    if url is None:
        rows = store.db.execute("pragma database_list").fetchall()
        url = next((str(r[2]) for r in rows if r[1] == "main"), "")
    if not url:
        return store, intake_lock
    return open_store(url, migrate=False), threading.Lock()


async def get_edge(request: Request) -> Edge:
    """Async on purpose: FastAPI runs a plain `def` dependency in a thread, a hop per request."""
    edge: Edge = request.app.state.edge
    return edge


EdgeDep = Annotated[Edge, Depends(get_edge)]


WEBHOOK_HEADERS = [
    {"name": name, "in": "header", "required": False, "schema": {"type": "string"}}
    for name in ("X-GitHub-Event", "X-GitHub-Delivery", "X-Hub-Signature-256")
]
# FastAPI documents only the routes it handles itself; POST /webhook is a plain ASGI endpoint
WEBHOOK_OPENAPI: dict[str, Any] = {
    "summary": "Receive a GitHub webhook delivery",
    "description": "Verify X-Hub-Signature-256, record X-GitHub-Delivery, queue the work.",
    "operationId": "webhook",
    "parameters": WEBHOOK_HEADERS,
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "properties": {"payload": {"type": "string"}}}
            },
        },
    },
    "responses": {
        "200": {"description": "ping answered, or a redelivery of a recorded delivery"},
        "202": {
            "description": "recorded, and queued (or ignored: an event smolbot does not use);"
            " or, the store being unavailable, kept in the local spool until it is back"
        },
        "400": {
            "description": "missing headers, not a JSON object, or text that is not UTF-8 (half"
            " a character)"
        },
        "401": {"description": "missing or invalid signature; nothing recorded"},
        "413": {"description": "body over SMOLBOT_MAX_BODY_BYTES"},
        "415": {"description": "a content type other than JSON or form (payload=<JSON>)"},
        "422": {
            "description": "the store refused this delivery for what it holds (not an outage);"
            " not recorded, and a redelivery is refused the same way"
        },
        "503": {"description": "no webhook secret set, or neither the store nor the spool took it"},
    },
}
_HEADERS = {b"x-github-event": 0, b"x-github-delivery": 1, b"x-hub-signature-256": 2}


def _error(status: int, detail: str) -> Answer:
    return status, {"detail": detail}


class WebhookEndpoint:
    """POST /webhook as a plain ASGI app: verify, record, enqueue, answer.

    Every delivery GitHub sends comes here, so it skips what FastAPI adds to each request of a
    route it handles (a Request object, dependency solving, exit stacks, a Response object). With
    bench/webhook.py's client at 50 connections, three interleaved pairs of runs on a busy machine
    went from about 3,900 to 4,900 deliveries/s.
    The app's middleware still wraps it, so an unexpected error is logged and answered 500.
    """

    def __init__(self, edge: Edge) -> None:
        self.edge = edge

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer = await self.answer(scope, receive)
        if answer is None:  # the client went away before its body arrived
            return
        status, body = answer
        data = _json(body)
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(data))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": data})

    async def answer(self, scope: Scope, receive: Receive) -> Answer | None:
        edge = self.edge
        found: list[str | None] = [None, None, None]
        length = content_type = None
        for name, value in scope["headers"]:
            if name in _HEADERS:
                found[_HEADERS[name]] = value.decode("latin-1")
            elif name == b"content-length":
                length = value
            elif name == b"content-type":
                content_type = value
        event, delivery_id, sig = found
        if not edge.secrets:
            return _error(
                503, "SMOLBOT_WEBHOOK_SECRET is not set; the webhook refuses unsigned deliveries"
            )
        limit = edge.settings.max_body_bytes
        try:
            raw = await _read_limited(receive, length, limit)
        except _Disconnected:
            return None
        if raw is None:
            return _error(413, f"body larger than {limit} bytes")
        signed_with = signature.matching(edge.secrets, raw, sig)
        if signed_with is None:
            _log_refused_signature(sig)
            return _error(401, BAD_SIGNATURE)
        if signed_with:
            _log_previous_secret()
        if not event or not delivery_id:
            return _error(400, "missing X-GitHub-Event or X-GitHub-Delivery header")
        if len(delivery_id) > 200:
            return _error(400, "X-GitHub-Delivery is longer than 200 characters")
        try:  # a form-encoded delivery is stored as the JSON it carries, like a JSON one
            raw = intake.json_body(raw, content_type)
            payload = intake.parse_body(raw)
        except intake.UnsupportedType as err:
            return _error(415, str(err))
        except intake.BadPayload as err:
            return _error(400, str(err))
        if event == "ping":
            return 200, {"ok": True, "zen": payload.get("zen")}
        broken = intake.not_storable(raw, payload)
        if broken is not None:  # the store would refuse it, and the whole batch it came in
            return _error(400, broken)
        d = intake.describe(delivery_id, event, payload)
        lacking = intake.missing_fields(d, payload)
        if lacking and not intake.is_own_event(d, edge.settings.bot_login):
            return _error(
                400,
                f"a {event} event without {', '.join(lacking)}: not what a GitHub App's webhook"
                " sends (a repository or organisation webhook has no installation); not recorded",
            )
        try:
            return await edge.accept(d, raw)
        except NotKept as err:  # neither the store nor the spool has it: GitHub must resend it
            log.error("delivery %s answered 503, neither recorded nor kept: %s", d.id, err)
            return _error(503, f"{err}; {REDELIVER}")
        except Exception:  # a store without a spool (or a bug): say so, GitHub can redeliver
            log.exception("delivery %s not recorded", d.id)
            return _error(503, f"store unavailable; {REDELIVER}")


class _Disconnected(Exception):
    pass


def _json(body: dict[str, Any]) -> bytes:
    """An answer's JSON as UTF-8; escaped as ASCII when it holds text no UTF-8 encoder writes
    (half a character a ping's zen or an error message echoed): it raised, and answered 500."""
    try:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    except UnicodeEncodeError:
        return json.dumps(body, separators=(",", ":")).encode()


REDELIVER = (
    "redeliver this delivery once the cause is gone (GitHub does not by itself: the App's"
    " settings, Advanced, Recent Deliveries)"
)
BAD_SIGNATURE = (
    "missing or invalid X-Hub-Signature-256: the body was not signed with this server's"
    " SMOLBOT_WEBHOOK_SECRET; set it to the webhook secret in the GitHub App's settings"
)
_REFUSED_LOG_EVERY_S = 60.0


class _Tally:
    """Events counted between log lines written at most once every _REFUSED_LOG_EVERY_S."""

    def __init__(self) -> None:
        self.at, self.count = float("-inf"), 0

    def due(self) -> int:
        """Count one; how many to log now (since the last line), or 0: not yet."""
        self.count += 1
        now = time.monotonic()
        if now - self.at < _REFUSED_LOG_EVERY_S:
            return 0
        count, self.at, self.count = self.count, now, 0
        return count


_refused, _previous = _Tally(), _Tally()


def _log_previous_secret() -> None:
    """Once a minute at most: deliveries still signed with SMOLBOT_WEBHOOK_SECRET_PREVIOUS say
    the rotation is not over (GitHub has the old secret still, or sent them before the change)."""
    if count := _previous.due():
        log.info(
            "accepted %d delivery(ies) signed with SMOLBOT_WEBHOOK_SECRET_PREVIOUS; once GitHub"
            " signs with the new secret (the App's settings), unset it",
            count,
        )


def _log_refused_signature(sig: str | None) -> None:
    """A warning at most once a minute (a flood of bad requests must not flood the log), with
    how many were refused since: a wrong secret refuses every delivery and nothing else says so."""
    if count := _refused.due():
        log.warning(
            "refused %d delivery(ies) with %s signature; if GitHub sent them, the App's webhook"
            " secret and SMOLBOT_WEBHOOK_SECRET differ",
            count,
            "no" if not sig else "a wrong",
        )


HEALTH_WAIT_S = 2.0
SPOOL_STUCK_S = 300.0  # replays failing this long while the store answers: the spool cannot drain


def _spool_health(edge: Edge, spool: SpoolStatus) -> str | None:
    """What stops the spool from draining while the store answers, or None: entries moved aside
    (rejected/), or replays failing for over SPOOL_STUCK_S."""
    if spool.rejected:
        return spool.describe_rejected()
    failing = edge.batcher.replay_failing
    if spool.entries and failing and time.time() - failing[0] > SPOOL_STUCK_S:
        return (
            f"{spool.deliveries} spooled deliveries not recorded: the store has refused them for"
            f" {time.time() - failing[0]:.0f} s while it answers its ping ({failing[1]});"
            " the web log says more"
        )
    return None


def _intake_health(edge: Edge) -> str:
    """The intake's health: ok, or its thread hangs on one batch (a store or broker call that
    does not return): every delivery goes into the spool meanwhile, and nothing replays it. The
    store's lock may be free all the while (a publish hangs outside it)."""
    stuck = edge.batcher.stuck_s()
    if stuck <= edge.batcher.wait_s:
        return "ok"
    return (
        f"error: the intake thread has been on one batch for {stuck:.0f} s (a call to"
        f" {edge.batcher.waiting_on()} that does not return); deliveries are kept in the spool"
        " and not recorded until it does: restart the web if it lasts"
    )


def _store_health(edge: Edge) -> str:
    """The store's health: "ok" or what is wrong, without waiting behind an intake that hangs
    on the store (it holds the lock meanwhile)."""
    if not edge.lock.acquire(timeout=HEALTH_WAIT_S):
        stuck = edge.batcher.stuck_s()
        return f"error: no answer; the intake has waited on the store for {stuck:.0f} s"
    try:
        edge.store.ping()
        return "ok"
    except StoreFileReplaced as err:  # its message has the path and pid: for the log only
        edge.batcher.say_replaced(err)
        return f"error: {public_error(err)} (the web log says which file)"
    except Exception as err:  # a health check reports, it does not raise
        return f"error: {err}"
    finally:
        edge.lock.release()


async def _read_limited(receive: Receive, length: bytes | None, limit: int) -> bytes | None:
    """The raw body, or None as soon as it grows past limit (never buffered whole)."""
    if length is not None and length.isdigit() and int(length) > limit:
        return None
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def create_app(
    settings: Settings, store: Store, enqueue: Enqueue, *, broker_ok: Any = None
) -> FastAPI:
    """Build the app. Nothing is read from the environment here: settings come in."""
    edge = Edge(settings, store, enqueue)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        edge.batcher.start()  # replays a spool left by an outage, even if nothing arrives
        yield
        # the read connection stays open: a test client starts the same app's lifespan again
        edge.batcher.close()  # answers what is in flight, then stops the intake thread

    # no /docs or /redoc: FastAPI's pages load their scripts from a CDN, a third party the
    # dashboard's users' browsers would call; /openapi.json (routes, no data) stays
    app = FastAPI(
        title="smolbot", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.edge = edge

    endpoint = WebhookEndpoint(edge)
    # /webhook/ too: Starlette answered it 307 to /webhook with an empty body, which GitHub does
    # not follow (a failed delivery, with nothing said why)
    for path in ("/webhook", "/webhook/"):
        app.router.routes.append(Route(path, endpoint, methods=["POST"], include_in_schema=False))

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
            schema["paths"]["/webhook"] = {"post": WEBHOOK_OPENAPI}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/healthz")
    def healthz(edge: EdgeDep) -> Response:
        checks: dict[str, str] = {"store": _store_health(edge)}
        intake_health = _intake_health(edge)
        if intake_health != "ok":  # said only when wrong: the body stays as it was otherwise
            checks["intake"] = intake_health
        if broker_ok is not None:
            ok, detail = broker_ok()
            checks["broker"] = "ok" if ok else f"error: {detail}"
        spool = edge.spool.status()  # said, but not a failure: kept deliveries are not lost
        stuck = _spool_health(edge, spool) if checks["store"] == "ok" else None
        if stuck is not None:  # unless they will not be recorded by themselves
            checks["spool"] = f"error: {stuck}"
        healthy = all(v == "ok" for v in checks.values())
        extra = {"spool": spool.describe()} if spool.entries and stuck is None else {}
        body = {"ok": healthy, **checks, **extra}
        return JSONResponse(body, status_code=200 if healthy else 503)

    @app.get("/metrics")
    def metrics(edge: EdgeDep) -> Response:
        with edge.reads_lock:  # the dashboard's connection: a scrape never holds up intake
            counts = edge.reads.delivery_counts()
            extra = render_metrics(edge.reads)
        lines = ["# TYPE smolbot_deliveries gauge"]
        lines += [f'smolbot_deliveries{{status="{s}"}} {n}' for s, n in sorted(counts.items())]
        text = "\n".join(lines) + "\n"
        return Response(text.encode() + extra, media_type="text/plain; version=0.0.4")

    app.include_router(make_dashboard_router(settings, edge.reads, edge.reads_lock))
    add_signin_redirect(app)  # an unsigned-in page visit is a redirect to /login, not a 500
    return app
