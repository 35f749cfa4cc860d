"""`smolbot demo`: the whole loop on the embedded defaults, against a fake GitHub on loopback."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bot.samples import load_sample
from bot.settings import Settings, load_settings
from bot.store import Store, open_store
from bot.webhook.signature import sign

Say = Callable[[str], None]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def new_issue_numbers(sample: dict[str, Any]) -> list[int]:
    """Open issues nobody has labelled or answered yet: the demo opens them as new."""
    return [
        i["number"]
        for i in sample["issues"]
        if i["state"] == "open"
        and not i.get("labels")
        and not i.get("comments")
        and "pull_request" not in i
    ]


@contextmanager
def sandbox(base: Settings, workdir: Path) -> Iterator[tuple[Settings, Any, dict[str, Any]]]:
    """A fake GitHub seeded with the sample, and settings for a private data dir pointed at it."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from bot.sandbox.fake_github.server import start_fake_github
    from bot.sandbox.seed import seed_sample

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    sample = load_sample(history=True)
    with start_fake_github(4242, public, private) as fake:
        seed_sample(fake.state, sample, skip=set(new_issue_numbers(sample)))
        settings = load_settings(
            env="development",
            data_dir=workdir,
            # the embedded store and broker in workdir, whatever SMOLBOT_DATABASE_URL and
            # SMOLBOT_BROKER_URL say: the demo's fake installation never reaches a real store,
            # and its worker never takes a real broker's tasks
            database_url=None,
            broker_url=None,
            github_api_url=fake.url,
            app_id=4242,
            private_key=private,
            webhook_secret=uuid.uuid4().hex,
            write_interval_s=0,
            model_path=str(base.effective_model_path),
            bot_login=sample["bot_login"],
            large_provider=base.large_provider,
            large_model=base.large_model,
            large_base_url=base.large_base_url,
            large_api_key=base.large_api_key,
        )
        yield settings, fake, sample


def child_env(settings: Settings) -> dict[str, str]:
    """The environment of a process the demo starts (its worker, `smolbot models eval`): these
    settings only. to_env leaves out what is unset, so the parent's SMOLBOT_DATABASE_URL would
    come back through os.environ; started in the data dir, it reads no .env file either."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("SMOLBOT_")}
    return {**inherited, **settings.to_env()}


class Stack:
    """The real service on loopback: uvicorn web process in a thread, a worker child process."""

    def __init__(self, settings: Settings, log: Path) -> None:
        import uvicorn

        from bot.cli.service import _web_app

        self.settings, self.port = settings, free_port()
        config = uvicorn.Config(
            _web_app(settings), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        cmd = [sys.executable, "-m", "bot.cli", "worker", "--pool", "solo", "--beat"]
        self.worker = subprocess.Popen(
            cmd,
            env=child_env(settings),
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            cwd=settings.data_dir,
        )
        self.thread.start()
        while not self.server.started:
            time.sleep(0.05)

    def deliver(self, event: str, payload: dict[str, Any]) -> tuple[str, int]:
        body = json.dumps(payload).encode()
        secret = self.settings.webhook_secret.get_secret_value().encode()  # type: ignore[union-attr]
        delivery = str(uuid.uuid4())
        headers = {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": sign(secret, body),
            "Content-Type": "application/json",
        }
        r = httpx.post(
            f"http://127.0.0.1:{self.port}/webhook", content=body, headers=headers, timeout=10
        )
        return delivery, r.status_code

    def close(self) -> None:
        self.worker.terminate()
        try:
            self.worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.worker.kill()
        self.server.should_exit = True
        self.thread.join(timeout=10)


def wait_done(store: Store, ids: list[str], timeout: float, say: Say) -> dict[str, str]:
    deadline, last = time.monotonic() + timeout, -1
    while True:
        status = {d: (store.delivery(d) or {}).get("status", "?") for d in ids}
        done = sum(s in ("done", "dead", "ignored") for s in status.values())
        if done != last:
            say(f"  {done}/{len(ids)} deliveries processed")
            last = done
        if done == len(ids) or time.monotonic() > deadline:
            return status
        time.sleep(0.5)


def run_demo(base: Settings, say: Say, keep: Path | None = None, timeout: float = 600) -> int:
    workdir = keep or Path(tempfile.mkdtemp(prefix="smolbot-demo-"))
    from bot.demo_steps import STEPS

    with sandbox(base, workdir) as (settings, fake, sample):
        say(
            f"fake GitHub at {fake.url}; data dir {workdir}; broker {settings.effective_broker_url}"
        )
        stack = Stack(settings, workdir / "worker.log")
        store = open_store(settings.effective_database_url)
        try:
            for step in STEPS:
                step(stack, store, fake, sample, say, timeout)
        finally:
            stack.close()
    if keep is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0
