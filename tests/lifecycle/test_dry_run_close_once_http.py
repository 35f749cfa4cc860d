"""A dry-run previews the close once: the would-be close is decided (and audited) on the day it
is due, without the pre-close re-read (nothing will be written), and an issue unchanged since is
not decided again on the next daily sweeps (no reads, no second would-be close)."""

from __future__ import annotations

from pathlib import Path

from bot.sandbox.fake_github.server import FakeGitHubServer
from tests.lifecycle.http_world import CLOSE_ON, DAY, REPO, asked, bot_bodies, sweep, world


def test_a_dry_run_previews_the_close_once(fake_github: FakeGitHubServer, tmp_path: Path) -> None:
    st, ctx = world(fake_github, tmp_path, "dry_run: true\n" + CLOSE_ON)
    number = asked(st, st.now() - 8 * DAY)
    sweep(ctx)  # would-be ping
    st.advance(8 * DAY)
    before = len(st.requests("GET"))
    res = sweep(ctx)  # would-be close: the thread read once, not again before the close
    assert res.counts["reads"] == 2, res.counts
    for _ in range(5):  # five more daily dry-run sweeps, nothing on the issue changed
        st.advance(DAY)
        sweep(ctx)
    rows = [r for r in ctx.store.audit_rows(REPO, number, limit=1000) if r["outcome"] == "dry-run"]
    closes = [r for r in rows if r["action"] == "close"]
    reads = [e for e in st.requests("GET")[before:] if f"/issues/{number}/" in e.path]
    assert (len(closes), len(reads)) == (1, 2), ([r["reason"] for r in rows], len(reads))
    assert (bot_bodies(st, number), st.issue(REPO, number).state) == ([], "open")
