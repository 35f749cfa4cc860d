"""A hand-written in-memory RepoHost for triage job tests: records every write."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

from bot.ports import (
    CommentData,
    EventData,
    FileContent,
    Gone,
    IssueData,
    NotFound,
    RateLimited,
    Unavailable,
)


@dataclass
class FakeRepoHost:
    repo: str = "octo/app"
    repo_labels: list[str] = field(
        default_factory=lambda: ["bug", "enhancement", "question", "documentation"]
    )
    issues: dict[int, IssueData] = field(default_factory=dict)
    notes: dict[int, list[CommentData]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)
    writes: list[tuple[str, object]] = field(default_factory=list)
    file_reads: list[tuple[str, bool]] = field(default_factory=list)  # (path, not_modified)
    rate_limit_once_after: int | None = None  # listings raise RateLimited once after N items
    unavailable_at_page: int | None = None  # issue_pages raises Unavailable once at this page
    down_at_page: int | None = None  # ... and this one every time: GitHub stays down
    page_size: int = 100
    pages_fetched: list[int] = field(default_factory=list)
    # issues transferred to another repository: GitHub redirects their old number to the new issue
    moved: dict[int, IssueData] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)  # issues deleted: GitHub answers 410 Gone
    issue_reads: list[int] = field(default_factory=list)  # numbers asked for with issue()
    # each issue's labeled/unlabeled events, oldest first, as GitHub's timeline has them
    events: dict[int, list[EventData]] = field(default_factory=dict)
    bot: str = "smolbot[bot]"
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(9000))

    # seeding -------------------------------------------------------------------------------
    def add(self, title: str, body: str = "", **kw: object) -> IssueData:
        number = max([0, *self.issues]) + 1
        kw.setdefault("author", "alice")
        kw.setdefault("html_url", f"https://github.com/{self.repo}/issues/{number}")
        issue = IssueData(
            repo=self.repo,
            number=number,
            title=title,
            body=body,
            state=str(kw.pop("state", "open")),
            labels=list(kw.pop("labels", [])),  # type: ignore[call-overload]
            created_at="2026-01-01T00:00:00Z",
            updated_at="2026-01-02T00:00:00Z",
            **kw,  # type: ignore[arg-type]
        )
        self.issues[number] = issue
        return issue

    def add_comment(
        self, number: int, body: str, author: str, author_type: str = "User"
    ) -> CommentData:
        """Someone comments on issue `number` (no write of the bot's: not recorded in writes)."""
        note = CommentData(next(self._ids), author, body, "2026-01-03T00:00:00Z", author_type)
        self.notes.setdefault(number, []).append(note)
        return note

    def unlabel(self, number: int, label: str, actor: str, actor_type: str = "User") -> None:
        """A person (or an app) takes `label` off issue `number` (no write of the bot's)."""
        self.issues[number].labels.remove(label)
        self._event(number, "unlabeled", label, actor, actor_type)

    def _event(self, number: int, kind: str, label: str, actor: str, actor_type: str) -> None:
        at = "2026-01-03T00:00:00Z"
        event = EventData(kind, actor, at, actor_type, label=label)
        self.events.setdefault(number, []).append(event)

    def delete(self, number: int) -> IssueData:
        """An admin deletes the issue: it leaves the listing, and GitHub answers 410 for it."""
        self.deleted.add(number)
        return self.issues.pop(number)

    # RepoHost ------------------------------------------------------------------------------
    def issue(self, number: int) -> IssueData:
        self.issue_reads.append(number)
        if number in self.moved:
            return self.moved[number]
        if number in self.deleted:
            raise Gone(f"issue #{number} was deleted")  # as the adapter raises for a 410
        if number not in self.issues:
            raise NotFound(f"no issue #{number}")  # a 404: not there, or not visible (now)
        return self.issues[number]

    def comments(self, number: int) -> list[CommentData]:
        return list(self.notes.get(number, []))

    def comment(self, comment_id: int) -> CommentData:
        """The comment as it is now (edits included); NotFound once deleted, as GitHub's 404."""
        for notes in self.notes.values():
            for c in notes:
                if c.id == comment_id:
                    return c
        raise NotFound(f"no comment {comment_id}")

    def labels(self) -> list[str]:
        return list(self.repo_labels)

    def add_labels(self, number: int, labels: list[str]) -> None:
        self.writes.append(("add_labels", (number, tuple(labels))))
        have = self.issues[number].labels
        for lb in labels:  # as GitHub does: an existing label's own spelling, case aside
            lb = next((r for r in self.repo_labels if r.lower() == lb.lower()), lb)
            if lb.lower() not in {h.lower() for h in have}:
                have.append(lb)
                self._event(number, "labeled", lb, self.bot, "Bot")

    def remove_label(self, number: int, label: str) -> None:
        self.writes.append(("remove_label", (number, label)))
        self.issues[number].labels.remove(label)
        self._event(number, "unlabeled", label, self.bot, "Bot")

    def create_comment(self, number: int, body: str) -> int:
        cid = next(self._ids)
        self.writes.append(("comment", (number, body)))
        self.notes.setdefault(number, []).append(
            CommentData(cid, self.bot, body, "2026-01-03T00:00:00Z", "Bot")
        )
        return cid

    def edit_comment(self, comment_id: int, body: str) -> None:
        self.writes.append(("edit_comment", (comment_id, body)))
        for notes in self.notes.values():
            for c in notes:
                if c.id == comment_id:
                    c.body = body

    def close(self, number: int, state_reason: str) -> None:
        self.writes.append(("close", (number, state_reason)))
        self.issues[number].state = "closed"

    def permission(self, login: str) -> str:
        return self.permissions.get(login, "read")

    def file(self, path: str) -> str | None:
        return self.files.get(path)

    def file_if_changed(self, path: str, etag: str | None) -> FileContent:
        text = self.files.get(path)
        tag = hashlib.sha1((text or "").encode()).hexdigest() if text is not None else None
        if etag is not None and etag == tag:
            self.file_reads.append((path, True))
            return FileContent(None, etag, None, not_modified=True)
        self.file_reads.append((path, False))
        return FileContent(text, tag, tag)

    def list_dir(self, path: str) -> list[str]:
        prefix = path.strip("/") + "/" if path.strip("/") else ""  # "": the root, as GitHub's
        return sorted(p for p in self.files if p.startswith(prefix))

    def list_issues(self, state: str = "all", since: str | None = None) -> Iterator[IssueData]:
        for n, issue in enumerate(sorted(self.issues.values(), key=lambda i: -i.number)):
            if self.rate_limit_once_after is not None and n == self.rate_limit_once_after:
                self.rate_limit_once_after = None
                raise RateLimited(2.0)
            if state in ("all", issue.state):
                yield issue

    def issue_pages(
        self, state: str = "all", first: int = 1, at: str | None = None
    ) -> Iterator[list[IssueData]]:  # by page number only: no page has an address (`at`)
        rows = sorted(self.issues.values(), key=lambda i: -i.number)
        rows = [i for i in rows if state in ("all", i.state)]
        start = (first - 1) * self.page_size
        for at in range(start, max(len(rows), start + 1), self.page_size):
            if self.rate_limit_once_after is not None and at >= self.rate_limit_once_after:
                self.rate_limit_once_after = None
                raise RateLimited(2.0)
            page = at // self.page_size + 1
            if page in (self.unavailable_at_page, self.down_at_page):
                if page == self.unavailable_at_page:
                    self.unavailable_at_page = None
                raise Unavailable("GitHub answered 502; retry later")
            self.pages_fetched.append(page)
            yield rows[at : at + self.page_size]

    def create_issue(self, title: str, body: str, labels: list[str] | None = None) -> int:
        issue = self.add(title, body, author=self.bot, labels=list(labels or []))
        self.writes.append(("create_issue", (issue.number, title)))
        return issue.number

    def issue_events(self, number: int) -> list[EventData]:
        return list(self.events.get(number, []))

    def closed_issues(
        self, labels: list[str] | None = None, progress: object = None
    ) -> Iterator[IssueData]:
        for issue in self.list_issues(state="closed"):
            if not labels or set(labels) & set(issue.labels):
                yield issue

    def edit_issue(self, number: int, title: str | None = None, body: str | None = None) -> None:
        self.writes.append(("edit_issue", (number, title, body)))
        if title is not None:
            self.issues[number].title = title
        if body is not None:
            self.issues[number].body = body

    def create_label(self, name: str, color: str = "ededed", description: str = "") -> None:
        self.repo_labels.append(name)
