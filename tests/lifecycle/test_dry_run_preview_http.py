"""Dry-run is a faithful preview: the ping it would post is remembered as simulated, so daily
dry-run sweeps audit one would-be ping and then the would-be close a week later. Once dry-run is
off the simulated ping does not count: a real ping comes before any real close."""

from __future__ import annotations

from pathlib import Path

from bot.sandbox.fake_github.server import FakeGitHubServer
from tests.lifecycle.http_world import CLOSE_ON, DAY, REPO, asked, bot_bodies, reasons, sweep, world


def test_a_dry_run_previews_one_ping_then_the_close(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path, "dry_run: true\n" + CLOSE_ON)
    number = asked(st, st.now() - 8 * DAY)
    for _ in range(21):  # three weeks of daily sweeps
        sweep(ctx)
        st.advance(DAY)
    rows = [r for r in ctx.store.audit_rows(REPO, number, limit=1000) if r["outcome"] == "dry-run"]
    would_ping = [r for r in rows if r["reason"].startswith("waiting on author")]
    would_close = [r for r in rows if "no answer from the author" in r["reason"]]
    assert (len(would_ping), len(would_close) > 0) == (1, True), [r["reason"] for r in rows]
    assert (bot_bodies(st, number), st.issue(REPO, number).state) == ([], "open")
    # dry-run off: the simulated ping does not count; the author is pinged for real first
    st.put_file(REPO, ".github/smolbot.yml", CLOSE_ON)
    sweep(ctx)
    assert (len(bot_bodies(st, number)), st.issue(REPO, number).state) == (1, "open"), reasons(
        ctx, number
    )
    st.advance(8 * DAY)
    sweep(ctx)
    assert st.issue(REPO, number).state == "closed", reasons(ctx, number)
