"""Ports: the interfaces jobs use to reach GitHub, models and the store. Adapters implement them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class IssueRef:
    repo: str  # "owner/name"
    number: int


@dataclass
class CommentData:
    id: int
    author: str
    body: str
    created_at: str
    author_type: str = "User"  # "Bot" for apps
    html_url: str = ""
    author_association: str = (
        ""  # OWNER | MEMBER | COLLABORATOR | CONTRIBUTOR | NONE ... (lifecycle)
    )
    updated_at: str = ""  # when it was last edited ("" : the host does not say); lifecycle


@dataclass
class IssueData:
    repo: str
    number: int
    title: str
    body: str
    state: str
    author: str
    labels: list[str]
    created_at: str
    updated_at: str
    assignees: list[str] = field(default_factory=list)
    milestone: str | None = None
    locked: bool = False
    html_url: str = ""
    comments: int = 0
    reactions: int = 0
    is_pull_request: bool = False
    # added for lifecycle (issue 5); adapters fill what they can
    draft: bool = False  # a draft pull request
    pinned: bool = False
    author_association: str = ""
    author_type: str = "User"  # "Bot" for apps: such an issue never waits on its author
    closed_at: str | None = None  # when it was last closed (None: open, or the host does not say)
    # reactions by GitHub's kind ("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket",
    # "eyes"), all time; empty: the host gave only the total (`reactions`)
    reaction_counts: dict[str, int] = field(default_factory=dict)


class IssuePage(list[IssueData]):
    """One page of RepoHost.issue_pages: its issues, the address it was asked at (None: asked by
    its page number) and the next page's (None: this is the last). Past the pages GitHub gives
    by number, an address is how a listing resumes in one request; a host without addresses
    gives plain lists."""

    def __init__(
        self,
        issues: Iterable[IssueData] = (),
        address: str | None = None,
        next_address: str | None = None,
    ) -> None:
        super().__init__(issues)
        self.address, self.next_address = address, next_address


@dataclass(frozen=True)
class EventData:
    """One entry of an issue's event list (lifecycle, issue 5): who changed what, and when."""

    kind: str  # labeled | unlabeled | assigned | unassigned | closed | reopened | ...
    actor: str
    created_at: str
    actor_type: str = "User"  # "Bot" for apps
    label: str | None = None  # labeled / unlabeled
    assignee: str | None = None  # assigned / unassigned
    # added by the GitHub adapter: cross-referenced events name the referencing issue or PR,
    # referenced events the commit whose message names the issue
    source_number: int | None = None
    source_is_pull_request: bool = False
    source_repo: str = ""  # its repository ("owner/name"); "" when GitHub did not say
    commit_id: str | None = None


@dataclass(frozen=True)
class FileContent:
    """A file read conditionally: not_modified when the ETag still matched (costs no quota)."""

    text: str | None  # None: the file does not exist (or not_modified)
    etag: str | None = None
    sha: str | None = None
    not_modified: bool = False


class GitHubError(Exception):
    """A GitHub call failed in a way that is not the caller's fault."""


HOURLY_CREATES = 500  # GitHub: at most 500 content-creating requests an hour per installation


class RateLimited(GitHubError):
    """Primary or secondary rate limit. retry_after_s says when to try again."""

    def __init__(
        self, retry_after_s: float, message: str = "", backoff: bool = False, paced: bool = False
    ) -> None:
        super().__init__(message or f"GitHub rate limit; retry in {retry_after_s:.0f} s")
        self.retry_after_s = retry_after_s
        # GitHub said no time (no retry-after, quota not spent): back off, twice as long each retry
        self.backoff = backoff
        # the shared pacer's own refusal (a pause every worker already sees, the hour's
        # creations spent), not GitHub's answer: nothing new to tell the other workers
        self.paced = paced

    def wait_s(self, retries: int) -> float:
        """How long to wait before retry number `retries` + 1 (0: the first retry)."""
        if not self.backoff:
            return self.retry_after_s
        return min(self.retry_after_s * 2.0**retries, max(self.retry_after_s, 3600.0))


