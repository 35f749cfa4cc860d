"""Commit-message format rules: validate a model's draft and repair it deterministically."""

from __future__ import annotations

import re
import textwrap

from pydantic import BaseModel, Field

from bot.commits.style import CC_SUBJECT, CC_TYPES, Style, clean_scope

MAX_SUBJECT = 72
BODY_WIDTH = 72


class CommitDraft(BaseModel):
    """What the model is asked to return."""

    type: str = Field(default="", max_length=20)
    scope: str | None = Field(default=None, max_length=40)
    subject: str = Field(min_length=1, max_length=300)
    body: str = Field(default="", max_length=4000)


def problems(message: str, style: Style) -> list[str]:
    """Format rules the message breaks (empty when it is fine)."""
    lines = message.splitlines()
    if not lines or not lines[0].strip():
        return ["empty subject"]
    subject = lines[0]
    found = []
    if len(subject) > MAX_SUBJECT:
        found.append(f"subject longer than {MAX_SUBJECT} characters")
    if style.conventional:
        m = CC_SUBJECT.match(subject)
        if not m or m.group("type") not in CC_TYPES:
            found.append("subject is not Conventional Commits")
    if len(lines) > 1 and lines[1].strip():
        found.append("no blank line after the subject")
    return found


def _clean_desc(text: str, style: Style) -> str:
    desc = " ".join(text.strip().strip("\"'`").split())
    m = CC_SUBJECT.match(desc)
    if m:  # the model put a prefix into the description
        desc = m.group("desc")
    desc = desc.rstrip(".").strip()
    if style.conventional:
        return desc[:1].lower() + desc[1:] if desc[1:2].islower() or len(desc) == 1 else desc
    desc = desc[:1].upper() + desc[1:] if style.capitalized else desc
    return desc + "." if style.period else desc


def _trim(subject: str, limit: int = MAX_SUBJECT) -> str:
    if len(subject) <= limit:
        return subject
    cut = subject[:limit]
    return cut[: cut.rfind(" ")] if " " in cut[limit // 2 :] else cut


def _wrap(body: str) -> str:
    paras = [p.strip() for p in re.split(r"\n\s*\n", body.strip()) if p.strip()]
    out = []
    for p in paras:
        if all(line.lstrip().startswith(("-", "*")) for line in p.splitlines()):
            out.append(
                "\n".join(
                    textwrap.fill(x.strip(), BODY_WIDTH, subsequent_indent="  ")
                    for x in p.splitlines()
                )
            )
        else:
            out.append(textwrap.fill(" ".join(p.split()), BODY_WIDTH))
    return "\n\n".join(out)


def compose(
    draft: CommitDraft, style: Style, fallback_type: str, fallback_scope: str | None
) -> tuple[str, list[str]]:
    """Build the final message from a draft, repairing what breaks the rules; returns (message, repairs)."""
    repairs = []
    desc = _clean_desc(draft.subject, style)
    if not desc:
        desc = "update " + (fallback_scope or "files")
        repairs.append("empty subject")
    subject = desc
    if style.conventional:
        ctype = (draft.type or "").strip().lower()
        if ctype not in CC_TYPES:
            repairs.append(f"type {ctype or '(none)'!r} replaced by {fallback_type!r}")
            ctype = fallback_type
        scope = clean_scope(draft.scope) or clean_scope(fallback_scope)
        subject = f"{ctype}({scope}): {desc}" if scope else f"{ctype}: {desc}"
        if len(subject) > MAX_SUBJECT and scope:
            subject = f"{ctype}: {desc}"
            repairs.append("scope dropped to fit the subject")
    if len(subject) > MAX_SUBJECT:
        subject = _trim(subject)
        repairs.append(f"subject trimmed to {MAX_SUBJECT} characters")
    body = _wrap(draft.body) if draft.body.strip() else ""
    return (f"{subject}\n\n{body}\n" if body else f"{subject}\n"), repairs
