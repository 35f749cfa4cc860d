"""Serves a FakeGitHub over HTTP on loopback: auth, quotas, faults, rate-limit headers, the log."""

from __future__ import annotations

import email.utils
import json
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from bot.sandbox.fake_github.routes import ROUTES, Req, Resp, not_found
from bot.sandbox.fake_github.state import SECONDARY_MESSAGE, AuthError, FakeGitHub, Logged, Quota


def _rate_headers(q: Quota | None) -> dict[str, str]:
    if q is None:
        return {}
    return {
        "x-ratelimit-limit": str(q.limit),
        "x-ratelimit-remaining": str(q.remaining),
        "x-ratelimit-reset": str(int(q.reset_at)),
        "x-ratelimit-used": str(q.used),
        "x-ratelimit-resource": "core",
    }


DOCS = "https://docs.github.com/rest"
ARCHIVED_MESSAGE = "Repository was archived so is read-only."


def _error(status: int, message: str, **headers: str) -> Resp:
    return Resp(status, {"message": message, "documentation_url": DOCS}, headers)


def _bearer(headers: dict[str, str]) -> str | None:
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() in ("token", "bearer") and token.strip() else None


def dispatch(state: FakeGitHub, req: Req) -> Resp:
    """Answer one request as GitHub would, including faults and rate limits."""
    query = urllib.parse.urlencode(req.query)
    where = f"{req.path}?{query}" if query else req.path
    time.sleep(state.delay_for(where))  # a slow endpoint (state.slow); the server is threaded
    fault = state.take_fault(where)
    if fault is not None:
        if fault.secondary:
            after = {} if fault.retry_after is None else {"retry-after": str(fault.retry_after)}
            return _error(403, SECONDARY_MESSAGE, **after)
        if fault.too_quick:
            said = {"resource": "IssueComment", "code": "unprocessable", "field": "data"}
            errors = [{**said, "message": "was submitted too quickly"}]
            return Resp(
                422,
                {"message": "Validation Failed", "errors": errors, "documentation_url": DOCS},
                {},
            )
        return _error(fault.status, "Server Error" if fault.status >= 500 else "Fault")
    moved = _moved(state, req)
    if moved is not None:
        return moved
    for method, pattern, handler, auth in ROUTES:
        m = pattern.match(req.path)
        if m is None or method != req.method:
            continue
        try:
            return _authorized(state, req, m, handler, auth)
        except AuthError as e:
            return _error(e.status, e.message)
    return not_found()


def _moved(state: FakeGitHub, req: Req) -> Resp | None:
    """A transferred issue: its old address answers 301 to its new one, whatever the method
    (by the repository's name or its id). A renamed or transferred repository: its old name
    redirects (301 for GET and HEAD, 307 for writes, as GitHub does) to /repositories/<id>/...,
    and that path serves it (rewritten in place to today's name)."""
    by_id = re.match(r"/repositories/(\d+)(/.*)?\Z", req.path)
    if by_id is not None:
        found = state.repo_by_id(int(by_id.group(1)))
        if found is None:
            return not_found()
        req.path = f"/repos/{found.full_name}{by_id.group(2) or ''}"
    old = re.match(r"/repos/([^/]+/[^/]+)(/.*)?\Z", req.path)
    if old is None:
        return None
    issue = re.match(r"/issues/(\d+)(/.*)?\Z", old.group(2) or "")
    gone = state.transferred.get((old.group(1), int(issue.group(1)))) if issue else None
    if issue is not None and gone is not None:  # a transferred issue: 301 to every method
        where = f"{req.base}/repositories/{gone[0]}/issues/{gone[1]}{issue.group(2) or ''}"
        body = {"message": "Moved Permanently", "url": where, "documentation_url": DOCS}
        return Resp(301, body, {"location": where})
    if by_id is not None or old.group(1) not in state.moved:
        return None
    repo = state.repos[state.moved[old.group(1)]]
    query = urllib.parse.urlencode(req.query)
    where = f"{req.base}/repositories/{repo.id}{old.group(2) or ''}" + (
        f"?{query}" if query else ""
    )
    status = 301 if req.method in ("GET", "HEAD") else 307
    body = {"message": "Moved Permanently", "url": where, "documentation_url": DOCS}
    return Resp(status, body, {"location": where})


