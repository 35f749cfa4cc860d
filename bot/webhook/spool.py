"""The webhook's local spool: signed deliveries the store could not take, kept on disk until it can.

An entry is one file of JSON lines, the store rows of one batch (or of one delivery whose wait
for the store ran out). It is written under a temporary name, fsynced, and renamed into place
(the directory fsynced too) before the delivery is answered, so what was answered 202 survives a
crash or a power cut and a reader never sees half a file. Whoever replays an entry holds an
flock on it, so two web processes sharing a data dir never replay one entry together; it is
deleted only after the store committed its rows. A crash between that commit and the delete
replays it again, which the store ignores: it keeps one row per delivery id.

An entry that cannot be replayed (not JSON lines: a damaged file; a file the disk cannot read;
or rows the store refuses for a reason other than an outage) is moved into rejected/ with an
error in the log, so the entries behind it are replayed all the same; /healthz and the spool's
status say so. An entry of several rows the store refuses is first split into one entry each
(split), so only the delivery it refuses is moved, not the ones spooled beside it. An error that
says nothing about the entry itself is no reason to park it: the process short of file
descriptors or memory ends the pass (tried again later); an I/O error
(EIO, ESTALE: NFS, a disk that may come back) skips the entry, and moves it aside only once it
has lasted UNREADABLE_FOR_S.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import itertools
import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

log = logging.getLogger(__name__)
SUFFIX = ".jsonl"
_ENTRY = re.compile(r"(\d+)-\d+-\d+-(\d+)\.jsonl")  # written at (ns), pid, seq, deliveries
PARTIAL = ".tmp"  # being written, or left by a crash before it was answered (never 202)
PARTIAL_STALE_S = 3600.0
REJECTED = "rejected"  # entries that cannot be replayed: kept for a person, never retried
RECOUNT_S = 1.0  # how stale this process's count of the spool's bytes may be (others write too)
_LOG_EVERY_S = 60.0
_seq = itertools.count()
# open()/read() errors that say the entry itself cannot be read as it is: moved aside at once
_ENTRY_BAD = frozenset(
    {
        errno.EACCES,
        errno.EPERM,
        errno.EISDIR,
        errno.ELOOP,
        errno.ENXIO,
        errno.ENODEV,
        errno.EOVERFLOW,
    }
)
# the process is short of something for a moment: no entry is to blame, the pass ends
_SHORT_OF = frozenset(
    {errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS, errno.EAGAIN, errno.EINTR}
)
UNREADABLE_FOR_S = 300.0  # any other error (EIO, ESTALE): the entry is skipped until it lasts this


class SpoolFull(Exception):
    """The spool is at SMOLBOT_SPOOL_MAX_BYTES; the message says what to do."""


@dataclass(frozen=True)
class SpoolStatus:
    entries: int
    deliveries: int
    size: int
    oldest_s: float | None  # how long the oldest entry has waited
    rejected: int = 0  # entries moved into rejected/: never replayed by themselves

    def describe(self) -> str:
        parts = []
        if self.entries:
            parts.append(
                f"{self.deliveries} deliveries kept while the store was unavailable, oldest"
                f" {self.oldest_s or 0:.0f} s ago ({self.size:,} bytes); the web process records"
                " them once the store answers"
            )
        if self.rejected:
            parts.append(self.describe_rejected())
        return "; ".join(parts) or "empty"

    def describe_rejected(self) -> str:
        return (
            f"{self.rejected} spool entry(ies) could not be replayed and wait in {REJECTED}/ (the"
            " web log says why, and which): a damaged file or a fault of the store's: fix the"
            " cause, then move them back into the spool directory to replay them, or delete"
            " them; a delivery the store refuses for what it holds is refused again as it is:"
            " correct it before moving it back, or delete it"
        )


class Spool:
    """Entries under `directory`, at most `max_bytes` in all."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.dir, self.max_bytes = directory, max_bytes
        self._kept, self._logged_at = 0, float("-inf")
        self._count_lock = threading.Lock()
        self._used, self._counted_at = 0, float("-inf")
        self._unreadable: dict[str, float] = {}  # entry name: since when (monotonic) it fails
        self._left: set[str] = set()  # entries set_aside() could not move: take() keeps them
        self._advice: dict[str, str] = {}  # what reject() says to do with an entry, when not
        # "fix the cause, then move it back" (set_aside's)

    def put(self, rows: Sequence[Mapping[str, Any]], why: str) -> Path:
        """Keep rows durably; SpoolFull past the cap, OSError when the disk refuses."""
        data = b"".join(_line(r) for r in rows)
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._reserve(len(data))
        entry = self._write(time.time_ns(), len(rows), data)
        self._sync_dir()
        self._log_kept(len(rows), why)
        return entry

    def _write(self, written: int, count: int, data: bytes) -> Path:
        """An entry of `count` rows named for `written` (ns), written whole and fsynced under a
        partial name, then renamed (the caller syncs the directory)."""
        name = f"{written}-{os.getpid()}-{next(_seq)}-{count}"
        partial = self.dir / (name + PARTIAL)
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # payloads: private
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except OSError:
            partial.unlink(missing_ok=True)
            raise
        finally:
            os.close(fd)
        return partial.rename(self.dir / (name + SUFFIX))

    def split(self, entry: Path, rows: Sequence[Mapping[str, Any]]) -> list[Path]:
        """Write each of entry's rows (as take() read them) as an entry of its own, then delete
        entry (call it inside take()): the store refused it for what one row holds, and that
        row alone is then moved aside, not the deliveries beside it. The new entries keep
        entry's time, so they keep its place in the spool. A crash between leaves both, which
        the replay records once; an OSError removes what was written and leaves entry whole."""
        written = _parts(entry.name)[0]
        parts: list[Path] = []
        try:
            for i, row in enumerate(rows):
                parts.append(self._write(written + i, 1, _line(row)))
            self._sync_dir()
        except OSError:
            for part in parts:
                part.unlink(missing_ok=True)
            raise
        entry.unlink(missing_ok=True)
        return parts

    def _reserve(self, size: int) -> None:
        """Count `size` bytes in, or raise SpoolFull. The directory is listed at most once a
        RECOUNT_S (listing it at each put cost 15 ms at 2,000 entries), and again before
        refusing, so room that a replay made is seen at once."""
        with self._count_lock:
            now = time.monotonic()
            if now - self._counted_at > RECOUNT_S:
                self._used, self._counted_at = self.status().size, now
            if self._used + size > self.max_bytes and self._counted_at < now:
                self._used, self._counted_at = self.status().size, now
            if self._used + size > self.max_bytes:
                raise SpoolFull(
                    f"the webhook spool {self.dir} is full ({self._used:,} of"
                    f" SMOLBOT_SPOOL_MAX_BYTES={self.max_bytes:,} bytes); bring the store back,"
                    " or raise the setting"
                )
            self._used += size

    def _log_kept(self, n: int, why: str) -> None:
        """A warning at most once a minute, with how many were kept since: not one per batch."""
        self._kept += n
        now = time.monotonic()
        if now - self._logged_at >= _LOG_EVERY_S:
            log.warning(
                "kept %d delivery(ies) in the webhook spool %s (%s); the web process records"
                " and queues them once that is over",
                self._kept,
                self.dir,
                why,
            )
            self._kept, self._logged_at = 0, now

    def _sync_dir(self) -> None:
        fd = os.open(self.dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _files(self) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(self.dir) as it:
                return [e for e in it if e.is_file()]
        except FileNotFoundError:
            return []

    def entries(self) -> list[Path]:
        """Whole entries, oldest first; partial files a crash left long ago are removed."""
        found = []
        for e in self._files():
            if _ENTRY.fullmatch(e.name):
                found.append(Path(e.path))
            elif e.name.endswith(PARTIAL):
                with contextlib.suppress(FileNotFoundError):
                    if time.time() - e.stat().st_mtime > PARTIAL_STALE_S:
                        os.unlink(e.path)
        return sorted(found, key=lambda p: _parts(p.name)[0])

    def status(self) -> SpoolStatus:
        """What waits, from one listing: the entries' names carry their time and count."""
        entries = deliveries = size = 0
        oldest: int | None = None
        for e in self._files():
            with contextlib.suppress(FileNotFoundError):  # replayed meanwhile
                size += e.stat().st_size
            if _ENTRY.fullmatch(e.name):
                written, n = _parts(e.name)
                entries, deliveries = entries + 1, deliveries + n
                oldest = written if oldest is None else min(oldest, written)
        waited = None if oldest is None else max(0.0, time.time() - oldest / 1e9)
        try:
            with os.scandir(self.dir / REJECTED) as it:
                rejected = sum(1 for e in it if e.is_file())
        except FileNotFoundError:
            rejected = 0
        return SpoolStatus(
            entries=entries, deliveries=deliveries, size=size, oldest_s=waited, rejected=rejected
        )

    def reject(self, entry: Path, why: str) -> Path:
        """Move an entry that cannot be replayed into rejected/, saying so in the log with what
        to do (set_aside's advice; by default, fix the cause and move it back): the entries
        behind it are replayed all the same. A person decides what becomes of it."""
        advice = self._advice.pop(entry.name, None)
        where = self.dir / REJECTED
        where.mkdir(mode=0o700, exist_ok=True)
        moved = entry.rename(where / entry.name)
        log.error(
            "spool entry %s cannot be replayed (%s): moved to %s; %s",
            entry.name,
            why,
            moved,
            advice or f"fix the cause, then move it back into {self.dir} to replay it",
        )
        return moved

    def set_aside(self, entry: Path, why: str, advice: str | None = None) -> bool:
        """reject(), or when the entry cannot be moved either (a read-only file system), an
        error in the log: the entry is skipped this pass, the ones behind it go on (and a take()
        block of it that ends leaves it where it is). Whether it left the spool. `advice`: what
        the log says to do with it, when moving it back once the cause is fixed would not do."""
        if advice is not None:
            self._advice[entry.name] = advice
        try:
            self.reject(entry, why)
        except FileNotFoundError:  # another process moved or replayed it meanwhile
            pass
        except OSError as err:
            log.error(
                "spool entry %s cannot be replayed (%s) nor moved aside (%s): skipped; the"
                " entries behind it are replayed",
                entry.name,
                why,
                err,
            )
            self._left.add(entry.name)
            return False
        finally:
            self._advice.pop(entry.name, None)
        return True

    def _unreadable_now(self, entry: Path, err: OSError) -> None:
        """An entry open() or read() failed on (called in an except block): the process short
        of fds or memory raises it again (the pass ends; no entry is moved for it); an error
        about the file itself (EACCES, EISDIR) moves it aside; any other (EIO, ESTALE) skips it
        this pass, and moves it aside once it has failed for UNREADABLE_FOR_S."""
        if err.errno in _SHORT_OF:
            raise err
        now = time.monotonic()
        since = self._unreadable.setdefault(entry.name, now)
        if err.errno in _ENTRY_BAD:
            self._unreadable.pop(entry.name, None)
            self.set_aside(entry, f"unreadable: {err}")
        elif since == now:
            log.warning(
                "spool entry %s could not be read (%s): skipped, tried again at the next pass;"
                " moved aside if it lasts %.0f s",
                entry.name,
                err,
                UNREADABLE_FOR_S,
            )
        elif now - since >= UNREADABLE_FOR_S:
            self._unreadable.pop(entry.name, None)
            self.set_aside(entry, f"unreadable for {now - since:.0f} s: {err}")

    @contextlib.contextmanager
    def take(self, entry: Path) -> Iterator[list[dict[str, Any]] | None]:
        """The entry's rows, or None when another process is replaying it or has done so.

        Deleted when the block ends without an exception (the store committed the rows); kept
        for the next try otherwise. An entry that is not JSON lines, or that cannot be read
        (EACCES; EIO for UNREADABLE_FOR_S), is moved into rejected/ (None): it would stop every
        replay behind it; one that cannot be moved either, or whose read error may pass, is
        skipped this pass (_unreadable_now).
        """
        self._left.discard(entry.name)
        with contextlib.ExitStack() as held:
            rows = self._read(entry, held)
            yield rows
            if rows is None:
                return
            # not fsynced: a delete a crash undoes is a replay the store ignores; gone already
            # when the replay rejected it, kept when it could not be moved aside either
            if entry.name in self._left:
                self._left.discard(entry.name)
            else:
                entry.unlink(missing_ok=True)

    def _read(self, entry: Path, held: contextlib.ExitStack) -> list[dict[str, Any]] | None:
        """take()'s rows of entry, read under its flock (the file stays open in `held`), or None:
        gone, another process's, or moved aside or skipped. An open() and a read() error take
        one path (_unreadable_now); an flock error other than another holder's lock propagates."""
        f: BinaryIO | None = None
        locking = False
        try:
            f = held.enter_context(entry.open("rb"))
            locking = True
            if _held_elsewhere(f, entry):
                return None
            locking = False
            rows = [json.loads(line) for line in f if line.strip()]
        except ValueError as err:  # JSONDecodeError, UnicodeDecodeError: damaged
            self.set_aside(entry, f"not JSON lines: {err}")
            return None
        except OSError as err:
            if locking:
                raise
            if f is None and isinstance(err, FileNotFoundError):  # replayed meanwhile
                self._unreadable.pop(entry.name, None)
            else:  # short of fds, a bad sector, or an NFS server away for a moment
                self._unreadable_now(entry, err)
            return None
        self._unreadable.pop(entry.name, None)
        wrong = _not_deliveries(rows, _parts(entry.name)[1])
        if wrong is not None:  # the store would take a NULL id, again at every pass
            self.set_aside(entry, wrong)
            return None
        return rows


def _line(row: Mapping[str, Any]) -> bytes:
    """One row as a line of an entry: ASCII JSON (half a character is kept as its escape)."""
    return json.dumps(row, separators=(",", ":")).encode() + b"\n"


def _held_elsewhere(f: BinaryIO, entry: Path) -> bool:
    """Whether another process holds entry's flock, or replayed and deleted it between our open
    and our lock (it is another file now)."""
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return os.stat(entry).st_ino != os.fstat(f.fileno()).st_ino
    except (BlockingIOError, FileNotFoundError):
        return True


def _not_deliveries(rows: list[Any], count: int) -> str | None:
    """What makes rows no entry put() wrote (hand-made, another version's format, a file cut
    short), or None: each a delivery row with a string id and event, as many as its name says."""
    if len(rows) != count:
        return f"{len(rows)} rows where its name says {count}"
    for i, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            return f"row {i} is no JSON object"
        for key in ("id", "event"):
            if not isinstance(row.get(key), str) or not row[key]:
                return f"row {i} has no {key!r} string"
        if row.get("status", "received") not in ("received", "ignored"):
            return f"row {i} has status {row['status']!r}, not received or ignored"
    return None


def _parts(name: str) -> tuple[int, int]:
    """When an entry was written (ns since the epoch) and how many deliveries it holds."""
    found = _ENTRY.fullmatch(name)
    assert found is not None  # entries() lists only these
    return int(found[1]), int(found[2])
