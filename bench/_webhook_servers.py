"""Servers for bench/webhook.py: `bare` (a FastAPI endpoint that only reads the body), `bare-asgi`
(the same as a plain ASGI route in a FastAPI app, mounted as smolbot's /webhook is) or `smolbot`
(what `smolbot web` runs: bot.cli.service.run_web)."""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI, Request


def bare() -> FastAPI:
    app = FastAPI()

    @app.post("/webhook", status_code=202)
    async def webhook(request: Request) -> dict[str, bool]:
        await request.body()
        return {"ok": True}

    return app


def bare_asgi() -> FastAPI:
    from starlette.routing import Route
    from starlette.types import Receive, Scope, Send

    class Webhook:  # an instance, not a function: Starlette then mounts it as ASGI, unwrapped
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            more = True
            while more:
                message = await receive()
                more = message.get("more_body", False)
            body = b'{"ok":true}'
            headers = [(b"content-type", b"application/json"), (b"content-length", b"11")]
            await send({"type": "http.response.start", "status": 202, "headers": headers})
            await send({"type": "http.response.body", "body": body})

    app = FastAPI()
    app.router.routes.append(Route("/webhook", Webhook(), methods=["POST"]))
    return app


if __name__ == "__main__":
    kind, port = sys.argv[1], int(sys.argv[2])
    options = {"log_level": "warning", "access_log": False}
    if kind in ("bare", "bare-asgi"):
        app = bare() if kind == "bare" else bare_asgi()
        uvicorn.run(app, host="127.0.0.1", port=port, **options)
    else:
        from bot.cli.service import run_web
        from bot.settings import get_settings

        run_web(get_settings(), "127.0.0.1", port, **options)
