"""GitHubApp: the App's identity (JWT), installation tokens, and RepoHosts bound to them."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from github import Auth, Github, GithubException, GithubIntegration
from github.PaginatedList import PaginatedList
from github.Repository import Repository
from requests import RequestException

from bot.github.convert import raw
from bot.github.errors import app_error, as_installation, credentials_error, their_now
from bot.github.pacing import WritePacer
from bot.github.repo import PER_PAGE, FileCache, GitHubRepo, release_unfollowed
from bot.github.tokens import TokenCache
from bot.ports import AppCredentialsError
from bot.settings import Settings

NO_APP_ID = "SMOLBOT_APP_ID is not set: use the App ID shown on the GitHub App's settings page"
NO_KEY = "SMOLBOT_PRIVATE_KEY is not set: give the App's private key (PEM text or the .pem path)"
BAD_KEY = (
    "SMOLBOT_PRIVATE_KEY is not a valid RSA private key in PEM form: "
    "use the .pem file GitHub generated for the App (its text or its path)"
)
# An App JWT's times. GitHub refuses one whose exp is over 10 minutes ahead of its clock, or
# whose iat is ahead of it: iat 300 s back and exp 300 s on (a 10-minute window) leave this
# machine's clock 300 s either way off GitHub's (iat 60 s back, exp 540 s on: 60 s fast at most)
JWT_EXPIRY_S = 300
JWT_ISSUED_AT_S = -300


def missing_app_settings(settings: Settings, *, webhook: bool = False) -> list[str]:
    """The App's settings that are not set, by variable name: its id and key (and with
    `webhook`, the webhook secret). Worker start-up and `smolbot doctor` both ask this."""
    named = [("SMOLBOT_APP_ID", settings.app_id), ("SMOLBOT_PRIVATE_KEY", settings.private_key)]
    if webhook:
        named.append(("SMOLBOT_WEBHOOK_SECRET", settings.webhook_secret))
    return [name for name, value in named if value is None]


def bot_login_problem(settings: Settings, found: str) -> str | None:
    """What is wrong when SMOLBOT_BOT_LOGIN is not the login GitHub shows for the App, else None.
    With the wrong one the bot takes its own comments for a person's: it answers its own events
    and posts its comments again on every retry. Spelled exactly so: every job compares a
    comment's author with it as it is, so one differing only in case is as wrong."""
    if found == settings.bot_login:
        return None
    if found.lower() == settings.bot_login.lower():
        return (
            f"SMOLBOT_BOT_LOGIN is {settings.bot_login!r} but GitHub spells the App's login"
            f" {found!r} (it differs only in case, and the bot compares logins exactly): set"
            f" SMOLBOT_BOT_LOGIN={found} (else the bot takes its own comments for a person's and"
            " asks again)"
        )
    return (
        f"SMOLBOT_BOT_LOGIN is {settings.bot_login!r} but GitHub shows the App's comments as"
        f" {found!r}: set SMOLBOT_BOT_LOGIN={found} (with the wrong login the bot takes its own"
        " comments for a person's and posts again on every retry)"
    )


def checked_key(settings: Settings) -> str:
    """The App's private key as PEM; AppCredentialsError when it is missing or no RSA key. The
    check the App makes before it signs its first JWT (and what start-up and doctor run)."""
    if settings.app_id is None:
        raise AppCredentialsError(NO_APP_ID)
    pem = settings.private_key_pem()
    if pem is None:
        raise AppCredentialsError(NO_KEY)
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise AppCredentialsError(BAD_KEY) from None
    if not isinstance(key, RSAPrivateKey):
        raise AppCredentialsError(BAD_KEY)
    return pem


