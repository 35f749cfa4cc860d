"""GitHubRepo: RepoHost for one repository as one installation, over PyGithub."""

from __future__ import annotations

import base64
import json
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, TypeVar

from github import Consts, Github, GithubException
from github.Repository import Repository
from github.Requester import (
    HTTPRequestsConnectionClass,
    HTTPSRequestsConnectionClass,
    Requester,
    RequestsResponse,
)

from bot.coord.locks import check_held
from bot.core.config import file_text
from bot.github.convert import comment_data, event_data, issue_data, raw
from bot.github.errors import as_installation
from bot.github.pacing import WritePacer
from bot.ports import (
    CommentData,
    EventData,
    FileContent,
    GitHubError,
    IssueData,
    IssuePage,
    Moved,
    Unavailable,
)

T = TypeVar("T")
ROLES = ("admin", "maintain", "write", "triage", "read")
MAX_REDIRECTS = 3  # a request to a moved repository: followed this many times at most
PER_PAGE = 100  # the client's page size (GitHub's largest): the fewest requests for a listing
TIMELINE = Consts.issueTimelineEventsPreview  # the Accept header PyGithub's get_timeline sends
MOVED_TO = "x-smolbot-moved-to"  # a 301's location, under a name PyGithub does not follow


def _kept(resp: RequestsResponse) -> RequestsResponse:
    """A 301 with its location renamed: PyGithub follows a 301 with the same method to the
    location's path alone (its query dropped), so a write to a transferred issue went on to the
    issue in its new repository, and a listing of a renamed repository lost its filters."""
    if resp.status == 301 and "location" in resp.headers:
        resp.headers[MOVED_TO] = resp.headers.pop("location")
    return resp


class _HttpWrites(HTTPRequestsConnectionClass):
    def getresponse(self) -> RequestsResponse:
        return _kept(super().getresponse())


class _HttpsWrites(HTTPSRequestsConnectionClass):
    def getresponse(self) -> RequestsResponse:
        return _kept(super().getresponse())


_HELD = threading.local()  # each thread's connections, by GitHub's address and client options


def _unfollowed(requester: Requester) -> _HttpWrites | _HttpsWrites:
    """A connection that hands a 301 back as it is (not followed): one per thread and address,
    kept, so the reads and writes of a task reuse its TCP and TLS session as PyGithub's own
    connection does (a new one per request cost a handshake each)."""
    kw = requester.kwargs
    base = urllib.parse.urlsplit(requester.base_url)
    key = (base.scheme, base.hostname, base.port, kw["timeout"], id(kw["retry"]), kw["verify"])
    held: dict[tuple[Any, ...], _HttpWrites | _HttpsWrites] = _HELD.__dict__.setdefault("cnx", {})
    if key not in held:
        cls = _HttpsWrites if base.scheme == "https" else _HttpWrites
        held[key] = cls(
            base.hostname or "",
            base.port,
            timeout=kw["timeout"],
            retry=kw["retry"],
            verify=kw["verify"],
        )
    return held[key]


def release_unfollowed(base_url: str) -> None:
    """Close this thread's kept connections (_unfollowed) to `base_url`'s address: at a
    client's close, so a process that talks to many addresses (tests: a fake GitHub each)
    does not hold one socket for each."""
    base = urllib.parse.urlsplit(base_url)
    held: dict[tuple[Any, ...], _HttpWrites | _HttpsWrites] = _HELD.__dict__.get("cnx", {})
    for key in [k for k in held if k[:3] == (base.scheme, base.hostname, base.port)]:
        held.pop(key).close()


def _repository_id(location: str) -> int | None:
    """The repository id a redirect goes to (/repositories/<id>/...), if it says one."""
    found = re.search(r"/repositories/(\d+)(?:/|\Z)", urllib.parse.urlsplit(location).path)
    return int(found.group(1)) if found else None


def _json(status: int, text: str | None) -> Any:
    """An answer's body as JSON. GitHub's edge answers some 5xx with an HTML page: a refusal's
    text is kept as its message (mapped as any refusal of that status); a success that is no
    JSON is a broken answer, never read as an empty one (no such file, no id)."""
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        if status >= 400:
            return {"message": str(text)[:200]}
        raise Unavailable(f"GitHub sent a non-JSON answer ({status}); retry later") from None


def _origin(url: str) -> tuple[str, str, int | None]:
    """A URL's scheme, host and port as a browser compares them: the host in any case, the
    default port written or not (`https://GHE.corp.com:443/api/v3` is `https://ghe.corp.com`)."""
    parts = urllib.parse.urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme.lower())
    try:
        port = parts.port or default
    except ValueError:  # a port that is no number: compared as none
        port = None
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


