"""Staged diffs made model-sized: split per file, lock/generated/binary files summarized, never silently cut."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
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


def split_patch(patch: str) -> list[tuple[str, str]]:
    """Each `diff --git` section with its file's path (the new name; the old one when deleted)."""
    sections = []
    for chunk in re.split(r"(?m)^(?=diff --git )", patch):
        if chunk.startswith("diff --git "):
            old, new = section_paths(chunk)
            sections.append((new or old, chunk))
    return sections


NAME_LINES = {
    "rename from ": 0,
    "copy from ": 0,
    "--- ": 0,
    "rename to ": 1,
    "copy to ": 1,
    "+++ ": 1,
}


def section_paths(chunk: str) -> tuple[str, str]:
    """(old, new) path of one section, "" for /dev/null; the `diff --git` line only when no other says."""
    lines = chunk.split("\n")  # git ends a line there only: not splitlines() (U+2028 in a name)
    names = list(_header_paths(lines[0]))
    for line in lines[1:]:
        if line.startswith(("@@", "Binary files ", "GIT binary patch")):
            break
        marker = next((m for m in NAME_LINES if line.startswith(m)), None)
        if marker:
            name = unquote(line[len(marker) :])[0]
            if marker in ("--- ", "+++ "):
                name = "" if name == "/dev/null" else _unprefix(name)
            names[NAME_LINES[marker]] = name
    return names[0], names[1]


_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13}


def unquote(text: str) -> tuple[str, str]:
    """The name git wrote at the start of `text`, and what follows it.

    Git C-quotes a name with special characters (`"say \\"hi\\".py"`, octal bytes for non-ASCII
    unless core.quotepath=off); a plain name ends at the TAB git adds after ---/+++ names with a space.
    """
    if not text.startswith('"'):
        name, _, rest = text.partition("\t")
        return name, rest
    out, i = bytearray(), 1
    while i < len(text) and text[i] != '"':
        if text[i] == "\\" and re.match(r"[0-7]{3}", text[i + 1 : i + 4]):
            out.append(int(text[i + 1 : i + 4], 8) & 0xFF)
            i += 4
        elif text[i] == "\\" and i + 1 < len(text):
            out += (
                bytes([_ESCAPES[text[i + 1]]]) if text[i + 1] in _ESCAPES else text[i + 1].encode()
            )
            i += 2
        else:
            out += text[i].encode()
            i += 1
    return out.decode("utf-8", errors="replace"), text[i + 1 :]


_ESCAPED = {7: "a", 8: "b", 9: "t", 10: "n", 11: "v", 12: "f", 13: "r", 92: "\\"}


def quoted(path: str) -> str:
    r"""A path to show: as is, or with each control character escaped as git quotes it
    (`zz\n\nCo-authored-by: M <m@evil.example>`, `t\033]0;x\a.txt`; a backslash doubled
    then). A file name is untrusted: written raw into a draft, that one added a line and a
    trailer, and an ESC sequence reached the terminal. A line or paragraph separator (U+2028:
    Python's splitlines() breaks a line there) and a C1 control (U+009B opens an escape sequence
    on some terminals) are escaped as their UTF-8 bytes, as git does without core.quotepath=off.
    No quotes around it: compose takes them off a subject's ends."""
    if not any(_control(ch) for ch in path):
        return path
    out = []
    for ch in path:
        if ord(ch) in _ESCAPED:
            out.append("\\" + _ESCAPED[ord(ch)])
        elif _control(ch):
            out.append("".join(f"\\{b:03o}" for b in ch.encode()))
        else:
            out.append(ch)
    return "".join(out)


def _control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp")


