"""Load client for bench/webhook.py, run as its own process.

HTTP/1.1 over raw asyncio streams with keep-alive and pre-signed requests: a general HTTP client
spent more CPU per request than the server under test, so it measured itself. Two modes:

- closed: C connections, each sends its next request when the last answer arrives (max rate);
- open: C connections share a fixed offered rate; each request has a due time and its latency
  counts from then, so a slow server cannot hide queueing (no coordinated omission).

    python bench/_webhook_client.py URL N C SECRET [closed | open RATE]
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from urllib.parse import urlsplit

from bot.webhook.signature import sign


def requests(n: int, host: str, path: str, secret: bytes) -> list[bytes]:
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
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"X-GitHub-Event: issues\r\nX-GitHub-Delivery: {uuid.uuid4()}\r\n"
            f"X-Hub-Signature-256: {sign(secret, body)}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        out.append(head.encode() + body)
    return out


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, req: bytes) -> int:
    writer.write(req)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status


async def run(url: str, n: int, conc: int, secret: bytes, rate: float | None) -> dict[str, float]:
    u = urlsplit(url)
    host, port = u.hostname or "127.0.0.1", u.port or 80
    work = requests(n, f"{host}:{port}", u.path, secret)
    lat: list[float] = []
    errors = 0
    start = time.perf_counter() + 0.2  # every connection is open before the first due time

    async def one(k: int) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, port)
        await asyncio.sleep(max(0.0, start - time.perf_counter()))
        for i in range(k, n, conc):
            due = start + i / rate if rate else time.perf_counter()
            if rate:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
            status = await exchange(reader, writer, work[i])
            lat.append(time.perf_counter() - due)
            errors += status >= 300
        writer.close()

    await asyncio.gather(*(one(k) for k in range(conc)))
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
    mode = sys.argv[5] if len(sys.argv) > 5 else "closed"
    rate = float(sys.argv[6]) if mode == "open" else None
    print(json.dumps(asyncio.run(run(url, n, conc, secret, rate))))
