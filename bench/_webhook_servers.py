"""Servers for bench/webhook.py: `bare` (a FastAPI endpoint that only reads the body) or `smolbot`
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


if __name__ == "__main__":
    kind, port = sys.argv[1], int(sys.argv[2])
    options = {"log_level": "warning", "access_log": False}
    if kind == "bare":
        uvicorn.run(bare(), host="127.0.0.1", port=port, **options)
    else:
        from bot.cli.service import run_web
        from bot.settings import get_settings

        run_web(get_settings(), "127.0.0.1", port, **options)
