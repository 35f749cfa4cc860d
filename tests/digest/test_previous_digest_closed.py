"""Each week's digest closes the previous week's digest issue (over real HTTP, against the fake
GitHub): a repository gathered one open "Weekly digest" issue a week. Only the bot's own issue
with that week's marker is closed, with a note and an audit row; never someone else's issue, and
nothing with `digest.pinned_issue` (every week rewrites that issue)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bot.github import GitHubApp
from bot.jobs.context import JobContext
from bot.jobs.digest import DigestRun, run_due_digests
from bot.store import Store, open_store
from tests.fake_github import FakeGitHubServer
from tests.fake_github.plugin import make_settings

INST, REPO = 7, "octo/app"
DAY = 86400.0
START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)  # Monday, past the 09:00 UTC slot
CONFIG = "digest:\n  hour: 9\n"


def _setup(
    gh: FakeGitHubServer, tmp_path: Path, config: str = CONFIG
) -> tuple[Store, Callable[[], list[DigestRun]]]:
    st = gh.state
    st.advance(START.timestamp() - st.now())
    st.add_repo(REPO, INST)
    st.set_permission(REPO, "mia", "maintain")
    st.put_file(REPO, ".github/smolbot.yml", config)
    st.add_issue(REPO, "Export is slow", "Takes minutes.", created_at=st.now() - 3 * DAY)
    settings = make_settings(gh, tmp_path)
    store = open_store(settings.db_path)
    store.upsert_installation(INST, "octo")
    store.add_repositories(INST, [{"full_name": REPO, "id": 1}])
    ctx = JobContext(
        settings,
        store,
        github=GitHubApp(settings, clock=st.now),
        now=lambda: datetime.fromtimestamp(st.now(), UTC),
    )
    return store, lambda: run_due_digests(ctx)


def _closes(store: Store) -> list[dict[str, object]]:
    return list(store.rows("select * from audit where action = 'close' order by id"))


def test_the_new_digest_closes_last_week_s_with_a_note(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st = fake_github.state
    store, run = _setup(fake_github, tmp_path)
    (first,) = run()
    assert first.created and first.closed is None  # nothing before it
    st.advance(7 * DAY)

    (second,) = run()

    assert second.created and second.closed == first.number
    old = st.issue(REPO, first.number)
    assert (old.state, old.state_reason) == ("closed", "completed")
    assert st.issue(REPO, second.number).state == "open"
    (note,) = st.comments(REPO, first.number)
    assert note.body.startswith(f"Superseded by #{second.number}, this week's digest")
    (row,) = _closes(store)
    assert (row["outcome"], row["task"], row["number"]) == ("done", "digest", first.number)
    assert json.loads(str(row["detail"])) == {"week": "2026-w48", "superseded_by": second.number}


def test_never_an_issue_that_is_not_the_bot_s_digest(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """The store names a maintainer's issue as last week's digest (a restored backup, say), even
    one that quotes the marker: it stays open, with no comment."""
    st = fake_github.state
    store, run = _setup(fake_github, tmp_path)
    theirs = st.add_issue(REPO, "Our plan", "<!-- smolbot:digest:2026-w47 -->", user="mia")
    store.db.table("digests").insert(
        {"repo": REPO, "week": "2026-w47", "number": theirs.number, "posted_at": 1.0,
         "title": "t", "markdown": "m", "json": "{}"}
    )  # fmt: skip

    (run_48,) = run()

    assert run_48.created and run_48.closed is None
    assert st.issue(REPO, theirs.number).state == "open"
    assert st.comments(REPO, theirs.number) == []
    assert _closes(store) == []


def test_a_pinned_digest_issue_is_rewritten_and_never_closed(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st = fake_github.state
    pinned = "digest:\n  hour: 9\n  pinned_issue: 2\n"
    store, run = _setup(fake_github, tmp_path, pinned)
    st.add_issue(REPO, "Weekly digest", "pinned", user="smolbot[bot]", user_type="Bot")
    (first,) = run()
    st.advance(7 * DAY)
    (second,) = run()
    assert first.number == second.number == 2 and second.closed is None
    assert st.issue(REPO, 2).state == "open" and _closes(store) == []


def test_one_a_maintainer_closed_already_is_left_alone(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st = fake_github.state
    store, run = _setup(fake_github, tmp_path)
    (first,) = run()
    st.issue(REPO, first.number).state = "closed"
    st.advance(7 * DAY)
    (second,) = run()
    assert second.closed is None and st.comments(REPO, first.number) == []
    assert _closes(store) == []
