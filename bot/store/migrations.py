"""Schema of the SQLite store, as sqlite-utils migrations applied at process start."""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database, Migrations

migrations = Migrations("smolbot")


def _create(db: Database, table: str, columns: dict[str, Any], **options: Any) -> None:
    """Create a table, or, when an earlier version's upsert (sqlite-utils creates the table it
    writes to) made it before this migration existed, add the columns it lacks and keep its
    rows: a migration that failed on it would stop every process at startup."""
    if not db.table(table).exists():
        db.table(table).create(columns, **options)
        return
    for name, col_type in columns.items():
        _add_column(db, table, name, col_type)


def _index(db: Database, table: str, columns: list[str]) -> None:
    db.table(table).create_index(columns, if_not_exists=True)


def _add_column(db: Database, table: str, name: str, col_type: Any) -> None:
    """Add a column unless an earlier version's upsert(alter=True) added it already (SQLite;
    PostgreSQL's add_column is `if not exists`)."""
    if isinstance(db, Database) and name in db.table(table).columns_dict:
        return
    db.table(table).add_column(name, col_type)


@migrations()
def m001_core(db: Database) -> None:
    _create(
        db,
        "deliveries",
        {
            "id": str,
            "event": str,
            "action": str,
            "installation_id": int,
            "repo": str,
            "number": int,
            "status": str,  # received -> queued -> running -> done | ignored | dead
            "attempts": int,
            "received_at": float,
            "updated_at": float,
            "error": str,
            "payload": str,
        },
        pk="id",
        not_null={"event", "status", "received_at"},
        defaults={"status": "received", "attempts": 0},
    )
    _index(db, "deliveries", ["status", "updated_at"])
    _create(
        db,
        "installations",
        {"id": int, "account": str, "account_type": str, "suspended": int, "updated_at": float},
        pk="id",
    )
    _create(
        db,
        "repositories",
        {"full_name": str, "id": int, "installation_id": int, "private": int, "added_at": float},
        pk="full_name",
    )
    _index(db, "repositories", ["installation_id"])
    _create(
        db,
        "issues",
        {
            "repo": str,
            "number": int,
            "title": str,
            "body": str,
            "state": str,
            "author": str,
            "labels": str,  # JSON list
            "kind": str,
            "created_at": str,
            "updated_at": str,
            "closed_at": str,
            "seen_at": float,
        },
        pk=("repo", "number"),
    )
    _create(
        db,
        "audit",
        {
            "id": int,
            "at": float,
            "task": str,
            "delivery_id": str,
            "repo": str,
            "number": int,
            "action": str,
            "outcome": str,  # done | skipped | dry-run | failed
            "reason": str,
            "detail": str,  # JSON
        },
        pk="id",
    )
    _index(db, "audit", ["repo", "number"])
    _index(db, "audit", ["at"])
    _create(
        db,
        "dead_letters",
        {
            "id": int,
            "at": float,
            "task": str,
            "args": str,  # JSON
            "error": str,
            "replayed_at": float,
        },
        pk="id",
    )


@migrations()
def m010_llm(db: Database) -> None:
    """The model layer: every model call, the answer cache, labeled examples, large-model budget."""
    _create(
        db,
        "model_calls",
        {
            "id": int,
            "at": float,
            "call_id": str,  # one ask()/classify(); several rows when it escalated
            "final": int,  # 1: the row whose answer the caller got
            "task": str,
            "scope": str,
            "backend": str,
            "model": str,
            "prompt_version": str,
            "status": str,
            "confidence": float,
            "escalated": int,
            "latency_ms": float,
            "tokens_in": int,
            "tokens_out": int,
            "cache_hit": int,
            "note": str,
        },
        pk="id",
    )
    _index(db, "model_calls", ["task", "at"])
    _index(db, "model_calls", ["at"])
    _create(
        db,
        "llm_cache",
        {
            "key": str,
            "task": str,
            "prompt_version": str,
            "model": str,
            "value": str,  # JSON of the validated answer
            "confidence": float,
            "created_at": float,
            "hits": int,
        },
        pk="key",
        defaults={"hits": 0},
    )
    _create(
        db,
        "llm_examples",
        {
            "scope": str,
            "text_hash": str,
            "text": str,
            "label": str,
            "source": str,  # human | large | backfill
            "at": float,
            "seq": int,  # rises with every write: the classifier retrains when it moves
        },
        pk=("scope", "text_hash"),
    )
    _index(db, "llm_examples", ["seq"])
    _create(db, "llm_budget", {"day": str, "provider": str, "calls": int}, pk=("day", "provider"))


