"""Dashboard sign-in: the settings token, compared in constant time, and a signed HttpOnly cookie."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

COOKIE = "smolbot_session"
SESSION_S = 12 * 3600
# Set Secure by the login page in production: a browser sends it back only over HTTPS, so a
# sign-in that carries it came over HTTPS even when TLS ended at a proxy smolbot does not trust.
HTTPS_PROBE = "smolbot_https"
TOKEN_USER = "token"
FAILURES_ALLOWED = 5  # wrong tokens from one client address within FAILURE_WINDOW_S
FAILURE_WINDOW_S = 60.0
THROTTLE_CLIENTS = 10_000  # addresses remembered at most; the least recently failed go first
CROSS_SITE = (
    "Sign-out refused: the request came from another site's page. Use Sign out at the top of a"
    " dashboard page."
)


@dataclass(frozen=True)
class User:
    """Who is signed in. all_repos: the token user sees every installation. session: the
    cookie's own random id, which sign-out records (see Store.sign_out); expires: when the
    cookie stops being good anyway (seconds since the epoch)."""

    login: str
    all_repos: bool = False
    installations: frozenset[int] = frozenset()
    session: str = ""
    expires: int = 0


def _key(token: str) -> bytes:
    return hashlib.sha256(f"smolbot-dashboard-session:{token}".encode()).digest()


def token_ok(given: str, expected: str | None) -> bool:
    """Constant-time check of a submitted token; never true when no token is configured."""
    if not expected or not given:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def sign_session(login: str, token: str, now: float | None = None) -> str:
    """A cookie for `login`, good for SESSION_S, with a random id of its own: signing out
    records that id, so a copy of the cookie kept elsewhere is refused from then on too."""
    expires = int((now or time.time()) + SESSION_S)
    session = secrets.token_urlsafe(16)
    payload = base64.urlsafe_b64encode(f"{login}|{expires}|{session}".encode()).decode()
    sig = hmac.new(_key(token), payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{sig}"


def read_session(cookie: str | None, token: str | None, now: float | None = None) -> User | None:
    """The signed-in user, or None for a missing, forged or expired cookie."""
    if not cookie or not token or "." not in cookie:
        return None
    payload, sig = cookie.rsplit(".", 1)
    good = hmac.new(_key(token), payload.encode(), hashlib.sha256).hexdigest()
    # as bytes: compare_digest raises TypeError for a str with non-ASCII characters, and a
    # cookie can hold them (a 500 before sign-in)
    if not hmac.compare_digest(sig.encode(), good.encode()):
        return None
    try:
        login, expires, session = base64.urlsafe_b64decode(payload.encode()).decode().split("|")
        until = int(expires)
    except (ValueError, UnicodeDecodeError):  # a cookie from before session ids: sign in again
        return None
    if until < (now or time.time()) or not session:
        return None
    return User(login, all_repos=login == TOKEN_USER, session=session, expires=until)


def from_this_site(headers: Mapping[str, str], host: str) -> bool:
    """Whether a POST that changes the session came from the dashboard's own pages, not another
    site's form. The browser says so in Sec-Fetch-Site; one too old to send it sends Origin,
    checked against the Host it was sent to. With neither it is no browser's (curl, a script):
    nobody to trick."""
    site = headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")  # none: the user's own action (typed, bookmarked)
    origin = headers.get("origin")
    return origin is None or urlsplit(origin).netloc == host


def client_key(client: str) -> str:
    """The address a throttle counts a client by: an IPv6 one by its /64, the block one home or
    one cloud machine gets (a new address of it every 5 guesses was a new client every time,
    and the guesses unlimited); IPv4 and anything else as it is."""
    try:
        ip = ipaddress.ip_address(client)
    except ValueError:
        return client
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(getattr(ip, "ipv4_mapped", None) or ip)


class LoginThrottle:
    """Wrong sign-in tokens per client address, in memory: once `limit` of them fall within
    `window_s`, that address waits until the oldest is `window_s` old (wait_s), whatever it sends;
    a right token forgets the address. Fifty guesses were answered in 0.3 s before."""

    def __init__(
        self,
        limit: int = FAILURES_ALLOWED,
        window_s: float = FAILURE_WINDOW_S,
        max_clients: int = THROTTLE_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit, self.window_s, self.max_clients, self.clock = (
            limit,
            window_s,
            max_clients,
            clock,
        )
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()  # sign-ins are answered on several threads

    def __len__(self) -> int:
        return len(self._failures)

    def wait_s(self, client: str) -> float:
        """Seconds before `client` may try a token again (0.0: now)."""
        client = client_key(client)
        with self._lock:
            times = self._recent(client)
            if times is None or len(times) < self.limit:
                return 0.0
            return max(times[0] + self.window_s - self.clock(), 0.0)

    def failed(self, client: str) -> None:
        client = client_key(client)
        with self._lock:
            times = self._recent(client)
            if times is None:
                times = self._failures[client] = deque(maxlen=self.limit)
            times.append(self.clock())
            self._failures.move_to_end(client)
            while len(self._failures) > self.max_clients:
                self._failures.popitem(last=False)

    def succeeded(self, client: str) -> None:
        client = client_key(client)
        with self._lock:
            self._failures.pop(client, None)

    def _recent(self, client: str) -> deque[float] | None:
        """The client's failures still inside the window (None, and forgotten, if none is)."""
        times = self._failures.get(client)
        if times is None:
            return None
        while times and times[0] <= self.clock() - self.window_s:
            times.popleft()
        if not times:
            del self._failures[client]
            return None
        return times
