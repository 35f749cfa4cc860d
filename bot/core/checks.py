"""Checks every model-written text passes before it is posted: nothing invented, nobody pinged."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from bot.core.secrets import credentials
from bot.core.text import invisible

# Every link GitHub renders from a comment: bare http(s)://, ftp:// and www. (all autolinked, any
# case), markdown link and image targets `](…)` (the target maybe on the next line, also a block
# quote's) and reference definitions `[x]: …` (also in a block quote or a list item, the label
# maybe over lines or holding escaped brackets, the target maybe on the next line; protocol-relative
# `//host` and relative paths included, a `<…>` target maybe starting with a space), autolinks
# `<scheme:…>`, HTML href=/src= values (a quoted one maybe starting with white space: a browser
# trims it), and e-mail addresses (GitHub makes them mailto: links; `mailto:` and `xmpp:` ones too).
URL = re.compile(r"(?i)(?:(?:https?|ftp)://|www\.)[^\s<>\"'`)\]]+")
EMAIL = re.compile(r"(?i)(?:(?:mailto|xmpp):)?[a-z0-9._+-]+@[a-z0-9_-]+(?:\.[a-z0-9_-]+)+")
_LINK_TARGETS = (
    re.compile(r"\]\((?:\s|>)*<?[ \t]*([^\s<>)]+)"),
    re.compile(
        r"(?m)^[ \t]*(?:(?:>|[-+*]|\d{1,9}[.)])[ \t]*)*\[(?:[^\[\]\\]|\\[\s\S]){1,999}\]:"
        r"[ \t]*\n?[ \t>]*<?[ \t]*([^\s<>]+)"
    ),
    re.compile(r"<((?i:[a-z][a-z0-9+.-]{1,31}:|//)[^\s<>]*)>"),
    re.compile(
        r"(?i)(?<=[\s\"'/])(?:href|src|srcset|action|formaction|poster|background)\s*=\s*"
        r"(?:[\"']\s*)?([^\"'\s>]+)"
    ),
)
_TRAILING = ".,;:!?*_~'\""
# What GitHub links in a comment: #N and GH-N in this repository, owner/repo#N in another (and
# a reference there notifies that issue), each also inside emphasis (`_#12_`, `__GH-12__`,
# `_o/r#5_`: an underscore is no letter there), and @login too (_@login_).
ISSUE_REF = re.compile(r"(?:(?<![A-Za-z0-9/&])#|(?<![A-Za-z0-9])(?i:gh)-)(\d+)(?![A-Za-z0-9])")
CROSS_REF = re.compile(
    r"(?<![A-Za-z0-9/.-])([A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*#\d+)(?![A-Za-z0-9])"
)
MENTION = re.compile(r"(?<![A-Za-z0-9])@([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))")
# What GitHub links as a commit when the repository has it: 7 to 40 hex digits standing alone
# (`1a2b3c4`), or after `owner@` or `owner/repo@` (`octo/app@1a2b3c4`, a commit there). A word of
# the letters a-f only (`defaced`) or a number (`1234567`) counts as none: one needs a digit and a
# letter (`commit_refs`).
COMMIT_REF = re.compile(r"(?<![\w])([0-9a-fA-F]{7,40})(?![\w])")
# Raw HTML as Markdown passes it on: a tag opened or closed (`<h1>`, `</details>`, `<sub`, a
# `<details` ending a line), a comment, a declaration or a processing instruction. Not `a < b`,
# `<3`, `<Ctrl+S>`: no tag.
RAW_HTML = re.compile(r"<(?:/?[A-Za-z][A-Za-z0-9-]*(?=[\s/>]|$)|/[A-Za-z]|!-*|\?)", re.M)
# A line that opens or closes a fenced code block: up to three spaces, inside block quotes and
# list items too, then three or more backticks or tildes and what follows them
_FENCE_LINE = re.compile(
    r"^[ \t]{0,3}(?:>[ \t]?)*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)*(`{3,}|~{3,})(.*)$", re.M
)
# What a bot's text may only repeat from the thread, never claim itself: that the work is done
# or shipped, that an issue was or will be closed or locked or is a duplicate, and when (dates).
CLAIMS = re.compile(
    r"\b(fixed|resolved|merged|released|shipped|patched|solved|landed|deployed"
    r"|clos(?:e|es|ed|ing)|lock(?:s|ed|ing)?"
    r"|duplicates?|duplicated|today|tonight|tomorrow|next\s+(?:week|month|release|version)"
    r"|(?:mon|tues|wednes|thurs|fri|satur|sun)day|\d{4}-\d{2}-\d{2})\b",
    re.IGNORECASE,
)
# A code span (not one opened by an escaped backtick): no @login inside it pings anyone, no link,
# e-mail address or #N inside it is linked. Only one within a line and a table cell (`|`) is
# taken: where a paragraph ends (a blank line, a heading, a list item, a quote) and where a table
# splits its cells decides which backticks pair, so a run left unpaired there makes every pairing
# unsure (see outside_code)
CODE_SPAN = re.compile(r"(?<![`\\])(`+)(?!`)[^\r\n|]+?(?<!`)\1(?!`)")
# what takes backticks before a code span can: an HTML tag, comment or block (`<span title="`">`,
# `<div>` …), an autolink, a link target or title (`](`), a reference definition (`]:`), and an
# escaped backtick (no escape inside a span)
_NOT_CODE = re.compile(r"<[A-Za-z/!?]|\][(:]|\\`")


def as_read(text: str) -> str:
    """What a reader takes text for: character references decoded as GitHub does (`&#35;99` is
    a link), look-alikes folded (NFKC: a full-width `＜` is `<`), invisible format characters
    (zero-width spaces and joiners, soft hyphens) and the other invisible ones (variation
    selectors, the grapheme joiner) dropped."""
    text = unicodedata.normalize("NFKC", html.unescape(text))
    return "".join(c for c in text if not invisible(c))


def _spaced(text: str) -> str:
    """Text as GitHub's reference finder sees it: character references decoded, an invisible
    character a separator (no word character, so `a\u200b#99` links #99, which `as_read`'s
    `a#99` hides) and nothing folded (`²#99` links too)."""
    return "".join(" " if invisible(c) else c for c in html.unescape(text))


def _refs(pattern: re.Pattern[str], *readings: str) -> list[str]:
    """What pattern finds in any of the readings, once each, in order."""
    return list(dict.fromkeys(m for reading in readings for m in pattern.findall(reading)))


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    problems: tuple[str, ...] = ()


def links(text: str) -> list[str]:
    """Every link target in text that GitHub would render as a link, once each, in order (an
    e-mail address as `mailto:` it)."""
    found = URL.findall(text)
    for pattern in _LINK_TARGETS:
        found += pattern.findall(text)
    found += [m if ":" in m else f"mailto:{m}" for m in EMAIL.findall(text)]
    out: dict[str, None] = {}
    for link in found:
        link = link.strip().rstrip(_TRAILING)
        if link:
            out.setdefault(link, None)
    return list(out)


def outside_code(text: str) -> str:
    """Text less its code spans where which backticks pair is sure, else all of it (a ping or a
    link is worse than a refused text): mentions, links and references in what is left count."""
    if "`" not in text or _NOT_CODE.search(text):
        return text
    rest = CODE_SPAN.sub(" ", text)
    return text if "`" in rest else rest


def commit_refs(*readings: str) -> list[str]:
    """The commit SHAs GitHub may link in any of the readings (`COMMIT_REF`: a digit and a letter
    among them), in lower case, once each, in order."""
    found = _refs(COMMIT_REF, *readings)
    return list(
        dict.fromkeys(
            sha.lower() for sha in found if re.search(r"\d", sha) and re.search(r"[a-fA-F]", sha)
        )
    )


def commits_named(text: str) -> list[str]:
    """The commit SHAs a thread's text names, as written and as GitHub shows it (`as_read`):
    what check_text's `allowed_commits` lets model text repeat."""
    return commit_refs(text, as_read(text))


