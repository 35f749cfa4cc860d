"""The digest's re-review (dg2): numbers written differently, stored decisions, unread waits,
windows after a change of the slot, old dry-run previews."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.config import parse_config
from bot.core.digest import render_html, render_markdown, week_slot
from bot.core.lifecycle import decide
from bot.core.ranking import Thread
from bot.jobs import digest as digest_job
from bot.jobs.digest import build_digest, line_problems, post_weekly_digest
from bot.jobs.lifecycle import load_thread, save_state, unchanged_until
from bot.ports import CommentData
from bot.samples.host import SampleHost
from bot.store import Store
from tests.digest.sample_data import BOT, NOW, REPO, comment, data, issue


def _numbers_thread() -> tuple[Thread, str]:
    t = Thread(
        7, "Crash on save in 3.2.0", "open", "ann", NOW, url=f"https://github.com/{REPO}/issues/7"
    )
    return t, "Since v3.2.0 saving crashes on macOS 14.1. About 1,000 of our users hit it."


def test_a_line_may_write_a_version_shorter_or_a_count_without_its_comma() -> None:
    t, body = _numbers_thread()
    for line in (
        "Saving crashes since version 3.2",
        "Saving crashes on macOS 14",
        "About 1000 users hit a crash when saving",
        "About 1,000 users hit a crash when saving",
    ):
        assert list(line_problems(line, t, body)) == [], line


def test_a_number_the_thread_does_not_write_is_still_refused() -> None:
    t, body = _numbers_thread()
    for line, n in (
        ("Saving crashes since version 3.3", "3.3"),
        ("Saving crashes since version 3.2.1", "3.2.1"),
        ("About 100 users hit a crash when saving", "100"),
        ("Saving crashes on macOS 1", "1"),
    ):
        problems = list(line_problems(line, t, body))
        assert any(f"invented number: {n} " in p for p in problems), (line, problems)


# --- a stored decision is the issue's wait only when taken on the thread as it is now ----------
def _asked(answered: datetime | None) -> dict:
    """mona asked on #1; ann answered at `answered` (None: not yet)."""
    asked = NOW - timedelta(days=40)
    said = [comment(1, "mona", "Which version do you run?", asked, "OWNER")]
    if answered is not None:
        said.append(comment(2, "ann", "2.3.1, on Linux", answered, "NONE"))
    return data(
        [issue(1, "Upload fails", "ann", NOW - timedelta(days=20), comments=len(said),
               updated=answered or asked)],
        {"1": said},
    )  # fmt: skip


def test_a_decision_saved_after_a_reply_it_never_read_is_not_the_digest_s_wait(
    store: Store,
) -> None:
    """The sweep read #1 (a question, no answer); ann answered; the decision was saved 30 s
    later (the sweep's writes, its pacing, a clock ahead of GitHub's). The lifecycle decides
    again; the digest reads the answer too: #1 waits on a maintainer."""
    answered = NOW - timedelta(hours=1)
    cfg = parse_config("")
    read = load_thread(SampleHost(_asked(None)), 1)
    save_state(store, read.issue, cfg, decide(read, cfg, NOW, BOT), acted=False)
    store.db.execute("update lifecycle_state set decided_at = ?", [answered.timestamp() + 30])
    host = SampleHost(_asked(answered))
    assert unchanged_until(store, host.issue(1), cfg) is None  # the lifecycle looks again
    dg = build_digest(host, store, REPO, cfg, NOW, bot_login=BOT)
    assert [i.number for i in dg.waiting] == [1], [(i.number, i.waiting_on) for i in dg.top]


class _Counting(SampleHost):
    def __init__(self, d: dict) -> None:
        super().__init__(d)
        self.read: list[int] = []

    def comments(self, number: int) -> list[CommentData]:
        self.read.append(number)
        return super().comments(number)


def test_a_decision_on_the_thread_as_it_is_is_trusted_whatever_the_clocks_say(
    store: Store,
) -> None:
    """The lifecycle read #1 as it is now (its updated_at unchanged) and saved its decision by a
    clock behind GitHub's: the digest does not read #1 again, and lists its stored wait."""
    answered = NOW - timedelta(days=30)
    d = _asked(answered)
    d["issues"].append(issue(2, "Recent", "bob", NOW - timedelta(days=1), comments=1))
    d["comments"]["2"] = [comment(3, "bob", "Still there", NOW - timedelta(hours=5))]
    host, cfg = _Counting(d), parse_config("")
    read = load_thread(SampleHost(d), 1)
    save_state(store, read.issue, cfg, decide(read, cfg, NOW, BOT), acted=False)
    store.db.execute("update lifecycle_state set decided_at = ?", [answered.timestamp() - 60])
    dg = build_digest(host, store, REPO, cfg, NOW, bot_login=BOT, detail_limit=1)
    assert host.read == [2]
    assert [i.number for i in dg.waiting] == [1, 2]


