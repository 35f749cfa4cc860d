"""The digest's waits are the lifecycle's: who an issue waits on, edits after a ping, the team
from the store's roles, what the lifecycle left for the digest, and the longest waits in a busy
repository."""

from __future__ import annotations

from datetime import timedelta

from bot.core.config import parse_config
from bot.core.digest import render_markdown
from bot.core.lifecycle import Team, decide, described_as, ping_marker
from bot.core.markers import marker
from bot.jobs.digest import build_digest
from bot.jobs.lifecycle import load_thread, save_roles, save_state
from bot.samples.host import SampleHost
from bot.store import Store
from tests.digest.sample_data import BOT, NOW, REPO, comment, data, issue, z


def _edited_after_ping(number: int, with_question: bool) -> dict:
    """needs-info, a ping to the author (close announced) that saw another description; the
    author edited the answer in since."""
    asked, pinged = NOW - timedelta(days=40), NOW - timedelta(days=20)
    old = described_as("Crash on start", "It crashes.")
    ping = f"@ann is waiting for your reply\n\n{marker(ping_marker(pinged, 'author', 7, old))}"
    said = [comment(3, "mona", "Can you share the log?", asked, "OWNER")] if with_question else []
    return data(
        [issue(number, "Crash on start", "ann", NOW - timedelta(days=50), comments=len(said) + 1,
               labels=["needs-info"], body="It crashes. Log: attached, v1.2", updated=pinged)],
        {str(number): [*said, comment(4, BOT, ping, pinged, "NONE", "Bot")]},
        {str(number): [{"id": 1, "event": "labeled", "actor": {"login": "mona", "type": "User"},
                        "created_at": z(asked), "label": {"name": "needs-info"}}]},
        config="lifecycle:\n  close: true\n",
    )  # fmt: skip


def test_a_close_held_because_the_description_was_edited_is_listed_for_a_maintainer(
    store: Store,
) -> None:
    d = _edited_after_ping(3, with_question=True)
    host, cfg = SampleHost(d), parse_config(d["config"])
    lc = decide(load_thread(host, 3), cfg, NOW, BOT)
    assert lc.waiting is not None and lc.waiting.on == "maintainer", lc
    dg = build_digest(host, store, REPO, cfg, NOW, bot_login=BOT)
    assert [i.number for i in dg.waiting] == [3], [(i.number, i.waiting_on) for i in dg.top]
    assert not any("waiting on the author" in w for w in dg.top[0].why)


def test_a_needs_info_issue_without_a_question_whose_close_is_held_is_in_the_digest(
    store: Store,
) -> None:
    """No question comment: the lifecycle finds no one to ping and says 'left for the digest'."""
    d = _edited_after_ping(4, with_question=False)
    host, cfg = SampleHost(d), parse_config(d["config"])
    lc = decide(load_thread(host, 4), cfg, NOW, BOT)
    assert "left for the digest" in lc.actions[-1].reason, lc
    md = render_markdown(build_digest(host, store, REPO, cfg, NOW, bot_login=BOT))
    waiting = md.split("## Waiting on a maintainer", 1)[1].split("##", 1)[0]
    assert "#4 " in waiting, md
    assert "waiting on the author" not in md


def test_the_lifecycle_s_stored_decision_is_the_wait_of_an_issue_not_read_again(
    store: Store,
) -> None:
    """Details not read (limit 0): the lifecycle's stored decision, newer than the issue's last
    update, says who it waits on."""
    d = _edited_after_ping(3, with_question=True)
    host, cfg = SampleHost(d), parse_config(d["config"])
    thread = load_thread(host, 3)
    save_state(store, thread.issue, cfg, decide(thread, cfg, NOW, BOT), acted=False)
    dg = build_digest(host, store, REPO, cfg, NOW, bot_login=BOT, detail_limit=0)
    assert [(i.number, i.waiting_days) for i in dg.waiting] == [(3, 20)]


def _ghost_asked() -> dict:
    """#2's author deleted their account (ghost); a maintainer asked and set needs-info."""
    asked = NOW - timedelta(days=40)
    return data(
        [
            issue(1, "Token leak", "bob", NOW - timedelta(days=3), labels=["security"]),
            issue(2, "Crash on start", "ghost", NOW - timedelta(days=50), comments=1,
                  labels=["needs-info"], updated=asked),
        ],
        {"2": [comment(2, "mona", "Can you share the log?", asked, "OWNER")]},
        {"2": [{"id": 1, "event": "labeled", "actor": {"login": "mona", "type": "User"},
                "created_at": z(asked), "label": {"name": "needs-info"}}]},
        config="digest:\n  top: 1\n",
    )  # fmt: skip


