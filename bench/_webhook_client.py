"""Load client for bench/webhook.py, run as its own process: N signed deliveries, C at a time."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid

import httpx

from bot.webhook.signature import sign


def payloads(n: int, secret: bytes) -> list[tuple[bytes, dict[str, str]]]:
    out = []
    for i in range(n):
        body = json.dumps(
            {
                "action": "opened",
                "installation": {"id": 1},
                "repository": {"full_name": "bench/repo"},
                "issue": {"number": i + 1, "title": f"Issue {i}", "body": "x" * 600},
                "sender": {"login": "alice", "type": "User"},
            }
        ).encode()
        headers = {
            "X-GitHub-Event": "issues",
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": sign(secret, body),
            "Content-Type": "application/json",
        }
        out.append((body, headers))
    return out


async def run(url: str, n: int, conc: int, secret: bytes) -> dict[str, float]:
    work = payloads(n, secret)
    lat: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=conc, max_keepalive_connections=conc)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        queue: asyncio.Queue[tuple[bytes, dict[str, str]]] = asyncio.Queue()
        for w in work:
            queue.put_nowait(w)

        async def one() -> None:
            nonlocal errors
            while not queue.empty():
                body, headers = queue.get_nowait()
                t = time.perf_counter()
                r = await client.post(url, content=body, headers=headers)
                lat.append(time.perf_counter() - t)
                errors += r.status_code >= 300

        start = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(conc)))
        wall = time.perf_counter() - start
    lat.sort()
    return {
        "n": n,
        "rps": n / wall,
        "p50_ms": lat[len(lat) // 2] * 1000,
        "p99_ms": lat[int(len(lat) * 0.99) - 1] * 1000,
        "errors": errors,
    }


if __name__ == "__main__":
    url, n, conc, secret = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].encode()
    print(json.dumps(asyncio.run(run(url, n, conc, secret))))