# the last page a listing is asked for by number (100 a page): GitHub answers ?page=100 of a
# repository's issues and pull requests with 422 for a large one (google/go-github#3565)
PAGE_PARAM_LAST = 99


def _next_link(link: str | None) -> str | None:
    """The rel="next" address of GitHub's Link header, if there is one."""
    for part in (link or "").split(","):
        address, _, rel = part.partition(";")
        if rel.strip().replace(" ", "") == 'rel="next"':
            return address.strip().strip("<>")
    return None


class _AddressRefused(Exception):
    """GitHub refused a listing's saved address (GitHubRepo.issue_pages' `at`): a 400 or 422,
    as for a cursor it no longer takes."""


def _already_exists(data: Any) -> bool:
    """A 422 saying the thing exists (GitHub: errors [{"code": "already_exists", ...}])."""
    errors = data.get("errors") if isinstance(data, dict) else None
    return any(isinstance(e, dict) and e.get("code") == "already_exists" for e in errors or [])


class FileCache:
    """Last (etag, text) seen per (installation, repo, path), shared by every GitHubRepo."""

    def __init__(self) -> None:
        self._data: dict[tuple[int, str, str], tuple[str, str]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[int, str, str]) -> tuple[str, str] | None:
        with self._lock:
            return self._data.get(key)

    def put(self, key: tuple[int, str, str], etag: str | None, text: str | None) -> None:
        with self._lock:
            if etag and text is not None:
                self._data[key] = (etag, text)
            else:
                self._data.pop(key, None)