def _authorized(state: FakeGitHub, req: Req, m: Any, handler: Any, auth: str) -> Resp:
    token = _bearer(req.headers)
    if token is None:
        return _error(401, "Requires authentication")
    if auth == "jwt":
        state.verify_jwt(token)
        req.args = m.groups()
        with state.lock:
            return handler(req)  # type: ignore[no-any-return]
    req.installation = state.installation_for(token)
    req.args = m.groups()
    if auth == "repo":
        full = f"{m.group('owner')}/{m.group('name')}"
        if not state.can_see(req.installation, full):
            return not_found()
        req.repo, req.args = state.repos[full], m.groups()[2:]
        if req.repo.archived and req.method not in ("GET", "HEAD"):
            return _error(403, ARCHIVED_MESSAGE)
    return _charged(state, req, handler)


def _charged(state: FakeGitHub, req: Req, handler: Any) -> Resp:
    assert req.installation is not None
    q = state.quota(req.installation)
    if q.remaining <= 0:
        message = f"API rate limit exceeded for installation ID {req.installation}."
        return Resp(403, {"message": message}, _rate_headers(q))
    with state.lock:
        resp: Resp = handler(req)
    if not resp.free:
        state.charge(req.installation)
    resp.headers.update(_rate_headers(state.quota(req.installation)))
    return resp


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once: no 40 ms delayed-ACK stalls
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header, on the fake's clock (the one its rate-limit resets are on)."""
        return email.utils.formatdate(
            self.server.state.now() if timestamp is None else timestamp, usegmt=True
        )

    def _handle(self) -> None:
        state = self.server.state
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            self._send(_error(400, "Problems parsing JSON"))
            return
        req = Req(
            method=self.command,
            path=url.path,
            query=dict(urllib.parse.parse_qsl(url.query)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            base=f"http://{self.headers.get('host', self.server.host_port)}",
            state=state,
        )
        try:
            resp = dispatch(state, req)
        except Exception as e:  # a bug in the fake should read as a 500, not a hang
            resp = _error(500, f"fake github error: {e!r}")
        state.record(
            Logged(self.command, url.path, resp.status, state.now(), req.installation, url.query)
        )
        self._send(resp)

    def _send(self, resp: Resp) -> None:
        raw = isinstance(resp.body, bytes)  # a raw media type's answer, sent as it is
        data = resp.body if raw else b"" if resp.body is None else json.dumps(resp.body).encode()
        headers = {"content-type": "application/json; charset=utf-8", **resp.headers}
        self.send_response(resp.status)
        self.send_header("content-type", headers.pop("content-type"))
        self.send_header("content-length", str(len(data)))
        self.send_header("x-github-request-id", "FAKE")
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if resp.status not in (204, 304):
            self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(self, state: FakeGitHub) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state
        self.host_port = f"127.0.0.1:{self.server_address[1]}"


class FakeGitHubServer:
    """A running fake: `.url`, `.state`, `.stop()`; also a context manager."""

    def __init__(self, state: FakeGitHub, private_key_pem: str | None = None) -> None:
        self.state = state
        self.private_key_pem = private_key_pem
        self._server = _Server(state)
        self.url = f"http://{self._server.host_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def app_id(self) -> int:
        return self.state.app_id

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeGitHubServer:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_fake_github(
    app_id: int, public_key_pem: str, private_key_pem: str | None = None, **state_kw: Any
) -> FakeGitHubServer:
    """Start a fake GitHub on a free loopback port with a fresh state."""
    return FakeGitHubServer(FakeGitHub(app_id, public_key_pem, **state_kw), private_key_pem)
