"""What a drafted message may not say on the model's word: a closing keyword (`closes #1` closes
issue #1 once the commit reaches the default branch), a link nobody gave it, an image (a tracking
pixel), a live @-mention, a trailer (`Co-authored-by`, `Signed-off-by`), a CI skip directive. The staged diff is untrusted input: a line in it can tell the model to
write any of them. Links and mentions are found as bot.core.checks finds them in what the bot
posts; these functions take them out of a draft instead of refusing it."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field

from bot.core.checks import CODE_SPAN, MENTION, links

# GitHub's closing keywords (any case, maybe a colon), each before an issue: #N, GH-N,
# owner/repo#N, or an issue's (or pull request's) URL; `closes #1, #2 and fixes #3` is one phrase.
_KEYWORD = r"\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\b"
_REF = (
    r"[*_]{0,2}(?:https?://[^\s/]+/[^\s/]+/[^\s/]+/(?:issues|pull)/\d+"
    r"|[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*#\d+|#\d+|(?i:gh)-\d+)[*_]{0,2}(?![\w-])"
)
_S = r"[\s\x00]*"  # white space, or where something was taken out (_CUT)
_SEP = rf"{_S}(?:(?:,|&|\band\b){_S}(?:and\b{_S})?)?"  # each run of spaces can go one way only
_AFTER = rf"{_S}(?::{_S})?"
CLOSING = re.compile(
    rf"(?i){_KEYWORD}{_AFTER}(?P<refs>{_REF}(?:{_SEP}(?:{_KEYWORD}{_AFTER})?{_REF})*)"
)
_ONE_REF = re.compile(_REF, re.IGNORECASE)
_LOCAL_REF = re.compile(r"(?i)^[*_]*(?:#|gh-)(\d+)[*_]*$")
# Issue numbers a branch names: a path segment starting with one (`123-crash`, `fix/123-crash`:
# GitHub's own branch for an issue is `123-title`), or one after issue/gh/bug/fix/close/resolve
# or `#` (`issue-123`, `gh-123`, `fix_123`, `bugfix/GH-123`).
_BRANCH_ISSUE = re.compile(
    r"(?:^|/)(\d+)(?![0-9])|(?i:issues?|gh|bugs?|fix(?:es)?|close[sd]?|resolve[sd]?|#)[-_/#]?(\d+)(?![0-9])"
)
_IMAGE = re.compile(
    r"!\[[^\[\]\n]*\]\([^()\n]*\)|!\[[^\[\]\n]*\]\[[^\[\]\n]*\]|<img\b[^>]*>?", re.IGNORECASE
)
_MD_LINK = re.compile(r"\[([^\[\]\n]*)\]\(\s*<?([^\s)>]*)>?(?:\s+\"[^\"\n]*\")?\s*\)")
_REF_DEF = re.compile(r"^\s*\[[^\]\n]+\]:\s*<?(\S+?)>?(?:\s.*)?$")
_HTML_LINK = re.compile(r"<a\b[^>]*>(.*?)</a>", re.IGNORECASE | re.DOTALL)
# A trailer: git reads a last paragraph of `Token: value` lines as trailers, and each says
# something for someone: Co-authored-by credits a GitHub user, Signed-off-by certifies the DCO
# for the person it names (Reviewed-by, Acked-by, Tested-by likewise), Change-Id ties the commit
# to a Gerrit change, Release-As sets release-please's next version, BREAKING CHANGE a
# semantic-release major one (the drafted subject never says `!` either), skip-checks: true
# skips GitHub's checks. One starting a line or sentence goes (filled into a paragraph, it can
# start a line), and a `-by:` naming someone's address anywhere.
_TRAILER = re.compile(
    r"(?i)^\s*(?:[a-z][a-z0-9-]*-by|change-id|release-as|skip-checks|breaking[ -]change)\s*:"
)
_PERSON_TRAILER = re.compile(r"(?i)\b[a-z][a-z0-9-]*-by\s*:[^\n<>]*<[^<>\s]+@[^<>\s]+>")
# A CI skip directive: [skip ci], [ci skip], [no ci], [skip actions], [actions skip] (GitHub,
# GitLab, CircleCI, Bitbucket), [skip azurepipelines], [skip travis] ... and Azure's ***NO_CI***:
# a pushed commit with one runs no checks.
_CI_SKIP = re.compile(
    r"(?i)\[\s*(?:skip|no)[ _-]+[a-z][\w-]{0,29}\s*\]|\[\s*[a-z][\w-]{0,29}[ _-]+skip\s*\]"
    r"|\*\*\*NO_CI\*\*\*"
)
_BULLET = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# words left hanging where a removed link or reference was (`details at`, `see`, `, and`)
_DANGLING = {
    "a", "also", "an", "and", "are", "as", "at", "by", "cf", "details", "for", "from", "here",
    "in", "info", "is", "it", "link", "more", "of", "on", "or", "per", "see", "that", "the",
    "this", "to", "url", "via", "which", "with",
}  # fmt: skip
_EMPTY_BRACKETS = re.compile(r"\(([^()\n]*)\)|\[([^\[\]\n]*)\]")
_CUT = "\x00"  # where something was taken out of a sentence, until _tidy mends it
_SEPARATORS = " \t,;:-\u2013\u2014(/&"


def branch_issues(branch: str) -> set[int]:
    """The issue numbers a branch's name gives (see _BRANCH_ISSUE)."""
    return {int(a or b) for a, b in _BRANCH_ISSUE.findall(branch)}


