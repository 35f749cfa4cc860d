"""`/smolbot` commands in comments: parsing and who may run them. Pure."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

Verb = Literal["summarize", "retriage", "duplicate", "ignore"]
VERBS: tuple[Verb, ...] = ("summarize", "retriage", "duplicate", "ignore")
WRITE_PERMISSIONS = frozenset({"admin", "maintain", "write"})
# where a line's text starts: up to three spaces, then the markers of the list items it opens
# (`- `, `1. `, `2) `); a block opened after a marker is inside the item, as indented as its text
_PREFIX = re.compile(r" {0,3}(?:(?:[-*+]|\d{1,9}[.)]) {1,4})*")
_MARKER = re.compile(r"(?:[-*+]|\d{1,9}[.)]) {1,4}")
_FENCE = re.compile(r"`{3,}|~{3,}")
_FENCE_END = re.compile(r" {0,3}(`{3,}|~{3,})[ \t]*$")
# Markdown's raw HTML blocks that show their lines as code (<pre>) or not at all; each runs to
# the line holding any of the four end tags
_RAW_HTML = re.compile(r"<(?:pre|script|style|textarea)(?=[\s>]|$)", re.I)
_RAW_HTML_END = re.compile(r"</(?:pre|script|style|textarea)>", re.I)
_BACKTICKS = re.compile(r"`+")
_SETEXT = re.compile(r" {0,3}(?:=+|-+)[ \t]*$")  # a setext heading's underline
_ATX = re.compile(r" {0,3}#{1,6}(?:[ \t]|$)")  # a `#` heading: one line, no paragraph
_BREAK = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")  # a thematic break: `---`, `* * *`
# as Markdown shows it: four spaces or a tab make a line code, so it is an example, not a command
_LINE = re.compile(r"^ {0,3}/smolbot\s+([a-z-]+)\b(.*)$", re.I)
# the issue `/smolbot duplicate` names: #N, a bare N, owner/repo#N, or its URL. A bare number is
# one standing alone, anywhere on the line (`12 or 13?` names two): not the digits of a word, a
# version, a time or a date (`v2`, `12.0`, `1.2.3`, `10:30`, `2024-01-01`), of `+1` or of a link
# (links are taken out before bare numbers are looked for)
_BARE_NUMBER = re.compile(r"(?<![\w/#.:=+-])(\d{1,9})(?![\w/]|[.:-]\d)")
_LINK = re.compile(r"\b[a-z][a-z0-9+.-]*://\S*|\bwww\.\S*", re.I)
GITHUB_WEB = "github.com"


@functools.lru_cache(maxsize=8)
def _target(web: str) -> re.Pattern[str]:
    """A duplicate target: an issue's URL on `web` (github.com, or a GitHub Enterprise Server's
    host), `owner/repo#N` or `#N`."""
    host = re.escape(web) if web.lower() != GITHUB_WEB else r"(?:www\.)?github\.com"
    return re.compile(
        rf"https?://{host}/([\w.-]+/[\w.-]+)/(?:issues|pull)/(\d{{1,9}})\b"
        r"|\b([\w.-]+/[\w.-]+)#(\d{1,9})\b"
        r"|(?<![\w/])#(\d{1,9})\b",
        re.I,
    )


def web_host(repo_url: str | None) -> str:
    """The host (and port, if any) of a repository's web address (the payload's
    `repository.html_url`): where its issues' URLs point; github.com when not known."""
    parts = urlsplit(repo_url or "")
    if not parts.hostname:
        return GITHUB_WEB
    return parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"


UNREAD = "a /smolbot duplicate line it could not read"


@dataclass(frozen=True)
class Command:
    verb: Verb
    target: int | None = None  # the #N of `duplicate #N`


@dataclass(frozen=True)
class Rejected:
    text: str
    why: str


# Markdown's line endings, and only those: str.splitlines() also breaks at U+2028, U+0085 and
# form feeds, which GitHub shows inside the line ("log\u2028/smolbot ignore" is no command)
_LINE_END = re.compile(r"\r\n|\r|\n")