def _header_paths(line: str) -> tuple[str, str]:
    """Both names of `diff --git a/X b/Y`; unquoted names with spaces are split where a/P b/P meet."""
    rest = line.removeprefix("diff --git ")
    if rest.startswith('"'):
        old, tail = unquote(rest)
        new = unquote(tail.lstrip(" "))[0]
    elif rest.endswith('"') and ' "' in rest:
        cut = rest.rindex(' "')
        old, new = rest[:cut], unquote(rest[cut + 1 :])[0]
    else:
        half = (len(rest) - 1) // 2
        if rest[half] == " " and rest[2:half] == rest[half + 3 :]:
            old, new = rest[:half], rest[half + 1 :]
        else:
            old, _, new = rest.partition(" b/")
            new = "b/" + new
    return _unprefix(old), _unprefix(new)


def _unprefix(name: str) -> str:
    return name[2:] if name.startswith(("a/", "b/")) else name


MODE_KINDS = {"120000": "symlink", "160000": "submodule"}


def verb(change: FileChange) -> str:
    return {"A": "add", "D": "remove", "R": "rename", "T": "retype"}.get(change.status, "update")


def headline(change: FileChange) -> str:
    """What happened to one file, in a few words ("add x.py", "turn x from a symlink into a file")."""
    if change.status != "T":
        return f"{verb(change)} {quoted(change.path)}"
    modes = [re.search(rf"(?m)^{w} file mode (\d+)$", change.patch) for w in ("deleted", "new")]
    was, now = (MODE_KINDS.get(m.group(1), "file") if m else "file" for m in modes)
    return f"turn {quoted(change.path)} from a {was} into a {now}"


def summary_line(change: FileChange) -> str:
    """A one-line, honest description of a file that is not pasted (or is cut)."""
    if change.binary:
        return f"{headline(change)} (binary file)"
    counts = f"+{change.added} -{change.deleted}"
    if change.kind in ("lock", "generated"):
        return f"{headline(change)} ({change.kind} file, {counts} lines, not shown)"
    symbols = sorted({h for h in hunk_context(change.patch) if h})[:6]
    where = f"; touches: {', '.join(symbols)}" if symbols else ""
    return f"{headline(change)} ({counts} lines, too large to show{where})"


def hunk_context(patch: str) -> list[str]:
    found = []
    for line in patch.split("\n"):
        m = HUNK.match(line)
        if m and m.group(1).strip():
            found.append(m.group(1).strip()[:60])
    return found


def changes_from_patch(patch: str) -> list[FileChange]:
    """Parse a `git diff -p` into files with their status and line counts (binary files: None)."""
    changes: dict[str, FileChange] = {}
    for path, section in split_patch(patch):
        change = _change(path, section)
        if path in changes:  # a typechange (symlink <-> file) comes as a deletion and an addition
            change = _retyped(changes[path], change)
        changes[path] = change
    return list(changes.values())


def _change(path: str, section: str) -> FileChange:
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
        lines = body.split("\n")
        added = sum(1 for x in lines if x.startswith("+"))
        deleted = sum(1 for x in lines if x.startswith("-"))
    return FileChange(path, status, added, deleted, section, classify(path, binary))


def _retyped(before: FileChange, after: FileChange) -> FileChange:
    """One change of status T from the two sections git writes for it (counts as `git diff --stat`)."""
    binary = before.binary or after.binary
    added = None if binary else (before.added or 0) + (after.added or 0)
    deleted = None if binary else (before.deleted or 0) + (after.deleted or 0)
    patch = before.patch + after.patch
    return FileChange(after.path, "T", added, deleted, patch, classify(after.path, binary))