@migrations()
def m020_triage(db: Database) -> None:
    """Triage (issue 4): cached repo files by ETag, config state, ignored issues."""
    _create(
        db,
        "repo_files",
        {"repo": str, "path": str, "etag": str, "sha": str, "text": str, "fetched_at": float},
        pk=("repo", "path"),
    )
    _create(
        db,
        "repo_configs",
        {
            "repo": str,
            "good_text": str,  # the last valid .github/smolbot.yml (None: none seen)
            "error": str,  # the current file's problem, None when valid
            "error_issue": int,  # the issue the bot opened about it
            "updated_at": float,
        },
        pk="repo",
    )
    _create(
        db,
        "triage_ignored",
        {"repo": str, "number": int, "by": str, "at": float},
        pk=("repo", "number"),
    )


@migrations()
def m030_lifecycle(db: Database) -> None:
    """Lifecycle (issue 5): resumable sweeps, each issue's waiting-on state, summary cache."""
    _create(
        db,
        "sweeps",
        {
            "installation_id": int,
            "run_id": str,  # one per scheduled run (default: the UTC date)
            "status": str,  # running | paused | done
            "repo": str,  # the repository being swept (cursor)
            "issue": int,  # the last issue finished in that repository (cursor)
            "operations": int,  # actions performed this run, all repositories
            "repo_operations": int,  # actions performed this run in the cursor's repository
            "counts": str,  # JSON: issues seen, fetched, skipped, pinged, closed, ...
            "started_at": float,
            "updated_at": float,
            "finished_at": float,
            "error": str,
        },
        pk=("installation_id", "run_id"),
        defaults={"operations": 0, "repo_operations": 0, "issue": 0},
    )
    _create(
        db,
        "lifecycle_state",
        {
            "repo": str,
            "number": int,
            "waiting_on": str,  # author | maintainer | assignee | nobody | exempt
            "who": str,  # JSON list of logins
            "since": str,
            "reason": str,
            "next_due": str,  # ISO time before which nothing changes unless the thread does
            "seen_updated_at": str,  # the issue's updated_at when decided (None after acting)
            "config_hash": str,
            "decided_at": float,
        },
        pk=("repo", "number"),
    )
    _index(db, "lifecycle_state", ["waiting_on"])
    _create(
        db,
        "summaries",
        {"repo": str, "number": int, "content_hash": str, "how": str, "updated_at": float},
        pk=("repo", "number"),
    )


@migrations()
def m040_digest(db: Database) -> None:
    """Weekly digests: one row per repository and ISO week, so a rerun edits the same issue."""
    _create(
        db,
        "digests",
        {
            "repo": str,
            "week": str,  # "2026-w48"
            "number": int,  # the digest issue on GitHub
            "posted_at": float,
            "title": str,
            "markdown": str,
            "json": str,
        },
        pk=("repo", "week"),
    )
    _index(db, "digests", ["posted_at"])


@migrations()
def m030_lifecycle_summary_seen(db: Database) -> None:
    """Lifecycle (issue 5): remember the issue's updated_at a summary was checked against."""
    _add_column(db, "summaries", "seen_updated_at", str)


@migrations()
def m030_lifecycle_roles(db: Database) -> None:
    """Lifecycle (issue 5): who can write to a repository, cached so sweeps ask GitHub rarely."""
    _create(
        db,
        "lifecycle_roles",
        {"repo": str, "login": str, "can_write": int, "checked_at": float},
        pk=("repo", "login"),
    )


@migrations()
def m050_coord(db: Database) -> None:
    """Scale-out (issue 8): lock rows, shared write pacing per installation, model-queue job runs."""
    _create(
        db,
        "coord_locks",
        {"key": str, "owner": str, "expires_at": float},
        pk="key",
        not_null={"expires_at"},
    )
    _create(
        db,
        "coord_pacing",
        {"key": str, "next_at": float, "paused_until": float},
        pk="key",
        defaults={"next_at": 0.0, "paused_until": 0.0},
    )
    _create(
        db,
        "jobs",
        {
            "id": str,
            "name": str,
            "kwargs": str,  # JSON
            "status": str,  # received -> queued -> running -> done | dead
            "attempts": int,
            "received_at": float,
            "updated_at": float,
            "error": str,
        },
        pk="id",
        not_null={"name", "status", "received_at"},
        defaults={"status": "received", "attempts": 0},
    )
    _index(db, "jobs", ["status", "updated_at"])


