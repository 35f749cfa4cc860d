"""The body formatter: lists stay lists, and no wrapped line starts with `#` (git would drop it)."""

from __future__ import annotations

import subprocess

from hypothesis import given
from hypothesis import strategies as st

from bot.commits.message import BODY_WIDTH, CommitDraft, compose
from bot.commits.style import learn

CC = learn([("feat(cart): add totals", ["src/shop/cart.py"])])
WORDS = ["as", "reported", "in", "#123", "and", "#4.", "(#56)", "x" * 30, "the-fix", "#"]


def body_of(body: str) -> str:
    message, _ = compose(CommitDraft(type="fix", subject="fix it", body=body), CC, "fix", None)
    return message.split("\n\n", 1)[1]


def committed(message: str) -> str:
    """What `git commit` keeps of a message it opened in the editor (comments stripped)."""
    done = subprocess.run(
        ["git", "stripspace", "--strip-comments"],
        input=message, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout


def test_bullets_after_prose_stay_bullets() -> None:
    assert body_of("Changes:\n- a\n- b") == "Changes:\n- a\n- b\n"
    long = "- " + "word " * 20 + "\n  more of it\n2. next\nThat is all."
    assert body_of(long) == (
        "- word word word word word word word word word word word word word word\n"
        "  word word word word word word more of it\n2. next\nThat is all.\n"
    )


def test_no_wrapped_line_is_lost_as_a_git_comment() -> None:
    for n in range(1, 90):
        message, _ = compose(
            CommitDraft(
                type="fix",
                subject="fix the parser",
                body=f"{'x' * n} This fixes the crash on empty input, as reported in\n#123 and #456.",
            ),
            CC,
            "fix",
            None,
        )
        assert committed(message) == message, message
    assert committed(body_of("#12 was the report")) == " #12 was the report\n"
    run = f"{'x' * 30} #123 reported #4. as reported reported # #4. reported"  # a run of #s
    assert committed(body_of(run)) == body_of(run)


@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=60))
def test_wrapping_keeps_every_word_and_starts_no_line_with_a_hash(words: list[str]) -> None:
    body = body_of(" ".join(words))
    assert body.split() == words
    assert not any(line.startswith("#") for line in body.splitlines())
    assert all(len(line) <= BODY_WIDTH for line in body.splitlines())  # words of 30 at most
