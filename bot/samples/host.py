"""SampleHost: the bundled sample repository as an offline, in-memory RepoHost (writes kept in memory)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from bot.ports import CommentData, EventData, FileContent, IssueData, NotFound

CONFIG_PATH = ".github/smolbot.yml"
PAGE = 100  # issues per page, as the GitHub client asks


def _login(obj: dict[str, Any] | None) -> tuple[str, str]:
    obj = obj or {}
    return str(obj.get("login", "")), str(obj.get("type", "User"))


def issue_data(repo: str, raw: dict[str, Any]) -> IssueData:
    """A REST issue object as the port's IssueData."""
    author, kind = _login(raw.get("user"))
    reactions = raw.get("reactions") or {}
    return IssueData(
        repo=repo,
        number=int(raw["number"]),
        title=str(raw.get("title", "")),
        body=str(raw.get("body") or ""),
        state=str(raw.get("state", "open")),
        author=author,
        labels=[lb["name"] for lb in raw.get("labels", [])],
        created_at=str(raw["created_at"]),
        updated_at=str(raw.get("updated_at") or raw["created_at"]),
        assignees=[a["login"] for a in raw.get("assignees") or []],
        html_url=str(raw.get("html_url", "")),
        comments=int(raw.get("comments", 0)),
        reactions=int(reactions.get("total_count", 0)),
        is_pull_request="pull_request" in raw,
        author_association=str(raw.get("author_association", "")),
        author_type=kind,
        closed_at=str(raw["closed_at"]) if raw.get("closed_at") else None,
    )


def comment_data(raw: dict[str, Any]) -> CommentData:
    author, kind = _login(raw.get("user"))
    return CommentData(
        id=int(raw["id"]),
        author=author,
        body=str(raw.get("body") or ""),
        created_at=str(raw["created_at"]),
        author_type=kind,
        html_url=str(raw.get("html_url", "")),
        author_association=str(raw.get("author_association", "")),
        updated_at=str(raw.get("updated_at") or ""),
    )


def event_data(raw: dict[str, Any]) -> EventData:
    actor, kind = _login(raw.get("actor"))
    return EventData(
        kind=str(raw["event"]),
        actor=actor,
        created_at=str(raw["created_at"]),
        actor_type=kind,
        label=(raw.get("label") or {}).get("name"),
        assignee=(raw.get("assignee") or {}).get("login"),
    )


