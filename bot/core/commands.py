"""`/smolbot` commands in comments: parsing and who may run them. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Verb = Literal["summarize", "retriage", "duplicate", "ignore"]
VERBS: tuple[Verb, ...] = ("summarize", "retriage", "duplicate", "ignore")
WRITE_PERMISSIONS = frozenset({"admin", "maintain", "write"})
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
# as Markdown shows it: four spaces or a tab make a line code, so it is an example, not a command
_LINE = re.compile(r"^ {0,3}/smolbot\s+([a-z-]+)\b(.*)$", re.I)
# the issue `/smolbot duplicate` names: #N, a bare N, owner/repo#N, or its URL. A bare number is
# one standing alone, anywhere on the line (`12 or 13?` names two): not the digits of a word, a
# version, a time or a date (`v2`, `12.0`, `1.2.3`, `10:30`, `2024-01-01`), of `+1` or of a link
# (links are taken out before bare numbers are looked for)
_BARE_NUMBER = re.compile(r"(?<![\w/#.:=+-])(\d{1,9})(?![\w/]|[.:-]\d)")
_LINK = re.compile(r"\b[a-z][a-z0-9+.-]*://\S*|\bwww\.\S*", re.I)
_TARGET = re.compile(
    r"https?://github\.com/([\w.-]+/[\w.-]+)/(?:issues|pull)/(\d{1,9})\b"
    r"|\b([\w.-]+/[\w.-]+)#(\d{1,9})\b"
    r"|(?<![\w/])#(\d{1,9})\b",
    re.I,
)
UNREAD = "a /smolbot duplicate line it could not read"


@dataclass(frozen=True)
class Command:
    verb: Verb
    target: int | None = None  # the #N of `duplicate #N`


@dataclass(frozen=True)
class Rejected:
    text: str
    why: str


def _plain_lines(body: str) -> list[str]:
    """Lines outside code blocks, block quotes and HTML comments: quoting a command, showing it
    as an example or hiding it does not run it. A fence closes only with its own kind of fence,
    at least as long (Markdown's rule: a ``` line inside a ~~~~ block is text); a line that
    opens with ``` and has another backtick after it is inline code, not a fence."""
    lines: list[str] = []
    fence: str | None = None
    for line in _HTML_COMMENT.sub("", body or "").splitlines():
        m = _FENCE.match(line)
        if fence is None and m and not (m.group(1)[0] == "`" and "`" in line[m.end() :]):
            fence = m.group(1)  # not "```npm i``` fails": a backtick fence's info has no backtick
        elif fence is not None:
            if (
                m
                and m.group(1)[0] == fence[0]
                and len(m.group(1)) >= len(fence)
                and (not line.strip().strip(fence[0]))
            ):
                fence = None
        elif not line.lstrip().startswith(">"):
            lines.append(line)
    return lines


def parse_commands(body: str, repo: str = "") -> tuple[list[Command], list[Rejected]]:
    """Every `/smolbot <verb>` line, in order, deduplicated; malformed ones explained. `repo`
    (owner/name) is this repository: a duplicate target may name it, in full or by its URL."""
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
        built = _build(verb, rest, repo)
        if isinstance(built, Rejected):
            rejected.append(built)
            continue
        found.extend(cmd for cmd in built if cmd not in found)
    return found, rejected


def _blank(m: re.Match[str]) -> str:
    return " " * len(m.group(0))


def _build(verb: str, rest: str, repo: str) -> list[Command] | Rejected:
    """The line's command; for `duplicate`, one per issue the line names (two are a conflict)."""
    if verb != "duplicate":
        return [Command(verb)]  # type: ignore[arg-type]
    line = f"/smolbot duplicate{rest}".strip()
    found: list[tuple[int, int]] = []  # (where on the line, the issue): in the line's order
    for m in _TARGET.finditer(rest):
        named = m.group(1) or m.group(3)
        if named and named.lower() != repo.lower():
            why = f"{named} is another repository: duplicate needs an issue of this one, #N"
            return Rejected(line, why)
        found.append((m.start(), int(m.group(2) or m.group(4) or m.group(5))))
    # every bare number too, so `12 or 13?` names two issues (a conflict) as `#12 or #13?` does,
    # not the first only; links and the targets above blanked out (the same length: in place)
    bare = _TARGET.sub(_blank, _LINK.sub(_blank, rest))
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
