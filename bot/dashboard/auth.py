"""Dashboard sign-in: the settings token, compared in constant time, and a signed HttpOnly cookie."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass

COOKIE = "smolbot_session"
SESSION_S = 12 * 3600
TOKEN_USER = "token"


@dataclass(frozen=True)
class User:
    """Who is signed in. all_repos: the token user sees every installation."""

    login: str
    all_repos: bool = False
    installations: frozenset[int] = frozenset()


def _key(token: str) -> bytes:
    return hashlib.sha256(f"smolbot-dashboard-session:{token}".encode()).digest()


def token_ok(given: str, expected: str | None) -> bool:
    """Constant-time check of a submitted token; never true when no token is configured."""
    if not expected or not given:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def sign_session(login: str, token: str, now: float | None = None) -> str:
    expires = int((now or time.time()) + SESSION_S)
    payload = base64.urlsafe_b64encode(f"{login}|{expires}".encode()).decode()
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
        login, expires = base64.urlsafe_b64decode(payload.encode()).decode().rsplit("|", 1)
    except (ValueError, UnicodeDecodeError):
        return None
    if int(expires) < (now or time.time()):
        return None
    return User(login, all_repos=login == TOKEN_USER)