class SampleHost:
    """RepoHost over load_sample()'s dict. Writes change the dict, so a rerun sees them."""

    def __init__(self, data: dict[str, Any], now: Callable[[], datetime] | None = None) -> None:
        self.data = data
        self.repo = str(data["repository"]["full_name"])
        fixed = datetime.fromisoformat(str(data["now"]).replace("Z", "+00:00"))
        self.now = now or (lambda: fixed)
        self.bot = str(data.get("bot_login", "smolbot[bot]"))
        self._index: dict[int, dict[str, Any]] = {}
        self._last_number = 0
        self._next_id: int = 1 + max(
            [c["id"] for cs in data["comments"].values() for c in cs] + [8_000_000]
        )

    # --- reads --------------------------------------------------------------------------
    def _find(self, number: int) -> dict[str, Any]:
        if len(self._index) != len(self.data["issues"]):
            self._index = {int(r["number"]): r for r in self.data["issues"]}
        raw = self._index.get(number)
        if raw is None:
            raise NotFound(f"{self.repo}#{number} is not in the sample data")
        return raw

    def _raw(self, number: int) -> dict[str, Any]:
        return dict(self._find(number))

    def issue(self, number: int) -> IssueData:
        return issue_data(self.repo, self._raw(number))

    def comments(self, number: int) -> list[CommentData]:
        self._raw(number)
        return [comment_data(c) for c in self.data["comments"].get(str(number), [])]

    def comment(self, comment_id: int) -> CommentData:
        for cs in self.data["comments"].values():
            for c in cs:
                if c["id"] == comment_id:
                    return comment_data(c)
        raise NotFound(f"comment {comment_id} is not in the sample data")

    def issue_events(self, number: int) -> list[EventData]:
        self._raw(number)
        return [event_data(e) for e in self.data["events"].get(str(number), [])]

    def list_issues(self, state: str = "all", since: str | None = None) -> Iterator[IssueData]:
        rows = sorted(self.data["issues"], key=lambda r: r["number"], reverse=True)
        for raw in rows:
            if state != "all" and raw["state"] != state:
                continue
            if since is not None and _ts(raw["updated_at"]) < _ts(since):
                continue
            yield issue_data(self.repo, raw)

    @property
    def page_size(self) -> int:
        return PAGE

    def issue_pages(
        self, state: str = "all", first: int = 1, at: str | None = None
    ) -> Iterator[list[IssueData]]:
        """By page number only: the sample's pages have no addresses (`at` is never one)."""
        rows = list(self.list_issues(state))
        start = (max(1, first) - 1) * PAGE
        for n in range(start, max(len(rows), start + 1), PAGE):
            yield rows[n : n + PAGE]

    def closed_issues(
        self, labels: list[str] | None = None, progress: Callable[[int], None] | None = None
    ) -> Iterator[IssueData]:
        for n, item in enumerate(self.list_issues("closed"), 1):
            if progress:
                progress(n)
            if not item.is_pull_request and (not labels or set(labels) & set(item.labels)):
                yield item

    def labels(self) -> list[str]:
        return [lb["name"] for lb in self.data["labels"]]

    def permission(self, login: str) -> str:
        found = [c["permission"] for c in self.data["collaborators"] if c["login"] == login]
        return str(found[0]) if found else "read"

    def file(self, path: str) -> str | None:
        return str(self.data["config"]) if path == CONFIG_PATH else None

    def file_if_changed(self, path: str, etag: str | None) -> FileContent:
        return FileContent(text=self.file(path), etag="sample")

    def list_dir(self, path: str) -> list[str]:
        return []

    # --- writes (in memory) -------------------------------------------------------------
    def _stamp(self) -> str:
        return self.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _update(self, number: int, **changes: Any) -> None:
        self._find(number).update(changes, updated_at=self._stamp())

    def _event(self, number: int, kind: str, **extra: Any) -> None:
        event = {"id": self._new_id(), "event": kind, "created_at": self._stamp()}
        event["actor"] = {"login": self.bot, "type": "Bot"}
        self.data["events"].setdefault(str(number), []).append(event | extra)

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def add_labels(self, number: int, labels: list[str]) -> None:
        have = [lb["name"] for lb in self._raw(number)["labels"]]
        new = [name for name in labels if name not in have]
        self._update(number, labels=self._raw(number)["labels"] + [{"name": n} for n in new])
        for name in new:
            self._event(number, "labeled", label={"name": name})

    def remove_label(self, number: int, label: str) -> None:
        kept = [lb for lb in self._raw(number)["labels"] if lb["name"] != label]
        self._update(number, labels=kept)
        self._event(number, "unlabeled", label={"name": label})

    def create_comment(self, number: int, body: str) -> int:
        cid = self._new_id()
        url = f"{self._raw(number)['html_url']}#issuecomment-{cid}"
        comment = {"id": cid, "user": {"login": self.bot, "type": "Bot"}, "body": body}
        comment |= {"created_at": self._stamp(), "html_url": url, "author_association": "NONE"}
        self.data["comments"].setdefault(str(number), []).append(comment)
        self._update(number, comments=len(self.data["comments"][str(number)]))
        return cid

    def edit_comment(self, comment_id: int, body: str) -> None:
        for cs in self.data["comments"].values():
            for c in cs:
                if c["id"] == comment_id:
                    c.update(body=body, updated_at=self._stamp())
                    return
        raise NotFound(f"comment {comment_id} is not in the sample data")

    def close(self, number: int, state_reason: str) -> None:
        self._update(number, state="closed", state_reason=state_reason, closed_at=self._stamp())
        self._event(number, "closed", state_reason=state_reason)

    def create_issue(self, title: str, body: str, labels: list[str] | None = None) -> int:
        # GitHub never reuses a number, even after a deletion or transfer
        self._last_number = max(
            [self._last_number, *(int(r["number"]) for r in self.data["issues"])]
        )
        self._last_number += 1
        number = self._last_number
        web = self.data["repository"]["html_url"]
        self.data["issues"].append(
            {
                "number": number,
                "title": title,
                "body": body,
                "state": "open",
                "user": {"login": self.bot, "type": "Bot"},
                "labels": [{"name": n} for n in labels or []],
                "created_at": self._stamp(),
                "updated_at": self._stamp(),
                "closed_at": None,
                "comments": 0,
                "html_url": f"{web}/issues/{number}",
                "reactions": {"total_count": 0},
            }
        )
        return number

    def edit_issue(self, number: int, title: str | None = None, body: str | None = None) -> None:
        changes = {k: v for k, v in (("title", title), ("body", body)) if v is not None}
        self._update(number, **changes)

    def create_label(self, name: str, color: str = "ededed", description: str = "") -> None:
        if name not in self.labels():
            self.data["labels"].append({"name": name, "color": color, "description": description})


def _ts(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
