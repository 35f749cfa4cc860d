"""Re-pings and closes over simulated days, over HTTP against the fake GitHub: which pings count
for which wait, what a ping announced, a close retried."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from bot.core.lifecycle import read_ping_marker
from bot.core.markers import markers_in, with_marker
from bot.jobs.lifecycle import recorded_pings
from bot.ports import Unavailable
from bot.sandbox.fake_github.model import iso
from bot.sandbox.fake_github.server import FakeGitHubServer
from bot.store import Store
from tests.lifecycle.http_world import (
    CLOSE_OFF,
    CLOSE_ON,
    DAY,
    REPO,
    asked,
    bot_bodies,
    patch_host,
    reasons,
    sweep,
    world,
)

BOT = "smolbot[bot]"


def ping_mark(body: str) -> str:
    (mark,) = [m for m in markers_in(body) if m.startswith("lifecycle:ping:")]
    return mark


def old_ping(st: Any, number: int, body: str, at: float) -> None:
    """A ping as the bot wrote it before its marker named whom it pinged."""
    marked = with_marker(body, f"lifecycle:ping:{iso(at)[:10]}")
    st.add_comment(REPO, number, marked, user=BOT, user_type="Bot", created_at=at)


def test_an_author_answer_racing_the_ping_still_gets_the_maintainer_pinged(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """alice answers after the sweep read the thread and before its ping to her is posted: that
    ping counted as "already pinged" for the wait on mia that follows, so mia never was."""
    st, ctx = world(fake_github, tmp_path)
    number = asked(st, st.now() - 8 * DAY)

    def race(name: str, host: Any) -> None:
        post = host.create_comment

        def create_comment(n: int, body: str) -> int:  # her answer lands a second before
            st.add_comment(REPO, n, "v2.3, sorry", user="alice", created_at=st.now() - 1)
            host.create_comment = post
            return int(post(n, body))

        host.create_comment = create_comment

    patch_host(ctx, race)
    sweep(ctx)
    (ping,) = bot_bodies(st, number)
    assert "@alice" in ping and ":author" in ping_mark(ping)
    st.advance(8 * DAY)  # it has waited on mia for 8 days
    sweep(ctx)
    bodies = bot_bodies(st, number)
    assert len(bodies) == 2 and bodies[1].startswith("Hi @mia, alice answered on "), reasons(
        ctx, number
    )
    assert ping_mark(bodies[1]).endswith(":maintainer")


def test_old_ping_markers_count_for_whom_their_words_pinged(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """Pings of before (lifecycle:ping:<date>, no party): the words say whom they pinged. An old
    ping to the author does not count for the wait on a maintainer; an old ping to the
    maintainer does."""
    st, ctx = world(fake_github, tmp_path)
    t0 = st.now() - 20 * DAY
    to_author = asked(st, t0)
    old_ping(st, to_author, "Hi @alice, this issue is waiting for your reply.", t0 + 8 * DAY)
    st.add_comment(REPO, to_author, "Sorry: 2.3", user="alice", created_at=t0 + 8 * DAY - 1)
    to_team = asked(st, t0)
    st.add_comment(REPO, to_team, "Sorry: 2.3", user="alice", created_at=t0 + DAY)
    team_words = "Hi @mia, alice answered on x and this issue is waiting for a maintainer's reply."
    old_ping(st, to_team, team_words, t0 + 9 * DAY)
    sweep(ctx)
    assert len(bot_bodies(st, to_author)) == 2  # mia pinged now
    assert bot_bodies(st, to_author)[1].startswith("Hi @mia")
    assert len(bot_bodies(st, to_team)) == 1  # mia was pinged already


def test_turning_closing_on_pings_with_the_close_announced_before_closing(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """Closing off, the bot pings (no word of closing); a month later the maintainer opts in:
    the next sweep closed at once. Now it pings again, saying so, and closes a week later."""
    st, ctx = world(fake_github, tmp_path, CLOSE_OFF)
    number = asked(st, st.now() - 8 * DAY)
    sweep(ctx)
    (ping,) = bot_bodies(st, number)
    assert "close" not in ping.lower() and ":close" not in ping_mark(ping)
    st.advance(30 * DAY)
    st.put_file(REPO, ".github/smolbot.yml", CLOSE_ON)
    sweep(ctx)
    assert st.issue(REPO, number).state == "open"
    warned = bot_bodies(st, number)[1]
    assert "I will close it" in warned and read_ping_marker(ping_mark(warned)) == ("author", 7)
    st.advance(6 * DAY)
    sweep(ctx)
    assert st.issue(REPO, number).state == "open"
    st.advance(1.5 * DAY)
    sweep(ctx)
    assert st.issue(REPO, number).state == "closed"


def test_a_shorter_days_until_close_after_the_ping_does_not_close_sooner(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path, CLOSE_ON.replace("close: 7", "close: 14"))
    number = asked(st, st.now() - 8 * DAY)
    sweep(ctx)
    (ping,) = bot_bodies(st, number)
    assert "within 14 days" in ping and read_ping_marker(ping_mark(ping))[1] == 14
    st.put_file(REPO, ".github/smolbot.yml", CLOSE_ON)  # 7 days now
    st.advance(8 * DAY)
    sweep(ctx)
    assert st.issue(REPO, number).state == "open" and len(bot_bodies(st, number)) == 1
    assert any("close due" in r for r in reasons(ctx, number))
    st.advance(6.5 * DAY)
    sweep(ctx)
    assert st.issue(REPO, number).state == "closed"
    assert "for 14 days after the reminder" in bot_bodies(st, number)[1]


def test_old_pings_announced_a_close_only_if_their_words_did(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """An older ping (lifecycle:ping:<date>) said "I will close it" when closing was on: it closes
    on time; one that did not say so gets a ping that does first."""
    st, ctx = world(fake_github, tmp_path)
    t0 = st.now() - 20 * DAY
    warned, unwarned = asked(st, t0), asked(st, t0)
    words = "Hi @alice, this issue is waiting for your reply."
    close = " If there is no answer within 7 days, I will close it; it can be reopened any time."
    old_ping(st, warned, words + close, t0 + 10 * DAY)
    old_ping(st, unwarned, words, t0 + 10 * DAY)
    sweep(ctx)
    assert st.issue(REPO, warned).state == "closed"
    assert st.issue(REPO, unwarned).state == "open"
    assert "I will close it" in bot_bodies(st, unwarned)[1]


def test_a_close_that_failed_after_its_note_is_retried_without_a_second_note(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """The closing note is posted, then GitHub refuses the close (a 502 past the job's retries):
    the next day's sweep closes it without posting a second note (its marker carried the date,
    so the new day's marker did not match the note already there)."""
    st, ctx = world(fake_github, tmp_path)
    number = asked(st, st.now() - 8 * DAY)
    sweep(ctx)  # the ping
    st.advance(8 * DAY)
    down = {"on": True}

    def flaky(name: str, host: Any) -> None:
        close = host.close

        def flaky_close(n: int, reason: str) -> None:
            if down["on"]:
                raise Unavailable("GitHub answered 502; retry later")
            close(n, reason)

        host.close = flaky_close

    patch_host(ctx, flaky)
    with contextlib.suppress(Unavailable):
        sweep(ctx)
    assert st.issue(REPO, number).state == "open" and len(bot_bodies(st, number)) == 2
    down["on"] = False
    st.advance(DAY)
    sweep(ctx)
    notes = [b for b in bot_bodies(st, number) if "Closing as not planned" in b]
    assert st.issue(REPO, number).state == "closed" and len(notes) == 1
    assert any("the closing note was posted on" in r for r in reasons(ctx, number))


def test_a_reopened_issue_closed_again_gets_a_new_note(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    number = asked(st, st.now() - 8 * DAY)
    sweep(ctx)
    st.advance(8 * DAY)
    sweep(ctx)
    assert st.issue(REPO, number).state == "closed"
    st.issue(REPO, number).state = "open"
    st.add_event(REPO, number, "reopened", "alice")
    st.add_comment(REPO, number, "Still broken on 2.4, what now?", user="alice")
    st.advance(60)
    st.add_comment(REPO, number, "Can you attach the log?", user="mia")
    st.advance(8 * DAY)
    sweep(ctx)  # a new ping
    st.advance(8 * DAY)
    sweep(ctx)
    notes = [b for b in bot_bodies(st, number) if "Closing as not planned" in b]
    assert st.issue(REPO, number).state == "closed" and len(notes) == 2


def delete_comment(st: Any, cid: int) -> None:
    """As a maintainer deleting a comment on GitHub."""
    r = st.repos[REPO]
    c = r.comments.pop(cid)
    r.issues[c.number].comment_ids.remove(cid)


def test_a_ping_the_maintainer_deleted_is_not_sent_again_in_that_wait(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """The pings were read only from the thread's markers: a ping a maintainer deleted was sent
    again the next day. The store records each ping; a deleted one still counts (no second ping,
    no close), and a new wait gets its own ping."""
    st, ctx = world(fake_github, tmp_path)
    number = asked(st, st.now() - 8 * DAY)
    sweep(ctx)
    (ping,) = [c for c in st.comments(REPO, number) if c.user_type == "Bot"]
    delete_comment(st, ping.id)
    for _ in range(3):  # the next day, and past the close it had announced
        st.advance(5 * DAY)
        sweep(ctx)
    assert bot_bodies(st, number) == [] and st.issue(REPO, number).state == "open"
    assert any("was deleted from the thread" in r for r in reasons(ctx, number))
    st.add_comment(REPO, number, "v2.3", user="alice")
    st.advance(60)
    st.add_comment(REPO, number, "And the OS?", user="mia")
    st.advance(8 * DAY)
    sweep(ctx)
    assert len(bot_bodies(st, number)) == 1  # a new wait: pinged


def test_a_dry_run_records_no_ping(fake_github: FakeGitHubServer, tmp_path: Path) -> None:
    st, ctx = world(fake_github, tmp_path, "dry_run: true\n" + CLOSE_ON)
    number = asked(st, st.now() - 8 * DAY)
    sweep(ctx)
    st.put_file(REPO, ".github/smolbot.yml", CLOSE_ON)
    st.advance(DAY)
    sweep(ctx)
    assert len(bot_bodies(st, number)) == 1


def test_recorded_pings_follow_a_rename(any_store: Store) -> None:
    """On SQLite and PostgreSQL: the table, and a rename or transfer carries its rows."""
    row = {"repo": "octo/old", "number": 3, "marker": "lifecycle:ping:2026-01-02:author:close7"}
    any_store.db.table("lifecycle_pings").insert({**row, "at": "2026-01-02T08:00:00+00:00"})
    any_store.rename_repository("octo/old", "octo/new")
    (ping,) = recorded_pings(any_store, "octo/new", 3)
    assert (ping.party, ping.close_days, ping.at.day) == ("author", 7, 2)
    assert recorded_pings(any_store, "octo/old", 3) == []