def raw_html(text: str) -> list[str]:
    """The raw HTML in text (`RAW_HTML`), once each, in order: what a plain text never needs and
    what can hide what follows it (`<details>` collapses the rest, `<sub>` shrinks it)."""
    return list(dict.fromkeys(m.group(0) for m in RAW_HTML.finditer(text)))


def unclosed_fence(text: str) -> str | None:
    """The fence of a code block text opens and never closes (what follows it, a footer added
    after the text among it, is shown as code), or None. A line of three backticks followed by
    more backticks is a code span, not a fence; a fence closes with one of its own kind at least
    as long, with nothing after it."""
    opened: str | None = None
    for m in _FENCE_LINE.finditer(text):
        fence, info = m.group(1), m.group(2)
        if opened is None:
            if not (fence[0] == "`" and "`" in info):
                opened = fence
        elif fence[0] == opened[0] and len(fence) >= len(opened) and not info.strip():
            opened = None
    return opened


def unsupported_claims(text: str, said: str = "") -> list[str]:
    """The claims in text (CLAIMS, read as shown) that `said` (the thread) does not make too,
    each once, in lower case; with nothing said, every claim text makes."""
    said = as_read(said)
    out: dict[str, None] = {}
    for m in CLAIMS.finditer(as_read(text)):
        claim = " ".join(m.group(0).lower().split())
        if not re.search(r"\b" + r"\s+".join(map(re.escape, claim.split())) + r"\b", said, re.I):
            out.setdefault(claim, None)
    return list(out)