# how the repairs that drop something start (a draft with one is less sure: bot.llm.confidence)
DROPPED = ("closing keyword", "image", "link", "trailer", "CI skip directive")


@dataclass
class Cleaned:
    """What was taken out of one draft, for its repairs."""

    closing: list[str] = field(default_factory=list)  # each phrase as the model wrote it
    images: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)  # made inert, not dropped
    trailers: list[str] = field(default_factory=list)  # each sentence with one
    directives: list[str] = field(default_factory=list)  # CI skip directives

    def repairs(self) -> list[str]:
        out = []
        if self.closing:
            out.append(
                "closing keyword(s) dropped (only an issue the branch's name gives may be "
                f"closed): {', '.join(map(repr, dict.fromkeys(self.closing)))}"
            )
        if self.images:
            out.append(f"image(s) dropped: {', '.join(dict.fromkeys(self.images))}")
        if self.links:
            out.append(f"link(s) not in the diff dropped: {', '.join(dict.fromkeys(self.links))}")
        if self.trailers:
            out.append(
                "trailer(s) dropped (a co-author, sign-off or other trailer is yours to add): "
                f"{', '.join(map(repr, dict.fromkeys(self.trailers)))}"
            )
        if self.directives:
            out.append(
                "CI skip directive(s) dropped (the push would run no checks): "
                f"{', '.join(map(repr, dict.fromkeys(self.directives)))}"
            )
        if self.mentions:
            mentions = ", ".join(f"@{m}" for m in dict.fromkeys(self.mentions))
            out.append(f"@-mention(s) made inert, so they ping nobody: {mentions}")
        return out


class Cleaner:
    """Takes what a draft may not say out of its text, line by line and sentence by sentence: a
    sentence a removal leaves without words that say anything goes, and a line with it.

    `issues`: the issue numbers a closing keyword may name (#N and GH-N: the human gave them,
    in the branch's name). `diff`: the staged patch; a link found in it may stay."""

    def __init__(self, issues: Collection[int], diff: str) -> None:
        self.issues, self.diff = set(issues), diff.lower()
        self.found = Cleaned()

    def subject(self, text: str) -> str:
        """The subject cleaned ("" when nothing is left), its @-mentions in backticks; one that
        starts or ends it without its @ (compose takes quotes and backticks off a subject's ends,
        and `@login` would be live again)."""
        return self._inert_mentions(self._cleaned(text), edges=True)

    def body(self, text: str) -> str:
        """The body cleaned, its @-mentions in backticks."""
        return self._inert_mentions(self._cleaned(text))

    def _cleaned(self, text: str) -> str:
        lines = [self._line(line) for line in text.splitlines()]
        out = "\n".join(line for line in lines if line is not None)
        # a keyword and its issue on two lines (the body is filled later: they would meet)
        out = CLOSING.sub(self._closing, out)
        if _CUT not in out:
            return out
        mended = [_mended(line) if _CUT in line else line for line in out.splitlines()]
        return "\n".join(line for line in mended if line is not None)

    def _line(self, line: str) -> str | None:
        if (m := _REF_DEF.match(line)) and not self._known(m.group(1)):
            self.found.links.append(m.group(1))
            return None
        bullet = _BULLET.match(line)
        lead = bullet.group(0) if bullet else ""
        pieces = _SENTENCE_END.split(line[len(lead) :])
        parts = [self._sentence(s, trailers=not lead) for s in pieces]
        if parts == pieces:
            return line  # untouched: as written, spacing too
        kept = [s for s in parts if s is not None]
        return f"{lead}{' '.join(kept)}" if kept else None

    def _sentence(self, text: str, trailers: bool = True) -> str | None:
        """One sentence cleaned, None when nothing is left; `trailers`: one with a trailer goes
        (a list item's never starts a line: compose indents what it wraps; `- add "a\\nB-by: x"`)."""
        if trailers and (_TRAILER.match(text) or _PERSON_TRAILER.search(text)):
            self.found.trailers.append(text.strip())
            return None
        new = _CI_SKIP.sub(self._directive, text)
        new = CLOSING.sub(self._closing, new)  # before links go: an issue's URL is a reference
        new = _IMAGE.sub(self._image, new)
        new = _MD_LINK.sub(self._md_link, new)
        new = _HTML_LINK.sub(self._html_link, new)
        for link in sorted(links(new), key=len, reverse=True):  # not a longer one's start first
            if not link.startswith(("mailto:", "xmpp:")) and not self._known(link):
                self.found.links.append(link)
                new = re.sub(r"<?" + re.escape(link) + r">?", _CUT, new)
        new = CLOSING.sub(self._closing, new)  # and after: `closes <link> #1` is `closes #1` now
        return text if new == text else _tidy(new, text)

    def _directive(self, m: re.Match[str]) -> str:
        self.found.directives.append(m.group(0))
        return _CUT

    def _image(self, m: re.Match[str]) -> str:
        self.found.images.append(m.group(0))
        return _CUT

    def _md_link(self, m: re.Match[str]) -> str:
        if self._known(m.group(2)):
            return m.group(0)
        self.found.links.append(m.group(2))
        return m.group(1)

    def _html_link(self, m: re.Match[str]) -> str:
        unknown = [link for link in links(f" {m.group(0)}") if not self._known(link)]
        self.found.links += unknown
        return m.group(1) if unknown else m.group(0)

    def _known(self, link: str) -> bool:
        """Whether a link is in the staged diff (without its scheme, in any case)."""
        core = re.sub(r"(?i)^(?:(?:https?|ftp):)?//", "", link.strip()).lower()
        return bool(core) and core in self.diff

    def _closing(self, m: re.Match[str]) -> str:
        refs = _ONE_REF.findall(m.group("refs"))
        nums = [_LOCAL_REF.match(r) for r in refs]
        kept = [r for r, n in zip(refs, nums, strict=True) if n and int(n.group(1)) in self.issues]
        if refs and len(kept) == len(refs):
            return m.group(0)
        self.found.closing.append(" ".join(m.group(0).replace(_CUT, " ").split()))
        if not kept:
            return _CUT
        keyword = re.match(_KEYWORD, m.group(0), re.IGNORECASE)
        assert keyword is not None  # CLOSING starts with one
        return f"{keyword.group(0)} {', '.join(kept)}"

    def _inert_mentions(self, text: str, edges: bool = False) -> str:
        """Each @login outside a code span in backticks (with the path or name it is part of:
        `@types/node`, `@pytest.fixture`): GitHub pings nobody from a code span. With `edges`,
        one at the text's start or end loses its @ instead."""
        spans = [m.span() for m in CODE_SPAN.finditer(text)]
        out, at = [], 0
        for m in MENTION.finditer(text):
            if m.start() < at or any(a <= m.start() < b for a, b in spans):
                continue
            start, end = _token(text, m.start())
            if any(a < end and start < b for a, b in spans):
                continue
            self.found.mentions.append(m.group(1))
            word = text[start:end]
            if edges and not (text[:start].strip() and text[end:].strip()):
                inert = word[: m.start() - start] + word[m.start() - start + 1 :]
            else:
                inert = f"`{word}`"
            out += [text[at:start], inert]
            at = end
        return "".join(out) + text[at:]