@migrations()
def m060_encoders(db: Database) -> None:
    """Triage (issue 4): tuned encoder weights shared through the store (bot/llm/encoder_share.py)."""
    _create(
        db,
        "encoder_tunes",
        {"fingerprint": str, "manifest": str, "files": str, "published_at": float},  # JSON
        pk="fingerprint",
        not_null={"manifest", "files", "published_at"},
    )
    _create(
        db,
        "encoder_files",
        {"fingerprint": str, "path": str, "seq": int, "data": bytes},
        pk=("fingerprint", "path", "seq"),
    )


@migrations()
def m070_example_dates(db: Database) -> None:
    """Triage (issue 4): when a labeled example's issue was opened, for `smolbot models eval`."""
    _add_column(db, "llm_examples", "created", float)


@migrations()
def m080_backfill_cursors(db: Database) -> None:
    """Triage (issue 4): where each repository's API backfill stopped, so a retry resumes there."""
    _create(
        db,
        "backfill_cursors",
        {
            "repo": str,
            "delivery_id": str,  # the installation event that started it (None: the CLI)
            "status": str,  # running | stopped | done
            "page": int,  # the last page of the issue listing fetched
            "started_at": float,
            "updated_at": float,
            "error": str,  # why it stopped
        },
        pk="repo",  # no NOT NULLs: sqlite-utils' upsert inserts the key alone, then updates
    )


@migrations()
def m090_backfill_resumes(db: Database) -> None:
    """Triage (issue 4): stopped backfills resume by themselves, hourly, a bounded number of times."""
    # automatic resumes in a row since a person's or an installation event's run
    _add_column(db, "backfill_cursors", "resumes", int)
    # a rate limit's reset: not resumed before
    _add_column(db, "backfill_cursors", "retry_at", float)


@migrations()
def m100_backfill_overlap(db: Database) -> None:
    """Triage (issue 4): the issues of the page a queued backfill's part ended on, as a JSON list,
    for the next part: it skips those that opened issues push down onto its first page, and lists
    that page again when a deletion in between may have pulled an issue up onto it."""
    _add_column(db, "backfill_cursors", "listed", str)


@migrations()
def m110_write_window(db: Database) -> None:
    """Scale-out: the content-creating writes of the last hour per installation, for GitHub's
    500-an-hour secondary limit (bot/coord/pacing.py)."""
    _create(db, "coord_writes", {"key": str, "at": float}, not_null={"key", "at"})
    _index(db, "coord_writes", ["key", "at"])


@migrations()
def m120_archived_repositories(db: Database) -> None:
    """Repository events: an archived repository is read-only on GitHub, so digests and sweeps
    leave it alone until it is unarchived."""
    _add_column(db, "repositories", "archived", int)  # 1: archived; null or 0: not


@migrations()
def m130_repo_renames(db: Database) -> None:
    """Repository events: each rename or transfer, old name -> new, so a job queued under the old
    name (a summary, a backfill part) runs under today's name when it comes up."""
    _create(
        db,
        "repo_renames",
        {"old": str, "new": str, "repo_id": int, "at": float},  # repo_id: GitHub's, when known
        pk="old",
    )


@migrations()
def m140_backfill_part_totals(db: Database) -> None:
    """Triage (issue 4): a queued backfill's part and its counts so far, as JSON (its number and
    the earlier parts' totals, its first page, its counts, the issues of its last page handled),
    so the task queue's retry of a part that stopped, or an hourly resume, goes on from them."""
    _add_column(db, "backfill_cursors", "totals", str)


@migrations()
def m150_sweep_failing(db: Database) -> None:
    """Lifecycle: the issue a sweep run met a GitHub 5xx on, and how many times in a row, as JSON;
    after a few the issue is audited as failed and the run goes on past it."""
    _add_column(db, "sweeps", "failing", str)


@migrations()
def m160_lifecycle_pings(db: Database) -> None:
    """Lifecycle: every re-ping the bot posted (its marker, when, since when the issue waited),
    so a ping a maintainer deleted still counts and is not sent again in that waiting period."""
    _create(
        db,
        "lifecycle_pings",
        {"repo": str, "number": int, "marker": str, "at": str, "since": str},
        pk=("repo", "number", "marker"),
    )


@migrations()
def m170_digest_refused(db: Database) -> None:
    """Digest: when GitHub last refused a repository's issues for good (404, or 410 with Issues
    switched off; its installation gone), so the hourly job audits that once and asks again
    daily, not every hour; cleared when it answers or the repository is added again."""
    _add_column(db, "repositories", "digest_refused", float)  # null: not refused


