"""Servers for bench/webhook.py: `bare` (a FastAPI endpoint that only reads the body) or `smolbot`."""

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


def smolbot() -> FastAPI:
    from bot.cli.service import _web_app
    from bot.settings import get_settings

    return _web_app(get_settings())  # type: ignore[no-any-return]


if __name__ == "__main__":
    kind, port = sys.argv[1], int(sys.argv[2])
    app = bare() if kind == "bare" else smolbot()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