def _plain_lines(body: str) -> list[str]:
    """Lines outside code blocks, block quotes and HTML comments: quoting a command, showing it
    as an example or hiding it does not run it. Read as GitHub shows Markdown: code first, so a
    `<!--` in a code span or a code block is text, not a comment. A fence closes only with its
    own kind of fence, at least as long (a ``` line inside a ~~~~ block is text); a line that
    opens with ``` and has another backtick after it is inline code, not a fence. A fence, <pre>
    or comment opened in a list item, on its marker's line or a line after it, ends with the
    item too (a line indented less than its text, and no lazy line of its paragraph). An
    unclosed `<!--` starting a line hides the rest (an HTML block, to its `-->`); one further
    along the line is text unless its paragraph closes it. A paragraph underlined with `===` or
    `---` is a heading, and a code span may run over a paragraph's lines: neither is a command."""
    lines = _LINE_END.split(body or "")
    ends = _comment_ends(lines)
    out: list[str] = []
    block: tuple[str, int, str] | None = None  # (fence, raw or comment; the item's indent; fence)
    items: list[int] = []  # the text columns of the list items open, the innermost last
    para: int | None = None  # where the open paragraph's lines start in `out`
    i = 0
    while i < len(lines):
        line = lines[i]
        if block is not None:
            kind, indent, fence = block
            if indent and line.strip() and _lead(line) < indent:
                block = None  # the list item ended, and its block with it: read the line anew
                continue
            if kind == "fence":
                m = _FENCE_END.match(line[indent:])
                if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                    block = None
            elif kind == "raw":
                if _RAW_HTML_END.search(line):
                    block = None
            elif (end := line.find("-->")) >= 0:
                text, i, hidden = _uncommented(lines, ends, i, end + 3)
                out.append(text)
                block = ("comment", indent, "") if hidden else None
            i += 1
            continue
        head = _head(line)
        if para is not None and _underlines(line, items):
            del out[para:]  # the paragraph is a heading's text
            para = None
            i += 1
            continue
        if _BREAK.match(line):  # a line of its own (not a list item): ends the paragraph, and
            _close(out, para)  # the list items it is not indented into
            para = None
            _close_items(items, _lead(line))
            i += 1
            continue
        marker = bool(line[:head].strip())  # the line opens a list item (or more)
        if para is not None and (marker or _interrupts(line) or _ATX.match(line, head)):
            _close(out, para)
            para = None
        if line.strip() and para is None:  # not a lazy line of a paragraph in the item
            _close_items(items, _lead(line))
        if marker:
            items.extend(_item_columns(line, head))
        indent = items[-1] if items else 0  # the open list item's text column, else none
        if fence := _opener(line, head):
            block = ("fence", indent, fence)
        elif _RAW_HTML.match(line, head):
            block = None if _RAW_HTML_END.search(line, head) else ("raw", indent, "")
        elif not line.lstrip().startswith(">"):
            if para is None and line.strip() and not _ATX.match(line, head):
                para = len(out)
            text, i, hidden = _uncommented(lines, ends, i, 0)
            out.append(text)
            if hidden:
                _close(out, para)
                block, para = ("comment", indent, ""), None
        i += 1
    _close(out, para)
    return out


