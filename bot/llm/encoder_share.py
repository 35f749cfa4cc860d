"""Tuned encoder weights through a shared store, so every machine of a fleet triages alike.

A tune runs on one machine (bot/llm/tune.py) and writes its weights into that machine's data dir.
When the store is PostgreSQL, which is how several machines share one store, the tuning child
also copies the weight files into it: `encoder_files` holds them in CHUNK-byte rows and
`encoder_tunes` names them with each file's sha256. Both go in one transaction, so a reader never
sees half a tune.

Each model layer looks at the newest published tune at most every CHECK_EVERY seconds. When the
newest tune is not the one it uses and is newer, it starts a background child (`python -m
bot.llm.tune --fetch`). The child copies the files into the data dir, checks every sha256 and the
fingerprint, encodes the examples with the new weights, and switches the layer the same way a
local tune does. A fetch that fails is written to `encoders/fetch-failed.json` and not tried
again for the same tune.

A SQLite store belongs to one machine, so nothing is copied into it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from bot.llm.tune import KEEP, Tuned, encoders_dir, fingerprint, tuned_from
from bot.store import Store

CHUNK = 4 << 20  # bytes per row: MiniLM's 90 MB of weights are 22 rows
CHECK_EVERY = 60.0  # seconds between two looks at the store from one model layer
FAILED = "fetch-failed.json"

log = logging.getLogger(__name__)


class FetchError(RuntimeError):
    """The published files are missing, altered or unusable; the message says what to do."""


@dataclass(frozen=True)
class Published:
    """One tune in the store: its manifest and, per file, (sha256, size in bytes)."""

    tuned: Tuned
    files: dict[str, tuple[str, int]]
    published_at: float

    @property
    def megabytes(self) -> float:
        return sum(size for _, size in self.files.values()) / 1e6


def shared(database_url: str) -> bool:
    """Whether machines can share tunes through this store: only PostgreSQL is shared."""
    return database_url.startswith(("postgresql://", "postgres://"))


def publish(store: Store, tuned: Tuned, weights: Path) -> Published:
    """Copy the weight files of `tuned` into the store; older tunes beyond KEEP are dropped."""
    db, fp = store.db, tuned.fingerprint
    files: dict[str, tuple[str, int]] = {}
    with db.atomic():
        db.execute("delete from encoder_files where fingerprint = ?", [fp])
        db.execute("delete from encoder_tunes where fingerprint = ?", [fp])
        for path in sorted(p for p in weights.rglob("*") if p.is_file()):
            rel = path.relative_to(weights).as_posix()
            h, size = hashlib.sha256(), 0
            with path.open("rb") as fh:
                for seq, data in enumerate(iter(lambda: fh.read(CHUNK), b"")):
                    db.execute(
                        "insert into encoder_files (fingerprint, path, seq, data)"
                        " values (?, ?, ?, ?)",
                        [fp, rel, seq, data],
                    )
                    h.update(data)
                    size += len(data)
            files[rel] = (h.hexdigest(), size)
        out = Published(tuned, files, time.time())
        db.execute(
            "insert into encoder_tunes (fingerprint, manifest, files, published_at)"
            " values (?, ?, ?, ?)",
            [fp, json.dumps(asdict(tuned)), json.dumps(files), out.published_at],
        )
        _prune(store)
    return out


def _prune(store: Store) -> None:
    rows = store.db.execute(
        "select fingerprint from encoder_tunes order by published_at desc"
    ).fetchall()
    for (fp,) in rows[KEEP:]:
        store.db.execute("delete from encoder_files where fingerprint = ?", [fp])
        store.db.execute("delete from encoder_tunes where fingerprint = ?", [fp])


def latest(store: Store) -> Published | None:
    """The newest published tune, or None; raises FetchError when its row cannot be read."""
    row = store.db.execute(
        "select manifest, files, published_at from encoder_tunes order by published_at desc limit 1"
    ).fetchone()
    if row is None:
        return None
    try:
        files = {str(k): (str(v[0]), int(v[1])) for k, v in json.loads(row[1]).items()}
        return Published(tuned_from(json.loads(row[0])), files, float(row[2]))
    except (ValueError, TypeError, KeyError, IndexError) as err:
        raise FetchError(
            f"the newest row of encoder_tunes is unreadable ({err}); run `smolbot models tune"
            " --force` on one machine to publish a new tune"
        ) from err


def newest(store: Store) -> Tuned | None:
    """The newest published tune's manifest; None when there is none or its row is unreadable."""
    try:
        pub = latest(store)
    except FetchError as err:
        log.warning("%s", err)
        return None
    return pub.tuned if pub is not None else None


