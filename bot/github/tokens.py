"""Installation access tokens: minted through the App, cached per installation until near expiry."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: float  # epoch seconds


Mint = Callable[[int], tuple[str, datetime]]


class TokenCache:
    """Thread-safe: one mint per installation at a time; reuse until `margin_s` before expiry."""

    def __init__(self, mint: Mint, margin_s: float, clock: Callable[[], float] = time.time) -> None:
        self._mint, self._margin, self._clock = mint, margin_s, clock
        self._tokens: dict[int, Token] = {}
        self._locks: dict[int, threading.Lock] = {}
        self._guard = threading.Lock()
        self.minted = 0

    def _lock(self, installation_id: int) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(installation_id, threading.Lock())

    def get(self, installation_id: int) -> Token:
        with self._lock(installation_id):
            token = self._tokens.get(installation_id)
            if token is None or token.expires_at - self._margin <= self._clock():
                value, expires = self._mint(installation_id)
                if expires.tzinfo is None:  # GitHub's times are UTC
                    expires = expires.replace(tzinfo=UTC)
                token = Token(value, expires.timestamp())
                self._tokens[installation_id] = token
                self.minted += 1
            return token

    def forget(self, installation_id: int) -> None:
        """Drop a token GitHub refused (revoked, or the installation was re-created)."""
        with self._lock(installation_id):
            self._tokens.pop(installation_id, None)
