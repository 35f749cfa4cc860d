"""The FastAPI application: /webhook, /healthz, /metrics, and the dashboard when present."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response

from bot.dashboard.router import add_signin_redirect, make_dashboard_router
from bot.llm.metrics import render_metrics
from bot.ports import Enqueue
from bot.settings import Settings
from bot.store import Store
from bot.webhook import intake, signature
from bot.webhook.batcher import IntakeBatcher

log = logging.getLogger(__name__)


class Edge:
    """The web process's collaborators: one store connection (guarded) and the intake batcher."""

    def __init__(self, settings: Settings, store: Store, enqueue: Enqueue) -> None:
        self.settings, self.store = settings, store
        self.lock = threading.Lock()
        self.batcher = IntakeBatcher(store, enqueue, self.lock)
        secret = settings.webhook_secret
        self.secret = secret.get_secret_value().encode() if secret else None

    async def accept(self, d: intake.Delivery, raw: bytes) -> tuple[int, dict[str, Any]]:
        """Record, then enqueue, together with whatever else arrived meanwhile (batcher.py)."""
        ignored = d.event not in intake.HANDLED_EVENTS or intake.is_own_event(
            d, self.settings.bot_login
        )
        return await self.batcher.submit(d, raw, ignored=ignored)


async def get_edge(request: Request) -> Edge:
    """Async on purpose: FastAPI runs a plain `def` dependency in a thread, a hop per request."""
    edge: Edge = request.app.state.edge
    return edge


EdgeDep = Annotated[Edge, Depends(get_edge)]


WEBHOOK_HEADERS = [
    {"name": name, "in": "header", "required": False, "schema": {"type": "string"}}
    for name in ("X-GitHub-Event", "X-GitHub-Delivery", "X-Hub-Signature-256")
]


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


async def _read_limited(request: Request, limit: int) -> bytes | None:
    """The raw body, or None as soon as it grows past limit (never buffered whole)."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(
    settings: Settings, store: Store, enqueue: Enqueue, *, broker_ok: Any = None
) -> FastAPI:
    """Build the app. Nothing is read from the environment here: settings come in."""
    edge = Edge(settings, store, enqueue)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        edge.batcher.close()  # answers what is in flight, then stops the intake thread

    app = FastAPI(title="smolbot", version="0.1.0", lifespan=lifespan)
    app.state.edge = edge

    @app.post("/webhook", status_code=202, openapi_extra={"parameters": WEBHOOK_HEADERS})
    async def webhook(request: Request) -> Response:
        # headers read directly, not through dependency injection: the hottest route pays
        # nothing for what it does not use (they are still documented, in WEBHOOK_HEADERS)
        headers = request.headers
        x_github_event = headers.get("x-github-event")
        x_github_delivery = headers.get("x-github-delivery")
        x_hub_signature_256 = headers.get("x-hub-signature-256")
        if edge.secret is None:
            return _error(
                503, "SMOLBOT_WEBHOOK_SECRET is not set; the webhook refuses unsigned deliveries"
            )
        raw = await _read_limited(request, edge.settings.max_body_bytes)
        if raw is None:
            return _error(413, f"body larger than {edge.settings.max_body_bytes} bytes")
        if not signature.verify(edge.secret, raw, x_hub_signature_256):
            return _error(401, "missing or invalid X-Hub-Signature-256")
        if not x_github_event or not x_github_delivery or len(x_github_delivery) > 200:
            return _error(400, "missing X-GitHub-Event or X-GitHub-Delivery header")
        try:
            payload = intake.parse_body(raw)
        except intake.BadPayload as err:
            return _error(400, str(err))
        if x_github_event == "ping":
            return JSONResponse({"ok": True, "zen": payload.get("zen")}, status_code=200)
        d = intake.describe(x_github_delivery, x_github_event, payload)
        try:
            status, body = await edge.accept(d, raw)
        except Exception:  # the store is unreachable: say so; GitHub can redeliver the same id
            log.exception("delivery %s not recorded", d.id)
            return _error(503, "store unavailable; redeliver this delivery when it is back")
        return JSONResponse(body, status_code=status)

    @app.get("/healthz")
    def healthz(edge: EdgeDep) -> Response:
        checks: dict[str, str] = {}
        try:
            with edge.lock:
                edge.store.ping()
            checks["store"] = "ok"
        except Exception as err:  # a health check reports, it does not raise
            checks["store"] = f"error: {err}"
        if broker_ok is not None:
            ok, detail = broker_ok()
            checks["broker"] = "ok" if ok else f"error: {detail}"
        healthy = all(v == "ok" for v in checks.values())
        return JSONResponse({"ok": healthy, **checks}, status_code=200 if healthy else 503)

    @app.get("/metrics")
    def metrics(edge: EdgeDep) -> Response:
        with edge.lock:
            counts = edge.store.delivery_counts()
        lines = ["# TYPE smolbot_deliveries gauge"]
        lines += [f'smolbot_deliveries{{status="{s}"}} {n}' for s, n in sorted(counts.items())]
        text = "\n".join(lines) + "\n"
        with edge.lock:
            extra = render_metrics(edge.store)
        return Response(text.encode() + extra, media_type="text/plain; version=0.0.4")

    app.include_router(make_dashboard_router(settings, store))
    add_signin_redirect(app)  # an unsigned-in page visit is a redirect to /login, not a 500
    return app