def test_an_issue_the_lifecycle_leaves_for_the_digest_is_in_the_digest(store: Store) -> None:
    """The lifecycle pings no one (@ghost) and says 'left for the digest': it is listed under
    Waiting on a maintainer."""
    d = _ghost_asked()
    host, cfg = SampleHost(d), parse_config(d["config"])
    lc = decide(load_thread(host, 2), cfg, NOW, BOT)
    assert "left for the digest" in lc.actions[-1].reason
    dg = build_digest(host, store, REPO, cfg, NOW, bot_login=BOT)
    assert [(i.number, i.waiting_days) for i in dg.waiting] == [(2, 40)]
    assert "#2 " in render_markdown(dg)


def test_a_stored_wait_on_a_deleted_account_is_in_the_digest(store: Store) -> None:
    d = _ghost_asked()
    host, cfg = SampleHost(d), parse_config(d["config"])
    thread = load_thread(host, 2)
    save_state(store, thread.issue, cfg, decide(thread, cfg, NOW, BOT), acted=False)
    dg = build_digest(host, store, REPO, cfg, NOW, bot_login=BOT, detail_limit=0)
    assert [i.number for i in dg.waiting] == [2]


def test_a_private_org_maintainer_s_question_is_a_wait_on_the_author_in_the_digest_too(
    store: Store,
) -> None:
    """priv can write (a private org member: association CONTRIBUTOR); the lifecycle knows it
    from the store's roles, and so does the digest."""
    asked = NOW - timedelta(days=12)
    d = data(
        [issue(1, "Upload fails", "ann", NOW - timedelta(days=20), comments=1, updated=asked)],
        {"1": [comment(1, "priv", "Which version do you run?", asked, "CONTRIBUTOR")]},
        collaborators=[{"login": "priv", "permission": "write"}],
    )
    host, cfg = SampleHost(d), parse_config("")
    save_roles(store, REPO, {"priv": True, "ann": False})  # what the lifecycle sweep stored
    lc = decide(load_thread(host, 1), cfg, NOW, BOT, team=frozenset({"priv"}))
    assert lc.waiting is not None and lc.waiting.on == "author"
    dg = build_digest(host, store, REPO, cfg, NOW, bot_login=BOT)
    assert [i.number for i in dg.waiting] == []
    assert [(i.number, i.waiting_on, i.waiting_days) for i in dg.top] == [(1, "author", 12)]


def test_a_read_only_collaborator_s_question_is_no_wait_on_the_author_in_the_digest(
    store: Store,
) -> None:
    """rob is an outside collaborator with read access: GitHub says COLLABORATOR, the sweep
    found him without write (the store's roles). His question is a stranger's, so the issue
    waits on the team, in the lifecycle and in the digest alike."""
    asked = NOW - timedelta(days=12)
    d = data(
        [issue(1, "Upload fails", "ann", NOW - timedelta(days=20), comments=1, updated=asked)],
        {"1": [comment(1, "rob", "Which version do you run?", asked, "COLLABORATOR")]},
        collaborators=[{"login": "rob", "permission": "read"}],
    )
    host, cfg = SampleHost(d), parse_config("")
    save_roles(store, REPO, {"rob": False, "ann": False})  # what the lifecycle sweep stored
    lc = decide(load_thread(host, 1), cfg, NOW, BOT, team=Team((), {"rob", "ann"}))
    assert lc.waiting is not None and lc.waiting.on != "author"
    dg = build_digest(host, store, REPO, cfg, NOW, bot_login=BOT)
    assert [(i.number, i.waiting_on) for i in dg.top] == [(1, lc.waiting.on)]


def _busy() -> dict:
    """#1 has waited 60 days on a maintainer; two issues were updated since (detail limit 2)."""
    answered = NOW - timedelta(days=60)
    return data(
        [
            issue(1, "Old wait", "ann", NOW - timedelta(days=70), comments=2, updated=answered),
            issue(2, "New a", "bob", NOW - timedelta(days=1), comments=1),
            issue(3, "New b", "cid", NOW - timedelta(days=1), comments=1),
        ],
        {"1": [comment(1, "mona", "Which version?", NOW - timedelta(days=65), "OWNER"),
               comment(2, "ann", "2.3.1", answered, "NONE")],
         "2": [comment(3, "bob", "Still there", NOW - timedelta(hours=5))],
         "3": [comment(4, "cid", "Still there", NOW - timedelta(hours=5))]},
    )  # fmt: skip


