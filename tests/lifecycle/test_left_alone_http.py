"""Issues the sweep leaves alone, over HTTP against the fake GitHub: labels in any script
(only_labels, exempt_labels)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.labels import canon
from bot.sandbox.fake_github.server import FakeGitHubServer
from tests.lifecycle.http_world import CLOSE_ON, DAY, REPO, asked, bot_bodies, reasons, sweep, world


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("バグ", "質問", False),
        ("バグ", "バグ", True),
        ("🐛", "✨", False),
        ("🐛", "🐛", True),
        ("🐛 bug", "bug", True),
        ("Help-Wanted", "help wanted", True),
        ("ＢＵＧ", "bug", True),
        ("Übersetzung", "übersetzung", True),
    ],
)
def test_labels_compare_by_their_letters_in_any_script(a: str, b: str, same: bool) -> None:
    assert (canon(a) == canon(b)) is same


def test_only_labels_with_a_non_ascii_label_sweeps_only_that_label(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """`only_labels: [バグ]`: an issue labelled 質問 is not swept (canon() once made every
    non-ASCII label "", so it was pinged and closed); one labelled バグ is."""
    st, ctx = world(fake_github, tmp_path, CLOSE_ON + '  only_labels: ["バグ"]\n')
    t0 = st.now() - 8 * DAY
    question = asked(st, t0, labels=["質問"])
    bug = asked(st, t0, labels=["バグ"])
    sweep(ctx)
    st.advance(8 * DAY)
    sweep(ctx)
    assert st.issue(REPO, question).state == "open" and bot_bodies(st, question) == []
    assert any("only_labels" in r for r in reasons(ctx, question))
    assert st.issue(REPO, bug).state == "closed"


def test_an_emoji_exempt_label_exempts_only_itself(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path, CLOSE_ON + '  exempt_labels: ["🔒"]\n')
    t0 = st.now() - 8 * DAY
    locked = asked(st, t0, labels=["🔒"])
    sparkle = asked(st, t0, labels=["✨"])
    sweep(ctx)
    assert bot_bodies(st, locked) == [] and "exempt: label 🔒" in reasons(ctx, locked)
    assert len(bot_bodies(st, sparkle)) == 1