def _same_link(link: str) -> str:
    """What a link points at, for comparing: without http(s)://, // or mailto:, its host in lower
    case."""
    link = re.sub(r"(?i)^(?:(?:https?:)?//|mailto:)", "", link.strip().rstrip(_TRAILING))
    host, sep, rest = link.partition("/")
    return host.lower() + sep + rest


def check_text(
    text: str,
    *,
    allowed_urls: Iterable[str] = (),
    allowed_numbers: Iterable[int] = (),
    allowed_people: Iterable[str] = (),
    allowed_refs: Iterable[str] = (),
    allowed_commits: Iterable[str] | None = None,
    max_chars: int = 4000,
) -> CheckResult:
    """Reject text with links (any GitHub renders: see `links`), issue numbers, other
    repositories' issues (`owner/repo#N`) or @-mentions that are not in the allowed sets, in
    whatever spelling GitHub renders them (`as_read`); and text holding a credential.
    `allowed_commits`: the commit SHAs the thread names; given, a commit reference (`COMMIT_REF`,
    alone or `owner/repo@sha`) that is none of them nor an abbreviation of one is refused as an
    invented one (None: commit references are not checked)."""
    problems: list[str] = []
    if not text.strip():
        problems.append("empty text")
    if len(text) > max_chars:
        problems.append(f"too long: {len(text)} > {max_chars} characters")
    # GitHub links and pings nothing in a code span: those out first where their pairing is sure
    # (an entity in one is not decoded); mentions then as GitHub finds them: `&#64;` is an @, a
    # zero-width character is kept, as it ends a login or separates
    bare = outside_code(text)
    spoken = html.unescape(bare)
    shown = as_read(bare)
    urls = {_same_link(u) for u in allowed_urls}
    for url in links(shown):
        if _same_link(url) not in urls:
            problems.append(f"invented link: {url}")
    # references read both ways: folded (`＃99`), and with invisible characters as separators
    spaced = _spaced(bare)
    numbers = set(allowed_numbers)
    for n in _refs(ISSUE_REF, shown, spaced):
        if int(n) not in numbers:
            problems.append(f"invented issue number: #{n}")
    refs = {r.lower() for r in allowed_refs}
    for ref in _refs(CROSS_REF, shown, spaced):
        if ref.lower() not in refs:
            problems.append(f"invented reference to another repository's issue: {ref}")
    if allowed_commits is not None:
        known = [c.lower() for c in allowed_commits]
        for sha in commit_refs(shown, spaced):
            if not any(k.startswith(sha) for k in known):
                problems.append(f"invented commit reference: {sha}")
    people = {p.lower() for p in allowed_people}
    for login in MENTION.findall(spoken):
        if login.lower() not in people:
            problems.append(f"mentions someone not in the thread: @{login}")
    # a token pasted in an issue and repeated: the bot's copy would outlive the reporter's edit
    problems += [f"looks like a credential: {kind}" for kind in credentials(as_read(text))]
    return CheckResult(ok=not problems, problems=tuple(problems))
