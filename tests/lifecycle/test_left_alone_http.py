"""Issues the sweep leaves alone, over HTTP against the fake GitHub: labels in any script
(only_labels, exempt_labels)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.labels import canon
from bot.core.lifecycle import PULL_REQUEST
from bot.sandbox.fake_github.model import iso
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


def test_pull_requests_are_not_swept_and_audited_once_per_change(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """A maintainer asks for a test on a pull request and the contributor pushes it (no comment):
    pushes are no replies, so sweeping it pinged the author and closed the PR as not planned.
    Pull requests are not swept at all; each is audited once, and again only once it changed."""
    st, ctx = world(fake_github, tmp_path)
    t0 = st.now() - 8 * DAY
    pr = st.add_issue(REPO, "Fix crash", "Fixes #0.", user="carl", created_at=t0, is_pr=True)
    st.add_comment(REPO, pr.number, "Could you add a test?", user="mia", created_at=t0 + 0.1 * DAY)
    pushed = iso(t0 + DAY)
    st.add_raw_event(
        REPO,
        pr.number,
        {
            "event": "committed",
            "sha": "a" * 40,
            "message": "Add a test",
            "author": {"name": "carl", "email": "c@x", "date": pushed},
            "committer": {"name": "carl", "email": "c@x", "date": pushed},
        },
    )
    pr.updated_at = t0 + DAY
    issue = asked(st, t0)  # an issue beside it is still swept
    res = sweep(ctx)
    st.advance(8 * DAY)
    sweep(ctx)
    assert st.issue(REPO, pr.number).state == "open" and bot_bodies(st, pr.number) == []
    assert st.issue(REPO, issue).state == "closed"
    assert res.counts["pull_requests"] == 1
    assert reasons(ctx, pr.number) == [PULL_REQUEST]  # two sweeps, one audit row
    st.add_comment(REPO, pr.number, "Done, see the new commit.", user="carl")
    sweep(ctx)
    assert reasons(ctx, pr.number) == [PULL_REQUEST] * 2
    thread_reads = [e for e in st.requests() if f"/issues/{pr.number}/" in e.path]
    assert thread_reads == []  # nothing of the pull request is read beyond the listing


def test_a_pinned_issue_is_left_alone_until_unpinned(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """Pinned on GitHub (the repository's pinned issues; no `pinned` label): the REST issue does
    not say so, so it was pinged and closed. Its last pinned/unpinned timeline event decides."""
    st, ctx = world(fake_github, tmp_path)
    t0 = st.now() - 20 * DAY
    number = asked(st, t0)
    st.add_event(REPO, number, "pinned", "mia")
    st.add_event(REPO, number, "unpinned", "mia")
    st.add_event(REPO, number, "pinned", "mia")  # the last one counts
    st.issue(REPO, number).updated_at = st.now()
    sweep(ctx)
    st.advance(8 * DAY)
    sweep(ctx)
    assert bot_bodies(st, number) == [] and st.issue(REPO, number).state == "open"
    assert set(reasons(ctx, number)) == {"exempt: pinned"}
    st.add_event(REPO, number, "unpinned", "mia")  # updated_at left as it was
    st.advance(DAY)
    sweep(ctx)
    assert len(bot_bodies(st, number)) == 1
