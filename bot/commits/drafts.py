"""Draft files in the git dir, keyed by (HEAD's tree, staged tree): ready drafts, in-progress markers, requests."""

from __future__ import annotations

import contextlib
import json
import os
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


def key(head: str, tree: str) -> str:
    """A draft's name: the same staged tree is another change on another HEAD (after a
    `git reset --soft`, or a commit that left nothing staged). The hooks spell it the same."""
    return f"{head}-{tree}"


def parse_key(text: str) -> tuple[str, str] | None:
    head, sep, tree = text.strip().partition("-")
    return (head, tree) if sep and head and tree else None


class DraftBox:
    """The `smolbot/` directory inside one worktree's git dir. Files named by the staged tree
    alone (an older release's) are never read, and pruned like any old draft."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.drafts = root / "drafts"

    def text_path(self, head: str, tree: str) -> Path:
        return self.drafts / f"{key(head, tree)}.txt"

    def meta_path(self, head: str, tree: str) -> Path:
        return self.drafts / f"{key(head, tree)}.json"

    def pending_path(self, head: str, tree: str) -> Path:
        return self.drafts / f"{key(head, tree)}.pending"

    def none_path(self, head: str, tree: str) -> Path:
        """No draft will come for this pair (nothing to draft, or drafting failed): hooks stop waiting."""
        return self.drafts / f"{key(head, tree)}.none"

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
        """Which (HEAD tree, staged tree) COMMIT_DRAFT.txt belongs to, as `<head>-<tree>`: a
        HEAD that moved while no drafter ran (a `git reset --soft`) is seen by comparing."""
        return self.root / "COMMIT_DRAFT.for"

    def ready(self, head: str, tree: str) -> bool:
        return self.text_path(head, tree).is_file()

    def load(self, head: str, tree: str) -> DraftResult | None:
        try:
            meta: dict[str, Any] = json.loads(self.meta_path(head, tree).read_text())
            return DraftResult(**{**meta, "head": head})
        except (OSError, ValueError, TypeError):
            text = self.text_path(head, tree)
            return DraftResult(tree, text.read_text(), head=head) if text.is_file() else None

    def save(self, result: DraftResult) -> None:
        """Write meta first, then the text (the text's appearance is what hooks wait for)."""
        self.drafts.mkdir(parents=True, exist_ok=True)
        head, tree = result.head, result.tree
        write_atomic(self.meta_path(head, tree), json.dumps(asdict(result), indent=1))
        # a blank line after the message: the hook pastes git's own comment lines right below
        write_atomic(self.text_path(head, tree), result.message.rstrip("\n") + "\n\n")
        self.none_path(head, tree).unlink(missing_ok=True)
        self.prune(saved=self.text_path(head, tree).stem)

    def mark_none(self, head: str, tree: str, why: str) -> None:
        self.drafts.mkdir(parents=True, exist_ok=True)
        write_atomic(self.none_path(head, tree), why + "\n")

    def publish(self, head: str, tree: str) -> None:
        """COMMIT_DRAFT.txt becomes the draft for (head, tree), or goes when it has none (yet)."""
        result = self.load(head, tree) if self.ready(head, tree) else None
        if result is None:
            self.unpublish()
            return
        with contextlib.suppress(OSError):
            published = self.latest_key_path.read_text().strip()
            if published == key(head, tree) and self.latest_path.is_file():
                return
        self.latest_key_path.unlink(missing_ok=True)  # never a key naming another pair's text
        write_atomic(self.latest_path, result.message)
        write_atomic(self.latest_key_path, key(head, tree) + "\n")

    def unpublish(self) -> None:
        """Nothing staged, or not drafted yet: no COMMIT_DRAFT.txt rather than a stale one."""
        self.latest_key_path.unlink(missing_ok=True)
        self.latest_path.unlink(missing_ok=True)

    def mark_pending(self, head: str, tree: str) -> None:
        self.drafts.mkdir(parents=True, exist_ok=True)
        self.pending_path(head, tree).write_text(str(os.getpid()))

    def clear_pending(self, head: str, tree: str) -> None:
        self.pending_path(head, tree).unlink(missing_ok=True)

    def request(self, head: str, tree: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        write_atomic(self.want_path, key(head, tree))

    def withdraw(self, head: str, tree: str) -> None:
        """A commit stops waiting for (head, tree): its request goes, if the drafter has not
        taken it and no other commit asked since. Left behind (a commit whose editor was
        closed empty), it kept the drafter on that pair past the next `git add`."""
        with contextlib.suppress(OSError):
            if self.want_path.read_text() == key(head, tree):
                self.want_path.unlink()

    def requested(self) -> tuple[str, str] | None:
        """The pair a commit waits for, left for take_request()."""
        try:
            return parse_key(self.want_path.read_text())
        except OSError:
            return None

    def take_request(self) -> tuple[str, str] | None:
        """The (HEAD tree, staged tree) a commit waits for; an older hook's bare tree is dropped."""
        try:
            text = self.want_path.read_text()
        except OSError:
            return None
        self.want_path.unlink(missing_ok=True)
        return parse_key(text)

    def prune(self, keep: int = 50, max_age_s: float = 7 * 86400, saved: str = "") -> None:
        """Drop old drafts and no-draft marks so the directory never grows without bound; never
        the pair just `saved` (its key). A file dated over a minute after now (written while the
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
