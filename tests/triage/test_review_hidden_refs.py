"""check_text read references only in `as_read`'s text, which drops invisible characters and folds
look-alikes: `a\u200b#99` read `a#99` (no reference), yet GitHub sees no word character before
the `#` and links #99. References are read a second way too: invisible characters as separators,
nothing folded."""

from __future__ import annotations

import pytest

from bot.core.checks import check_text

HIDDEN = [
    "a\u200b#99",  # zero-width space
    "a&#8203;#99",  # the same as a character reference
    "x\u00ad#99",  # soft hyphen
    "x\u2060#99",  # word joiner
    "\u00b2#99",  # superscript two: NFKC folds it to a digit
    "\u2460#99",  # circled one: likewise
    "x\u200bGH-99",
    "&\u200b#99",
]


@pytest.mark.parametrize("ref", HIDDEN)
def test_a_reference_after_an_invisible_or_folded_character_is_refused(ref: str) -> None:
    result = check_text(f"Thanks! This looks like {ref}; a maintainer will follow up.")
    assert "invented issue number: #99" in result.problems, result.problems


def test_a_cross_reference_after_an_invisible_character_is_refused() -> None:
    problems = check_text("Thanks! See x\u200bo/r#5.").problems
    assert "invented reference to another repository's issue: o/r#5" in problems, problems


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("Thanks! The abc#99 build fails; a maintainer will look.", True),  # GitHub links none
        ("Thanks! See #7; a maintainer will look.", True),
        ("Thanks! See \uff03\u2077; a maintainer will look.", True),  # folded: #7
        ("Thanks! See \uff0399; a maintainer will look.", False),  # full-width # still read
    ],
)
def test_plain_references_read_as_before(text: str, ok: bool) -> None:
    assert check_text(text, allowed_numbers=(7,)).ok is ok