class GitHubRepo:
    """Every call is one or a few REST requests; failures come out as bot.ports errors."""

    def __init__(
        self,
        client: Callable[[], Github],
        installation_id: int,
        full_name: str,
        pacer: WritePacer,
        files: FileCache,
        on_bad_token: Callable[[], None] = lambda: None,
    ) -> None:
        self._client, self.installation_id, self.full_name = client, installation_id, full_name
        self._pacer, self._files, self._on_bad_token = pacer, files, on_bad_token
        self._id: int | None = None  # the repository's id, asked once a redirect needs it

    # -- plumbing -------------------------------------------------------------------------------
    def _calls(self) -> AbstractContextManager[None]:
        return as_installation(self._on_bad_token)

    def _repo(self) -> Repository:
        return self._client().get_repo(self.full_name)  # lazy: no request

    def _requester(self) -> Requester:
        return self._client().requester

    def _url(self, path: str) -> str:
        return f"/repos/{self.full_name}{path}"

    def _repository(self) -> int:
        """This repository's id (GET /repos/{full_name}, which follows its renames), asked once."""
        if self._id is None:
            _, data = self._requester().requestJsonAndCheck("GET", self._url(""))
            self._id = int(data["id"])
        return self._id

    def _moved(self, verb: str, url: str, location: str) -> Moved | None:
        """A 301 to another repository (a transferred issue: GitHub answers its old address so,
        to every method) as Moved; None when it goes to this one (its old name, after a rename
        or a transfer of the repository), to be followed."""
        if _repository_id(location) == self._repository():
            return None
        done = "read" if verb == "GET" else "written"
        return Moved(
            f"GitHub: {verb} {url} answered 301 to another repository ({location!r}): the issue"
            f" moved (transferred); not {done} there"
        )

    def _get(self, path: str) -> Any:
        _, data = self._requester().requestJsonAndCheck("GET", self._url(path))
        return data

    def _write(self, fn: Callable[[], T], creates: bool = False) -> T:
        """One paced write; `creates`: it makes an issue or a comment (GitHub caps those). Made
        only while the work still holds its locks, checked when its turn comes (LockLost)."""

        def fenced() -> T:
            check_held()
            return fn()

        with self._calls():
            return self._pacer.run(self.installation_id, fenced, creates)

    def _pages(
        self, path: str, query: dict[str, Any], accept: str | None = None
    ) -> Iterator[list[Any]]:
        """A listing's pages, following GitHub's Link header (whose next address holds the
        query), each asked on the token current then (a slow reader outlives the first one)."""
        url: str | None = self._url(path)
        asked: dict[str, Any] | None = query
        while url:
            with self._calls():
                headers, data = self._read(url, asked, accept)
            yield data
            url, asked = _next_link(headers.get("link")), None

    def _every(self, path: str, accept: str | None = None) -> list[Any]:
        """Every item of a listing, page after page."""
        return [item for page in self._pages(path, {"per_page": self.page_size}, accept)
                for item in page]  # fmt: skip

    # -- reads ----------------------------------------------------------------------------------
    def issue(self, number: int) -> IssueData:
        with self._calls():
            _, data = self._read(self._url(f"/issues/{number}"))
        if int(data["number"]) != number:  # never this repository's issue under another number
            raise Moved(f"GitHub: {self.full_name}#{number} answered as #{data['number']}")
        return issue_data(self.full_name, data)

    def comments(self, number: int) -> list[CommentData]:
        return [comment_data(c) for c in self._every(f"/issues/{number}/comments")]

    def comment(self, comment_id: int) -> CommentData:
        """One comment as GitHub has it now (edited since, or NotFound: deleted)."""
        with self._calls():
            _, data = self._read(self._url(f"/issues/comments/{comment_id}"))
        return comment_data(data)

    def labels(self) -> list[str]:
        with self._calls():
            return [raw(lb)["name"] for lb in self._repo().get_labels()]

    def permission(self, login: str) -> str:
        """admin | maintain | write | triage | read | none (a non-collaborator is none)."""
        with self._calls():
            try:
                data = self._get(f"/collaborators/{urllib.parse.quote(login)}/permission")
            except GithubException as exc:
                if exc.status == 404:
                    return "none"
                raise
        # role_name is the role; an organisation's custom role has its own name there, and the
        # legacy `permission` (admin, write, read) is the role it is based on
        role = data.get("role_name")
        if role not in ROLES:
            role = data.get("permission") or "none"
        return role if role in ROLES else "none"

    def _read(
        self, url: str, parameters: dict[str, Any] | None = None, accept: str | None = None
    ) -> tuple[Any, Any]:
        """One GET, its headers and JSON (see _request)."""
        return self._request("GET", url, parameters, accept=accept)

    def _request(
        self,
        verb: str,
        url: str,
        parameters: dict[str, Any] | None = None,
        body: Any = None,
        accept: str | None = None,
    ) -> tuple[Any, Any]:
        """One request, its headers and JSON, on a connection that follows no redirect itself.
        A 307 or 308 (GitHub's answer to a write at a renamed repository's old name) and a 301
        to this repository's id (its answer to a read there, at times to a write too) are
        followed to the whole address with the same method, on GitHub's host only: PyGithub
        took a 307 for success (the write was lost), and followed a 301 to the path alone (a
        listing lost its query: closed issues came back open, `since` and the labels were
        dropped, the paging stopped after one page of 30). A 301 to another repository's id (a
        transferred issue, to every method) is Moved: PyGithub wrote to, or read, the issue in
        its new repository, as this repository's under the other number."""
        requester = self._requester()
        base = _origin(requester.base_url)
        cnx = _unfollowed(requester)
        for _ in range(MAX_REDIRECTS + 1):
            asked = {"Accept": accept} if accept else None
            status, headers, text = requester.requestJson(
                verb, url, parameters=parameters, headers=asked, input=body, cnx=cnx
            )
            location = headers.get(MOVED_TO) or headers.get("location") or ""
            if status in (301, 307, 308) and location:
                if not urllib.parse.urlsplit(location).netloc:  # a path: on the API's host,
                    # whole (PyGithub would put a GitHub Enterprise /api/v3 before it again)
                    location = urllib.parse.urljoin(requester.base_url + "/", location)
                if _origin(location) != base:
                    raise GitHubError(f"GitHub redirected {verb} {url} to another host: {location}")
                moved = self._moved(verb, url, location) if status == 301 else None
                if moved is not None:
                    raise moved
                url, parameters = location, None  # the location holds the query
                continue
            data = _json(status, text)
            if status >= 400:
                raise Requester.createException(status, headers, data or {})
            if status >= 300:
                raise GitHubError(f"GitHub answered {status} to {verb} {url} (to {location!r})")
            return headers, data
        raise GitHubError(f"GitHub redirected {verb} {url} over {MAX_REDIRECTS} times")

    def list_issues(
        self, state: str = "all", since: str | None = None, labels: list[str] | None = None
    ) -> Iterator[IssueData]:
        """Issues and pull requests (flagged), newest first, every page; `labels` must all match.
        Each page is asked on the token current then (a slow reader outlives the first one)."""
        for page in self._pages("/issues", self._issue_query(state, since, labels)):
            for item in page:
                yield issue_data(self.full_name, item)

    @property
    def page_size(self) -> int:
        return PER_PAGE

    def issue_pages(
        self, state: str = "all", first: int = 1, at: str | None = None
    ) -> Iterator[IssuePage]:
        """list_issues one page at a time from page `first` (1-based), to resume a long listing
        where it stopped; ends after the first page shorter than page_size (the client's), or
        the last. Asked by number up to PAGE_PARAM_LAST, then by the Link header's next address:
        GitHub refuses ?page= past about 10,000 items (422, "use cursor based pagination") and
        its next address carries an `after=` cursor there. Each page comes with the address it
        was asked at and the next one (IssuePage); `at`, page `first`'s address as it came,
        resumes a page past PAGE_PARAM_LAST in one request. Without one (or one of another
        listing, or that GitHub refuses: a 400 or 422, a cursor it no longer takes) a resume
        past that page walks to it from PAGE_PARAM_LAST, reading the pages between without
        giving them."""
        page = max(1, first)
        address = self._listing_address(at, state) if page > PAGE_PARAM_LAST else None
        if address is not None:
            try:
                yield from self._issue_pages_from(address, None, page, page, resumed=True)
                return
            except _AddressRefused:  # walked to, as without one
                pass
        start = min(page, PAGE_PARAM_LAST)
        query = {**self._issue_query(state), "page": start}
        yield from self._issue_pages_from(self._url("/issues"), query, start, page)

    def _issue_pages_from(
        self,
        url: str | None,
        asked: dict[str, Any] | None,
        at: int,
        page: int,
        *,
        resumed: bool = False,
    ) -> Iterator[IssuePage]:
        """issue_pages from its first request (`url` and `asked`, its query; None: in the url),
        which gives page `at`; the pages from `page` are given. `resumed`: the url is a saved
        address, whose refusal (_AddressRefused) issue_pages answers by walking to `page`."""
        while url:  # each page on the token current then: the caller reads a page for long
            try:
                with self._calls():
                    headers, items = self._read(url, asked)
            except GitHubError as err:
                cause = err.__cause__
                if (
                    resumed
                    and type(err) is GitHubError
                    and isinstance(cause, GithubException)
                    and cause.status in (400, 422)
                ):
                    raise _AddressRefused(str(err)) from err
                raise
            resumed, following = False, _next_link(headers.get("link"))
            if at >= page:
                issues = (issue_data(self.full_name, item) for item in items)
                yield IssuePage(issues, None if asked else url, following)
            if len(items) < self.page_size:
                return
            url, asked, at = following, None, at + 1

    def _listing_address(self, address: str | None, state: str) -> str | None:
        """`address` when it is one of this host's issue listings of `state` (an IssuePage's),
        else None: a saved one is asked as it is, and PyGithub takes no other host's."""
        if not address:
            return None
        parts = urllib.parse.urlsplit(address)
        ours = _origin(address) == _origin(self._requester().base_url)
        query = urllib.parse.parse_qs(parts.query)
        if ours and parts.path.endswith("/issues") and query.get("state") == [state]:
            return address
        return None

    def _issue_query(
        self, state: str, since: str | None = None, labels: list[str] | None = None
    ) -> dict[str, Any]:
        """The newest-first listing's query, as PyGithub's get_issues sends it."""
        query: dict[str, Any] = {
            "state": state,
            "sort": "created",
            "direction": "desc",
            "per_page": self.page_size,
        }
        if since:
            at = datetime.fromisoformat(since.replace("Z", "+00:00"))
            if at.tzinfo is None:  # no offset: UTC, as GitHub's own times
                at = at.replace(tzinfo=UTC)
            query["since"] = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # offset kept
        if labels:
            query["labels"] = ",".join(labels)
        return query

    def closed_issues(
        self, labels: list[str] | None = None, progress: Callable[[int], None] | None = None
    ) -> Iterator[IssueData]:
        """Closed issues (pull requests skipped) carrying any of `labels`, for backfills."""
        seen: set[int] = set()
        queries: list[list[str] | None] = [[lb] for lb in labels] if labels else [None]
        for query in queries:  # GitHub ANDs labels, so ask once per label
            for issue in self.list_issues("closed", labels=query):
                if issue.number in seen or issue.is_pull_request:
                    continue
                seen.add(issue.number)
                if progress is not None:
                    progress(len(seen))
                yield issue

    def issue_events(self, number: int) -> list[EventData]:
        """The issue's timeline, oldest first, every page (labels, closes, cross-references)."""
        return [event_data(e) for e in self._every(f"/issues/{number}/timeline", TIMELINE)]

    def file(self, path: str) -> str | None:
        """A file's text on the default branch, or None; unchanged files cost no quota."""
        key = (self.installation_id, self.full_name, path)
        cached = self._files.get(key)
        got = self.file_if_changed(path, cached[0] if cached else None)
        if got.not_modified and cached is not None:
            return cached[1]
        self._files.put(key, got.etag, got.text)
        return got.text

    def file_if_changed(self, path: str, etag: str | None) -> FileContent:
        """The file's text as file_text decodes it: bytes that are not UTF-8 (or UTF-16 after
        its byte-order mark) come as lone surrogates, for the config's reader to refuse."""
        headers = {"If-None-Match": etag} if etag else {}
        url = self._url(f"/contents/{urllib.parse.quote(path.lstrip('/'))}")
        with self._calls():
            status, resp_headers, body = self._requester().requestJson("GET", url, headers=headers)
            if status == 304:
                return FileContent(None, etag=etag, not_modified=True)
            if status == 404:
                return FileContent(None)
            data = _json(status, body)
            if status >= 400:
                raise Requester.createException(status, resp_headers, data or {})
        if not isinstance(data, dict) or data.get("type") != "file":
            return FileContent(None)
        if data.get("encoding") == "none":  # over 1 MB: the JSON answer holds no content
            text = self._raw(url)
        else:
            text = file_text(base64.b64decode(data.get("content") or ""))
        return FileContent(text, etag=resp_headers.get("etag"), sha=data.get("sha"))

    def _raw(self, url: str) -> str:
        """A file's text through the raw media type (GitHub serves files of 1-100 MB only so):
        read as the empty file the JSON answer shows, it replaced the last good config."""
        with self._calls():
            status, headers, body = self._requester().requestJson(
                "GET", url, headers={"Accept": "application/vnd.github.raw+json"}
            )
            if status >= 400:
                raise Requester.createException(status, headers, {})
        return body if isinstance(body, str) else file_text(bytes(body))

    def list_dir(self, path: str) -> list[str]:
        """Paths of the files directly in a folder; [] when there is no such folder."""
        with self._calls():
            try:
                data = self._get(f"/contents/{urllib.parse.quote(path.strip('/'))}")
            except GithubException as exc:
                if exc.status == 404:
                    return []
                raise
        if not isinstance(data, list):
            return []
        return sorted(e["path"] for e in data if e.get("type") == "file")

    # -- writes (paced per installation) ------------------------------------------------------
    def _send(self, verb: str, path: str, body: Any = None) -> Any:
        """One write, its JSON answer; a redirect as _request says: followed when it goes to
        this repository (a 301 of a renamed one's old name too, not only a 307 or 308), Moved
        when it goes to another (an issue transferred there)."""
        return self._request(verb, self._url(path), body=body)[1]

    def add_labels(self, number: int, labels: list[str]) -> None:
        if labels:
            self._write(lambda: self._send("POST", f"/issues/{number}/labels", list(labels)))

    def remove_label(self, number: int, label: str) -> None:
        """Idempotent: a label the issue no longer has is not an error."""
        path = f"/issues/{number}/labels/{urllib.parse.quote(label)}"  # "/" as is, as GitHub takes

        def remove() -> None:
            try:
                self._send("DELETE", path)
            except GithubException as exc:
                if not (exc.status == 404 and "label does not exist" in str(exc.data).lower()):
                    raise

        self._write(remove)

    def create_comment(self, number: int, body: str) -> int:
        path = f"/issues/{number}/comments"
        return int(
            self._write(lambda: self._send("POST", path, {"body": body}), creates=True)["id"]
        )

    def edit_comment(self, comment_id: int, body: str) -> None:
        self._write(lambda: self._send("PATCH", f"/issues/comments/{comment_id}", {"body": body}))

    def close(self, number: int, state_reason: str) -> None:
        fields = {"state": "closed", "state_reason": state_reason}
        self._write(lambda: self._send("PATCH", f"/issues/{number}", fields))

    def edit_issue(self, number: int, title: str | None = None, body: str | None = None) -> None:
        if title is None and body is None:
            return
        fields: dict[str, Any] = {
            k: v for k, v in (("title", title), ("body", body)) if v is not None
        }
        self._write(lambda: self._send("PATCH", f"/issues/{number}", fields))

    def create_issue(self, title: str, body: str, labels: list[str] | None = None) -> int:
        fields = {"title": title, "body": body, "labels": labels or []}
        return int(
            self._write(lambda: self._send("POST", "/issues", fields), creates=True)["number"]
        )

    def create_label(self, name: str, color: str = "ededed", description: str = "") -> None:
        """Idempotent: an existing label of that name is left as it is."""
        fields = {"name": name, "color": color.lstrip("#"), "description": description}

        def create() -> None:
            try:
                self._send("POST", "/labels", fields)
            except GithubException as exc:
                if not (exc.status == 422 and _already_exists(exc.data)):
                    raise  # another refusal (a colour, a name too long) is said, not passed over

        self._write(create)