def _lead(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _close_items(items: list[int], lead: int) -> None:
    """The list items a line indented `lead` spaces is not in (less than their text) end."""
    while items and lead < items[-1]:
        items.pop()


def _item_columns(line: str, head: int) -> list[int]:
    """The text column of each list item the line's markers open (`- 1. x`: two), outermost first."""
    cols: list[int] = []
    col = _lead(line)
    while (m := _MARKER.match(line, col)) and m.end() <= head:
        col = m.end()
        cols.append(col)
    return cols


def _underlines(line: str, items: list[int]) -> bool:
    """Whether the line makes the paragraph before it a setext heading: `===` or `---` at the
    open list item's text column (a lazy line less indented is the paragraph's text)."""
    col = items[-1] if items else 0
    return _lead(line) >= col and bool(_SETEXT.match(line, col))


def _close(out: list[str], para: int | None) -> None:
    """End the paragraph whose lines start at out[para]: a line inside a code span that runs
    over its lines (`` ` `` at the end of one line, its closing `` ` `` lines later) is code."""
    if para is not None and len(out) - para > 1:
        out[para:] = _spans_blanked("\n".join(out[para:])).split("\n")


def _spans_blanked(text: str) -> str:
    """The text with each code span that holds a line break blanked (its line breaks kept): a
    run of backticks opens one when a run of the same length follows; a backslash before a
    backtick outside one makes it text."""
    kept: list[str] = []
    start = p = 0
    while p < len(text):
        if text[p] == "\\":
            p += 2
            continue
        m = _BACKTICKS.match(text, p)
        if m is None:
            p += 1
            continue
        run = len(m[0])
        close = next((c for c in _BACKTICKS.finditer(text, m.end()) if len(c[0]) == run), None)
        if close is None:
            p = m.end()
            continue
        if "\n" in text[p : close.start()]:
            kept.append(text[start:p])
            kept.append(re.sub(r"[^\n]", " ", text[p : close.end()]))
            start = close.end()
        p = close.end()
    kept.append(text[start:])
    return "".join(kept)


def _head(line: str, col: int = 0) -> int:
    """Where the line's text starts (from `col`), past its indent and list markers."""
    m = _PREFIX.match(line, col)
    return m.end() if m else col


def _opener(line: str, head: int) -> str:
    """The fence a line opens at `head` ("" when none): not "```npm i``` fails", as a backtick
    fence's info string has no backtick."""
    m = _FENCE.match(line, head)
    if not m or (m.group()[0] == "`" and "`" in line[m.end() :]):
        return ""
    return m.group()


def _interrupts(line: str) -> bool:
    """Whether the line ends a paragraph: blank, a quote, or opening a block."""
    head = _head(line)
    return (
        not line.strip()
        or line.lstrip().startswith(">")
        or bool(_opener(line, head) or _RAW_HTML.match(line, head))
        or line.startswith("<!--", head)
    )


def _comment_ends(lines: list[str]) -> list[tuple[int, int] | None]:
    """Per line, where the first `-->` from its start to its paragraph's end is: (line, column
    after it), or None. Found once for the body, as a long paragraph may open many comments."""
    ends: list[tuple[int, int] | None] = [None] * (len(lines) + 1)
    for j in range(len(lines) - 1, -1, -1):
        if not _interrupts(lines[j]):
            end = lines[j].find("-->")
            ends[j] = (j, end + 3) if end >= 0 else ends[j + 1]
    return ends


def _uncommented(
    lines: list[str], ends: list[tuple[int, int] | None], i: int, col: int
) -> tuple[str, int, bool]:
    """Line i from `col` with its HTML comments taken out, none inside a code span: the text,
    the line it ends on (a comment may run over lines of its paragraph: what follows its `-->`
    goes on the same line), and whether an unclosed `<!--` starting the line hides what
    follows (the caller reads on to its `-->`). `ends`: _comment_ends(lines)."""
    line = lines[i]
    head = _head(line, col)
    kept: list[str] = []
    start = p = col
    closes = True  # a `-->` may follow on this line (each search goes on to the line's end)
    while p < len(line):
        if line[p] == "\\":
            p += 2
        elif line[p] == "`":
            m = _BACKTICKS.match(line, p)
            run = m.end() - p if m else 1
            closing = (m.end() for m in _BACKTICKS.finditer(line, p + run) if len(m[0]) == run)
            p = next(closing, p + run)
        elif not line.startswith("<!--", p):
            p += 1
        elif closes and (end := line.find("-->", p + 4)) >= 0:
            kept.append(line[start:p])
            start = p = end + 3
        elif p == head:
            kept.append(line[start:p])
            return "".join(kept), i, True
        elif (closed := ends[i + 1]) is not None:
            kept.append(line[start:p])
            i, start = closed
            line, p, head, closes = lines[i], start, -1, True
        else:
            p, closes = p + 4, False  # never closed in its paragraph: shown as text
    kept.append(line[start:])
    return "".join(kept), i, False


def parse_commands(
    body: str, repo: str = "", web: str = GITHUB_WEB
) -> tuple[list[Command], list[Rejected]]:
    """Every `/smolbot <verb>` line, in order, deduplicated; malformed ones explained. `repo`
    (owner/name) is this repository: a duplicate target may name it, in full or by its URL on
    `web` (web_host: github.com, or a GitHub Enterprise Server's host)."""
    found: list[Command] = []
    rejected: list[Rejected] = []
    for line in _plain_lines(body):
        m = _LINE.match(line)
        if not m:
            continue
        verb, rest = m.group(1).lower(), m.group(2)
        if verb not in VERBS:
            rejected.append(Rejected(line.strip(), f"unknown command {verb!r}"))
            continue
        built = _build(verb, rest, repo, web)
        if isinstance(built, Rejected):
            rejected.append(built)
            continue
        found.extend(cmd for cmd in built if cmd not in found)
    return found, rejected


def _blank(m: re.Match[str]) -> str:
    return " " * len(m.group(0))


def _build(verb: str, rest: str, repo: str, web: str) -> list[Command] | Rejected:
    """The line's command; for `duplicate`, one per issue the line names (two are a conflict)."""
    if verb != "duplicate":
        return [Command(verb)]  # type: ignore[arg-type]
    line = f"/smolbot duplicate{rest}".strip()
    found: list[tuple[int, int]] = []  # (where on the line, the issue): in the line's order
    target = _target(web)
    for m in target.finditer(rest):
        named = m.group(1) or m.group(3)
        if named and named.lower() != repo.lower():
            why = f"{named} is another repository: duplicate needs an issue of this one, #N"
            return Rejected(line, why)
        found.append((m.start(), int(m.group(2) or m.group(4) or m.group(5))))
    # every bare number too, so `12 or 13?` names two issues (a conflict) as `#12 or #13?` does,
    # not the first only; links and the targets above blanked out (the same length: in place)
    bare = target.sub(_blank, _LINK.sub(_blank, rest))
    found.extend((m.start(), int(m.group(1))) for m in _BARE_NUMBER.finditer(bare))
    targets = [number for _, number in sorted(found)]
    if not targets:
        return Rejected(line, "duplicate needs an issue: #N")
    return [Command("duplicate", t) for t in dict.fromkeys(targets)]


def conflicting_duplicates(
    commands: list[Command], rejected: list[Rejected] | None = None
) -> tuple[list[Command], tuple[str, ...]]:
    """The commands to run, and what was named when one comment asks to close this issue as a
    duplicate of two or more issues (a slip, a correction below the first, `#5 or #7?` on one
    line), or of one beside a `/smolbot duplicate` line that could not be read (another
    repository's issue): closing is not guessed, none of them runs. The same issue named twice
    is one command (parse_commands)."""
    targets = [f"#{c.target}" for c in commands if c.verb == "duplicate" and c.target is not None]
    unread = [UNREAD for r in rejected or () if r.text.lower().startswith("/smolbot duplicate")]
    if not targets or len(targets) + len(unread) < 2:
        return commands, ()
    return [c for c in commands if c.verb != "duplicate"], (*targets, *unread)


def may_run(permission: str) -> bool:
    return permission.lower() in WRITE_PERMISSIONS


def denial_reason(author: str, permission: str, is_bot: bool, bot_login: str) -> str | None:
    """Why a comment's commands must not run, or None when they may."""
    if author.lower() == bot_login.lower():
        return "comment written by the bot itself"
    if is_bot:
        return f"comment written by another bot ({author})"
    if not may_run(permission):
        return f"{author} has {permission or 'no'} access; commands need write, maintain or admin"
    return None