@migrations()
def m180_model_call_totals(db: Database) -> None:
    """The model layer: the call log past SMOLBOT_RETENTION_DAYS, summed per group (task, backend,
    cache hit, final, status) by the daily prune before it deletes those rows, so /metrics'
    counters never go back while it reads a bounded log. `under` is JSON: {seconds bound: calls
    of at most that latency}; `first_id`, the group's first call, keeps the series' order."""
    _create(
        db,
        "model_call_totals",
        {
            "id": int,
            "task": str,
            "backend": str,
            "cache_hit": int,
            "final": int,
            "status": str,
            "first_id": int,
            "calls": int,
            "tokens_in": int,
            "tokens_out": int,
            "seconds": float,
            "under": str,
        },
        pk="id",
    )


@migrations()
def m190_digest_old_previews(db: Database) -> None:
    """Digest: a dry-run preview stored before 698818f kept the issue it would have edited (the
    pinned one), so its week counted as posted and was never posted once dry-run was off, and
    the dashboard showed it as posted. Such a row (its week audited `digest dry-run` and never
    `digest done`) gets no issue, as previews are stored now. The audit's detail is JSON text
    on both stores: read here, not in SQL."""
    sql = (
        "select repo, outcome, detail from audit"
        " where task = 'digest' and action = 'digest' and outcome in ('dry-run', 'done')"
    )
    outcomes: dict[tuple[str, str], set[str]] = {}
    for row in db.query(sql):
        try:
            week = json.loads(row["detail"] or "{}").get("week")
        except (AttributeError, TypeError, ValueError):
            continue
        if isinstance(week, str) and row["repo"]:
            outcomes.setdefault((row["repo"], week), set()).add(row["outcome"])
    for (repo, week), seen in sorted(outcomes.items()):
        if "done" not in seen:
            db.execute("update digests set number = null where repo = ? and week = ?", [repo, week])


@migrations()
def m200_example_issues(db: Database) -> None:
    """Triage (issue 4): the issue an example was learned from, so a maintainer's label after the
    body was edited replaces the large model's example of the earlier text (one example per
    issue). Rows from before have none: they are found by their text, as before."""
    _add_column(db, "llm_examples", "issue", int)
    _index(db, "llm_examples", ["scope", "issue"])


@migrations()
def m210_dashboard_signouts(db: Database) -> None:
    """Dashboard: the session ids signed out before their cookie expired. Sign-out only deleted
    the cookie in that browser; a copy of it (another browser profile, a proxy's log) stayed
    good for the rest of its 12 hours."""
    _create(db, "dashboard_signouts", {"sid": str, "expires": float}, pk="sid")


@migrations()
def m220_audit_by_delivery(db: Database) -> None:
    """Triage: a retried `edited` delivery asks whether its failed attempt labeled the issue
    already (Store.labels_added), by delivery id, in an audit log that only grows."""
    _index(db, "audit", ["delivery_id"])


@migrations()
def m230_backfill_page_addresses(db: Database) -> None:
    """Triage (issue 4): the address GitHub's Link header gave for a backfill's page, and for the
    page before it (whose issues `listed` holds): past the pages GitHub gives by number (about
    10,000 issues), a resume, a retry or a queued backfill's next part asks its page in one
    request by it, instead of walking there again from the last numbered page."""
    _add_column(db, "backfill_cursors", "page_address", str)
    _add_column(db, "backfill_cursors", "listed_address", str)


@migrations()
def m240_digest_best_score(db: Database) -> None:
    """Dashboard: each digest's best top-issue score (null: no top issue), so the overview picks
    the repositories whose issues it shows (100 rows in all) in SQL and reads only their digests'
    JSON: parsing every repository's newest digest took 2 s a page at 10,000 repositories. In an
    index with the primary key's columns and posted_at, the pick reads no (large) row. Rows from
    before get theirs from their JSON, once."""
    _add_column(db, "digests", "best_score", float)
    _index(db, "digests", ["repo", "week", "best_score", "posted_at"])
    scores = []
    for row in db.query("select repo, week, json from digests"):
        try:
            top = json.loads(row["json"] or "{}").get("top") or []
            best = max((float(i["score"]) for i in top if isinstance(i, dict)), default=None)
        except (AttributeError, KeyError, TypeError, ValueError):
            continue
        if best is not None:
            scores.append((best, row["repo"], row["week"]))
    for best, repo, week in scores:
        db.execute(
            "update digests set best_score = ? where repo = ? and week = ?", [best, repo, week]
        )
