"""Hidden markers in the bot's own comments: state GitHub keeps for us (survives a lost DB)."""

from __future__ import annotations

import re

_MARKER = re.compile(r"<!--\s*smolbot:([a-z0-9_.:-]+)\s*-->")


def marker(name: str) -> str:
    return f"<!-- smolbot:{name} -->"


def with_marker(body: str, name: str) -> str:
    return f"{body.rstrip()}\n\n{marker(name)}\n"


def inert(text: str) -> str:
    """Someone's text quoted in a bot comment, its HTML comments shown as text: GitHub renders
    `&lt;!--` as `<!--`, and no marker (a ping's, a digest's) can be smuggled into the bot's own
    comment, where markers are trusted."""
    return text.replace("<!--", "&lt;!--")


# an @ as GitHub reads it: also its character references (`&#64;`, `&#x40;`, `&commat;`), and
# before a login or a reference that may spell one (`@&#98;ob`)
_MENTION = re.compile(r"(?:@|&(?:#0*64|#[xX]0*40|commat);)(?=[A-Za-z0-9&])")


def quiet(text: str) -> str:
    """Someone's text quoted in a bot comment (a summary, a ping, a digest line): its
    @-mentions, in any spelling, never ping anyone and its HTML comments never speak for the
    bot (inert)."""
    return _MENTION.sub("@\u200b", inert(text))


def markers_in(body: str | None) -> set[str]:
    return set(_MARKER.findall(body or ""))


def without_markers(body: str | None) -> str:
    """The comment's text less its markers (what with_marker added)."""
    return _MARKER.sub("", body or "")