def fit(changes: list[FileChange], budget_chars: int) -> list[FileChange]:
    """Decide what each file shows within the budget: whole diffs smallest first while they fit,
    summary lines for the rest while those fit, and one "and N more files" line for what is left."""
    for c in changes:
        c.shown, c.summarized = summary_line(c), True
    lines = sum(len(c.shown) + 1 for c in changes)
    reserved = min(lines, budget_chars // 3)  # many files: their lines must not eat every diff
    credit = reserved == lines  # pasting a diff frees its reserved summary line
    code = sorted((c for c in changes if c.kind == "code" and c.patch), key=lambda c: len(c.patch))
    left = budget_chars - reserved
    for c in code:
        cost = len(c.patch) - (len(c.shown) if credit else 0)
        if cost <= left:
            c.shown, c.summarized = c.patch, False
            left -= cost
        elif left > 400:
            cut = _head(c.patch, left - 200)
            omitted = c.patch.count("\n") - cut.count("\n")
            name = quoted(c.path)
            c.shown = f"{cut}\n[... {omitted} more lines of {name} not shown; {summary_line(c)}]\n"
            left -= len(c.shown)
    _drop_lines(changes, budget_chars)
    return changes


def _drop_lines(changes: list[FileChange], budget_chars: int) -> None:
    """Summary lines past the budget are left out (shown ""): render counts them in one line."""
    used = sum(len(c.shown) + 1 for c in changes if not _is_line(c))
    for c in changes:
        if _is_line(c):
            if used + len(c.shown) + 1 > budget_chars - MORE_CHARS:
                c.shown = ""
            used += len(c.shown) + 1


def _is_line(change: FileChange) -> bool:
    return change.summarized and "\n" not in change.shown


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
    partial = [c.shown for c in changes if c.summarized and c.shown]
    left_out = [c for c in changes if c.summarized and not c.shown]
    if left_out:
        partial.append(more_line(left_out))
    parts = []
    if partial:
        parts.append("Summarized files (not pasted in full):\n" + "\n".join(partial))
    if full:
        parts.append("".join(full))
    return "\n\n".join(parts)


MORE_CHARS = 300  # room kept for the "and N more files" line
MORE_DIRS = 5


def more_line(changes: list[FileChange]) -> str:
    """One line for files a list leaves out: how many, in which directories, how many lines."""
    parents = [PurePosixPath(c.path).parts[:-1] for c in changes]
    lo, hi = min(parents), max(parents)  # group one level below the directories all share
    depth = next(
        (i for i, (x, y) in enumerate(zip(lo, hi, strict=False)) if x != y), min(len(lo), len(hi))
    )
    dirs = Counter(quoted("/".join(p[: depth + 1]) + "/") if p else "./" for p in parents)
    where = [f"{d} {n}" for d, n in dirs.most_common(MORE_DIRS)]
    if len(dirs) > MORE_DIRS:
        where.append(f"{len(dirs) - MORE_DIRS} more directories")
    counts = f"+{sum(c.added or 0 for c in changes)} -{sum(c.deleted or 0 for c in changes)} lines"
    binary = sum(c.binary for c in changes)
    counts += f", {binary} binary" if binary else ""
    many = "file" if len(changes) == 1 else "files"
    return f"... and {len(changes)} more {many} ({', '.join(where)}; {counts})"


NEW_SYMBOL = re.compile(
    r"(?m)^\+\s*(?:async\s+)?(?:def|class|function|func|fn|pub\s+fn|export\s+(?:default\s+)?(?:function|class|const))\s+\w"
)


def adds_symbols(changes: list[FileChange]) -> bool:
    """New functions or classes in code, with little removed: the shape of a feature."""
    code = [c for c in changes if c.kind == "code" and not c.binary]
    new = sum(len(NEW_SYMBOL.findall(c.patch)) for c in code)
    removed = sum(c.deleted or 0 for c in code)
    return new > 0 and removed <= sum(c.added or 0 for c in code) // 2


def stat_block(changes: list[FileChange], limit: int | None = None) -> str:
    """One line per file (status, path, counts); past `limit` characters, one line for the rest."""
    lines: list[str] = []
    used = 0
    for i, c in enumerate(changes):
        counts = "binary" if c.binary else f"+{c.added} -{c.deleted}"
        line = f"{c.status} {quoted(c.path)} ({counts})"
        if limit is not None and used + len(line) + 1 > limit - MORE_CHARS and i < len(changes) - 1:
            lines.append(more_line(changes[i:]))
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)


def size(changes: list[FileChange]) -> int:
    return sum((c.added or 0) + (c.deleted or 0) for c in changes)
