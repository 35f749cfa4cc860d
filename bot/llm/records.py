"""The model layer's tables: call records, the answer cache, labeled examples and the daily budget."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any, TypeVar

from bot.core.secrets import credentials
from bot.core.triage import quarantine
from bot.llm.api import ModelRecord
from bot.store import Store

PRIORITY = {"backfill": 0, "large": 1, "human": 2}  # a human label is never overwritten by a model
# The row that keeps the examples' sequence number while no example is left (the last ones were
# forgotten): max(seq) is what every process compares its classifier's with, so it must never go
# back. Not an example: examples() and example_counts() leave it out; the next learn() drops it.
MARK_SCOPE, MARK_HASH, MARK_SOURCE = "", "", "forgotten"
M = TypeVar("M")  # a stage's model type (fits_of)


class Learned(StrEnum):
    """What learn() did with an example."""

    NEW = "new"  # stored: a text not seen before in that scope, or another label for it
    KNOWN = "known"  # that text had that label already (from this source or a surer one)
    OUTRANKED = "outranked"  # a surer source (PRIORITY) labeled that text otherwise: that stays


def text_hash(*parts: str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


def _read(text: str) -> str:
    """quarantine() until it changes nothing (once, nearly always): the text the model read,
    read again, is the same text."""
    out = quarantine(text)
    for _ in range(3):
        again = quarantine(out)
        if again == out:
            break
        out = again
    return out


@lru_cache(maxsize=8)
def example_text(text: str) -> str:
    """The form an example is stored and known by (its text_hash), whoever teaches it: title and
    body (`title\n\nbody`, split at the first blank line, as every caller joins them) each as
    the model reads them, hidden comments and orders to the bot set aside (quarantine). The
    large model learns from the text it read, a maintainer's label and a backfill from the raw
    issue: in one form, a person's label finds the large model's example of the issue and
    replaces it (PRIORITY), and the classifier learns from what it will be asked about.

    The last few are kept: a backfill asks for an issue's key (Records.example_key), then learns
    it, and the filters took 12 passes over the text where 2 do (minutes for a 22 MB body)."""
    title, blank, body = text.partition("\n\n")
    if not blank:
        return _read(text)
    return f"{_read(title)}\n\n{_read(body)}"


def _stays(have: dict[str, Any], label: str, source: str) -> bool:
    """Whether the stored example `have` stays when `source` teaches `label` for its text: it is
    that label from that source, or a surer source's (PRIORITY). A backfill's label, the one the
    repository ended with, replaces the large model's other guess (relabeled while the webhook
    was down, or by automation triage does not hear of), and a model's later guess does not
    replace it: it is the repository's own, as a maintainer's is."""
    if have["label"] == label and have["source"] == source:
        return True
    if {source, have["source"]} == {"backfill", "large"}:
        return bool(have["source"] == "backfill" or have["label"] == label)
    return PRIORITY.get(have["source"], 0) > PRIORITY.get(source, 0)


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


@dataclass(frozen=True)
class Example:
    scope: str
    text: str
    label: str
    source: str
    created: float | None = None  # when the issue was opened (epoch seconds), if known


def digest(rows: Sequence[Example]) -> str:
    """Which examples, with which labels, in which order (a fit depends on all three): a retrain
    keeps a model whose examples have the same digest."""
    h = hashlib.blake2b(digest_size=16)
    for e in rows:
        h.update(f"{len(e.text)}:{e.label}:".encode())
        h.update(e.text.encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def fits_of(general: M | None, scoped: dict[str, M], fitted_on: dict[str, str]) -> dict[str, M]:
    """A trained stage's models by the digest of what each learned from ("" in `fitted_on` is the
    general model): a retrain takes a model from here instead of fitting the same examples."""
    out: dict[str, M] = {}
    for key, key_of in fitted_on.items():
        model = general if key == "" else scoped.get(key)
        if model is not None:
            out.setdefault(key_of, model)
    return out


_KEYS = ("task", "backend", "cache_hit", "final", "status")  # a group of the call log


def _stored(group: dict[str, Any], bounds: Sequence[float]) -> dict[str, Any]:
    """A group of the call log as a model_call_totals row."""
    under = {repr(float(b)): int(group[f"le{i}"] or 0) for i, b in enumerate(bounds)}
    counts = {k: int(group[k] or 0) for k in ("first_id", "calls", "tokens_in", "tokens_out")}
    return {
        **{k: group[k] for k in _KEYS},
        **counts,
        "seconds": float(group["seconds"] or 0),
        "under": json.dumps(under),
    }


def _unfolded(row: dict[str, Any], bounds: Sequence[float]) -> dict[str, Any]:
    """A model_call_totals row as _grouped gives a group (a bound it has no count for takes the
    count of the largest one under it it has)."""
    under = {float(b): n for b, n in json.loads(row.pop("under") or "{}").items()}
    for i, b in enumerate(bounds):
        below = [k for k in under if k <= float(b)]
        row[f"le{i}"] = under[max(below)] if below else 0
    row.pop("id", None)
    return row


def _merged(*parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Groups of the call log summed by their keys (first_id: the smallest)."""
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for group in (g for part in parts for g in part):
        key = tuple(group[k] for k in _KEYS)
        have = out.get(key)
        if have is None:
            out[key] = dict(group)
            continue
        for name, value in group.items():
            if name == "first_id":
                have[name] = min(have[name], value)
            elif name not in _KEYS:
                have[name] = (have[name] or 0) + (value or 0)
    return list(out.values())


