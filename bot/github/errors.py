"""Turn PyGithub and network failures into bot.ports errors the queue knows how to retry."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from github import GithubException

from bot.ports import (
    AppCredentialsError,
    GitHubError,
    Gone,
    Locked,
    NotFound,
    RateLimited,
    ReadOnly,
    Unavailable,
)

BACKOFF_BASE_S = 60.0
BACKOFF_MAX_S = 3600.0
KEY_HINT = (
    "GitHub refused the App's credentials: check SMOLBOT_APP_ID and that SMOLBOT_PRIVATE_KEY "
    "is that App's private key (PEM)"
)


class InstallationSuspended(GitHubError):
    """The App's installation on the account is suspended (an owner suspended it): GitHub refuses
    its tokens, 403 "This installation has been suspended", until it is unsuspended. Nothing is
    wrong to retry or to park with a traceback: a delivery waits (held) until the
    installation.unsuspend event."""


def is_suspended(status: int, message: str) -> bool:
    """GitHub's answer for an installation that is suspended (not a rate limit, not a missing
    permission): 403 "This installation has been suspended"."""
    text = message.lower()
    return status == 403 and "installation" in text and "suspended" in text


def is_locked(status: int, message: str) -> bool:
    """GitHub's refusal of a comment on a locked issue: 403 "Unable to create comment because
    issue is locked." (not a repository locked for a migration, which refuses every write)."""
    text = message.lower()
    return status == 403 and "is locked" in text and "repositor" not in text


def _int(headers: Mapping[str, Any], name: str) -> int | None:
    try:
        return int(headers[name])
    except (KeyError, TypeError, ValueError):
        return None


def is_rate_limited(status: int, headers: Mapping[str, Any], message: str) -> bool:
    if status == 429:
        return True
    if status != 403:
        return False
    text = message.lower()
    return (
        "retry-after" in headers
        or _int(headers, "x-ratelimit-remaining") == 0
        or "rate limit" in text
        or "abuse" in text  # older GitHub Enterprise Server: "abuse detection mechanism"
    )


def retry_after_s(
    headers: Mapping[str, Any], attempt: int = 0, now: Callable[[], float] = time.time
) -> float:
    """GitHub's rule: `retry-after` if present; the reset time if remaining is 0; else back off.

    The reset is a time on GitHub's clock: it is read against the answer's Date header (GitHub's
    now), not this machine's clock, which may be minutes off (a retry too early is refused again)."""
    after = _retry_after(headers, now)
    if after is not None:
        return max(after, 1.0)
    reset = _int(headers, "x-ratelimit-reset")
    if _int(headers, "x-ratelimit-remaining") == 0 and reset is not None:
        theirs = their_now(headers)
        return max(1.0, float(reset) - (now() if theirs is None else theirs))
    return min(BACKOFF_BASE_S * 2.0**attempt, BACKOFF_MAX_S)


def _retry_after(headers: Mapping[str, Any], now: Callable[[], float] = time.time) -> float | None:
    """Seconds `retry-after` asks for: a number, or an HTTP date (which HTTP allows, and a proxy
    in front of GitHub Enterprise may send) read against the answer's Date; None when absent or
    unreadable (then the caller backs off as when nothing is said)."""
    after = _int(headers, "retry-after")
    if after is not None:
        return float(after)
    try:
        until = parsedate_to_datetime(headers["retry-after"]).timestamp()
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    theirs = their_now(headers)
    return until - (now() if theirs is None else theirs)


def their_now(headers: Mapping[str, Any]) -> float | None:
    """GitHub's clock when it answered: the Date header, if there is one that parses."""
    try:
        return parsedate_to_datetime(headers["date"]).timestamp()
    except (KeyError, TypeError, ValueError, IndexError):
        return None


def _reasons(errors: Any) -> str:
    """GitHub's `errors` list of a 422 (its message says only "Validation Failed"): each item's
    message, or its resource, field and code ("Label name: already_exists")."""
    said = []
    for item in errors if isinstance(errors, list) else []:
        if isinstance(item, dict):
            where = " ".join(str(item[k]) for k in ("resource", "field") if item.get(k))
            what = str(item.get("message") or item.get("code") or "")
            said.append(f"{where}: {what}" if where and what else where or what)
        elif item:
            said.append(str(item))
    return "; ".join(x for x in said if x)


def _too_quick(status: int, data: Mapping[str, Any]) -> bool:
    """GitHub's limit on creating content (comments, issues) too fast: a 422 whose errors say
    "was submitted too quickly", a secondary rate limit in all but its status."""
    errors = data.get("errors")
    return status == 422 and any(
        "submitted too quickly" in str(item.get("message", "")).lower()
        for item in (errors if isinstance(errors, list) else [])
        if isinstance(item, dict)
    )


