"""Backfill: copy a repository's issues into the store and teach the classifier its labeled ones."""

from __future__ import annotations

import csv
import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.core.config import RepoConfig, default_config
from bot.core.lifecycle import epoch_or_none
from bot.core.triage import kind_for_labels
from bot.jobs.context import JobContext
from bot.jobs.repo_config import load_repo_config
from bot.ports import IssueData, RateLimited, RepoHost

log = logging.getLogger(__name__)
TASK = "backfill"
MAX_RATE_WAIT_S = 15 * 60  # longer than this: give up and let the task queue retry later


@dataclass
class BackfillResult:
    repo: str
    seen: int = 0
    stored: int = 0
    learned: int = 0
    skipped: int = 0


def issue_row(issue: IssueData) -> dict[str, Any]:
    """An IssueData in the shape Store.upsert_issue takes (closed_at approximated by updated_at)."""
    return {
        "number": issue.number,
        "title": issue.title,
        "body": issue.body,
        "state": issue.state,
        "user": {"login": issue.author},
        "labels": list(issue.labels),
        "created_at": issue.created_at,
        "updated_at": issue.updated_at,
        "closed_at": issue.updated_at if issue.state == "closed" else None,
    }


def _pages(
    host: RepoHost, sleep: Callable[[float], None], done: set[int], retries: int = 3
) -> Iterator[IssueData]:
    """Every issue once; a rate limit waits as told and resumes past what was already seen."""
    for attempt in range(retries + 1):
        try:
            for issue in host.list_issues(state="all"):
                if issue.number not in done:
                    yield issue
            return
        except RateLimited as err:
            if attempt == retries or err.retry_after_s > MAX_RATE_WAIT_S:
                raise
            log.info("rate limited; waiting %.0f s", err.retry_after_s)
            sleep(err.retry_after_s)


def backfill_repo(
    ctx: JobContext,
    host: RepoHost,
    repo: str,
    *,
    progress: Callable[[int], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    delivery_id: str | None = None,
) -> BackfillResult:
    """Store every issue; learn() each closed issue that carries exactly one kind label."""
    cfg = load_repo_config(ctx.store, host, repo, bot_login=ctx.settings.bot_login)
    result, done = BackfillResult(repo), set[int]()
    for issue in _pages(host, sleep, done):
        done.add(issue.number)
        result.seen += 1
        if progress is not None:
            progress(1)
        if issue.is_pull_request:
            result.skipped += 1
            continue
        ctx.store.upsert_issue(repo, issue_row(issue))
        result.stored += 1
        if issue.state == "closed" and _learn(
            ctx, repo, issue.title, issue.body, issue.labels, cfg, issue.created_at
        ):
            result.learned += 1
    ctx.store.audit(
        "backfill",
        "done",
        f"{result.stored} issues stored, {result.learned} learned",
        task=TASK,
        delivery_id=delivery_id,
        repo=repo,
        detail=result.__dict__,
    )
    return result


def _learn(
    ctx: JobContext,
    repo: str,
    title: str,
    body: str,
    labels: list[str],
    cfg: RepoConfig,
    created: object = None,
) -> bool:
    kind = kind_for_labels(labels, cfg)
    if kind is None or ctx.models is None:
        return False
    text = f"{title}\n\n{body or ''}"
    ctx.models.learn(repo, text, kind.value, "backfill", epoch_or_none(created))
    return True


def read_labeled_file(path: Path) -> Iterator[dict[str, str]]:
    """Rows with title, body, label from a CSV file or JSON lines (by extension, then content)."""
    text_is_csv = path.suffix.lower() == ".csv"
    with path.open(newline="", encoding="utf-8") as fh:
        if text_is_csv:
            csv.field_size_limit(2**31 - 1)  # issue bodies can exceed the 128 KB default
            yield from csv.DictReader(fh)
            return
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    raise ValueError(
                        f"{path}:{n}: not a JSON object; use CSV or JSON lines"
                    ) from None


def backfill_from_file(
    ctx: JobContext, repo: str, path: Path, *, progress: Callable[[int], None] | None = None
) -> BackfillResult:
    """Teach the per-repo classifier from a file instead of the API (no GitHub needed)."""
    cfg, result = default_config(), BackfillResult(repo)
    for row in read_labeled_file(path):
        result.seen += 1
        if progress is not None:
            progress(1)
        labels = [s.strip() for s in str(row.get("label") or "").split(",") if s.strip()]
        title, body = str(row.get("title") or ""), str(row.get("body") or "")
        if (title or body) and _learn(ctx, repo, title, body, labels, cfg, row.get("created_at")):
            result.learned += 1
        else:
            result.skipped += 1
    ctx.store.audit(
        "backfill",
        "done",
        f"{result.learned} labeled issues learned from {path.name}",
        task=TASK,
        repo=repo,
        detail=result.__dict__,
    )
    return result


def handle_installation_event(ctx: JobContext, delivery_id: str, payload: dict[str, Any]) -> None:
    """installation.created / installation_repositories.added: backfill each new repository."""
    if ctx.github is None:
        raise RuntimeError("no GitHub connection: set SMOLBOT_APP_ID and SMOLBOT_PRIVATE_KEY")
    inst = int((payload.get("installation") or {}).get("id", 0))
    repos = payload.get("repositories") or payload.get("repositories_added") or []
    for item in repos:
        name = str(item["full_name"])
        backfill_repo(ctx, ctx.github.repo(inst, name), name, delivery_id=delivery_id)
    if repos and ctx.defer is not None:  # new labeled examples: tune the encoder if now due
        ctx.defer("tune_encoder", {"reason": f"backfill of {len(repos)} repositories"}, delivery_id)
