"""A hand-written in-memory GitHub for lifecycle job tests: records writes, counts reads, can rate-limit."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.llm.api import Answer, ModelRecord
from bot.ports import CommentData, EventData, FileContent, IssueData, RateLimited

BOT = "smolbot[bot]"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def issue(**kw: object) -> IssueData:
    """An open issue of o/r opened on day 0 by alice; `kw` overrides any field."""
    base: dict[str, object] = dict(
        repo="o/r",
        number=1,
        title="Crash",
        body="It crashes.",
        state="open",
        author="alice",
        labels=[],
        created_at=iso(day(0)),
        updated_at=iso(day(0)),
    )
    return IssueData(**{**base, **kw})  # type: ignore[arg-type]


def comment(
    n: int, who: str, body: str, at: float, assoc: str = "NONE", kind: str = "User"
) -> CommentData:
    """Comment `n` of issue o/r#1, by `who` on day `at`."""
    return CommentData(
        n, who, body, iso(day(at)), kind, f"https://github.com/o/r/issues/1#c{n}", assoc
    )


class Limiter:
    """Shared across repos: raises RateLimited once, on the call numbered `fail_at` (1-based)."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.fail_at, self.calls = fail_at, 0

    def tick(self) -> None:
        self.calls += 1
        if self.fail_at is not None and self.calls == self.fail_at:
            raise RateLimited(60.0, "secondary rate limit (fake)")


class FakeRepo:
    """RepoHost over plain dicts."""

    def __init__(self, name: str, now: Callable[[], datetime], limiter: Limiter | None = None):
        self.name, self.now, self.limiter = name, now, limiter or Limiter()
        self.issues: dict[int, IssueData] = {}
        self.comment_list: dict[int, list[CommentData]] = {}
        self.events: dict[int, list[EventData]] = {}
        self.files: dict[str, str] = {}
        self.perms: dict[str, str] = {}
        self.calls: Counter[str] = Counter()
        self.writes: list[tuple[Any, ...]] = []
        self._next = 1000

    # -- building ----------------------------------------------------------------------------
    def add_issue(self, number: int, author: str, at: datetime, **kw: Any) -> IssueData:
        base = {"title": f"Issue {number}", "body": "It breaks.", "state": "open", "labels": []}
        issue = IssueData(
            repo=self.name,
            number=number,
            author=author,
            created_at=iso(at),
            updated_at=iso(at),
            html_url=f"https://github.com/{self.name}/issues/{number}",
            **{**base, **kw},
        )
        self.issues[number] = issue
        self.comment_list[number], self.events[number] = [], []
        self._maintains(author, issue.author_association)
        return issue

    def say(
        self,
        number: int,
        author: str,
        body: str,
        at: datetime,
        assoc: str = "NONE",
        kind: str = "User",
    ) -> CommentData:
        self._next += 1
        c = CommentData(
            self._next,
            author,
            body,
            iso(at),
            kind,
            f"https://github.com/{self.name}/issues/{number}#issuecomment-{self._next}",
            assoc,
        )
        self.comment_list[number].append(c)
        self._touch(number, at)
        self._maintains(author, assoc)
        return c

    def _maintains(self, login: str, assoc: str) -> None:
        """Someone a test marks MEMBER or COLLABORATOR can write, unless perms says otherwise:
        GitHub says so of read-only people too, so the bot looks them up."""
        if assoc in ("MEMBER", "COLLABORATOR"):
            self.perms.setdefault(login, "write")

    def event(self, number: int, kind: str, actor: str, at: datetime, **kw: Any) -> None:
        self.events[number].append(EventData(kind, actor, iso(at), **kw))
        self._touch(number, at)

    def _touch(self, number: int, at: datetime) -> None:
        self.issues[number] = replace(self.issues[number], updated_at=iso(at))

    def _call(self, name: str) -> None:
        self.limiter.tick()
        self.calls[name] += 1

    # -- RepoHost reads ------------------------------------------------------------------------
    def issue(self, number: int) -> IssueData:
        self._call("issue")
        return replace(self.issues[number], comments=len(self.comment_list[number]))

    def comments(self, number: int) -> list[CommentData]:
        self._call("comments")
        return list(self.comment_list[number])

    def issue_events(self, number: int) -> list[EventData]:
        self._call("issue_events")
        return list(self.events[number])

    def list_issues(self, state: str = "all", since: str | None = None) -> Iterator[IssueData]:
        self._call("list_issues")
        for n in sorted(self.issues, reverse=True):
            i = self.issues[n]
            if state in ("all", i.state):
                yield replace(i, comments=len(self.comment_list[n]))

    def file(self, path: str) -> str | None:
        self._call("file")
        return self.files.get(path)

    def file_if_changed(self, path: str, etag: str | None) -> FileContent:
        self._call("file_if_changed")
        text = self.files.get(path)
        tag = hashlib.sha1((text or "").encode()).hexdigest()
        if etag == tag:
            return FileContent(None, tag, not_modified=True)
        return FileContent(text, tag)

    def labels(self) -> list[str]:
        return []

    def permission(self, login: str) -> str:
        self._call("permission")
        return self.perms.get(login, "read")

    # -- RepoHost writes (the bot's) -------------------------------------------------------------
    def create_comment(self, number: int, body: str) -> int:
        self._call("create_comment")
        c = self.say(number, BOT, body, self.now(), "NONE", "Bot")
        self.writes.append(("comment", number, body))
        return c.id

    def edit_comment(self, comment_id: int, body: str) -> None:
        self._call("edit_comment")
        for n, cs in self.comment_list.items():
            for i, c in enumerate(cs):
                if c.id == comment_id:
                    cs[i] = replace(c, body=body)
                    self.writes.append(("edit", n, body))

    def add_labels(self, number: int, labels: list[str]) -> None:
        self._call("add_labels")
        issue = self.issues[number]
        self.issues[number] = replace(issue, labels=[*issue.labels, *labels])
        self.writes.append(("add_labels", number, tuple(labels)))

    def remove_label(self, number: int, label: str) -> None:
        self._call("remove_label")
        issue = self.issues[number]
        self.issues[number] = replace(issue, labels=[x for x in issue.labels if x != label])
        self.event(number, "unlabeled", BOT, self.now(), actor_type="Bot", label=label)
        self.writes.append(("remove_label", number, label))

    def close(self, number: int, state_reason: str) -> None:
        self._call("close")
        self.issues[number] = replace(self.issues[number], state="closed")
        self.event(number, "closed", BOT, self.now(), actor_type="Bot")
        self.writes.append(("close", number, state_reason))


class FakeGitHub:
    """GitHubHost over FakeRepos, all sharing one clock and one rate limiter."""

    def __init__(self, now: Callable[[], datetime], limiter: Limiter | None = None) -> None:
        self.now, self.limiter = now, limiter or Limiter()
        self.repos: dict[str, FakeRepo] = {}
        self.inst_calls = 0

    def add_repo(self, name: str) -> FakeRepo:
        self.repos[name] = FakeRepo(name, self.now, self.limiter)
        return self.repos[name]

    def repo(self, installation_id: int, full_name: str) -> FakeRepo:
        return self.repos[full_name]

    def installation_repos(self, installation_id: int) -> list[str]:
        self.limiter.tick()
        self.inst_calls += 1
        return sorted(self.repos)

    def is_self(self, login: str, user_type: str = "Bot") -> bool:
        return login == BOT


class ScriptedModels:
    """A model layer that answers `ask` from a script of values (None: no valid answer)."""

    def __init__(self, *values: Any) -> None:
        self.values, self.prompts = list(values), []  # type: ignore[var-annotated]

    def ask(self, task: str, prompt: str, variables: dict[str, str], schema: Any) -> Answer[Any]:
        self.prompts.append((prompt, variables))
        value = self.values.pop(0) if self.values else None
        rec = ModelRecord(task, "scripted", "scripted-model", prompt + "@1", 0.9, False, 1.0)
        parsed = schema.model_validate(value) if value is not None else None
        return Answer(parsed, 0.9, rec, "ok" if parsed is not None else "no_answer")

    def classify(
        self, task: str, scope: str, text: str, labels: list[str], *, threshold: float
    ) -> Answer[Any]:
        raise NotImplementedError

    def learn(
        self, scope: str, text: str, label: str, source: str, created: float | None = None
    ) -> Any:
        raise NotImplementedError