class Records:
    """Typed access to the m010_llm tables of one Store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db

    # --- call log -------------------------------------------------------------------------
    def log(self, rec: ModelRecord, *, call_id: str, final: bool, scope: str, status: str) -> None:
        row = rec.as_dict()
        row.update(
            at=time.time(),
            call_id=call_id,
            final=int(final),
            scope=scope,
            status=status,
            escalated=int(rec.escalated),
            cache_hit=int(rec.cache_hit),
        )
        self.db.table("model_calls").insert(row)

    def calls(self, since: float = 0.0) -> list[dict[str, Any]]:
        return list(self.db.table("model_calls").rows_where("at >= ?", [since], order_by="id"))

    def call_totals(self, bounds: Sequence[float]) -> list[dict[str, Any]]:
        """The call log summed per task, backend, cache_hit, final and status (raw values), in
        the order each group first appears: calls, tokens_in, tokens_out, seconds (latency in
        total) and le0, le1, … (calls of at most bounds[i] seconds). The calls the daily prune
        folded (model_call_totals) count too: these totals never go back. Both tables are read in
        one statement, so in one snapshot: read in two, a prune committing in between counted
        the calls it folded twice, and the next scrape went back."""
        tables = self.db.table_names()
        if "model_calls" not in tables:
            return []
        if "model_call_totals" not in tables:
            groups = self._grouped("", [], bounds)
        else:
            log_sql, args = self._grouped_sql("", [], bounds)
            empty = "".join(f", null as le{i}" for i in range(len(bounds)))
            sql = (
                f"select 0 as folded, null as under, g.* from ({log_sql}) as g union all"
                " select 1, under, task, backend, cache_hit, final, status, calls, tokens_in,"
                f" tokens_out, seconds{empty}, first_id from model_call_totals"
            )
            log: list[dict[str, Any]] = []
            folded: list[dict[str, Any]] = []
            for row in self.db.query(sql, args):
                if row.pop("folded"):
                    folded.append(_unfolded(row, bounds))
                else:
                    row.pop("under")
                    log.append(row)
            groups = _merged(folded, log)
        groups.sort(key=lambda g: g["first_id"])
        return [{k: v for k, v in g.items() if k != "first_id"} for g in groups]

    def fold_calls(self, before: float, bounds: Sequence[float]) -> int:
        """Sum the call records made before `before` into model_call_totals and delete them, in
        one transaction (the log stays bounded; call_totals is unchanged). How many were folded.

        On PostgreSQL the fold locks model_call_totals first (plain reads go on): two prunes at
        once each rewrote the totals from what it had read before the other committed, counting
        the calls twice. On SQLite the second writer fails as an outage (database is locked)."""
        with self.db.atomic():
            if type(self.db).__name__ == "PgDatabase":
                self.db.execute("lock table model_call_totals in exclusive mode")
            old = self._grouped("where at < ?", [before], bounds)
            if not old:
                return 0
            rows = _merged(self._folded(bounds), old)
            self.db.execute("delete from model_call_totals")
            self.db.table("model_call_totals").insert_all(_stored(g, bounds) for g in rows)
            folded = self.db.execute("delete from model_calls where at < ?", [before]).rowcount
        return int(folded)

    def _grouped(
        self, where: str, args: list[Any], bounds: Sequence[float]
    ) -> list[dict[str, Any]]:
        return list(self.db.query(*self._grouped_sql(where, args, bounds)))

    def _grouped_sql(
        self, where: str, args: list[Any], bounds: Sequence[float]
    ) -> tuple[str, list[Any]]:
        seconds = "coalesce(latency_ms, 0) / 1000.0"
        under = "".join(
            f", sum(case when {seconds} <= ? then 1 else 0 end) as le{i}"
            for i in range(len(bounds))
        )
        sql = (
            "select task, backend, cache_hit, final, status, count(*) as calls,"
            " sum(coalesce(tokens_in, 0)) as tokens_in, sum(coalesce(tokens_out, 0)) as tokens_out,"
            f" sum({seconds}) as seconds{under}, min(id) as first_id from model_calls {where}"
            " group by task, backend, cache_hit, final, status order by min(id)"
        )
        return sql, [*[float(b) for b in bounds], *args]

    def _folded(self, bounds: Sequence[float]) -> list[dict[str, Any]]:
        """model_call_totals' groups as _grouped gives them (a bound it has no count for takes
        the count of the largest one under it it has)."""
        rows = self.db.table("model_call_totals").rows_where(order_by="first_id")
        return [_unfolded(row, bounds) for row in rows]

    # --- cache ----------------------------------------------------------------------------
    def cache_get(self, key: str) -> tuple[dict[str, Any], float] | None:
        rows = list(self.db.table("llm_cache").rows_where("key = ?", [key]))
        if not rows:
            return None
        self.db.execute("update llm_cache set hits = hits + 1 where key = ?", [key])
        self.db.conn.commit()
        return json.loads(rows[0]["value"]), float(rows[0]["confidence"])

    def cache_put(
        self, key: str, task: str, version: str, model: str, value: dict[str, Any], conf: float
    ) -> None:
        """Keep an answer as the model gave it, unless it holds something like a credential (a
        key copied from a staged diff or an issue): that one would lie in the store in plain
        text, so it is asked for again instead."""
        text = json.dumps(value, sort_keys=True)
        if credentials(text):
            return
        row = {
            "key": key,
            "task": task,
            "prompt_version": version,
            "model": model,
            "value": text,
            "confidence": conf,
            "created_at": time.time(),
            "hits": 0,
        }
        self.db.table("llm_cache").upsert(row, pk="key")

    # --- labeled examples -----------------------------------------------------------------
    def learn(
        self,
        scope: str,
        text: str,
        label: str,
        source: str,
        created: float | None = None,
        issue: int | None = None,
    ) -> Learned:
        """Store one labeled example, unless a higher-priority label is already there (a
        backfill's replaces the large model's other label: _stays).

        The example is stored as example_text(text), whoever teaches it. One stored before under
        the raw text's hash counts as the same example, and is replaced by a new label; when it
        stays, it is moved to the new form and the other labels of that text (a store from before
        could hold two) go (_settle).

        `issue`, the issue's number when known: an example stored for the same issue under an
        earlier text (its body edited between the large model's label and a maintainer's) is the
        same example too, so an issue is one example, in its newest text. A verbatim twin of
        another issue shares that issue's example: the example is the issue's whose label it
        holds (the twin's when its label replaced the other's), so an edit of the other issue
        never carries the twin's label onto a text its teacher never saw.

        `created`, the issue's creation time, orders examples in time for `smolbot models eval`."""
        form = example_text(text)  # once: the filters are most of a learn's time on a long text
        h, older = self._hashes(text, form)
        text = form
        rows = self._examples(scope, [h, *older], issue)
        have = max(
            rows,
            key=lambda r: (PRIORITY.get(r["source"], 0), r["text_hash"] == h),
            default=None,
        )
        if have is not None and _stays(have, label, source):
            known = have["label"] == label
            self._settle(scope, have, rows, h, text, created if known else None, issue)
            return Learned.KNOWN if known else Learned.OUTRANKED
        row: dict[str, Any] = {
            "scope": scope,
            "text_hash": h,
            "text": text,
            "label": label,
            "source": source,
        }
        if issue is not None:  # the teacher's issue: its label now (not a verbatim twin's)
            row["issue"] = issue
        if created is None and have is not None and have.get("created") is not None:
            created = have["created"]  # a relabel that does not know the date keeps the one stored
        if created is not None:
            row["created"] = created
        with self.store.writing():  # read max(seq), then write: one lock
            seq = self.example_seq() + 1
            # the text's example under an older hash, and its issue's under an earlier text
            for old in sorted(({r["text_hash"] for r in rows} | set(older)) - {h}):
                self.db.table("llm_examples").delete_where(
                    "scope = ? and text_hash = ?", [scope, old]
                )
            # the mark of forgotten examples, if any: this example carries the sequence on now
            self.db.table("llm_examples").delete_where(
                "scope = ? and text_hash = ?", [MARK_SCOPE, MARK_HASH]
            )
            self.db.table("llm_examples").upsert(
                {**row, "at": time.time(), "seq": seq}, pk=("scope", "text_hash")
            )
        return Learned.NEW

    def forget(
        self,
        scope: str,
        text: str,
        source: str,
        issue: int | None = None,
        *,
        label: str | None = None,
    ) -> bool:
        """Drop the example `source` taught from `text` (as learn() stores it, or under the raw
        text's hash as stored before), if any. With `issue` (its number): that issue's example,
        under whatever text it was learned (its body edited since), and not a verbatim twin's
        that another issue taught.

        The examples' sequence moves on by as many as went (the scope's newest example is
        sequenced after every other), as learning that many would: every process's classifier
        retrains with them gone in its turn (RETRAIN_EVERY), as with new labels. A deletion
        alone left max(seq) as it was, or lowered it, and the triage workers kept them. With
        none of the scope's examples left the newest example of all carries it, and with none
        at all a mark row (MARK_SOURCE): forgetting a repository's last examples lowered
        max(seq), and the other processes kept the classifier that had learned them. With
        `label`, only an example of that label (a kind label taken off: what the issue was
        relabeled since stays)."""
        h, older = self._hashes(text)
        table = self.db.table("llm_examples")
        wheres: list[tuple[str, list[Any]]] = []
        for key in (h, *older):
            where = "scope = ? and text_hash = ? and source = ?"
            args: list[Any] = [scope, key, source]
            if issue is not None:
                where, args = f"{where} and (issue is null or issue = ?)", [*args, issue]
            wheres.append((where, args))
        if issue is not None:
            wheres.append(("scope = ? and issue = ? and source = ?", [scope, issue, source]))
        if label is not None:
            wheres = [(f"{where} and label = ?", [*args, label]) for where, args in wheres]
        gone = 0
        with self.store.writing():  # read max(seq), then write: one lock (as learn)
            top = self.example_seq()
            for where, args in wheres:
                found = len(list(table.rows_where(where, args)))
                if found:
                    table.delete_where(where, args)
                    gone += found
            if gone:
                self._move_on(top + gone, scope)
        return bool(gone)

    def _move_on(self, seq: int, scope: str) -> None:
        """Make `seq` the examples' sequence number (inside forget's lock): the scope's newest
        example takes it, else the newest of all (already sequenced after every other: no order
        changes), else, with no example left, the mark row."""
        newest = "select text_hash from llm_examples where scope = ? order by seq desc limit 1"
        cur = self.db.execute(
            f"update llm_examples set seq = ? where scope = ? and text_hash = ({newest})",
            [seq, scope, scope],
        )
        if cur.rowcount:
            return
        row = self.db.execute("select scope from llm_examples order by seq desc limit 1").fetchone()
        if row is not None and row[0] != MARK_SCOPE:
            self.db.execute(
                f"update llm_examples set seq = ? where scope = ? and text_hash = ({newest})",
                [seq, row[0], row[0]],
            )
            return
        mark = {"scope": MARK_SCOPE, "text_hash": MARK_HASH, "text": "", "label": ""}
        self.db.table("llm_examples").upsert(
            {**mark, "source": MARK_SOURCE, "at": time.time(), "seq": seq},
            pk=("scope", "text_hash"),
        )

    @staticmethod
    def example_key(text: str) -> str:
        """The text_hash an example of `text` is stored and found under (its example_text's):
        two texts that differ only in what the model does not read are one example."""
        return text_hash(example_text(text))

    @staticmethod
    def _hashes(text: str, form: str | None = None) -> tuple[str, list[str]]:
        """The text_hash an example of `text` is stored under, and the one it may have been
        stored under before example_text (the raw text's) when that differs (`form`: its
        example_text, when known)."""
        h = text_hash(form) if form is not None else Records.example_key(text)
        raw = text_hash(text)
        return h, [raw] if raw != h else []

    def _examples(
        self, scope: str, hashes: list[str], issue: int | None = None
    ) -> list[dict[str, Any]]:
        """The stored examples of one text: those found under any of `hashes`, and with `issue`
        those stored for that issue (under an earlier text of it)."""
        where = f"text_hash in ({', '.join('?' for _ in hashes)})"
        args: list[Any] = [scope, *hashes]
        if issue is not None:
            where, args = f"({where} or issue = ?)", [*args, issue]
        return list(self.db.table("llm_examples").rows_where(f"scope = ? and {where}", args))

    def _settle(
        self,
        scope: str,
        have: dict[str, Any],
        rows: list[dict[str, Any]],
        h: str,
        text: str,
        created: float | None,
        issue: int | None = None,
    ) -> None:
        """Leave `have`, the example of a text that stays, as the only one of `rows` (the others
        found for that text: a store from before one form could hold the large model's label
        beside a person's), under `h` with the text in its example form, and with `created` when
        given (a date, learned late), and with `issue` when it has none. A new seq when an
        example changed, so the classifier retrains; nothing written when all is as it should
        be."""
        others = [r["text_hash"] for r in rows if r["text_hash"] != have["text_hash"]]
        moved = have["text_hash"] != h or have["text"] != text
        dated = created is not None and have.get("created") != created
        claimed = issue is not None and have.get("issue") is None
        if not (others or moved or dated or claimed):
            return
        table = self.db.table("llm_examples")
        with self.store.writing():  # read max(seq), then write: one lock
            for key in others:
                table.delete_where("scope = ? and text_hash = ?", [scope, key])
            sets, args = ["created = ?"], [have.get("created") if created is None else created]
            if claimed:
                sets, args = [*sets, "issue = ?"], [*args, issue]
            if others or moved:
                sets += ["text_hash = ?", "text = ?", "seq = ?"]
                args += [h, text, self.example_seq() + 1]
            self.db.execute(
                f"update llm_examples set {', '.join(sets)} where scope = ? and text_hash = ?",
                [*args, scope, have["text_hash"]],
            )

    def example_seq(self) -> int:
        row = self.db.execute("select coalesce(max(seq), 0) from llm_examples").fetchone()
        return int(row[0])

    def learned_since(self, since: float) -> int:
        """How many examples were stored or relabeled at or after `since` (epoch seconds): what
        a model trained on the examples before then has not seen."""
        row = self.db.execute(
            "select count(*) from llm_examples where at >= ? and coalesce(source, '') <> ?",
            [since, MARK_SOURCE],
        ).fetchone()
        return int(row[0])

    def example_counts(self) -> dict[str, dict[str, int]]:
        """How many labeled examples each scope has, by source (backfill, human, large)."""
        rows = self.db.execute(
            "select scope, source, count(*) from llm_examples where coalesce(source, '') <> ?"
            " group by scope, source",
            [MARK_SOURCE],
        )
        out: dict[str, dict[str, int]] = {}
        for scope, source, n in rows.fetchall():
            out.setdefault(scope, {})[source] = int(n)
        return out

    def examples(self, newest_per_scope: int | None = None) -> list[Example]:
        """The labeled examples, oldest first; with `newest_per_scope`, only each scope's newest
        that many (these include the newest that many of all scopes)."""
        cols = "scope, text, label, source, created"
        if newest_per_scope is None:
            rows = self.db.execute(
                f"select {cols} from llm_examples where coalesce(source, '') <> ? order by seq",
                [MARK_SOURCE],
            )
        else:
            ranked = (
                f"select {cols}, seq, row_number() over (partition by scope order by seq desc)"
                " as newest from llm_examples where coalesce(source, '') <> ?"
            )
            rows = self.db.execute(
                f"select {cols} from ({ranked}) as r where newest <= ? order by seq",
                [MARK_SOURCE, newest_per_scope],
            )
        return [Example(*r) for r in rows.fetchall()]

    # --- large-model budget ---------------------------------------------------------------
    def budget_used(self, provider: str, day: str | None = None) -> int:
        sql = "select calls from llm_budget where day = ? and provider = ?"
        row = self.db.execute(sql, [day or today(), provider]).fetchone()
        return int(row[0]) if row else 0

    def spend(self, provider: str, limit: int, day: str | None = None) -> bool:
        """Take one call of the day's `limit` in one statement; False when none is left. Workers
        that checked what was left, then each spent, went past the limit together."""
        if limit <= 0:
            return False
        cur = self.db.execute(
            "insert into llm_budget (day, provider, calls) values (?, ?, 1)"
            " on conflict(day, provider) do update set calls = llm_budget.calls + 1"
            " where llm_budget.calls < ?",
            [day or today(), provider, limit],
        )
        self.db.conn.commit()
        return bool(cur.rowcount == 1)
