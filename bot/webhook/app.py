"""The FastAPI application: /webhook, /healthz, /metrics, and the dashboard when present."""

from __future__ import annotations

import logging
import threading
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from bot.dashboard.router import add_signin_redirect, make_dashboard_router
from bot.llm.metrics import render_metrics
from bot.ports import Enqueue, QueueUnavailable
from bot.settings import Settings
from bot.store import Store
from bot.webhook import intake, signature

log = logging.getLogger(__name__)


class Edge:
    """The web process's collaborators: one store connection (guarded) and the enqueuer."""

    def __init__(self, settings: Settings, store: Store, enqueue: Enqueue) -> None:
        self.settings, self.store, self.enqueue = settings, store, enqueue
        self.lock = threading.Lock()
        secret = settings.webhook_secret
        self.secret = secret.get_secret_value().encode() if secret else None

    def accept(
        self, d: intake.Delivery, payload: dict[str, Any], raw: bytes
    ) -> tuple[int, dict[str, Any]]:
        """Record, then enqueue. Runs in a worker thread: the store and broker calls block."""
        ignored = d.event not in intake.HANDLED_EVENTS or intake.is_own_event(
            d, self.settings.bot_login
        )
        with self.lock:
            new = self.store.record_delivery(
                d.id,
                d.event,
                raw.decode("utf-8", "replace"),
                action=d.action,
                installation_id=d.installation_id,
                repo=d.repo,
                number=d.number,
                status="ignored" if ignored else "received",
            )
        if not new:
            return 200, {"delivery": d.id, "duplicate": True}
        if ignored:
            return 202, {"delivery": d.id, "ignored": True}
        try:
            self.enqueue(d.id, d.event, payload)
        except QueueUnavailable as err:
            log.error(
                "broker unavailable, delivery %s stored for the recovery sweep: %s", d.id, err
            )
            return 202, {
                "delivery": d.id,
                "queued": False,
                "detail": "broker unavailable; stored, the recovery sweep will queue it",
            }
        with self.lock:
            self.store.set_delivery_status(d.id, "queued")
        return 202, {"delivery": d.id, "queued": True}


def get_edge(request: Request) -> Edge:
    edge: Edge = request.app.state.edge
    return edge


EdgeDep = Annotated[Edge, Depends(get_edge)]


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
    app = FastAPI(title="smolbot", version="0.1.0")
    edge = Edge(settings, store, enqueue)
    app.state.edge = edge

    @app.post("/webhook", status_code=202)
    async def webhook(
        request: Request,
        edge: EdgeDep,
        x_github_event: Annotated[str | None, Header()] = None,
        x_github_delivery: Annotated[str | None, Header()] = None,
        x_hub_signature_256: Annotated[str | None, Header()] = None,
    ) -> Response:
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
            status, body = await run_in_threadpool(edge.accept, d, payload, raw)
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
