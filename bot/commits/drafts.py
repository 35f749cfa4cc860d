"""Draft files in the git dir, keyed by (HEAD's tree, staged tree, branch): ready drafts, in-progress markers, requests."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class DraftResult:
    """One drafted message and how it was made (what `smolbot draft --explain` shows)."""

    tree: str
    message: str
    model: str = "none"
    backend: str = "none"
    confidence: float = 0.0
    cache_hit: bool = False
    escalated: bool = False
    status: str = "ok"
    seconds: float = 0.0
    repairs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    head: str = ""  # HEAD's tree the message was drafted against ("" in an older release's meta)

    def explain(self) -> str:
        lines = [
            f"tree:       {self.tree}",
            f"HEAD tree:  {self.head}",
            f"model:      {self.model} ({self.backend})",
            f"confidence: {self.confidence:.2f}",
            f"cache:      {'hit' if self.cache_hit else 'miss'}",
            f"escalated:  {'yes' if self.escalated else 'no'} (status {self.status})",
            f"took:       {self.seconds:.2f} s",
        ]
        lines += [f"repaired:   {r}" for r in self.repairs]
        lines += [f"note:       {n}" for n in self.notes]
        return "\n".join(lines)


DETACHED = "detached"


def on_branch(ref: str, head: str) -> str:
    """The branch a draft is for, as its key spells it: DETACHED, or HEAD's ref
    (`refs/heads/fix-123`, Repo.head_ref) as `git hash-object --stdin` hashes it, in the
    repository's hash (a SHA-256 one's trees, `head`, are 64 digits). Hashed: a branch name
    holds `/` and may be longer than a file name can be. The hook spells it the same."""
    if not ref:
        return DETACHED
    data = ref.encode("utf-8", "surrogateescape")  # a name git holds as bytes (Repo.head_ref)
    digest = hashlib.sha256 if len(head) == 64 else hashlib.sha1
    return digest(b"blob %d\0%s" % (len(data), data)).hexdigest()


def key(head: str, tree: str, on: str) -> str:
    """A draft's name: the same staged tree is another change on another HEAD (after a
    `git reset --soft`, or a commit that left nothing staged), and another message on another
    branch (`on`, on_branch): the branch's name decides which `closes #N` a draft keeps
    (bot.commits.references). The hooks spell it the same."""
    return f"{head}-{tree}-{on}"


def parse_key(text: str) -> tuple[str, str, str] | None:
    """(HEAD tree, staged tree, branch) from a key; None for an older release's `<head>-<tree>`
    (made for whatever branch was out then: it matches no draft) or a bare tree."""
    parts = text.strip().split("-")
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 and all(parts) else None


# A draft's files (text, meta, no-draft mark, in-progress mark); write_atomic's temporary file
# (TEMP) stays behind when a process is killed mid-write.
DRAFT_SUFFIXES = (".txt", ".json", ".none", ".pending")
TEMP = re.compile(r"\..+\.[0-9]+\.tmp")


class DraftBox:
    """The `smolbot/` directory inside one worktree's git dir. Files an older release named
    without the branch (`<head>-<tree>`, or the staged tree alone) are never read, and pruned
    like any old draft."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.drafts = root / "drafts"

    def text_path(self, head: str, tree: str, on: str) -> Path:
        return self.drafts / f"{key(head, tree, on)}.txt"

    def meta_path(self, head: str, tree: str, on: str) -> Path:
        return self.drafts / f"{key(head, tree, on)}.json"

    def pending_path(self, head: str, tree: str, on: str) -> Path:
        return self.drafts / f"{key(head, tree, on)}.pending"

    def none_path(self, head: str, tree: str, on: str) -> Path:
        """No draft will come for this key (nothing to draft, or drafting failed): hooks stop waiting."""
        return self.drafts / f"{key(head, tree, on)}.none"

    @property
    def pid_path(self) -> Path:
        return self.root / "drafter.pid"

    @property
    def lock_path(self) -> Path:
        """Held by the running drafter: the pid file alone outlives a kill -9."""
        return self.root / "drafter.lock"

    @property
    def want_path(self) -> Path:
        return self.root / "want"

    @property
    def log_path(self) -> Path:
        return self.root / "drafter.log"

    @property
    def latest_path(self) -> Path:
        """The draft for what is staged now, as a plain message, for editors that never run
        prepare-commit-msg; absent while nothing is staged or the draft is not made yet."""
        return self.root / "COMMIT_DRAFT.txt"

    @property
    def latest_key_path(self) -> Path:
        """Which (HEAD tree, staged tree, branch) COMMIT_DRAFT.txt belongs to, as its key: a
        HEAD that moved while no drafter ran (a `git reset --soft`, a `git switch -c`) is seen
        by comparing."""
        return self.root / "COMMIT_DRAFT.for"

    def ready(self, head: str, tree: str, on: str) -> bool:
        return self.text_path(head, tree, on).is_file()

    def load(self, head: str, tree: str, on: str) -> DraftResult | None:
        try:
            meta: dict[str, Any] = json.loads(self.meta_path(head, tree, on).read_text())
            return DraftResult(**{**meta, "head": head})
        except (OSError, ValueError, TypeError):
            text = self.text_path(head, tree, on)
            return DraftResult(tree, text.read_text(), head=head) if text.is_file() else None

    def save(self, result: DraftResult, on: str) -> None:
        """Write meta first, then the text (the text's appearance is what hooks wait for);
        `on`: the branch it was drafted on (on_branch)."""
        self.drafts.mkdir(parents=True, exist_ok=True)
        head, tree = result.head, result.tree
        write_atomic(self.meta_path(head, tree, on), json.dumps(asdict(result), indent=1))
        # a blank line after the message: the hook pastes git's own comment lines right below
        write_atomic(self.text_path(head, tree, on), result.message.rstrip("\n") + "\n\n")
        self.none_path(head, tree, on).unlink(missing_ok=True)
        self.prune(saved=key(head, tree, on))

    def mark_none(self, head: str, tree: str, on: str, why: str) -> None:
        self.drafts.mkdir(parents=True, exist_ok=True)
        write_atomic(self.none_path(head, tree, on), why + "\n")

    def publish(self, head: str, tree: str, on: str) -> None:
        """COMMIT_DRAFT.txt becomes the draft for the key, or goes when it has none (yet)."""
        result = self.load(head, tree, on) if self.ready(head, tree, on) else None
        if result is None:
            self.unpublish()
            return
        name = key(head, tree, on)
        with contextlib.suppress(OSError):
            if self.latest_key_path.read_text().strip() == name and self.latest_path.is_file():
                return
        self.latest_key_path.unlink(missing_ok=True)  # never a key naming another draft's text
        write_atomic(self.latest_path, result.message)
        write_atomic(self.latest_key_path, name + "\n")

    def unpublish(self) -> None:
        """Nothing staged, or not drafted yet: no COMMIT_DRAFT.txt rather than a stale one."""
        self.latest_key_path.unlink(missing_ok=True)
        self.latest_path.unlink(missing_ok=True)

    def mark_pending(self, head: str, tree: str, on: str) -> None:
        self.drafts.mkdir(parents=True, exist_ok=True)
        self.pending_path(head, tree, on).write_text(str(os.getpid()))

    def clear_pending(self, head: str, tree: str, on: str) -> None:
        self.pending_path(head, tree, on).unlink(missing_ok=True)

    def request(self, head: str, tree: str, on: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        write_atomic(self.want_path, key(head, tree, on))

    def withdraw(self, head: str, tree: str, on: str) -> None:
        """A commit stops waiting for the key: its request goes, if the drafter has not
        taken it and no other commit asked since. Left behind (a commit whose editor was
        closed empty), it kept the drafter on that key past the next `git add`."""
        with contextlib.suppress(OSError):
            if self.want_path.read_text() == key(head, tree, on):
                self.want_path.unlink()

    def requested(self) -> tuple[str, str, str] | None:
        """The key a commit waits for, left for take_request()."""
        try:
            return parse_key(self.want_path.read_text())
        except OSError:
            return None

    def take_request(self) -> tuple[str, str, str] | None:
        """The (HEAD tree, staged tree, branch) a commit waits for; an older hook's key without
        the branch, or bare tree, is dropped."""
        try:
            text = self.want_path.read_text()
        except OSError:
            return None
        self.want_path.unlink(missing_ok=True)
        return parse_key(text)

    def remove(self) -> list[Path]:
        """Remove what smolbot wrote here (`smolbot hook uninstall`), and the directories once
        empty. A file it did not write (someone's notes) stays, and so does the directory
        holding it: returned, so the caller can say what was kept."""
        own = (self.pid_path, self.lock_path, self.log_path, self.want_path, self.latest_path)
        names = {p.name for p in own} | {self.latest_key_path.name}
        for where, ours in ((self.drafts, None), (self.root, names)):
            files = list(where.iterdir()) if where.is_dir() else []
            for f in files:
                mine = f.suffix in DRAFT_SUFFIXES if ours is None else f.name in ours
                if (mine or TEMP.fullmatch(f.name)) and not f.is_dir():
                    f.unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # only when empty
                where.rmdir()
        return sorted(f for f in self.root.rglob("*") if not f.is_dir())

    def prune(self, keep: int = 50, max_age_s: float = 7 * 86400, saved: str = "") -> None:
        """Drop old drafts and no-draft marks so the directory never grows without bound; never
        the draft just `saved` (its key). A file dated over a minute after now (written while the
        clock ran ahead, set back since) is stale: ranked above everything new, such files made
        each new draft the one deleted as soon as it was saved, for as long as the clock was
        behind, and every commit waited its whole budget."""
        now = time.time()
        files = [
            f for f in self.drafts.glob("*") if f.suffix in (".txt", ".none") and f.stem != saved
        ]
        files.sort(key=_mtime, reverse=True)
        for i, f in enumerate(files):
            age = now - _mtime(f)
            if i >= keep - bool(saved) or age > max_age_s or age < -60:
                for suffix in (".txt", ".json", ".none"):
                    f.with_suffix(suffix).unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # gone meanwhile (another process pruned it)
        return 0.0


def write_atomic(path: Path, text: str, mode: int | None = None) -> None:
    """Readers see the old text or the new one, never a part of it (nor an empty file); a
    process running the file (a hook git starts meanwhile) runs the old one or the new one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text)
        if mode is not None:
            tmp.chmod(mode)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
