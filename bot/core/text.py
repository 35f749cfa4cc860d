"""What a reader does not see in text: shared by the prompt fences (bot.llm.prompts), the checks
of what the bot posts (bot.core.checks) and the summary's entry headers (bot.core.summary)."""

from __future__ import annotations

import unicodedata

# Default_Ignorable_Code_Point (Unicode DerivedCoreProperties) that are not format (Cf)
# characters: invisible, and skipped by a reader as a zero-width space is: the combining grapheme
# joiner, Hangul fillers, Khmer inherent vowels, variation selectors, and the unassigned rest.
_IGNORABLE_NOT_CF = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x2065, 0x2065),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)


def invisible(c: str) -> bool:
    """Whether a reader skips `c` as invisible: a format (zero-width space, joiner, soft hyphen)
    or other default-ignorable character (a variation selector, the grapheme joiner)."""
    if unicodedata.category(c) == "Cf":
        return True
    n = ord(c)
    return n >= 0x034F and any(lo <= n <= hi for lo, hi in _IGNORABLE_NOT_CF)