def _token(text: str, at: int) -> tuple[int, int]:
    """The word an @ at `at` is part of: its run of non-space characters, without the brackets,
    quotes and punctuation around it."""
    start, end = at, at
    while start > 0 and not text[start - 1].isspace() and text[start - 1] not in "`([{<\"'":
        start -= 1
    while end < len(text) and not text[end].isspace() and text[end] != "`":
        end += 1
    while end > at + 1 and text[end - 1] in ".,;:!?)]}>\"'":
        end -= 1
    return start, end


def _mended(line: str) -> str | None:
    """A line a cut reached from the one before: tidied, its indent kept (a list item's)."""
    text = line.lstrip(" \t")
    tidy = _tidy(text, text.replace(_CUT, ""))
    return None if tidy is None else line[: len(line) - len(text)] + tidy


def _tidy(new: str, old: str) -> str | None:
    """A sentence something was taken out of (_CUT marks where): the words left hanging before
    each cut dropped (`details at`, `, and`), and a connective after one that starts the sentence
    (`and adds tests`); its spacing mended, its end kept. None when nothing that says anything is
    left."""
    text = _EMPTY_BRACKETS.sub(_bracket, new).replace(_CUT, f" {_CUT} ")
    words: list[str] = []
    cut = False
    for word in text.split():
        if word == _CUT:
            while words and _bare(words[-1]) in _DANGLING | {""}:
                words.pop()
            cut = True
        elif not (cut and not words and _bare(word) in {"", "and", "also", "or", "which"}):
            words.append(word)
            cut = False
    text = re.sub(r"\s+([,.;:!?)])", r"\1", " ".join(words)).strip(_SEPARATORS)
    text = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text)
    if not any(re.search(r"\w", w) and _bare(w) not in _DANGLING for w in words):
        return None
    end = old.rstrip()[-1:]
    if end in ".!?" and not text.endswith(end):
        text = text.rstrip(".!?") + end
    if old.strip()[:1].isupper():
        text = text[:1].upper() + text[1:]
    return text


def _bracket(m: re.Match[str]) -> str:
    """A bracket a cut left empty, or with only hanging words (`(see )`), a cut itself."""
    inside = m.group(1) if m.group(1) is not None else m.group(2)
    if _CUT not in inside or any(_bare(w) not in _DANGLING for w in inside.split(_CUT)[0].split()):
        return m.group(0)
    rest = inside.replace(_CUT, " ").split()
    return _CUT if all(_bare(w) in _DANGLING for w in rest) else m.group(0)


def _bare(word: str) -> str:
    return word.strip(_SEPARATORS + ".!?").lower()
