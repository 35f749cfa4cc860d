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
_ISSUE = re.compile(r"^\s*#?(\d{1,9})\b")


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
    at least as long (Markdown's rule: a ``` line inside a ~~~~ block is text)."""
    lines: list[str] = []
    fence: str | None = None
    for line in _HTML_COMMENT.sub("", body or "").splitlines():
        m = _FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)
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


def parse_commands(body: str) -> tuple[list[Command], list[Rejected]]:
    """Every `/smolbot <verb>` line, in order, deduplicated; malformed ones explained."""
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
        cmd = _build(verb, rest)
        if isinstance(cmd, Rejected):
            rejected.append(cmd)
        elif cmd not in found:
            found.append(cmd)
    return found, rejected


def _build(verb: str, rest: str) -> Command | Rejected:
    if verb != "duplicate":
        return Command(verb)  # type: ignore[arg-type]
    m = _ISSUE.match(rest)
    if not m:
        return Rejected(f"/smolbot duplicate{rest}".strip(), "duplicate needs an issue: #N")
    return Command("duplicate", int(m.group(1)))


def conflicting_duplicates(commands: list[Command]) -> tuple[list[Command], tuple[int, ...]]:
    """The commands to run, and the issues named when one comment asks to close this issue as
    a duplicate of two or more (a slip, or a correction below the first): closing is not
    guessed, none of them runs. The same issue named twice is one command (parse_commands)."""
    targets = tuple(c.target for c in commands if c.verb == "duplicate" and c.target is not None)
    if len(targets) < 2:
        return commands, ()
    return [c for c in commands if c.verb != "duplicate"], targets


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
