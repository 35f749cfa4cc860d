"""What the webhook does with one delivery, as plain functions the route calls."""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

HANDLED_EVENTS = frozenset(
    {
        "issues",
        "issue_comment",
        "installation",
        "installation_repositories",
        "installation_target",  # the account's login changed: its repositories' names with it
        "label",
        "repository",
    }
)
MAX_DEPTH = 64


class BadPayload(ValueError):
    """The body is not a JSON object we can use; the message says why."""


class UnsupportedType(BadPayload):
    """The body comes in a content type a GitHub webhook is not set to (answered 415)."""


@dataclass(frozen=True)
class Delivery:
    id: str
    event: str
    action: str | None
    installation_id: int | None
    repo: str | None
    number: int | None
    sender_login: str
    sender_type: str


# A string, or one left open to the end of the body (possessive, and an open string taken whole:
# otherwise each escaped quote in an unterminated string started a scan to the end, quadratic:
# 6 s for 40 KB, hours at the body limit, on the event loop)
_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+(?:"|\\?\Z)', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")
_DELTA = [0] * 256
_DELTA[ord("{")] = _DELTA[ord("[")] = 1
_DELTA[ord("}")] = _DELTA[ord("]")] = -1


def _depth_ok(raw: bytes) -> bool:
    """Reject absurd nesting before json.loads recurses into it.

    Fewer opening brackets than the limit cannot nest past it (one C count). Otherwise strings
    are cut out and the remaining brackets summed as a running depth, in C loops (regular
    expressions, map, accumulate): a byte-at-a-time Python scan cost 26 us per kilobyte, more than
    the rest of the request, and GitHub's issue payloads run to 20 KB.
    """
    if raw.count(b"{") + raw.count(b"[") <= MAX_DEPTH:
        return True
    brackets = b"".join(_BRACKETS.findall(_STRING.sub(b"", raw)))
    return max(accumulate(map(_DELTA.__getitem__, brackets)), default=0) <= MAX_DEPTH


