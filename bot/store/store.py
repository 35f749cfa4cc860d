"""Store: the one place that reads and writes smolbot's SQLite database."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlite_utils import Database

from bot.store.migrations import migrations

# What a repository's rename carries to its new name: (table, its repository column, the rest of
# its primary key; None when the repository is the whole key). Not the history tables.
RENAMED_WITH = (
    ("repositories", "full_name", None),
    ("issues", "repo", "number"),
    ("llm_examples", "scope", "text_hash"),
    ("repo_files", "repo", "path"),
    ("repo_configs", "repo", None),
    ("triage_ignored", "repo", "number"),
    ("lifecycle_state", "repo", "number"),
    ("lifecycle_pings", "repo", "number"),
    ("lifecycle_roles", "repo", "login"),
    ("summaries", "repo", "number"),
    ("digests", "repo", "week"),
    ("backfill_cursors", "repo", None),
)

# An issue row in one of these states is an issue GitHub no longer has under that number.
GONE_STATES = ("deleted", "transferred")

DELIVERY_COLUMNS = (
    "id",
    "event",
    "action",
    "installation_id",
    "repo",
    "number",
    "status",
    "payload",
)


class StoreFileReplaced(sqlite3.OperationalError):
    """The SQLite file this process opened is no longer the one at its path (check_file): no
    statement on this connection will reach the file other processes use until it is restarted.
    Intake counts it as an outage (the spool keeps deliveries for the restarted web)."""


class Store:
    """Typed operations over one sqlite-utils Database. Open one per process (or thread)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.file: tuple[Path, int, int] | None = None  # a SQLite file's path, device, inode

    # --- lifecycle -----------------------------------------------------------------------
    def migrate(self) -> None:
        """Apply this version's pending migrations; refuse a store a newer version migrated (a
        rollback, a process not upgraded yet): this code would run on a schema it does not know,
        and its writes would fail one by one instead of the process at startup."""
        known = {m.name for m in migrations._migrations}
        unknown = [m.name for m in migrations.applied(self.db) if m.name not in known]
        if unknown:
            from bot.settings import SettingsError

            raise SettingsError(
                f"the store was migrated by a newer smolbot ({', '.join(unknown)}, unknown to"
                " this version): upgrade this process to that version, or restore the backup"
                " made before the upgrade"
            )
        if not isinstance(self.db.conn, sqlite3.Connection):
            migrations.apply(self.db)
            return
        # SQLite: each migration in a transaction that holds the write lock from its start. A
        # migration reads the schema, then writes; in a deferred transaction, a commit by another
        # process in between fails it at once with "database is locked" (WAL cannot upgrade the
        # stale read, whatever the busy timeout), which a busy writer makes likely every time.
        migrations.ensure_migrations_table(self.db)
        for migration in migrations.pending(self.db):
            with self.writing():
                done = {m.name for m in migrations.applied(self.db)}  # by another process?
                if migration.name not in done:
                    migration.fn(self.db)
                    migrations._record_applied(self.db, migration.name)

    def ping(self) -> bool:
        self.check_file()
        return bool(self.db.execute("select 1").fetchone()[0] == 1)

    def check_file(self) -> None:
        """Fail when the SQLite file this process opened is no longer the one at its path (deleted,
        or replaced: `rm`, a backup moved over it). The open connection would go on writing to
        the old file, which no process started since opens: they make a new, empty one."""
        if self.file is None:
            return
        path, device, inode = self.file
        with contextlib.suppress(FileNotFoundError):
            now = path.stat()
            if (now.st_dev, now.st_ino) == (device, inode):
                return
        raise StoreFileReplaced(
            f"the store file {path} was deleted or replaced since this process opened it: what"
            " it writes goes to the old file, which no other process sees; restart it (its open"
            f" file stays readable at /proc/{os.getpid()}/fd until then, to copy anything back)"
        )

    def close(self) -> None:
        self.db.conn.close()

    # --- deliveries ----------------------------------------------------------------------
    def record_delivery(
        self,
        delivery_id: str,
        event: str,
        payload: str,
        *,
        action: str | None = None,
        installation_id: int | None = None,
        repo: str | None = None,
        number: int | None = None,
        status: str = "received",
    ) -> bool:
        """Record a delivery once. False when this delivery id was seen before (a redelivery)."""
        row = {
            "id": delivery_id,
            "event": event,
            "action": action,
            "installation_id": installation_id,
            "repo": repo,
            "number": number,
            "status": status,
            "payload": payload,
        }
        return self.record_deliveries([row])[0]

    def record_deliveries(self, rows: Sequence[Mapping[str, Any]]) -> list[bool]:
        """Record deliveries in one transaction (the web process's group commit).

        Each row has the keys of record_delivery's arguments, and may have "received_at": when
        the delivery arrived (a spooled one is recorded later; the recovery sweep's order and
        dispatch's "was the repository removed since" go by it), else now. The answer says, row
        by row, whether its id was new (False: a redelivery, or the same id twice in this batch).
        """
        self.check_file()  # the web's intake: never answer 202 for a file no worker opens
        now = time.time()
        sql = (
            f"insert into deliveries ({', '.join(DELIVERY_COLUMNS)}, attempts, received_at,"
            f" updated_at) values ({', '.join('?' for _ in DELIVERY_COLUMNS)}, 0, ?, ?)"
            " on conflict (id) do nothing"
        )
        new = []
        with self.db.atomic():
            for row in rows:
                values = [
                    row.get(k, "received" if k == "status" else None) for k in DELIVERY_COLUMNS
                ]
                came = _arrived(row.get("received_at"), now)
                new.append(self.db.execute(sql, [*values, came, now]).rowcount == 1)
        return new

    def mark_queued(self, delivery_ids: Sequence[str]) -> None:
        """received -> queued once published; a row a fast worker already took is left alone."""
        self.mark_queued_rows("deliveries", delivery_ids)

    def mark_queued_rows(self, table: str, ids: Sequence[str]) -> None:
        """received -> queued in a work table (deliveries, jobs); a row a worker took is left."""
        if not ids:
            return
        marks = ", ".join("?" for _ in ids)
        self.db.execute(
            f"update {table} set status = 'queued', updated_at = ?"
            f" where status = 'received' and id in ({marks})",
            [time.time(), *ids],
        )
        self.db.conn.commit()

    def delivery(self, delivery_id: str) -> dict[str, Any] | None:
        rows = list(self.db.table("deliveries").rows_where("id = ?", [delivery_id]))
        return rows[0] if rows else None

    def set_delivery_status(
        self,
        delivery_id: str,
        status: str,
        error: str | None = None,
        *,
        next_at: float | None = None,
    ) -> None:
        """Set status; next_at (a retry's due time) keeps the recovery sweep off it until then."""
        self.db.execute(
            "update deliveries set status = ?, error = ?, updated_at = ? where id = ?",
            [status, error, next_at or time.time(), delivery_id],
        )
        self.db.conn.commit()

    def claim_delivery(self, delivery_id: str, lease_s: float = 600.0) -> bool:
        """Mark a delivery running. False when it is final, or another worker holds a live lease."""
        return self.claim("deliveries", delivery_id, lease_s)

    def claim(self, table: str, row_id: str, lease_s: float) -> bool:
        """Lease a row of a work table (deliveries, jobs): received/queued, or a lapsed lease."""
        now = time.time()
        cur = self.db.execute(
            f"update {table} set status = 'running', attempts = attempts + 1, updated_at = ?"
            " where id = ? and (status in ('received', 'queued')"
            " or (status = 'running' and updated_at < ?))",
            [now, row_id, now - lease_s],
        )
        self.db.conn.commit()
        return cur.rowcount == 1

    def requeue_stuck(
        self,
        table: str,
        row_id: str,
        cutoff: float,
        why: str,
        received_cutoff: float | None = None,
    ) -> bool:
        """Mark a row the recovery sweep found stuck `queued` again, only if it still is (not
        finished or freshly claimed since the sweep listed it); True when it was. A `received`
        row (never published) counts as stuck from `received_cutoff` (default: `cutoff`)."""
        cur = self.db.execute(
            f"update {table} set status = 'queued', error = ?, updated_at = ? where id = ?"
            " and (status = 'received' and updated_at < ?"
            " or status in ('queued', 'running') and updated_at < ?)",
            [why, time.time(), row_id, _or(received_cutoff, cutoff), cutoff],
        )
        self.db.conn.commit()
        return bool(cur.rowcount == 1)

    def requeue_dead(self, table: str, row_id: str, why: str) -> bool:
        """Queue a parked row again for a fresh run (`smolbot retry`): its attempts start from
        0, or one more lapse after the replay would park it again at once. Only a row still
        parked: False for one replayed already (queued, running or finished since), which must
        not be queued or run again."""
        cur = self.db.execute(
            f"update {table} set status = 'queued', attempts = 0, error = ?, updated_at = ?"
            " where id = ? and status = 'dead'",
            [why, time.time(), row_id],
        )
        self.db.conn.commit()
        return cur.rowcount == 1

    def release(self, table: str, row_id: str) -> None:
        """Give a claimed row back (running -> queued) for its retry to claim at once; the
        claim is not counted as an attempt (the lapse limit counts runs that died)."""
        self.db.execute(
            f"update {table} set status = 'queued', updated_at = ?,"
            " attempts = case when attempts > 0 then attempts - 1 else 0 end where id = ?"
            " and status = 'running'",
            [time.time(), row_id],
        )
        self.db.conn.commit()

    def prune(self, before: float) -> dict[str, int]:
        """Drop what only grows: the payloads of deliveries finished before `before` (the row
        stays: a redelivery of it is still known, and the counts and the audit keep it), cached
        model answers made before it, and the model call records: summed into totals first, so
        /metrics' counters never go back. Dead deliveries keep theirs for `smolbot retry`; the
        audit log is kept whole."""
        from bot.llm.metrics import LATENCY_BUCKETS  # the model layer owns its call log
        from bot.llm.records import Records

        with _unbounded(self.db):  # the first prune of a long history may take minutes
            calls = Records(self).fold_calls(before, LATENCY_BUCKETS)
            payloads = self.db.execute(
                "update deliveries set payload = '' where status in ('done', 'ignored')"
                " and updated_at < ? and payload != ''",
                [before],
            ).rowcount
            answers = self.db.execute(
                "delete from llm_cache where created_at < ?", [before]
            ).rowcount
        self.db.conn.commit()
        return {"payloads": payloads, "cached_answers": answers, "model_calls": calls}

    def stuck_rows(
        self,
        table: str,
        older_than_s: float,
        now: float | None = None,
        received_after_s: float | None = None,
    ) -> list[tuple[str, str, int]]:
        """(id, status, attempts) of a work table's rows (deliveries, jobs) received but not
        finished for longer than older_than_s (lost by a worker), oldest first; rows never
        published (`received`: the broker was down) after `received_after_s` already."""
        rows = self.stuck("id, status, attempts", table, older_than_s, now, received_after_s)
        return [(r[0], r[1], int(r[2] or 0)) for r in rows]

    def stuck(
        self,
        columns: str,
        table: str,
        older_than_s: float,
        now: float | None = None,
        received_after_s: float | None = None,
    ) -> list[Any]:
        """`columns` of the rows stuck_rows names, oldest first (the recovery sweep's one rule for
        what is stuck, for every work table)."""
        now = now or time.time()
        sql = (
            f"select {columns} from {table} where (status = 'received' and updated_at < ?"
            " or status in ('queued', 'running') and updated_at < ?) order by received_at"
        )
        cutoffs = [now - _or(received_after_s, older_than_s), now - older_than_s]
        return list(self.db.execute(sql, cutoffs).fetchall())

    def stuck_deliveries(self, older_than_s: float, now: float | None = None) -> list[str]:
        """Deliveries received but not finished for longer than older_than_s (lost by a worker)."""
        return [r[0] for r in self.stuck_rows("deliveries", older_than_s, now)]

    def delivery_counts(self) -> dict[str, int]:
        sql = "select status, count(*) from deliveries group by status"
        return {s: n for s, n in self.db.execute(sql).fetchall()}

    # --- installations -------------------------------------------------------------------
    def upsert_installation(self, inst_id: int, account: str, account_type: str = "") -> None:
        """Record an installation, or refresh its account; a blank account or type keeps the one
        stored, and whether it is suspended is left as it is (only the suspend and unsuspend
        events change that: a later event of another kind must not unsuspend it)."""
        self.db.execute(
            "insert into installations (id, account, account_type, suspended, updated_at)"
            " values (?, ?, ?, 0, ?) on conflict (id) do update set"
            " account = coalesce(nullif(excluded.account, ''), installations.account),"
            " account_type = coalesce(nullif(excluded.account_type, ''),"
            " installations.account_type), updated_at = excluded.updated_at",
            [inst_id, account, account_type, time.time()],
        )
        self.db.conn.commit()

    def set_installation_suspended(
        self, inst_id: int, suspended: bool, account: str = "", account_type: str = ""
    ) -> None:
        """Suspended or not, recorded even for an installation the store has not seen yet."""
        self.upsert_installation(inst_id, account, account_type)
        self.db.execute(
            "update installations set suspended = ? where id = ?", [int(suspended), inst_id]
        )
        self.db.conn.commit()

    def remove_installation(self, inst_id: int) -> None:
        with self.db.atomic():
            self.db.execute("delete from repositories where installation_id = ?", [inst_id])
            self.db.execute("delete from installations where id = ?", [inst_id])

    def add_repositories(self, inst_id: int, repos: Iterable[dict[str, Any]]) -> None:
        rows = [
            {
                "full_name": r["full_name"],
                "id": r.get("id"),
                "installation_id": inst_id,
                "private": int(bool(r.get("private"))),
                "added_at": time.time(),
                "digest_refused": None,  # added again: the digest asks for its issues again
            }
            for r in repos
        ]
        if rows:
            self.db.table("repositories").upsert_all(rows, pk="full_name")

    def remove_repositories(self, names: Iterable[str]) -> None:
        for name in names:
            self.db.execute("delete from repositories where full_name = ?", [name])
        self.db.conn.commit()

    def rename_repository(self, old: str, new: str, *, new_owner: bool = False) -> dict[str, int]:
        """A repository renamed or transferred on GitHub: what the store keeps under its old name
        moves to the new one, in one transaction; the rows counted by table.

        Its issues, labeled examples (the classifier's scope), cached config and templates,
        lifecycle and summary state, digests, backfill cursor and sweep cursor follow. A row the
        new name already has (an event under the new name was handled first) is the newer and
        stays. The history (deliveries, audit, model calls) keeps the name it had then. With
        `new_owner` (a transfer) who may write is forgotten: another owner, other people.
        The renamed examples are sequenced after every other, so each process's classifier sees
        new examples and retrains with the scope under its new name."""
        if old == new:
            return {}
        moved: dict[str, int] = {}
        with self.db.atomic():
            if new_owner:
                self.db.execute("delete from lifecycle_roles where repo = ?", [old])
            # the new name's config row, saved by an event under it handled first, knew nothing
            # of the old one: it takes the last good file it lacks, and the error recorded
            # under the old name with its issue when it has none (the next read closes that)
            rows = {
                r["repo"]: r
                for r in self.db.query(
                    "select repo, good_text, error, error_issue from repo_configs"
                    " where repo in (?, ?)",
                    [old, new],
                )
            }
            if old in rows and new in rows:
                was, now = rows[old], rows[new]
                error = (now["error"], now["error_issue"] or was["error_issue"])
                if now["error"] is None and was["error"] is not None:
                    error = (was["error"], was["error_issue"])
                self.db.execute(
                    "update repo_configs set good_text = ?, error = ?, error_issue = ?"
                    " where repo = ?",
                    [
                        was["good_text"] if now["good_text"] is None else now["good_text"],
                        *error,
                        new,
                    ],
                )
            for table, col, key in RENAMED_WITH:
                same = (
                    f"{key} in (select {key} from {table} where {col} = ?)"
                    if key
                    else f"exists (select 1 from {table} where {col} = ?)"
                )
                self.db.execute(f"delete from {table} where {col} = ? and {same}", [old, new])
                cur = self.db.execute(f"update {table} set {col} = ? where {col} = ?", [new, old])
                if cur.rowcount:
                    moved[table] = cur.rowcount
            # a sweep's cursor (the repository it is in), compared with GitHub's listing
            self.db.execute("update sweeps set repo = ? where repo = ?", [new, old])
            # where the old name leads, for jobs queued under it; renamed back: no loop
            rid = self.db.execute(
                "select id from repositories where full_name = ?", [new]
            ).fetchone()
            self.db.execute("delete from repo_renames where old in (?, ?)", [old, new])
            self.db.execute(
                "insert into repo_renames (old, new, repo_id, at) values (?, ?, ?, ?)",
                [old, new, rid[0] if rid else None, time.time()],
            )
            if moved.get("llm_examples"):
                top = self.db.execute("select max(seq) from llm_examples").fetchone()[0] or 0
                low = self.db.execute(
                    "select min(seq) from llm_examples where scope = ?", [new]
                ).fetchone()[0]
                self.db.execute(
                    "update llm_examples set seq = seq + ? where scope = ?", [top - low + 1, new]
                )
        return moved

    def set_archived(self, full_name: str, archived: bool) -> bool:
        """Mark a repository archived (read-only on GitHub: nothing is written to it) or not;
        False when the store does not know it."""
        cur = self.db.execute(
            "update repositories set archived = ? where full_name = ?", [int(archived), full_name]
        )
        self.db.conn.commit()
        return bool(cur.rowcount)

    def set_digest_refused(self, full_name: str, at: float | None) -> None:
        """When GitHub last refused the repository's issues for good (the digest job's clock);
        None: it answers."""
        self.db.execute(
            "update repositories set digest_refused = ? where full_name = ?", [at, full_name]
        )
        self.db.conn.commit()

    def unarchive_listed(self, installation_id: int, listed: Iterable[str]) -> list[str]:
        """The installation's repositories GitHub just listed as not archived: any the store
        still marks archived (unarchived while no event reached us) are unmarked; their names."""
        names = set(listed)
        back = [
            r["full_name"]
            for r in self.repositories(installation_id)
            if r.get("archived") and r["full_name"] in names
        ]
        for name in back:
            self.set_archived(name, False)
        return back

    def installations(self) -> list[dict[str, Any]]:
        return list(self.db.table("installations").rows_where(order_by="id"))

    def suspended_installations(self) -> set[int]:
        """Ids of installations suspended on GitHub: it refuses their tokens until unsuspended."""
        return {int(i["id"]) for i in self.installations() if i.get("suspended")}

    def installation_suspended(self, inst_id: int) -> bool:
        """Whether the store marks installation `inst_id` suspended (one it does not know: no)."""
        row = self.db.execute(
            "select suspended from installations where id = ?", [inst_id]
        ).fetchone()
        return bool(row and row[0])

    def suspend_unless_undone(self, inst_id: int, since: float) -> None:
        """Mark an installation suspended as GitHub just said it is (a token refused: the store
        missed the suspend event, or has not handled it yet), recorded if the store does not know
        it; unless a delivery recorded at or after `since` (when the refused run started)
        unsuspended or uninstalled it: that one may have come after GitHub's answer, and stands.
        One statement, so an unsuspend handled in between is never written over."""
        undone = (
            "select 1 from deliveries where installation_id = ? and received_at >= ?"
            " and event = 'installation' and action in ('unsuspend', 'deleted')"
        )
        self.db.execute(
            "insert into installations (id, account, account_type, suspended, updated_at)"
            f" select ?, '', '', 1, ? where not exists ({undone})"
            " on conflict (id) do update set suspended = 1, updated_at = excluded.updated_at",
            [inst_id, time.time(), inst_id, since],
        )
        self.db.conn.commit()

    def hold_delivery(self, delivery_id: str, why: str) -> bool:
        """Hold a claimed delivery of an installation suspended on GitHub (status `held`) until
        release_held: meanwhile not run, retried, parked, nor re-queued by the recovery sweep.
        The claim is not counted as an attempt (the lapse limit counts runs that died). False
        when the delivery is not running (another worker finished or took it)."""
        cur = self.db.execute(
            "update deliveries set status = 'held', error = ?, updated_at = ?,"
            " attempts = case when attempts > 0 then attempts - 1 else 0 end"
            " where id = ? and status = 'running'",
            [why, time.time(), delivery_id],
        )
        self.db.conn.commit()
        return bool(cur.rowcount == 1)

    def release_held(self, inst_id: int, why: str) -> list[str]:
        """The deliveries held for installation `inst_id` (hold_delivery) made `received` again,
        oldest first: the recovery sweep publishes them as it does a delivery the broker never
        took (within a minute or two). Their ids."""
        with self.db.atomic():
            ids = [
                str(r[0])
                for r in self.db.execute(
                    "select id from deliveries where installation_id = ? and status = 'held'"
                    " order by received_at",
                    [inst_id],
                ).fetchall()
            ]
            if ids:
                self.db.execute(
                    "update deliveries set status = 'received', error = ?, updated_at = ?"
                    " where installation_id = ? and status = 'held'",
                    [why, time.time(), inst_id],
                )
        return ids

    def held_deliveries(self) -> list[dict[str, Any]]:
        """Deliveries held for suspended installations (hold_delivery), by installation: its id,
        account (blank for one the store never recorded), how many, and when the oldest came."""
        sql = (
            "select d.installation_id as installation_id, coalesce(i.account, '') as account,"
            " count(*) as held, min(d.received_at) as since from deliveries d"
            " left join installations i on i.id = d.installation_id"
            " where d.status = 'held' group by d.installation_id, i.account"
            " order by d.installation_id"
        )
        return list(self.db.query(sql))

    def repositories(self, inst_id: int | None = None) -> list[dict[str, Any]]:
        if inst_id is None:
            return list(self.db.table("repositories").rows_where(order_by="full_name"))
        where = "installation_id = ?"
        return list(
            self.db.table("repositories").rows_where(where, [inst_id], order_by="full_name")
        )

    def repo_spelling(self, name: str) -> str:
        """The one spelling the store knows `name` by (GitHub matches repository names case
        aside: `Octo/App` is `octo/app`), else `name` as given."""
        sql = (
            "select full_name from repositories where lower(full_name) = lower(?)"
            " union select repo from issues where lower(repo) = lower(?)"
            " union select scope from llm_examples where lower(scope) = lower(?)"
        )
        known = {r[0] for r in self.db.execute(sql, [name, name, name]).fetchall()}
        return known.pop() if len(known) == 1 else name

    def repo_name_by_id(self, repo_id: int) -> str | None:
        """The name the store knows GitHub's repository `repo_id` by (today's, after a rename)."""
        row = self.db.execute(
            "select full_name from repositories where id = ? order by added_at desc limit 1",
            [repo_id],
        ).fetchone()
        return str(row[0]) if row else None

    def current_repo_name(self, name: str) -> str:
        """Today's name of the repository a job was queued for as `name`: the name itself while
        the store knows a repository by it (a new repository may take an old name), else the
        name of the repository renamed from it (by GitHub's id), else where its renames lead."""
        seen = {name}
        while not self.db.execute(
            "select 1 from repositories where full_name = ?", [name]
        ).fetchone():
            row = self.db.execute(
                "select new, repo_id from repo_renames where old = ?", [name]
            ).fetchone()
            if row is None or row[0] in seen:
                break
            if row[1] is not None and (now := self.repo_name_by_id(row[1])) is not None:
                return now
            name = str(row[0])
            seen.add(name)
        return name

    def installation_for_repo(self, full_name: str) -> int | None:
        rows = list(self.db.table("repositories").rows_where("full_name = ?", [full_name]))
        return rows[0]["installation_id"] if rows else None

    # --- issues --------------------------------------------------------------------------
    def upsert_issue(self, repo: str, issue: dict[str, Any]) -> bool:
        """Keep the newest copy of an issue, from a webhook payload or the REST API; False when
        `issue` is not newer and was dropped. A copy older than the stored one (updated_at) is
        stale: a backfill page listed before an edit, a late or retried delivery. Once the issue
        is stored as deleted or transferred only a strictly newer copy replaces it: a deleted
        issue's last copy (a retried `opened` delivery) would bring it back into duplicate search.

        The comparison and the write are one transaction that holds the row (SQLite: the write
        lock from its start; PostgreSQL: the row locked for update), so a newer copy another
        process stores between them is never overwritten by this older one."""
        row = _issue_row(repo, issue)
        cols = ", ".join(row)
        insert = (
            f"insert into issues ({cols}) values ({', '.join('?' for _ in row)})"
            " on conflict (repo, number) do nothing"
        )
        sets = ", ".join(f"{c} = ?" for c in row if c not in ("repo", "number"))
        update = f"update issues set {sets} where repo = ? and number = ?"
        with self.writing():
            stored = self._issue_held(repo, issue["number"])
            if stored is None:
                if self.db.execute(insert, list(row.values())).rowcount == 1:
                    return True
                stored = self._issue_held(repo, issue["number"])  # another's insert came first
            if stored is not None and not _replaces(issue, stored):
                return False
            rest = [v for c, v in row.items() if c not in ("repo", "number")]
            self.db.execute(update, [*rest, repo, issue["number"]])
        return True

    def _issue_held(self, repo: str, number: int) -> dict[str, Any] | None:
        """The stored issue, inside writing(): on PostgreSQL locked until the transaction ends
        (SQLite's BEGIN IMMEDIATE holds the whole file already)."""
        lock = "" if isinstance(self.db.conn, sqlite3.Connection) else " for update"
        sql = f"select * from issues where repo = ? and number = ?{lock}"
        rows = list(self.db.query(sql, [repo, number]))
        return rows[0] if rows else None

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """A transaction that holds the write lock from its start, for one that reads, then
        writes (upsert_issue, Records.learn). On SQLite (WAL) such a transaction either fails at
        once with "database is locked" when another connection wrote in between (a stale read
        snapshot is not waited for) or, as separate statements, writes over what it did not
        read; BEGIN IMMEDIATE waits its busy timeout for the lock instead. PostgreSQL: atomic()
        (with select ... for update where a row is read)."""
        conn = self.db.conn
        if not isinstance(conn, sqlite3.Connection) or conn.in_transaction:
            with self.db.atomic():
                yield
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.rollback()
            raise
        conn.commit()

    def set_issue_kind(self, repo: str, number: int, kind: str) -> None:
        self.db.table("issues").update((repo, number), {"kind": kind})

    def issue(self, repo: str, number: int) -> dict[str, Any] | None:
        rows = list(self.db.table("issues").rows_where("repo = ? and number = ?", [repo, number]))
        return rows[0] if rows else None

    def issues(self, repo: str, state: str | None = None) -> list[dict[str, Any]]:
        if state is None:
            return list(self.db.table("issues").rows_where("repo = ?", [repo], order_by="number"))
        where = "repo = ? and state = ?"
        return list(self.db.table("issues").rows_where(where, [repo, state], order_by="number"))

    # --- ignored issues (`/smolbot ignore`: no feature acts on them unasked) ---------------
    def ignore_issue(self, repo: str, number: int, by: str) -> None:
        row = {"repo": repo, "number": number, "by": by, "at": time.time()}
        self.db.table("triage_ignored").upsert(row, pk=("repo", "number"))

    def unignore_issue(self, repo: str, number: int) -> None:
        self.db.table("triage_ignored").delete_where("repo = ? and number = ?", [repo, number])

    def ignored_by(self, repo: str, number: int) -> str | None:
        """Who said `/smolbot ignore` on the issue; None when nobody did (or it was retriaged)."""
        where = "repo = ? and number = ?"
        rows = list(self.db.table("triage_ignored").rows_where(where, [repo, number]))
        return str(rows[0]["by"] or "a maintainer") if rows else None

    # --- dashboard sessions --------------------------------------------------------------
    def sign_out(self, session: str, expires: float, now: float | None = None) -> None:
        """Refuse the dashboard session `session` from now until its cookie expires anyway; the
        ids whose cookies have expired are forgotten here."""
        table = self.db.table("dashboard_signouts")
        table.delete_where("expires < ?", [now if now is not None else time.time()])
        table.upsert({"sid": session, "expires": expires}, pk="sid")

    def signed_out(self, session: str) -> bool:
        rows = self.db.table("dashboard_signouts").rows_where("sid = ?", [session], limit=1)
        return any(True for _ in rows)

    # --- audit log -----------------------------------------------------------------------
    def audit(
        self,
        action: str,
        outcome: str,
        reason: str,
        *,
        task: str = "",
        delivery_id: str | None = None,
        repo: str | None = None,
        number: int | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """One row per action the bot took, or decided not to take, and why.

        One row per decision per delivery: a delivery the queue retries (it failed partway, after
        some rows were written) decides again what its first attempt decided, and a row the same
        as one already recorded for that delivery (same task, repository, issue, action, outcome
        and reason) is not written again. The detail is not compared (a model record in it has
        that attempt's timings): the first row stands. Checked and written in one transaction
        that holds SQLite's write lock (PostgreSQL: read committed; a retry runs after the
        attempt before it ended), by the audit index on delivery_id."""
        row = {
            "at": time.time(),
            "task": task,
            "delivery_id": delivery_id,
            "repo": repo,
            "number": number,
            "action": action,
            "outcome": outcome,
            "reason": reason,
            "detail": json.dumps(detail or {}, default=str),
        }
        if delivery_id is None:
            self.db.table("audit").insert(row)
            return
        same = ("delivery_id", "task", "repo", "number", "action", "outcome", "reason")
        key = {k: row[k] for k in same}
        where = " and ".join(f"{k} is null" if v is None else f"{k} = ?" for k, v in key.items())
        args = [v for v in key.values() if v is not None]
        sql = f"select 1 from audit where {where} limit 1"
        with self.writing():
            if not any(True for _ in self.db.query(sql, args)):
                self.db.table("audit").insert(row)

    def labels_added(self, repo: str, number: int, delivery_id: str | None = None) -> set[str]:
        """The labels the bot itself put on an issue (its `add_labels` done), casefolded: under
        the repository's names before renames too (the audit keeps the name it had then); with
        `delivery_id`, only those handling that delivery put on (an earlier, failed attempt)."""
        names = self._names_before(repo)
        marks = ", ".join("?" for _ in names)
        sql = (
            f"select detail from audit where repo in ({marks}) and number = ?"
            " and action = 'add_labels' and outcome = 'done'"
        )
        args: list[Any] = [*names, number]
        if delivery_id is not None:
            sql, args = f"{sql} and delivery_id = ?", [*args, delivery_id]
        out: set[str] = set()
        for row in self.db.query(sql, args):
            try:
                labels = json.loads(row["detail"] or "{}").get("labels") or []
            except (AttributeError, TypeError, ValueError):
                continue
            out.update(str(lb).casefold() for lb in labels if isinstance(lb, str))
        return out

    def _names_before(self, repo: str) -> list[str]:
        """`repo` and the names the store renamed to it, and to those (repo_renames)."""
        names, todo = [repo], [repo]
        while todo and len(names) < 50:  # a chain of renames, never a loop
            rows = self.db.execute("select old from repo_renames where new = ?", [todo.pop()])
            for (old,) in rows.fetchall():
                if old not in names:
                    names.append(old)
                    todo.append(old)
        return names

    def audit_rows(
        self, repo: str | None = None, number: int | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        if repo is not None:
            clauses.append("repo = ?")
            args.append(repo)
        if number is not None:
            clauses.append("number = ?")
            args.append(number)
        where = " and ".join(clauses) or None
        rows = self.db.table("audit").rows_where(where, args, order_by="id desc", limit=limit)
        return list(reversed(list(rows)))

    # --- dead letters --------------------------------------------------------------------
    def dead_letter(self, task: str, args: dict[str, Any], error: str) -> None:
        self.db.table("dead_letters").insert(
            {"at": time.time(), "task": task, "args": json.dumps(args), "error": error}
        )

    def dead_letters(self, include_replayed: bool = False) -> list[dict[str, Any]]:
        where = None if include_replayed else "replayed_at is null"
        return list(self.db.table("dead_letters").rows_where(where, order_by="id"))

    def mark_replayed(self, dead_id: int) -> None:
        self.db.table("dead_letters").update(dead_id, {"replayed_at": time.time()})

    def rows(self, sql: str, args: Iterable[Any] = ()) -> Iterator[dict[str, Any]]:
        return self.db.query(sql, list(args))


# Every SQLite file smolbot writes (the store, the embedded broker): WAL, synced at checkpoints.
# A process crash loses nothing committed; a power cut can lose the last transactions.
SQLITE_FILE_PRAGMAS = ("pragma journal_mode = wal", "pragma synchronous = normal")


def open_store(path: str | Path, *, migrate: bool = True) -> Store:
    """Open (and migrate) the store: a SQLite path, ':memory:', `sqlite:///PATH` or `postgresql://…`.

    A PostgreSQL URL gives a Store whose `.db` is bot.store.pg.PgDatabase, which implements the
    part of sqlite-utils' Database API the code base uses (pass settings.effective_database_url).
    """
    target = str(path)
    if target.startswith(("postgresql://", "postgres://")):
        return _open_pg(target, migrate)
    target = target.removeprefix("sqlite:///") if target.startswith("sqlite:///") else target
    if target == ":memory:":
        # one connection for all threads, as a file store has (a retrain beside reads from its own)
        store = Store(Database(sqlite3.connect(":memory:", check_same_thread=False)))
        if migrate:
            store.migrate()
        return store
    try:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:  # a file in the way, a read-only or virtual file system
        from bot.settings import SettingsError

        raise SettingsError(
            f"cannot create {Path(target).parent} for the store ({err.strerror or err}): set"
            " SMOLBOT_DATA_DIR (or SMOLBOT_DATABASE_URL) to a directory this user can write"
        ) from None
    with sqlite_setup_lock(Path(target)):
        conn = sqlite3.connect(target, timeout=30, check_same_thread=False)
        db = Database(conn)
        for pragma in SQLITE_FILE_PRAGMAS:
            db.execute(pragma)
        store = Store(db)
        opened = Path(target).stat()
        store.file = (Path(target).absolute(), opened.st_dev, opened.st_ino)
        if migrate:
            store.migrate()
    return store


def _issue_row(repo: str, issue: dict[str, Any]) -> dict[str, Any]:
    """The issues row of a copy from a webhook payload or the REST API."""
    labels = [lb["name"] if isinstance(lb, dict) else lb for lb in issue.get("labels", [])]
    user = issue.get("user") or {}
    return {
        "repo": repo,
        "number": issue["number"],
        "title": issue.get("title", ""),
        "body": issue.get("body") or "",
        "state": issue.get("state", "open"),
        "author": user.get("login", "") if isinstance(user, dict) else str(user),
        "labels": json.dumps(labels),
        "created_at": issue.get("created_at"),
        "updated_at": issue.get("updated_at"),
        "closed_at": issue.get("closed_at"),
        "seen_at": time.time(),
    }


def _replaces(issue: dict[str, Any], stored: dict[str, Any]) -> bool:
    """Whether `issue` (an incoming copy) is to replace the `stored` row (Store.upsert_issue). A
    deletion or transfer always is: the issue never comes back under that number. A copy of
    unknown age replaces a row that is not gone, as every copy did before copies were compared."""
    if issue.get("state") in GONE_STATES:
        return True
    gone = stored.get("state") in GONE_STATES
    new, old = _when(issue.get("updated_at")), _when(stored.get("updated_at"))
    if new is None or old is None:
        return not gone
    return new > old if gone else new >= old


def _when(stamp: object) -> float | None:
    """An issue's timestamp (GitHub's ISO 8601, or epoch seconds) as epoch seconds."""
    if isinstance(stamp, int | float):
        return float(stamp)
    if not stamp:
        return None
    try:
        when = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _unbounded(db: Any) -> contextlib.AbstractContextManager[None]:
    """PostgreSQL's time bounds on each statement lifted (bot.store.pg); SQLite has none."""
    relaxed = getattr(db, "unbounded", None)
    return relaxed() if relaxed else contextlib.nullcontext()


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def _arrived(value: Any, now: float) -> float:
    """A row's arrival time: a number no later than now, else now (a spool entry of an older
    version has none; a clock set back must not record it in the future)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= now:
        return float(value)
    return now


@contextlib.contextmanager
def sqlite_setup_lock(db_file: Path) -> Iterator[None]:
    """One process at a time switches a SQLite file to WAL and creates its tables (a web and a
    worker often start together on a fresh data dir; the store and the embedded broker use it).

    Without it, a process whose read snapshot predates the other's commit fails at once with
    "database is locked" (WAL cannot upgrade a stale snapshot to a write), whatever the timeout;
    and a process opening the file while another converts it to WAL can fail the same way.
    """
    with db_file.with_name(db_file.name + ".setup-lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # the kernel drops it if the process dies
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _open_pg(url: str, migrate: bool) -> Store:
    try:
        from bot.store.pg import PgDatabase
    except ImportError as err:  # psycopg: the [postgres] extra (or a psycopg without libpq)
        from bot.settings import SettingsError

        raise SettingsError(
            "SMOLBOT_DATABASE_URL is a PostgreSQL URL but psycopg cannot be imported"
            f" ({str(err).splitlines()[0]}): pip install 'smolbot[postgres]'"
        ) from None

    pg = PgDatabase(url)
    store = Store(cast(Database, pg))
    if migrate:
        with pg.exclusive("smolbot-migrations"):  # several processes may start at once
            store.migrate()
    return store