# --- a busy repository: the waits the digest did not read are said, and the reads capped -----
def _answered_questions(count: int) -> SampleHost:
    """`count` issues whose authors answered a maintainer's question (they wait on a
    maintainer); the lifecycle is off."""
    issues, comments = [], {}
    for n in range(1, count + 1):
        answered = NOW - timedelta(days=10 * n)
        issues.append(issue(n, f"Bug {n}", f"u{n}", NOW - timedelta(days=50 + 10 * n), comments=2,
                            updated=answered))  # fmt: skip
        comments[str(n)] = [
            comment(10 * n, "mona", "Which version?", NOW - timedelta(days=45 + 10 * n), "OWNER"),
            comment(10 * n + 1, f"u{n}", "2.3.1", answered),
        ]
    return _Counting(data(issues, comments, config="lifecycle:\n  enabled: false\n"))


def test_the_waits_a_busy_repository_s_digest_did_not_read_are_said_not_counted(
    store: Store,
) -> None:
    """Four issues wait on a maintainer; the sweep stored 'exempt' for each (lifecycle off).
    Detail limit 1: the digest reads two, counts two, and says two were not read."""
    cfg = parse_config("lifecycle:\n  enabled: false\n")
    host = _answered_questions(4)
    for n in range(1, 5):
        save_state(store, host.issue(n), cfg, None, acted=False)  # what the sweep stores
    dg = build_digest(host, store, REPO, cfg, NOW, bot_login=BOT, detail_limit=1)
    assert (dg.waiting_total, dg.not_read) == (2, 2)
    md = render_markdown(dg)
    waiting = md.split("## Waiting on a maintainer", 1)[1].split("##", 1)[0]
    assert "- 2 open issues not read: their waits are not counted" in waiting, md
    assert "not read" in render_html(dg)


def test_all_read_says_nothing_of_waits_not_read(store: Store) -> None:
    cfg = parse_config("lifecycle:\n  enabled: false\n")
    dg = build_digest(_answered_questions(4), store, REPO, cfg, NOW, bot_login=BOT)
    assert (dg.waiting_total, dg.not_read) == (4, 0)
    assert "not read" not in render_markdown(dg)


def test_the_reads_for_the_longest_waits_are_capped(store: Store, monkeypatch) -> None:
    """Beyond the most recently updated (detail limit), at most WAIT_READS issues are read."""
    monkeypatch.setattr(digest_job, "WAIT_READS", 2)
    host = _answered_questions(10)
    cfg = parse_config("lifecycle:\n  enabled: false\n")
    dg = build_digest(host, store, REPO, cfg, NOW, bot_login=BOT, detail_limit=3)
    assert sorted(host.read) == [1, 2, 3, 9, 10]  # the 3 most recent, the 2 longest waits
    assert (dg.waiting_total, dg.not_read) == (5, 5)


# --- the weekly windows tile across a change of the digest's hour ---------------------------
def test_the_week_after_a_change_of_the_digest_hour_starts_where_the_last_one_ended(
    store: Store,
) -> None:
    first_cfg = parse_config("digest:\n  hour: 8\n")
    then_cfg = parse_config("digest:\n  hour: 20\n")
    s1 = week_slot(datetime(2026, 11, 24, tzinfo=UTC), first_cfg.digest)  # Mon Nov 23 08:00
    s2 = week_slot(datetime(2026, 12, 1, tzinfo=UTC), then_cfg.digest)  # Mon Nov 30 20:00
    gap = datetime(2026, 11, 23, 12, tzinfo=UTC)  # after s1, before s2 - 7 days
    host = SampleHost(data([issue(1, "Opened between", "ann", gap)], now=s2))
    clock = lambda: s2 + timedelta(minutes=5)  # noqa: E731
    first = post_weekly_digest(host, store, REPO, first_cfg, clock, bot_login=BOT, slot=s1)
    second = post_weekly_digest(host, store, REPO, then_cfg, clock, bot_login=BOT, slot=s2)
    assert second.digest.since == first.digest.until
    assert second.digest.counts["opened"] == 1
    again = post_weekly_digest(host, store, REPO, then_cfg, clock, bot_login=BOT, slot=s2)
    assert again.digest.since == first.digest.until  # a rerun: the same window


def test_a_digest_older_than_two_weeks_does_not_stretch_the_window(store: Store) -> None:
    cfg = parse_config("")
    s1 = week_slot(datetime(2026, 11, 10, tzinfo=UTC), cfg.digest)
    s2 = week_slot(datetime(2026, 12, 1, tzinfo=UTC), cfg.digest)
    host = SampleHost(data([issue(1, "Bug", "ann", s2 - timedelta(days=1))], now=s2))
    clock = lambda: s2 + timedelta(minutes=5)  # noqa: E731
    post_weekly_digest(host, store, REPO, cfg, clock, bot_login=BOT, slot=s1)
    later = post_weekly_digest(host, store, REPO, cfg, clock, bot_login=BOT, slot=s2)
    assert later.digest.since == (s2 - timedelta(days=7)).astimezone(UTC).isoformat()