def json_line(text: str) -> Any:
    """One line of JSON lines from a file or a pipe (`smolbot triage`'s stdin, `backfill --from`),
    refused like a delivery's body when nested past MAX_DEPTH: json.loads would recurse into it
    until a RecursionError ended the whole run. Not JSON: json.JSONDecodeError."""
    if not _depth_ok(text.encode("utf-8", "surrogatepass")):
        raise BadPayload(f"JSON nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except ValueError as err:  # an integer past Python's 4,300 digits: not JSON it can read
        raise json.JSONDecodeError(str(err), text, 0) from None


def not_text(value: Any) -> str | None:
    """Why a JSON line's value is not text the store or stdout can take, or None.

    "\\ud83d" alone (a title a JavaScript exporter cut inside an emoji) is valid JSON, read as
    half a character (a lone surrogate) that no UTF-8 encoder writes.
    """
    half = _half_character(value)
    return None if half is None else f"{half}; remove it or export the text whole"


def _half_character(value: Any) -> str | None:
    """Where `value` holds half a character (a lone surrogate), or None."""
    text = json.dumps(value, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        before = text[max(0, err.start - 30) : err.start].encode("utf-8", "backslashreplace")
        return (
            f"\\u{ord(text[err.start]):04x} after {before.decode()!r} is half of an emoji or other"
            " character (the text was cut inside it)"
        )
    return None


# A \u escape of a surrogate (D800-DFFF): the only way a UTF-8 body can carry half a character
# (the decoder refuses encoded surrogates). A pair is one whole character; either half alone is not
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")


def not_storable(raw: bytes, payload: dict[str, Any]) -> str | None:
    """Why a delivery's payload holds text the store cannot keep, or None.

    `"action": "op\\ud800ened"` is valid JSON, read as a string with half a character in it that
    no UTF-8 encoder writes: the store refused the whole batch it came in, and the worker would
    fail on it too. The body is scanned for a surrogate escape (one C pass); only a body with one
    is checked whole (a pair of them is an emoji, and fine).
    """
    if _SURROGATE_ESCAPE.search(raw) is None:
        return None
    half = _half_character(payload)
    if half is None:
        return None
    return (
        f"the body holds text that is not UTF-8: {half}; GitHub's deliveries hold whole"
        " characters only; not recorded"
    )


_FORM = b"application/x-www-form-urlencoded"


def json_body(raw: bytes, content_type: bytes | None) -> bytes:
    """The delivery's JSON: the body, or the `payload` field of a form-encoded one.

    A webhook's content type is `json` or `form` (a GitHub App's can be set to either through its
    hook config); GitHub signs the body as sent, so the signature is checked before this.
    """
    media = (content_type or b"").partition(b";")[0].strip().lower()
    if media in (b"", b"application/json"):
        return raw
    if media != _FORM:
        raise UnsupportedType(
            f"content type {media.decode('latin-1')} is not JSON: set the webhook's content"
            " type to application/json"
        )
    for field in raw.split(b"&"):
        name, _, value = field.partition(b"=")
        if name == b"payload":
            return urllib.parse.unquote_to_bytes(value.replace(b"+", b" "))
    raise BadPayload(
        "a form-encoded body without a payload field (GitHub sends payload=<JSON>); send JSON"
        " with content type application/json"
    )


def parse_body(raw: bytes) -> dict[str, Any]:
    if not _depth_ok(raw):
        raise BadPayload(f"JSON nested deeper than {MAX_DEPTH} levels")
    try:  # UTF-8, as GitHub sends it and as the store keeps it: json.loads would also take
        # UTF-16 or a byte order mark here, and the worker reading the stored text would not
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise BadPayload(f"body is not UTF-8 (GitHub sends UTF-8 JSON): {err}") from None
    except (ValueError, RecursionError) as err:  # also an integer past 4,300 digits
        raise BadPayload(f"body is not valid JSON: {err}") from None
    if not isinstance(data, dict):
        raise BadPayload("body must be a JSON object")
    return data


_INT64 = 2**63  # the store's integer columns (SQLite and PostgreSQL bigint) hold no more


def _int_or_none(value: Any) -> int | None:
    """An id or number as the store can hold it; anything else (a bool, a float, a number past
    64 bits, which would fail the whole batch's transaction) is treated as missing."""
    if isinstance(value, int) and not isinstance(value, bool) and -_INT64 <= value < _INT64:
        return value
    return None


def describe(delivery_id: str, event: str, payload: dict[str, Any]) -> Delivery:
    """Pull the routing facts out of a payload, tolerating missing or oddly typed fields."""
    inst = payload.get("installation")
    repo = payload.get("repository")
    issue = payload.get("issue")
    sender = payload.get("sender")
    action = payload.get("action")
    return Delivery(
        id=delivery_id,
        event=event,
        action=action if isinstance(action, str) else None,
        installation_id=_int_or_none(inst.get("id")) if isinstance(inst, dict) else None,
        repo=repo.get("full_name")
        if isinstance(repo, dict) and isinstance(repo.get("full_name"), str)
        else None,
        number=_int_or_none(issue.get("number")) if isinstance(issue, dict) else None,
        sender_login=str(sender.get("login", "")) if isinstance(sender, dict) else "",
        sender_type=str(sender.get("type", "")) if isinstance(sender, dict) else "",
    )


# What the worker reads of each event it handles; GitHub's App webhook always sends these. A
# payload without them (a repository or organisation webhook has no installation; a hand-made
# one) is refused: recorded, it would fail in the worker on every retry.
REQUIRED: dict[str, tuple[str, ...]] = {
    "issues": ("installation.id", "repository.full_name", "issue.number"),
    "issue_comment": ("installation.id", "repository.full_name", "issue.number", "comment"),
    "repository": ("installation.id", "repository.full_name"),
    "installation": ("installation.id",),
    "installation_repositories": ("installation.id",),
    "installation_target": ("installation.id",),
}


def missing_fields(d: Delivery, payload: dict[str, Any]) -> list[str]:
    """The fields of REQUIRED that this delivery's payload lacks (or holds as another type)."""
    have = {
        "installation.id": d.installation_id is not None,
        "repository.full_name": d.repo is not None,
        "issue.number": d.number is not None,
        "comment": isinstance(payload.get("comment"), dict),
    }
    return [name for name in REQUIRED.get(d.event, ()) if not have[name]]


def is_own_event(d: Delivery, bot_login: str) -> bool:
    """Events the app caused itself never reach the queue (they must not reset its clocks)."""
    return d.sender_type == "Bot" and d.sender_login.lower() == bot_login.lower()
