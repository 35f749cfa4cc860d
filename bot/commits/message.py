"""Commit-message format rules: validate a model's draft and repair it deterministically."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from bot.commits.style import CC_SUBJECT, CC_TYPES, Style, clean_scope

MAX_SUBJECT = 72
BODY_WIDTH = 72
TRIMMED = f"subject trimmed to {MAX_SUBJECT} characters"  # the repair: cut where a word ends


class CommitDraft(BaseModel):
    """What the model is asked to return."""

    type: str = Field(default="", max_length=20)
    scope: str | None = Field(default=None, max_length=40)
    subject: str = Field(min_length=1, max_length=300)
    body: str = Field(default="", max_length=4000)


# C0 and C1 control characters but \n and \t: an ESC or BEL in a message drives the terminal of
# everyone who runs `git log` on it (a file name or a model can carry one); a \r, \v or \x1c, and
# U+2028, split a line for Python (str.splitlines) where git sees one.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
CONTROLS_OUT = "control character(s) taken out"  # the repair


def without_controls(text: str) -> str:
    """`text` with line breaks as git reads them (\n; \r\n, U+2028 and U+2029 become one) and
    no other control character."""
    text = text.replace("\r\n", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    return _CONTROLS.sub("", text)


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


def uncommented(text: str, comment: str = "#") -> str:
    """`text` without the comment characters it starts with (`# Installation section`, `#123 fix
    login`: a markdown heading, an issue first): git drops a message line that starts with
    core.commentChar (or core.commentString), and a subject was lost with it."""
    text = text.strip().strip("\"'`").strip()
    while comment and text.startswith(comment):
        text = text[len(comment) :].strip().strip("\"'`").strip()
    return text


def _clean_desc(text: str, style: Style, comment: str = "#") -> str:
    desc = " ".join(uncommented(text, comment).split())
    m = CC_SUBJECT.match(desc)
    if m and (style.conventional or m.group("type") in CC_TYPES):
        # the model put a type into the description; a plain repository's `runtime: ` or
        # `doc: ` area prefix (Go, git.git, the kernel) is its own style and stays
        desc = uncommented(m.group("desc"), comment)
    desc = desc.rstrip(".").strip()
    if style.conventional:
        if style.capitalized:  # as this repository writes its descriptions: `feat: Add X`
            return desc[:1].upper() + desc[1:]
        return desc[:1].lower() + desc[1:] if desc[1:2].islower() or len(desc) == 1 else desc
    desc = desc[:1].upper() + desc[1:] if style.capitalized else desc
    return desc + "." if style.period else desc


def _trim(subject: str, limit: int = MAX_SUBJECT) -> str:
    if len(subject) <= limit:
        return subject
    cut = subject[:limit]
    return cut[: cut.rfind(" ")] if " " in cut[limit // 2 :] else cut


BULLET = re.compile(r"^\s*([-*+]|\d{1,3}[.)])\s+(.*)$")


def _wrap(body: str, comment: str = "#") -> str:
    """Paragraphs filled to BODY_WIDTH; bullet items each filled on their own, prose around them too."""
    paras = [p.strip() for p in re.split(r"\n\s*\n", body.strip()) if p.strip()]
    return "\n\n".join("\n".join(_fill(*block, comment) for block in _blocks(p)) for p in paras)


def _blocks(para: str) -> list[tuple[str, str]]:
    """(marker, text) for each bullet item ("" for prose): an indented line continues an item."""
    blocks: list[tuple[str, str]] = []
    for line in para.splitlines():
        m = BULLET.match(line)
        if m:
            blocks.append((m.group(1), m.group(2)))
        elif blocks and (blocks[-1][0] == "" or line[:1].isspace()):
            blocks[-1] = (blocks[-1][0], f"{blocks[-1][1]} {line.strip()}")
        else:
            blocks.append(("", line.strip()))
    return blocks


def _fill(marker: str, text: str, comment: str = "#") -> str:
    """Greedy wrap that never breaks a word, nor starts a line with the comment character (`#`,
    or core.commentChar): git drops such lines as comments (`as reported in` / `#123.` lost the
    issue), so the word before moves down with it."""
    indent = " " * (len(marker) + 1) if marker else ""
    first = f"{marker} " if marker else " " if text.startswith(comment) else ""  # the model's own
    lines = [[first]]
    for word in text.split():
        line = lines[-1]
        if len("".join(line)) + len(word) + (len(line) > 1) <= BODY_WIDTH or len(line) == 1:
            line.append(word if len(line) == 1 else f" {word}")
        elif word.startswith(comment) and not indent:
            plain = [i for i in range(2, len(line)) if not line[i].lstrip().startswith(comment)]
            if plain:  # move down from the last word that does not start with the comment
                moved = line[plain[-1] :]
                del line[plain[-1] :]
                lines.append(["", moved[0].lstrip(), *moved[1:], f" {word}"])
            else:  # nothing to move down with it: this line runs long instead
                line.append(f" {word}")
        else:
            lines.append([indent, word])
    return "\n".join("".join(line).rstrip() for line in lines)


def _scope_for(
    ctype: str, drafted: str | None, fallback: str | None, repairs: list[str]
) -> str | None:
    """The subject's scope: the draft's, else the rules'; one that only repeats the type
    (`docs(docs)`, from a docs/ directory or the model) says nothing and is dropped."""
    candidates = [s for s in (clean_scope(drafted), clean_scope(fallback)) if s]
    if ctype in candidates:
        repairs.append(f"scope {ctype!r} dropped (it repeats the type)")
    return next((s for s in candidates if s != ctype), None)


def compose(
    draft: CommitDraft,
    style: Style,
    fallback_type: str,
    fallback_scope: str | None,
    comment: str = "#",
) -> tuple[str, list[str]]:
    """Build the final message from a draft, repairing what breaks the rules; returns (message,
    repairs). `comment` starts a comment line for git (core.commentChar): no line may start with
    it. No control character but newlines and tabs is left (without_controls)."""
    repairs = []
    draft = draft.model_copy(
        update={"subject": without_controls(draft.subject), "body": without_controls(draft.body)}
    )
    desc = _clean_desc(draft.subject, style, comment)
    if comment and draft.subject.strip().strip("\"'`").startswith(comment):
        repairs.append(f"{comment!r} taken off the subject's start (git drops it as a comment)")
    if not desc:
        desc = "update " + (fallback_scope or "files")
        repairs.append("empty subject")
    subject = desc
    if style.conventional:
        ctype = (draft.type or "").strip().lower()
        if ctype not in CC_TYPES:
            repairs.append(f"type {ctype or '(none)'!r} replaced by {fallback_type!r}")
            ctype = fallback_type
        scope = _scope_for(ctype, draft.scope, fallback_scope, repairs)
        subject = f"{ctype}({scope}): {desc}" if scope else f"{ctype}: {desc}"
        if len(subject) > MAX_SUBJECT and scope:
            subject = f"{ctype}: {desc}"
            repairs.append("scope dropped to fit the subject")
    if len(subject) > MAX_SUBJECT:
        subject = _trim(subject)
        repairs.append(TRIMMED)
    body = _wrap(draft.body, comment) if draft.body.strip() else ""
    return (f"{subject}\n\n{body}\n" if body else f"{subject}\n"), repairs
