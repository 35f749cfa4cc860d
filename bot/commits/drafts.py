"""Draft files in the git dir, keyed by the staged tree: ready drafts, in-progress markers, requests."""

from __future__ import annotations

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

    def explain(self) -> str:
        lines = [
            f"tree:       {self.tree}",
            f"model:      {self.model} ({self.backend})",
            f"confidence: {self.confidence:.2f}",
            f"cache:      {'hit' if self.cache_hit else 'miss'}",
            f"escalated:  {'yes' if self.escalated else 'no'} (status {self.status})",
            f"took:       {self.seconds:.2f} s",
        ]
        lines += [f"repaired:   {r}" for r in self.repairs]
        lines += [f"note:       {n}" for n in self.notes]
        return "\n".join(lines)


class DraftBox:
    """The `smolbot/` directory inside one worktree's git dir."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.drafts = root / "drafts"

    def text_path(self, tree: str) -> Path:
        return self.drafts / f"{tree}.txt"

    def meta_path(self, tree: str) -> Path:
        return self.drafts / f"{tree}.json"

    def pending_path(self, tree: str) -> Path:
        return self.drafts / f"{tree}.pending"

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
        """The newest draft, for editors that never run prepare-commit-msg."""
        return self.root / "COMMIT_DRAFT.txt"

    def ready(self, tree: str) -> bool:
        return self.text_path(tree).is_file()

    def load(self, tree: str) -> DraftResult | None:
        try:
            meta: dict[str, Any] = json.loads(self.meta_path(tree).read_text())
            return DraftResult(**meta)
        except (OSError, ValueError, TypeError):
            text = self.text_path(tree)
            return DraftResult(tree, text.read_text()) if text.is_file() else None

    def save(self, result: DraftResult) -> None:
        """Write meta first, then the text (the text's appearance is what hooks wait for)."""
        self.drafts.mkdir(parents=True, exist_ok=True)
        write_atomic(self.meta_path(result.tree), json.dumps(asdict(result), indent=1))
        # a blank line after the message: the hook pastes git's own comment lines right below
        write_atomic(self.text_path(result.tree), result.message.rstrip("\n") + "\n\n")
        write_atomic(self.latest_path, result.message)
        self.prune()

    def mark_pending(self, tree: str) -> None:
        self.drafts.mkdir(parents=True, exist_ok=True)
        self.pending_path(tree).write_text(str(os.getpid()))

    def clear_pending(self, tree: str) -> None:
        self.pending_path(tree).unlink(missing_ok=True)

    def request(self, tree: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        write_atomic(self.want_path, tree)

    def take_request(self) -> str | None:
        try:
            tree = self.want_path.read_text().strip()
        except OSError:
            return None
        self.want_path.unlink(missing_ok=True)
        return tree or None

    def prune(self, keep: int = 50, max_age_s: float = 7 * 86400) -> None:
        """Drop old drafts so the directory never grows without bound."""
        files = sorted(self.drafts.glob("*.txt"), key=lambda p: p.stat().st_mtime, reverse=True)
        now = time.time()
        for i, f in enumerate(files):
            if i >= keep or now - f.stat().st_mtime > max_age_s:
                f.unlink(missing_ok=True)
                f.with_suffix(".json").unlink(missing_ok=True)


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