class GitHubApp:
    """GitHubHost over PyGithub. Builds nothing and calls nothing until first used."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings, self._clock = settings, clock
        self.tokens = TokenCache(self._mint, settings.token_refresh_margin_s, clock)
        self.pacer = WritePacer(settings.write_interval_s, sleep=sleep)
        self.files = FileCache()
        self._integration: GithubIntegration | None = None
        self._clients: dict[int, tuple[str, Github]] = {}
        self._lock = threading.Lock()

    # -- PyGithub objects ----------------------------------------------------------------------
    def _common(self) -> dict[str, object]:
        # retry=None and no throttling: retries belong to the queue, pacing to WritePacer
        return {
            "base_url": self.settings.github_api_url,
            "timeout": max(1, math.ceil(self.settings.github_timeout_s)),
            "retry": None,
            "seconds_between_requests": None,
            "seconds_between_writes": None,
        }

    def integration(self) -> GithubIntegration:
        with self._lock:
            if self._integration is None:
                auth = Auth.AppAuth(
                    str(self.settings.app_id),
                    checked_key(self.settings),
                    jwt_expiry=JWT_EXPIRY_S,
                    jwt_issued_at=JWT_ISSUED_AT_S,
                )
                self._integration = GithubIntegration(auth=auth, **self._common())  # type: ignore[arg-type]
            return self._integration

    def _mint(self, installation_id: int) -> tuple[str, datetime]:
        integration = self.integration()
        try:
            got = integration.get_access_token(installation_id)
        except (GithubException, RequestException) as exc:
            raise credentials_error(exc) from exc
        # expires_at is on GitHub's clock: kept as the lifetime it leaves from the answer's Date,
        # on this machine's clock (the one the cache compares with), so the token is refreshed
        # in time with this clock behind GitHub's or ahead (read as it is, expires_at looked
        # inside the margin from a clock most of an hour fast: a token minted on every call).
        # expires_at itself is kept when it is earlier and still outside the margin: a Date
        # that is stale (a proxy's cached answer) makes the lifetime too long
        expires = got.expires_at
        if expires.tzinfo is None:  # GitHub's times are UTC
            expires = expires.replace(tzinfo=UTC)
        theirs = their_now({k.lower(): v for k, v in (got.raw_headers or {}).items()})
        if theirs is None:
            return got.token, expires
        now = self._clock()
        local = datetime.fromtimestamp(now + expires.timestamp() - theirs, UTC)
        if expires.timestamp() - self.settings.token_refresh_margin_s > now:
            return got.token, min(expires, local)
        return got.token, local

    def client(self, installation_id: int) -> Github:
        """A Github client on the installation's current token (re-made when the token changes)."""
        token = self.tokens.get(installation_id).value
        with self._lock:
            held = self._clients.get(installation_id)
            if held is None or held[0] != token:
                if held is not None:
                    held[1].close()  # the old token's connection pool
                gh = Github(auth=Auth.Token(token), per_page=PER_PAGE, lazy=True, **self._common())  # type: ignore[arg-type]
                held = (token, gh)
                self._clients[installation_id] = held
            return held[1]

    def close(self) -> None:
        """Release every connection the App made (its own, the installations' pools, this thread's
        kept one): for a caller done with it (tests, a one-off command); a worker's end with it."""
        with self._lock:
            for _, gh in self._clients.values():
                gh.close()
            self._clients.clear()
            if self._integration is not None:
                self._integration.close()
                self._integration = None
        release_unfollowed(self.settings.github_api_url)  # this thread's, for writes

    # -- GitHubHost ---------------------------------------------------------------------------
    def repo(self, installation_id: int, full_name: str) -> GitHubRepo:
        return GitHubRepo(
            client=lambda: self.client(installation_id),
            installation_id=installation_id,
            full_name=full_name,
            pacer=self.pacer,
            files=self.files,
            on_bad_token=lambda: self.tokens.forget(installation_id),
        )

    def installation_repos(self, installation_id: int) -> list[str]:
        """The installation's repositories, sorted; not the archived ones (read-only: nothing
        to sweep or post)."""
        requester = self.client(installation_id).requester
        with as_installation(lambda: self.tokens.forget(installation_id)):
            repos = PaginatedList(
                Repository, requester, "/installation/repositories", None, list_item="repositories"
            )
            return sorted(raw(r)["full_name"] for r in repos if not raw(r).get("archived"))

    def installations(self) -> list[int]:
        """Ids of every installation of the App (authenticated as the App itself)."""
        integration = self.integration()
        try:
            return sorted(raw(i)["id"] for i in integration.get_installations())
        except (GithubException, RequestException) as exc:
            raise app_error(exc) from exc

    def repo_installation(self, full_name: str) -> dict[str, Any] | None:
        """The App's installation on a repository, asked as the App (GET
        /repos/{owner}/{name}/installation, then the repository as that installation): {"id",
        "account", "account_type", "repository": the repository's JSON}. None when the App is not
        installed there (404): what `smolbot backfill` asks when no installation webhook told the
        store (one sent before the server was up is not redelivered by GitHub on its own)."""
        owner, _, name = full_name.partition("/")
        integration = self.integration()
        try:
            found = raw(integration.get_repo_installation(owner, name))
        except GithubException as exc:
            if exc.status == 404:
                return None
            raise credentials_error(exc) from exc
        except RequestException as exc:
            raise credentials_error(exc) from exc
        inst, account = int(found["id"]), found.get("account") or {}
        return {
            "id": inst,
            "account": str(account.get("login") or ""),
            "account_type": str(account.get("type") or ""),
            "repository": self.repository_as(inst, full_name),
        }

    def repository_as(self, inst: int, full_name: str) -> dict[str, Any]:
        """The repository's JSON as installation `inst` reads it (GET /repos/{owner}/{name}, which
        follows renames); NotFound when the installation is gone or no longer has it."""
        owner, _, name = full_name.partition("/")
        with as_installation(lambda: self.tokens.forget(inst)):
            _, repo = self.client(inst).requester.requestJsonAndCheck(
                "GET", f"/repos/{quote(owner)}/{quote(name)}"
            )
        return dict(repo)

    def app_login(self) -> str:
        """The login the App's comments and events carry on GitHub (`{slug}[bot]`), asked as the
        App: what SMOLBOT_BOT_LOGIN must say."""
        integration = self.integration()
        try:
            return f"{integration.get_app().slug}[bot]"
        except (GithubException, RequestException) as exc:
            raise app_error(exc) from exc

    def is_self(self, login: str, user_type: str = "Bot") -> bool:
        """True for the bot's own account, so its own actions never reset its clocks."""
        return user_type == "Bot" and login.lower() == self.settings.bot_login.lower()
