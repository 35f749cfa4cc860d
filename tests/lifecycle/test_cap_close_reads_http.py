"""A close the operation cap would refuse is not read again first: the pre-close re-read (the
issue, its comments and timeline) is made only for a close the budget would admit, so once a cap
has 1 write left the other close-due issues cost their 2 reads, not 5, and are refused."""

from __future__ import annotations

from pathlib import Path

from bot.sandbox.fake_github.server import FakeGitHubServer
from tests.lifecycle.http_world import CLOSE_ON, DAY, REPO, asked, reasons, sweep, world


def test_a_close_the_cap_refuses_is_not_read_again(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path, CLOSE_ON + "  max_operations_per_run: 100\n")
    numbers = [asked(st, st.now() - 8 * DAY) for _ in range(12)]
    sweep(ctx)  # 12 pings
    st.advance(8 * DAY)
    # the repository's cap now 3: one close (2 writes) fits, then 1 write is left
    st.put_file(REPO, ".github/smolbot.yml", CLOSE_ON + "  max_operations_per_run: 3\n")
    before = len(st.requests("GET"))
    res = sweep(ctx)
    closed = [n for n in numbers if st.issue(REPO, n).state == "closed"]
    assert len(closed) == 1, res.counts
    reads = [e for e in st.requests("GET")[before:] if f"/repos/{REPO}/issues/" in e.path]
    # 12 issues read once (comments, timeline), the one close read again (issue, comments,
    # timeline) and its comments once more right before its note is posted
    assert (len(reads), res.counts["reads"]) == (12 * 2 + 3 + 1, 12 * 2 + 3), res.counts
    refused = [n for n in numbers if n not in closed]
    assert all(any("operation cap reached" in r for r in reasons(ctx, n)) for n in refused), (
        reasons(ctx, refused[0])
    )
