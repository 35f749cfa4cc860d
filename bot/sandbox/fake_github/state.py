"""FakeGitHub: the in-memory world (app, installations, repos), its quotas, faults and request log."""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import jwt

from bot.sandbox.fake_github.model import Comment, Issue, Label, Repo

SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)
WRITE_METHODS = {"POST", "PATCH", "PUT", "DELETE"}


@dataclass
class Logged:
    method: str
    path: str
    status: int
    time: float
    installation: int | None = None
    query: str = ""


@dataclass
class Quota:
    limit: int
    remaining: int
    reset_at: float
    used: int = 0


@dataclass
class Fault:
    status: int
    remaining: int | None = None  # requests left to fail (fail_next / secondary_limit)
    until: float | None = None  # fake-clock time the fault lasts to (fail_for)
    retry_after: int | str | None = None  # seconds, or an HTTP date (str)
    match: str | None = None  # only requests whose path (and ?query) contains this
    secondary: bool = False  # answered as GitHub's secondary rate limit (403)
    too_quick: bool = False  # answered as GitHub's content-creation limit (422)


class AuthError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class FakeGitHub:
    """Thread-safe state. `now()` is wall time plus `advance()`d seconds; JWTs use wall time."""

    app_id: int
    public_key_pem: str
    quota_limit: int = 5000
    app_slug: str = "smolbot"
    lock: threading.RLock = field(default_factory=threading.RLock)
    offset: float = 0.0
    installations: dict[int, list[str]] = field(default_factory=dict)
    repos: dict[str, Repo] = field(default_factory=dict)
    moved: dict[str, str] = field(default_factory=dict)  # an old full name -> today's
    # an issue transferred away: (old full name, old number) -> (its repository's id, number)
    transferred: dict[tuple[str, int], tuple[int, int]] = field(default_factory=dict)
    tokens: dict[str, tuple[int, float]] = field(default_factory=dict)
    quotas: dict[int, Quota] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    delays: list[tuple[str, float]] = field(default_factory=list)  # (path match, seconds)
    log: list[Logged] = field(default_factory=list)
    minted: int = 0
    # items a listing serves by ?page= at most, as GitHub does for large ones (about 10,000):
    # past it, 422 "use cursor based pagination", and the Link header's next carries `after=`
    page_param_cap: int | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))

    # -- clock ------------------------------------------------------------------------------
    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.offset += seconds

    # -- seeding ----------------------------------------------------------------------------
    def add_installation(self, installation_id: int, repos: list[str] | None = None) -> None:
        with self.lock:
            self.installations.setdefault(installation_id, [])
            for r in repos or []:
                self.add_repo(r, installation_id)

    def add_repo(self, full_name: str, installation_id: int = 1, **kw: Any) -> Repo:
        with self.lock:
            owner, name = full_name.split("/")
            repo = self.repos.get(full_name) or Repo(owner, name, next(self._ids), **kw)
            self.repos[full_name] = repo
            inst = self.installations.setdefault(installation_id, [])
            if full_name not in inst:
                inst.append(full_name)
            return repo

    def add_issue(self, full_name: str, title: str, body: str = "", **kw: Any) -> Issue:
        with self.lock:
            repo = self.repos[full_name]
            now = self.now()
            kw.setdefault("user", "alice")
            kw.setdefault("created_at", now)
            kw.setdefault("updated_at", kw["created_at"])
            number = max([0, *repo.issues]) + 1
            issue = Issue(number=number, title=title, body=body, **kw)
            if issue.state == "closed" and issue.closed_at is None:
                issue.closed_at = issue.updated_at
            for name in issue.labels:
                self._ensure_label(repo, name)
            repo.issues[number] = issue
            return issue

    def add_comment(self, full_name: str, number: int, body: str, **kw: Any) -> Comment:
        with self.lock:
            repo = self.repos[full_name]
            kw.setdefault("user", "bob")
            kw.setdefault("created_at", self.now())
            kw.setdefault("updated_at", kw["created_at"])
            c = Comment(id=next(self._ids), number=number, body=body, **kw)
            repo.comments[c.id] = c
            issue = repo.issues[number]
            issue.comment_ids.append(c.id)
            issue.updated_at = max(issue.updated_at, c.created_at)  # as GitHub bumps it
            self.add_event(full_name, number, "commented", c.user, id=c.id, body=c.body)
            return c

    def add_label(
        self, full_name: str, name: str, color: str = "ededed", description: str = ""
    ) -> Label:
        with self.lock:
            repo = self.repos[full_name]
            label = Label(name, color, description, next(self._ids))
            repo.labels[name] = label
            return label

    def _ensure_label(self, repo: Repo, name: str) -> None:
        if name not in repo.labels:
            repo.labels[name] = Label(name, id=next(self._ids))

    def set_permission(
        self, full_name: str, login: str, role: str, *, custom: str | None = None
    ) -> None:
        """`role`: admin, maintain, write, triage or read; `custom`: the name of an organisation's
        custom repository role based on `role` (GitHub's role_name then says the custom name)."""
        with self.lock:
            self.repos[full_name].permissions[login] = role
            if custom:
                self.repos[full_name].custom_roles[login] = custom
            else:
                self.repos[full_name].custom_roles.pop(login, None)

    def put_file(self, full_name: str, path: str, text: str | bytes) -> None:
        with self.lock:
            data = text.encode() if isinstance(text, str) else text
            self.repos[full_name].files[path.lstrip("/")] = data

    def add_event(self, full_name: str, number: int, event: str, actor: str, **extra: Any) -> None:
        with self.lock:
            events = self.repos[full_name].timeline.setdefault(number, [])
            events.append(
                {
                    "event": event,
                    "actor": actor,
                    "created_at": self.now(),
                    "id": next(self._ids),
                    **extra,
                }
            )

    def add_raw_event(self, full_name: str, number: int, data: dict[str, Any]) -> None:
        """A timeline item served exactly as given: GitHub's timeline also holds items with no
        created_at or actor (a pull request's `committed`, `line-commented`, `reviewed`)."""
        with self.lock:
            events = self.repos[full_name].timeline.setdefault(number, [])
            events.append({"raw": dict(data), "id": next(self._ids)})

    def rename_repo(self, old: str, new: str) -> None:
        """As an owner renaming or transferring a repository: GitHub redirects its old name
        (301 to a GET, 307 to a write) to /repositories/<id>/..., which serves it."""
        with self.lock:
            repo = self.repos.pop(old)
            repo.owner, repo.name = new.split("/")
            self.repos[new] = repo
            self.moved[old] = new
            for names in self.installations.values():
                names[:] = [new if n == old else n for n in names]

    def transfer_issue(self, full_name: str, number: int, to: str) -> Issue:
        """As a maintainer transferring an issue to another repository: it takes the next number
        there, its comments and timeline go with it, and its old address answers 301 (to every
        method, as GitHub's "Update an issue" documents) to /repositories/<id>/issues/<n>."""
        with self.lock:
            src, dst = self.repos[full_name], self.repos[to]
            issue = src.issues.pop(number)
            issue.number = max([0, *dst.issues]) + 1
            dst.issues[issue.number] = issue
            for cid in issue.comment_ids:
                c = src.comments.pop(cid)
                c.number = issue.number
                dst.comments[cid] = c
            dst.timeline[issue.number] = src.timeline.pop(number, [])
            for name in issue.labels:
                self._ensure_label(dst, name)
            self.transferred[(full_name, number)] = (dst.id, issue.number)
            return issue

    def archive_repo(self, full_name: str, archived: bool = True) -> None:
        """As an owner archiving a repository: it stays readable, and every write answers 403."""
        with self.lock:
            self.repos[full_name].archived = archived

    def repo_by_id(self, repo_id: int) -> Repo | None:
        with self.lock:
            return next((r for r in self.repos.values() if r.id == repo_id), None)

    def delete_issue(self, full_name: str, number: int) -> None:
        """As an admin deleting an issue: it leaves every listing, and reading it answers 410."""
        with self.lock:
            repo = self.repos[full_name]
            del repo.issues[number]
            repo.deleted.add(number)

    def issue(self, full_name: str, number: int) -> Issue:
        return self.repos[full_name].issues[number]

    def comments(self, full_name: str, number: int) -> list[Comment]:
        repo = self.repos[full_name]
        return [repo.comments[i] for i in repo.issues[number].comment_ids]

    def next_id(self) -> int:
        return next(self._ids)

    # -- auth -------------------------------------------------------------------------------
    def verify_jwt(self, token: str) -> None:
        """Check an App JWT the way GitHub does; raise AuthError(401) when it would be refused."""
        try:
            claims = jwt.decode(
                token,
                self.public_key_pem,
                algorithms=["RS256"],
                options={"require": ["iat", "exp", "iss"], "verify_iat": False},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError(401, "'Expiration time' claim ('exp') is too far in the past") from None
        except jwt.PyJWTError:
            raise AuthError(401, "A JSON web token could not be decoded") from None
        now = time.time()
        if str(claims["iss"]) != str(self.app_id):
            raise AuthError(401, "'Issuer' claim ('iss') must be an Integer")
        if claims["exp"] > now + 600 + 5:
            raise AuthError(401, "'Expiration time' claim ('exp') is too far in the future")
        if claims["iat"] > now + 5:
            raise AuthError(
                401, "'Issued at' claim ('iat') must be an Integer representing a time in the past"
            )

    def mint_token(self, installation_id: int) -> tuple[str, float]:
        with self.lock:
            if installation_id not in self.installations:
                raise AuthError(404, "Not Found")
            token = "ghs_" + secrets.token_hex(16)
            expires = self.now() + 3600
            self.tokens[token] = (installation_id, expires)
            self.minted += 1
            return token, expires

    def revoke_tokens(self, installation_id: int | None = None) -> None:
        """Invalidate installation tokens (all, or one installation's), as a revocation would."""
        with self.lock:
            for token, (iid, _) in list(self.tokens.items()):
                if installation_id is None or iid == installation_id:
                    del self.tokens[token]

    def installation_for(self, token: str) -> int:
        with self.lock:
            found = self.tokens.get(token)
            if found is None or found[1] <= self.now():
                raise AuthError(401, "Bad credentials")
            return found[0]

    def can_see(self, installation_id: int, full_name: str) -> bool:
        with self.lock:
            return full_name in self.installations.get(installation_id, [])

    # -- quota and faults --------------------------------------------------------------------
    def quota(self, installation_id: int) -> Quota:
        with self.lock:
            q = self.quotas.get(installation_id)
            if q is None or q.reset_at <= self.now():
                q = Quota(self.quota_limit, self.quota_limit, self.now() + 3600)
                self.quotas[installation_id] = q
            return q

    def charge(self, installation_id: int) -> Quota | None:
        """Spend one request; None when the primary quota is exhausted."""
        with self.lock:
            q = self.quota(installation_id)
            if q.remaining <= 0:
                return None
            q.remaining -= 1
            q.used += 1
            return q

    def exhaust_primary(self, reset_in: float = 60, installation_id: int | None = None) -> None:
        with self.lock:
            ids = [installation_id] if installation_id else list(self.installations)
            for i in ids:
                q = self.quota(i)
                q.used += q.remaining
                q.remaining, q.reset_at = 0, self.now() + reset_in

    def fail_next(self, n: int = 1, status: int = 502, match: str | None = None) -> None:
        with self.lock:
            self.faults.append(Fault(status, remaining=n, match=match))

    def fail_for(self, seconds: float, status: int = 502, match: str | None = None) -> None:
        with self.lock:
            self.faults.append(Fault(status, until=self.now() + seconds, match=match))

    def too_quick(self, n: int = 1, match: str | None = None) -> None:
        """GitHub's limit on creating content fast, for the next n requests: 422 "Validation
        Failed", its error saying the comment or issue "was submitted too quickly"."""
        with self.lock:
            self.faults.append(Fault(422, remaining=n, match=match, too_quick=True))

    def secondary_limit(
        self, n: int = 1, retry_after: int | str | None = 60, match: str | None = None
    ) -> None:
        """GitHub's secondary limit for the next n requests; retry_after None: no such header
        (GitHub then asks for exponential back-off); a str: sent as is (an HTTP date)."""
        with self.lock:
            fault = Fault(403, remaining=n, retry_after=retry_after, match=match, secondary=True)
            self.faults.append(fault)

    def slow(self, seconds: float, match: str) -> None:
        """Answer requests whose path (and ?query) contains `match` `seconds` late, for good."""
        with self.lock:
            self.delays.append((match, seconds))

    def delay_for(self, path: str) -> float:
        with self.lock:
            return sum(s for m, s in self.delays if m in path)

    def take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for f in list(self.faults):
                if f.match and f.match not in path:
                    continue
                if f.until is not None:
                    if f.until > self.now():
                        return f
                    self.faults.remove(f)
                    continue
                assert f.remaining is not None
                f.remaining -= 1
                if f.remaining <= 0:
                    self.faults.remove(f)
                return f
            return None

    # -- request log --------------------------------------------------------------------------
    def record(self, entry: Logged) -> None:
        with self.lock:
            self.log.append(entry)

    def requests(self, method: str | None = None, path: str | None = None) -> list[Logged]:
        with self.lock:
            return [
                e
                for e in self.log
                if (method is None or e.method == method) and (path is None or path in e.path)
            ]

    def writes(self, path: str | None = None) -> list[Logged]:
        """Successful content writes to repositories (what secondary limits count)."""
        return [
            e
            for e in self.requests(path=path)
            if e.method in WRITE_METHODS and e.path.startswith("/repos/") and e.status < 400
        ]