class Unavailable(GitHubError):
    """GitHub answered 5xx or could not be reached; retry with backoff."""


class NotFound(GitHubError):
    """GitHub answered 404 or 410: the repository, issue, comment or file is not there (or not
    visible), or the issue was deleted."""


class Gone(NotFound):
    """GitHub answered 410: the issue was deleted, for good. A 404 can pass (an author hidden as
    spam, a permission briefly lost); a 410 does not."""


class Moved(NotFound):
    """GitHub answered 301 to another repository's id: the issue was transferred there. Not
    read or written there, nor followed: to this repository it is gone, as a deleted one is."""


class ReadOnly(GitHubError):
    """GitHub refused a write because the repository is archived (read-only until unarchived):
    not retried, and the repository is left alone until then."""


class Locked(GitHubError):
    """GitHub refused a comment because the issue's conversation is locked (403 "Unable to
    create comment because issue is locked."; an App may not comment there, whatever its
    permissions): only that comment is not posted, audited; the issue may still be labelled and
    closed, and retrying changes nothing until a maintainer unlocks it."""


class AppCredentialsError(Exception):
    """The App's id or private key was refused (not retryable); the message names the setting to fix."""


class RepoHost(Protocol):
    """What jobs may do on one repository, as one installation."""

    def issue(self, number: int) -> IssueData: ...
    def comments(self, number: int) -> list[CommentData]: ...
    def comment(self, comment_id: int) -> CommentData: ...  # as it is now; NotFound: deleted
    def labels(self) -> list[str]: ...
    def add_labels(self, number: int, labels: list[str]) -> None: ...
    def remove_label(self, number: int, label: str) -> None: ...
    def create_comment(self, number: int, body: str) -> int: ...
    def edit_comment(self, comment_id: int, body: str) -> None: ...
    def close(self, number: int, state_reason: str) -> None: ...
    def permission(self, login: str) -> str: ...  # admin | maintain | write | triage | read | none
    def file(self, path: str) -> str | None: ...
    # added for triage (issue 4); the GitHub adapter implements them
    def file_if_changed(self, path: str, etag: str | None) -> FileContent: ...
    def list_dir(self, path: str) -> list[str]: ...  # file paths in a folder; [] if none
    def list_issues(
        self, state: str = "all", since: str | None = None
    ) -> Iterator[IssueData]: ...  # every page, newest first; pull requests included (flagged)
    def issue_pages(
        self, state: str = "all", first: int = 1, at: str | None = None
    ) -> Iterator[list[IssueData]]: ...  # list_issues page by page from page `first` (1-based)
    # (IssuePage: with their addresses; `at`: page `first`'s, to resume there in one request)
    @property
    def page_size(self) -> int: ...  # issue_pages' full page: a shorter one is the last
    def create_issue(self, title: str, body: str, labels: list[str] | None = None) -> int: ...
    # added for lifecycle (issue 5); the GitHub adapter implements it
    def issue_events(self, number: int) -> list[EventData]: ...  # oldest first, every page
    # added by the GitHub adapter (backfill, digests, label setup)
    def closed_issues(
        self, labels: list[str] | None = None, progress: Callable[[int], None] | None = None
    ) -> Iterator[IssueData]: ...  # closed issues (no PRs) having any of `labels`; progress(n seen)
    def edit_issue(
        self, number: int, title: str | None = None, body: str | None = None
    ) -> None: ...
    def create_label(self, name: str, color: str = "ededed", description: str = "") -> None: ...


class GitHubHost(Protocol):
    def repo(self, installation_id: int, full_name: str) -> RepoHost: ...
    # added by the GitHub adapter
    def installation_repos(self, installation_id: int) -> list[str]: ...  # sorted, not archived
    def is_self(self, login: str, user_type: str = "Bot") -> bool: ...  # the bot's own account


class Enqueue(Protocol):
    """Hands recorded deliveries to the queue (one message for the lot).

    Raises QueueUnavailable when the broker is down.
    """

    def __call__(self, delivery_ids: Sequence[str]) -> None: ...


class QueueUnavailable(Exception):
    pass
