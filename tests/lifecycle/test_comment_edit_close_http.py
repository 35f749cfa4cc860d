"""The bot's own comment edit after the ping (its summary) does not hold the close, though GitHub
bumps the issue's updated_at for it. The close is withheld when the issue's title or description
is not what the ping saw (its marker holds their hash; a ping without the hash, an older one,
withholds nothing), or when a person edited a comment after the ping (its updated_at:
test_comment_edit_after_ping_http.py)."""

from __future__ import annotations

from pathlib import Path

from bot.core.lifecycle import PING_MARK
from bot.core.markers import markers_in, with_marker
from bot.sandbox.fake_github.server import FakeGitHubServer
from tests.lifecycle.http_world import DAY, INST, REPO, asked, bot_bodies, reasons, sweep, world


def test_the_bots_own_summary_edit_does_not_hold_the_close(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    number = asked(st, st.now() - 9 * DAY)
    summary = st.add_comment(
        REPO,
        number,
        with_marker("**Summary**: crash, version asked.", "summary"),
        user="smolbot[bot]",
        user_type="Bot",
        created_at=st.now() - 8 * DAY,
    )
    sweep(ctx)  # the ping, close announced 7 days on
    assert any("@alice" in b for b in bot_bodies(st, number))
    st.advance(2 * DAY)
    st.add_comment(REPO, number, "/smolbot summarize", user="mia")  # a command: no reply
    st.advance(180)  # the local model takes three minutes
    assert ctx.github is not None
    host = ctx.github.repo(INST, REPO)
    before = st.issue(REPO, number).updated_at
    host.edit_comment(summary.id, with_marker("**Summary**: crash; v? asked; pinged.", "summary"))
    assert st.issue(REPO, number).updated_at > before  # the fake bumps it, as GitHub does
    for _ in range(3):
        st.advance(7 * DAY)
        sweep(ctx)
    assert st.issue(REPO, number).state == "closed", reasons(ctx, number)[-3:]


def test_a_ping_of_before_the_hash_withholds_nothing(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    number = asked(st, st.now() - 9 * DAY)
    old = "Hi @alice, this issue is waiting for your reply."
    day = st.now() - 8 * DAY
    mark = f"{PING_MARK}2000-01-01:author:close7"  # as pings were written before the hash
    st.add_comment(REPO, number, with_marker(old, mark), user="smolbot[bot]", user_type="Bot")
    ping = st.comments(REPO, number)[-1]
    ping.created_at = ping.updated_at = day
    st.issue(REPO, number).body = "It crashes. Edited."
    st.issue(REPO, number).updated_at = st.now()
    sweep(ctx)
    assert st.issue(REPO, number).state == "closed", reasons(ctx, number)[-3:]


def test_a_description_edit_after_the_ping_moves_the_wait_to_the_team(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    number = asked(st, st.now() - 8 * DAY)  # mia asked alice "Which version?"
    sweep(ctx)  # the ping to alice; its marker holds the title and description's hash
    (ping,) = bot_bodies(st, number)
    assert any(":text" in m for m in markers_in(ping) if m.startswith(PING_MARK)), ping
    st.advance(2 * DAY)
    issue = st.issue(REPO, number)
    issue.body, issue.updated_at = "It crashes.\n\n**Version:** 2.3.1", st.now()
    st.advance(6 * DAY)
    sweep(ctx)  # the close was due: withheld, and mia is asked to look instead
    assert st.issue(REPO, number).state == "open", reasons(ctx, number)
    pings = bot_bodies(st, number)
    # GitHub makes no event for a description edit: the ping names nobody (nor blames alice)
    assert len(pings) == 2 and pings[-1].startswith(
        "Hi @mia, the issue's description was edited after the reminder of"
    ), pings
    assert any("description was edited after the ping" in r for r in reasons(ctx, number))
    for _ in range(3):
        st.advance(7 * DAY)
        sweep(ctx)
    assert (st.issue(REPO, number).state, len(bot_bodies(st, number))) == ("open", 2)
