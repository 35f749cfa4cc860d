"""Staged diffs made model-sized: split per file, lock/generated/binary files summarized, never silently cut."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

LOCK_FILES = {
    "poetry.lock", "uv.lock", "pdm.lock", "Pipfile.lock", "package-lock.json", "yarn.lock",
    "pnpm-lock.yaml", "Cargo.lock", "Gemfile.lock", "composer.lock", "go.sum", "flake.lock",
    "bun.lockb", "mix.lock", "packages.lock.json", "npm-shrinkwrap.json",
}  # fmt: skip
GENERATED = re.compile(
    r"(\.min\.(js|css)$|\.map$|_pb2(_grpc)?\.pyi?$|\.pb\.go$|\.generated\.|(^|/)dist/|(^|/)vendor/"
    r"|(^|/)node_modules/|\.snap$|\.svg$|(^|/)CHANGELOG\.md$)"
)
HUNK = re.compile(r"^@@ [^@]* @@ ?(.*)$")


@dataclass
class FileChange:
    """One file of a staged diff, with what the prompt will show of it."""

    path: str
    status: str  # A, M, D, R, ...
    added: int | None
    deleted: int | None
    patch: str = ""
    kind: str = "code"  # code | lock | generated | binary
    shown: str = field(default="", repr=False)
    summarized: bool = False

    @property
    def binary(self) -> bool:
        return self.added is None


def classify(path: str, binary: bool) -> str:
    if binary:
        return "binary"
    if PurePosixPath(path).name in LOCK_FILES:
        return "lock"
    if GENERATED.search(path):
        return "generated"
    return "code"


def split_patch(patch: str) -> dict[str, str]:
    """Map each file's path (new name) to its own `diff --git` section."""
    sections: dict[str, str] = {}
    for chunk in re.split(r"(?m)^(?=diff --git )", patch):
        if not chunk.startswith("diff --git "):
            continue
        m = re.search(r"(?m)^\+\+\+ b/(.*)$", chunk) or re.search(
            r"^diff --git a/.* b/(.*)$", chunk.splitlines()[0]
        )
        path = m.group(1) if m else chunk.splitlines()[0]
        if path == "/dev/null" or "+++ /dev/null" in chunk:
            m2 = re.search(r"(?m)^--- a/(.*)$", chunk)
            path = m2.group(1) if m2 else path
        sections[path] = chunk
    return sections


def verb(change: FileChange) -> str:
    return {"A": "add", "D": "remove", "R": "rename"}.get(change.status, "update")


def summary_line(change: FileChange) -> str:
    """A one-line, honest description of a file that is not pasted (or is cut)."""
    if change.binary:
        return f"{verb(change)} {change.path} (binary file)"
    counts = f"+{change.added} -{change.deleted}"
    if change.kind in ("lock", "generated"):
        return f"{verb(change)} {change.path} ({change.kind} file, {counts} lines, not shown)"
    symbols = sorted({h for h in hunk_context(change.patch) if h})[:6]
    where = f"; touches: {', '.join(symbols)}" if symbols else ""
    return f"{verb(change)} {change.path} ({counts} lines, too large to show{where})"


def hunk_context(patch: str) -> list[str]:
    found = []
    for line in patch.splitlines():
        m = HUNK.match(line)
        if m and m.group(1).strip():
            found.append(m.group(1).strip()[:60])
    return found


def changes_from_patch(patch: str) -> list[FileChange]:
    """Parse a `git diff -p` into files with their status and line counts (binary files: None)."""
    changes = []
    for path, section in split_patch(patch).items():
        head = section.split("\n@@", 1)[0]
        status = "M"
        if "\nnew file mode" in head:
            status = "A"
        elif "\ndeleted file mode" in head:
            status = "D"
        elif "\nrename from" in head:
            status = "R"
        binary = "\nBinary files " in head or "\nGIT binary patch" in head
        added = deleted = None
        if not binary:
            body = section.split("\n@@", 1)[1] if "\n@@" in section else ""
            lines = body.splitlines()
            added = sum(1 for x in lines if x.startswith("+"))
            deleted = sum(1 for x in lines if x.startswith("-"))
        changes.append(FileChange(path, status, added, deleted, section, classify(path, binary)))
    return changes


def fit(changes: list[FileChange], budget_chars: int) -> list[FileChange]:
    """Decide what each file shows: whole diffs smallest first while they fit, summaries for the rest."""
    for c in changes:
        c.shown, c.summarized = summary_line(c), True
    code = sorted((c for c in changes if c.kind == "code" and c.patch), key=lambda c: len(c.patch))
    left = budget_chars - sum(len(c.shown) + 1 for c in changes)
    for c in code:
        cost = len(c.patch) - len(c.shown)
        if cost <= left:
            c.shown, c.summarized = c.patch, False
            left -= cost
        elif left > 400:
            cut = _head(c.patch, left - 200)
            omitted = c.patch.count("\n") - cut.count("\n")
            c.shown = (
                f"{cut}\n[... {omitted} more lines of {c.path} not shown; {summary_line(c)}]\n"
            )
            c.summarized = True
            left -= len(c.shown)
    return changes


def clip(patch: str, limit: int) -> str:
    """The head of a patch, with a visible mark when something was cut."""
    if len(patch) <= limit:
        return patch
    cut = _head(patch, limit)
    return f"{cut}\n[... {patch.count(chr(10)) - cut.count(chr(10))} more lines not shown]\n"


def _head(text: str, limit: int) -> str:
    cut = text[: max(limit, 0)]
    return cut[: cut.rfind("\n")] if "\n" in cut else cut


def render(changes: list[FileChange]) -> str:
    full = [c.shown for c in changes if not c.summarized]
    partial = [c.shown for c in changes if c.summarized]
    parts = []
    if partial:
        parts.append("Summarized files (not pasted in full):\n" + "\n".join(partial))
    if full:
        parts.append("".join(full))
    return "\n\n".join(parts)


NEW_SYMBOL = re.compile(
    r"(?m)^\+\s*(?:async\s+)?(?:def|class|function|func|fn|pub\s+fn|export\s+(?:default\s+)?(?:function|class|const))\s+\w"
)


def adds_symbols(changes: list[FileChange]) -> bool:
    """New functions or classes in code, with little removed: the shape of a feature."""
    code = [c for c in changes if c.kind == "code" and not c.binary]
    new = sum(len(NEW_SYMBOL.findall(c.patch)) for c in code)
    removed = sum(c.deleted or 0 for c in code)
    return new > 0 and removed <= sum(c.added or 0 for c in code) // 2


def stat_block(changes: list[FileChange]) -> str:
    lines = []
    for c in changes:
        counts = "binary" if c.binary else f"+{c.added} -{c.deleted}"
        lines.append(f"{c.status} {c.path} ({counts})")
    return "\n".join(lines)


def size(changes: list[FileChange]) -> int:
    return sum((c.added or 0) + (c.deleted or 0) for c in changes)