def fetch(store: Store, pub: Published, data_dir: Path) -> Path:
    """Copy the published files into `data_dir`, checked file by file; returns the weights dir.

    Nothing is left behind when a check fails: the files go to a scratch directory first and are
    renamed into place only once every sha256 and the fingerprint match.
    """
    final = pub.tuned.weights(data_dir)
    if (final / "modules.json").is_file() and fingerprint(final) == pub.tuned.fingerprint:
        return final  # this machine tuned it, or fetched it before
    root = encoders_dir(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".fetching-", dir=root))
    try:
        for rel, (sha, size) in sorted(pub.files.items()):
            _copy_file(store, pub.tuned.fingerprint, rel, sha, size, tmp / _safe(rel))
        got = fingerprint(tmp)
        if got != pub.tuned.fingerprint:
            raise FetchError(
                f"the published files give fingerprint {got[:12]}, not {pub.tuned.name}'s;"
                " run `smolbot models tune --force` on one machine to publish a new tune"
            )
        shutil.rmtree(final, ignore_errors=True)  # a torn copy from before
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _safe(rel: str) -> str:
    """A published name must stay inside the weights directory."""
    p = PurePosixPath(rel)
    if p.is_absolute() or ".." in p.parts or not p.parts or "\\" in rel:
        raise FetchError(f"refusing the published file name {rel!r}: not inside the weights")
    return str(p)


def _copy_file(store: Store, fp: str, rel: str, sha: str, size: int, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    h, written = hashlib.sha256(), 0
    sql = "select data from encoder_files where fingerprint = ? and path = ? and seq = ?"
    with dest.open("wb") as out:
        seq = 0
        while written < size:
            row = store.db.execute(sql, [fp, rel, seq]).fetchone()
            if row is None:
                break
            data = bytes(row[0])
            out.write(data)
            h.update(data)
            written += len(data)
            seq += 1
    if written != size or h.hexdigest() != sha:
        raise FetchError(
            f"{rel} of tune {fp[:12]} in the store is damaged ({written} of {size} bytes,"
            f" sha256 {h.hexdigest()[:12]} instead of {sha[:12]}); run `smolbot models tune"
            " --force` on one machine to publish a new tune"
        )


# --- what a machine remembers of a failed fetch -----------------------------------------------------
def failed(data_dir: Path) -> dict[str, Any] | None:
    """The last failed fetch ({fingerprint, error, at}), or None."""
    try:
        out: dict[str, Any] = json.loads((encoders_dir(data_dir) / FAILED).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return out


def remember_failure(data_dir: Path, fp: str, error: str) -> None:
    root = encoders_dir(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    data = {"fingerprint": fp, "error": error, "at": time.time()}
    (root / FAILED).write_text(json.dumps(data), encoding="utf-8")


def forget_failure(data_dir: Path) -> None:
    (encoders_dir(data_dir) / FAILED).unlink(missing_ok=True)


def wanted(pub: Published | None, local: Tuned | None, data_dir: Path) -> tuple[bool, str]:
    """Whether this machine should fetch `pub`, and why (or why not). No I/O but the failure file."""
    if pub is None:
        return False, "no tune published in the store"
    if local is not None and local.fingerprint == pub.tuned.fingerprint:
        return False, f"{pub.tuned.name} in use"
    if local is not None and local.created_at >= pub.tuned.created_at:
        return False, f"this machine's {local.name} is newer than the published {pub.tuned.name}"
    bad = failed(data_dir)
    if bad is not None and bad.get("fingerprint") == pub.tuned.fingerprint:
        return False, f"fetching {pub.tuned.name} failed before: {bad.get('error')}"
    return True, f"{pub.tuned.name} published at {time.ctime(pub.published_at)}"


def install(store: Store, data_dir: Path) -> Tuned | None:
    """Fetch the newest published tune into `data_dir` and switch to it (the fetch child's work).

    Returns the tune switched to, or None when there was nothing to fetch. Raises RuntimeError
    when a tune or a fetch already holds the data dir's lock, and FetchError when the files fail
    a check or do not load (also written to `encoders/fetch-failed.json`).
    """
    from bot.llm import embed, tune
    from bot.llm.records import Records

    with tune.exclusive(data_dir) as got:
        if not got:
            raise RuntimeError(f"a tune or a fetch is already running for {data_dir}")
        tune.clear_leftovers(encoders_dir(data_dir))
        pub = latest(store)
        ok, why = wanted(pub, tune.current(data_dir), data_dir)
        if not ok or pub is None:
            log.info("not fetching: %s", why)
            return None
        started = time.perf_counter()
        try:
            weights = fetch(store, pub, data_dir)
            try:
                model = embed.load_model(weights)
            except Exception as err:  # files that check out but do not load: say so, keep stock
                raise FetchError(f"{pub.tuned.name} does not load ({err})") from err
        except FetchError as err:
            remember_failure(data_dir, pub.tuned.fingerprint, str(err))
            raise
        tune.encode_examples(model, pub.tuned, Records(store).examples(), data_dir)
        tune.switch_to(pub.tuned, data_dir)
        forget_failure(data_dir)
        log.info(
            "fetched %s from the store in %.0f s", pub.tuned.name, time.perf_counter() - started
        )
        return pub.tuned