def translate_exception(exc: BaseException, attempt: int = 0) -> Exception | None:
    """The bot.ports error for a PyGithub/requests failure, or None when it is not ours to map."""
    if isinstance(exc, GithubException):
        headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
        data = exc.data if isinstance(exc.data, dict) else {}
        message = str(data.get("message") or exc.message or "")
        if is_suspended(exc.status, message):
            return InstallationSuspended(
                f"GitHub: the installation is suspended ({message.strip()}); nothing is done for"
                " it until it is unsuspended"
            )
        if is_rate_limited(exc.status, headers, message) or _too_quick(exc.status, data):
            wait = retry_after_s(headers, attempt)
            told = _retry_after(headers) is not None or _int(headers, "x-ratelimit-remaining") == 0
            said = message.strip() + (": submitted too quickly" if exc.status == 422 else "")
            return RateLimited(
                wait, f"GitHub rate limit ({said}); retry in {wait:.0f} s", backoff=not told
            )
        if exc.status == 403 and "archived" in message.lower():
            # "Repository was archived so is read-only."
            return ReadOnly(f"GitHub: the repository is archived ({message.strip()})")
        if is_locked(exc.status, message):
            return Locked(f"GitHub: the issue is locked ({message.strip()})")
        if exc.status == 410:  # an issue an admin deleted
            return Gone(f"GitHub: gone ({message or 'This issue was deleted'})")
        if exc.status == 404:
            return NotFound(f"GitHub: not found ({message or 'Not Found'})")
        if exc.status >= 500:
            return Unavailable(f"GitHub answered {exc.status}; retry later")
        reasons = _reasons(data.get("errors"))
        return GitHubError(
            f"GitHub answered {exc.status}: {message}" + (f" ({reasons})" if reasons else "")
        )
    if isinstance(exc, requests.exceptions.RequestException):
        return Unavailable(f"GitHub could not be reached: {type(exc).__name__}")
    return None


@contextmanager
def translated() -> Iterator[None]:
    """Run GitHub calls, re-raising their failures as bot.ports errors."""
    try:
        yield
    except (GithubException, requests.exceptions.RequestException) as exc:
        mapped = translate_exception(exc)
        if mapped is None:  # pragma: no cover - translate_exception maps both families
            raise
        raise mapped from exc


@contextmanager
def as_installation(forget_token: Callable[[], None]) -> Iterator[None]:
    """translated(), for calls made with an installation token: a 401 means the token was
    revoked or expired early (not the App's key), so it is forgotten and the call retried."""
    try:
        with translated():
            yield
    except GitHubError as exc:  # not AppCredentialsError: a refused App key is no token issue
        cause = exc.__cause__
        if isinstance(cause, GithubException) and cause.status == 401:
            forget_token()  # minted afresh on the retry
            raise Unavailable("GitHub refused the installation token; retry") from cause
        raise


def credentials_error(exc: BaseException, now: Callable[[], float] | None = None) -> Exception:
    """Errors while acting as the App: 401 means the app id or key is wrong, not a retry; or,
    when GitHub names the JWT's times, that this machine's clock is off GitHub's."""
    if isinstance(exc, GithubException) and exc.status == 401:
        data = exc.data if isinstance(exc.data, dict) else {}
        said = str(data.get("message") or "")
        if "('exp')" in said or "('iat')" in said:
            return AppCredentialsError(f"GitHub refused the App's token: {said}; {_skew(exc, now)}")
        return AppCredentialsError(f"{KEY_HINT} (GitHub said: {said})" if said else KEY_HINT)
    if isinstance(exc, GithubException) and exc.status == 404:
        if _no_such_app(exc):
            return AppCredentialsError(NO_SUCH_APP)
        return NotFound("GitHub: this installation does not exist or was removed (check the id)")
    return translate_exception(exc) or GitHubError(str(exc))


class NotAnApiRoot(AppCredentialsError):
    """A call on the App itself (GET /app, /app/installations) answered 404 with no word from
    GitHub: those paths exist on every API root, so SMOLBOT_GITHUB_API_URL is no API root (a
    GitHub Enterprise Server host without /api/v3, a typo). A setting to fix, not an installation
    gone: said as the installation's 404, every delivery was skipped as "deleted"."""


NOT_AN_API_ROOT = (
    "GitHub answered 404 Not Found for the App itself (/app): SMOLBOT_GITHUB_API_URL is not"
    " a GitHub API root; set it to https://api.github.com, or https://HOST/api/v3 for GitHub"
    " Enterprise Server"
)
# GitHub's 404 for a token whose App id (the JWT's issuer) is no App there
NO_SUCH_APP = (
    "GitHub knows no App with this SMOLBOT_APP_ID (Integration not found): set the App ID shown"
    " on the App's settings page, and SMOLBOT_GITHUB_API_URL to the GitHub the App was"
    " registered on (https://HOST/api/v3 for GitHub Enterprise Server)"
)


def _no_such_app(exc: GithubException) -> bool:
    data = exc.data if isinstance(exc.data, dict) else {}
    return str(data.get("message") or "").strip().lower() == "integration not found"


def app_error(exc: BaseException, now: Callable[[], float] | None = None) -> Exception:
    """credentials_error, for a call on the App itself: a 404 there is never an installation
    gone, but an App id GitHub does not know, or (GitHub said nothing of it) NotAnApiRoot."""
    if isinstance(exc, GithubException) and exc.status == 404 and not _no_such_app(exc):
        return NotAnApiRoot(NOT_AN_API_ROOT)
    return credentials_error(exc, now)


def _skew(exc: GithubException, now: Callable[[], float] | None) -> str:
    """What to do about a JWT refused for its times: the clock, by how much when GitHub's Date
    header says."""
    theirs = their_now({k.lower(): v for k, v in (exc.headers or {}).items()})
    if theirs is None:
        return "this machine's clock is probably off: set it right (NTP), then retry"
    off = (now or time.time)() - theirs  # the machine's clock, the one its JWT was made with
    side = "ahead of" if off > 0 else "behind"
    return (
        f"this machine's clock is {abs(off):.0f} s {side} GitHub's: set it right (NTP), then retry"
    )