def test_the_longest_wait_on_a_maintainer_is_listed_in_a_busy_repository(store: Store) -> None:
    """More recently updated issues than the detail limit: the open issues not updated for
    longest are read too, so the longest waits stay listed and counted."""
    dg = build_digest(SampleHost(_busy()), store, REPO, parse_config(""), NOW, bot_login=BOT,
                      detail_limit=2)  # fmt: skip
    assert (dg.waiting[0].number, dg.waiting[0].waiting_days) == (1, 60)
    assert dg.waiting_total == 3


def test_an_issue_left_unread_keeps_the_lifecycle_s_wait(store: Store) -> None:
    """No detail budget at all: the lifecycle's stored wait is the issue's, even from before its
    last update."""
    host, cfg = SampleHost(_busy()), parse_config("")
    thread = load_thread(host, 1)
    save_state(store, thread.issue, cfg, decide(thread, cfg, NOW, BOT), acted=True)
    before = (NOW - timedelta(days=61)).timestamp()  # decided before the issue's last update
    store.db.execute("update lifecycle_state set decided_at = ?", [before])
    dg = build_digest(host, store, REPO, cfg, NOW, bot_login=BOT, detail_limit=0)
    assert [(i.number, i.waiting_days) for i in dg.waiting] == [(1, 60)]


def test_a_maintainer_s_own_edit_after_the_ping_leaves_the_wait_on_the_author(
    store: Store,
) -> None:
    """priv (a team member the store's roles know; association CONTRIBUTOR) fixed a typo in her
    question after the bot pinged the author: the lifecycle still waits on the author, and the
    digest, which reads the team from the same roles, says so too."""
    asked, pinged, fixed = (NOW - timedelta(days=d) for d in (12, 8, 5))
    title, body = "Upload fails", "It fails."
    ping = "@ann is waiting for your reply\n\n"
    ping += marker(ping_marker(pinged, "author", 7, described_as(title, body)))
    question = {**comment(1, "priv", "Which version do you run?", asked, "CONTRIBUTOR")}
    question["updated_at"] = z(fixed)
    d = data(
        [issue(1, title, "ann", NOW - timedelta(days=20), comments=2, updated=fixed, body=body)],
        {"1": [question, comment(2, BOT, ping, pinged, "NONE", "Bot")]},
        collaborators=[{"login": "priv", "permission": "write"}],
    )
    host, cfg = SampleHost(d), parse_config("")
    save_roles(store, REPO, {"priv": True, "ann": False})
    lc = decide(load_thread(host, 1), cfg, NOW, BOT, team=frozenset({"priv"}))
    assert lc.waiting is not None and lc.waiting.on == "author", lc
    dg = build_digest(host, store, REPO, cfg, NOW, bot_login=BOT)
    assert [i.number for i in dg.waiting] == []
    assert [(i.number, i.waiting_on) for i in dg.top] == [(1, "author")]


def test_a_read_only_collaborator_s_reply_is_no_first_response(store: Store) -> None:
    """The week's median first response counts a maintainer's reply: rob's (COLLABORATOR, read
    only, as the sweep found him) after 2 hours is not one; mona's (OWNER) after 10 hours is."""
    opened = NOW - timedelta(days=2)
    d = data(
        [issue(1, "Upload fails", "ann", opened, comments=2, updated=opened + timedelta(hours=10))],
        {"1": [comment(1, "rob", "Same here.", opened + timedelta(hours=2), "COLLABORATOR"),
               comment(2, "mona", "Which version?", opened + timedelta(hours=10), "OWNER")]},
        collaborators=[{"login": "rob", "permission": "read"}],
    )  # fmt: skip
    host, cfg = SampleHost(d), parse_config("")
    assert (
        build_digest(host, store, REPO, cfg, NOW, bot_login=BOT).counts["first_response_median_h"]
        == 2.0
    )  # not looked up yet: the association is all there is
    save_roles(store, REPO, {"rob": False})  # what the lifecycle sweep stored
    dg = build_digest(host, store, REPO, cfg, NOW, bot_login=BOT)
    assert dg.counts["first_response_median_h"] == 10.0
