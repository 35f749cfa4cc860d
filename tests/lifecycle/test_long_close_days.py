"""A ping reads back the close it announced whatever the number of days: a marker or text saying
10000 days (four digits were read before) is no longer taken for a ping that announced nothing,
which re-pinged the author every days_until_ping for ever."""

from __future__ import annotations

import pytest

from bot.core.lifecycle import CLOSE_NOTE, Thread, ping_marker, pings_in, read_ping_marker
from bot.core.markers import with_marker
from tests.lifecycle.fakes import BOT, comment, day, issue


@pytest.mark.parametrize("days", [7, 3650, 10000, 1_000_000, 123456789])
def test_a_ping_marker_reads_back_its_close(days: int) -> None:
    assert read_ping_marker(ping_marker(day(8), "author", days)) == ("author", days)


@pytest.mark.parametrize("days", [7, 10000])
def test_an_older_ping_s_words_read_back_its_close(days: int) -> None:
    """A ping from before markers named the party (lifecycle:ping:<date>) says it in words."""
    body = "Hi @alice, this issue is waiting for your reply." + CLOSE_NOTE.format(days=days)
    ping = comment(2, BOT, with_marker(body, "lifecycle:ping:2026-01-09"), 8, kind="Bot")
    (got,) = pings_in(Thread(issue(), (ping,)), BOT)
    assert (got.party, got.close_days) == ("author", days)
