"""GitHub webhook signatures: HMAC-SHA256 of the raw body, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

PREFIX = "sha256="


def sign(secret: bytes, body: bytes) -> str:
    return PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, header: str | None) -> bool:
    """True only for a well-formed `sha256=<hex>` header matching the body."""
    return matching([secret], body, header) == 0


def matching(secrets: Sequence[bytes], body: bytes, header: str | None) -> int | None:
    """The index of the secret the body was signed with, or None for none of them.

    Each secret is checked (no early exit): a rotation has two for a while, the new one first
    (SMOLBOT_WEBHOOK_SECRET, then SMOLBOT_WEBHOOK_SECRET_PREVIOUS)."""
    if not header or not header.startswith(PREFIX):
        return None
    given = header.strip().encode("ascii", "replace")
    found = None
    for i, secret in enumerate(secrets):
        if hmac.compare_digest(sign(secret, body).encode(), given) and found is None:
            found = i
    return found
