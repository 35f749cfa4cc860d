"""`/smolbot ignore` and `exempt_labels` in the lifecycle sweep, over HTTP against the fake GitHub.

README: a top-level exempt label is "never touched by any feature", and after a maintainer's
`/smolbot ignore` the bot leaves the issue alone. So the sweep writes nothing to such an issue (no
ping, no close, no automatic summary) and audits why. A maintainer's explicit command still runs
(`/smolbot summarize` posts a summary; `/smolbot retriage` ends the ignore).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.config import RepoConfig
from bot.core.lifecycle import exemption, left_alone
from bot.core.markers import markers_in
from bot.github import GitHubApp
from bot.jobs.commands import handle_comment_event
from bot.jobs.context import JobContext
from bot.jobs.lifecycle import sweep_installation
from bot.jobs.summarize import auto_summarize
from bot.ports import IssueData
from bot.sandbox.fake_github.server import FakeGitHubServer
from bot.store import open_store
from tests.fake_github.plugin import make_settings

INST, DAY, REPO = 7, 86400.0, "octo/api"
CONFIG = (
    "exempt_labels: [legal]\n"
    "lifecycle:\n  days_until_ping: 7\n  days_until_close: 7\n  close: true\n"
)


@pytest.fixture
def world(fake_github: FakeGitHubServer, tmp_path: Path) -> Iterator[JobContext]:
    st = fake_github.state
    st.add_repo(REPO, INST)
    st.set_permission(REPO, "mia", "maintain")
    st.put_file(REPO, ".github/smolbot.yml", CONFIG)
    settings = make_settings(fake_github, tmp_path)
    store = open_store(settings.db_path)

    def clock() -> datetime:
        return datetime.fromtimestamp(st.now(), UTC)

    yield JobContext(settings, store, github=GitHubApp(settings, clock=st.now), now=clock)
    store.close()


def command(gh: FakeGitHubServer, ctx: JobContext, number: int, body: str, who: str) -> None:
    """A comment on GitHub, then its webhook delivery to the commands job."""
    c = gh.state.add_comment(REPO, number, body, user=who)
    payload = {
        "action": "created",
        "issue": {"number": number},
        "comment": {"id": c.id, "body": body, "user": {"login": who, "type": "User"}},
        "repository": {"full_name": REPO},
        "installation": {"id": INST},
    }
    handle_comment_event(ctx, f"d-{c.id}", payload)


def asked(gh: FakeGitHubServer, author: str, t0: float) -> int:
    """An issue where a maintainer asked its author something: pinged after 7 quiet days."""
    n = gh.state.add_issue(REPO, "Crash on start", "It crashes.", user=author, created_at=t0).number
    gh.state.add_comment(
        REPO, n, "Which version do you run?", user="mia", created_at=t0 + 0.1 * DAY
    )
    return n


def long_thread(gh: FakeGitHubServer, t0: float, labels: list[str] | None = None) -> int:
    """24 comments from six people: past summaries.auto_after_comments (20)."""
    st = gh.state
    n = st.add_issue(
        REPO, "Export fails", "It breaks.", user="frank", created_at=t0, labels=labels or []
    ).number
    for i in range(24):
        text = f"I see this too on version 1.{i}. Same stack trace here."
        st.add_comment(REPO, n, text, user=f"user{i % 6}", created_at=t0 + i * 0.01 * DAY)
    return n


def bot_bodies(gh: FakeGitHubServer, number: int) -> list[str]:
    return [c.body for c in gh.state.comments(REPO, number) if c.user_type == "Bot"]


def writes_to(gh: FakeGitHubServer, number: int) -> list[str]:
    return [f"{e.method} {e.path}" for e in gh.state.writes(f"/issues/{number}")]


def summaries(gh: FakeGitHubServer, number: int) -> list[str]:
    return [b for b in bot_bodies(gh, number) if "summary" in markers_in(b)]


def reasons(ctx: JobContext, number: int, task: str) -> list[str]:
    return [r["reason"] for r in ctx.store.audit_rows(REPO, number, 500) if r["task"] == task]


def test_an_ignored_issue_is_never_pinged_or_closed_and_the_audit_says_why(
    fake_github: FakeGitHubServer, world: JobContext
) -> None:
    gh, ctx, st = fake_github, world, fake_github.state
    t0 = st.now() - 8.5 * DAY
    ignored, control = asked(gh, "alice", t0), asked(gh, "finn", t0)
    command(gh, ctx, ignored, "/smolbot ignore", "mia")
    assert any("leaves this issue alone" in r for r in reasons(ctx, ignored, "commands"))
    sweep_installation(ctx, INST)
    assert "@finn" in bot_bodies(gh, control)[0]  # the same thread, not ignored: pinged
    st.advance(8 * DAY)
    sweep_installation(ctx, INST)
    assert st.issue(REPO, control).state == "closed"  # and closed a week later
    assert bot_bodies(gh, ignored) == [] and writes_to(gh, ignored) == []
    assert st.issue(REPO, ignored).state == "open"
    swept = reasons(ctx, ignored, "lifecycle.sweep")
    assert swept and set(swept) == {"exempt: mia said /smolbot ignore on this issue"}


def test_an_ignore_from_someone_without_write_access_changes_nothing(
    fake_github: FakeGitHubServer, world: JobContext
) -> None:
    gh, ctx = fake_github, world
    n = asked(gh, "alice", gh.state.now() - 8.5 * DAY)
    command(gh, ctx, n, "/smolbot ignore", "mallory")
    sweep_installation(ctx, INST)
    assert "@alice" in bot_bodies(gh, n)[0]


def test_retriage_ends_the_ignore_even_when_the_sweep_saw_the_issue_in_between(
    fake_github: FakeGitHubServer, world: JobContext
) -> None:
    """The sweep can read the retriage comment before the command has run (the issue is still
    ignored then); the next sweep must look again rather than trust its saved decision."""
    gh, ctx, st = fake_github, world, fake_github.state
    n = asked(gh, "alice", st.now() - 8.5 * DAY)
    command(gh, ctx, n, "/smolbot ignore", "mia")
    sweep_installation(ctx, INST)
    st.advance(0.5 * DAY)
    body = "/smolbot retriage"
    c = st.add_comment(REPO, n, body, user="mia")  # on GitHub; its delivery is still queued
    sweep_installation(ctx, INST, run_id="second")
    assert bot_bodies(gh, n) == []
    payload = {
        "action": "created",
        "issue": {"number": n},
        "comment": {"id": c.id, "body": body, "user": {"login": "mia", "type": "User"}},
        "repository": {"full_name": REPO},
        "installation": {"id": INST},
    }
    handle_comment_event(ctx, "d-retriage", payload)
    assert ctx.store.ignored_by(REPO, n) is None
    st.advance(0.5 * DAY)
    sweep_installation(ctx, INST)
    pings = [b for b in bot_bodies(gh, n) if "@alice" in b]
    assert len(pings) == 1, bot_bodies(gh, n)


def test_the_sweep_posts_no_automatic_summary_on_exempt_or_ignored_threads(
    fake_github: FakeGitHubServer, world: JobContext
) -> None:
    gh, ctx, st = fake_github, world, fake_github.state
    t0 = st.now() - 2 * DAY
    exempt = long_thread(gh, t0, labels=["Legal"])  # exempt_labels: [legal]; case does not matter
    ignored = long_thread(gh, t0)
    control = long_thread(gh, t0)
    pinned = long_thread(gh, t0, labels=["pinned"])  # the lifecycle's own exemption only
    command(gh, ctx, ignored, "/smolbot ignore", "mia")
    res = sweep_installation(ctx, INST, summarize=auto_summarize)
    assert bot_bodies(gh, exempt) == [] and writes_to(gh, exempt) == []
    assert bot_bodies(gh, ignored) == [] and writes_to(gh, ignored) == []
    assert len(summaries(gh, control)) == 1
    assert len(summaries(gh, pinned)) == 1  # not pinged, but long threads there are summarized
    assert res.counts["summaries"] == 2 and res.counts["summaries_left_alone"] == 2
    assert "no automatic summary: exempt: label legal" in reasons(ctx, exempt, "lifecycle.sweep")
    why = "no automatic summary: exempt: mia said /smolbot ignore on this issue"
    assert why in reasons(ctx, ignored, "lifecycle.sweep")


def test_a_maintainer_s_explicit_summarize_still_runs_on_exempt_and_ignored_threads(
    fake_github: FakeGitHubServer, world: JobContext
) -> None:
    """Ignore and exempt labels stop what the bot does by itself; a maintainer asking for a
    summary on the issue is a newer, explicit request (README: commands from people with write
    access). Someone without write access still gets nothing."""
    gh, ctx, st = fake_github, world, fake_github.state
    t0 = st.now() - 2 * DAY
    exempt, ignored = long_thread(gh, t0, labels=["legal"]), long_thread(gh, t0)
    command(gh, ctx, ignored, "/smolbot ignore", "mia")
    command(gh, ctx, exempt, "/smolbot summarize", "mallory")
    assert summaries(gh, exempt) == []
    command(gh, ctx, exempt, "/smolbot summarize", "mia")
    command(gh, ctx, ignored, "/smolbot summarize", "mia")
    assert len(summaries(gh, exempt)) == 1 and len(summaries(gh, ignored)) == 1
    assert any("still runs" in r for r in reasons(ctx, ignored, "commands"))
    before = len(st.writes())
    st.advance(1 * DAY)
    sweep_installation(ctx, INST, summarize=auto_summarize)
    assert len(st.writes()) == before  # the sweep neither edits those summaries nor pings


def issue(labels: tuple[str, ...] = ()) -> IssueData:
    when = "2024-01-01T00:00:00Z"
    return IssueData(REPO, 1, "t", "", "open", "alice", list(labels), when, when)


def test_exemption_and_left_alone_read_the_ignore_and_the_top_level_labels() -> None:
    cfg = RepoConfig.model_validate({"exempt_labels": ["legal"]})
    assert exemption(issue(), cfg, "bob") == "exempt: bob said /smolbot ignore on this issue"
    assert left_alone(issue(), cfg, "bob") == "exempt: bob said /smolbot ignore on this issue"
    assert exemption(issue(labels=("Legal",)), cfg) == "exempt: label legal"
    assert left_alone(issue(labels=("legal",)), cfg) == "exempt: label legal"
    assert exemption(issue(labels=("pinned",)), cfg) == "exempt: label pinned"
    assert left_alone(issue(labels=("pinned",)), cfg) is None  # the lifecycle's own list
    assert exemption(issue(), cfg) is None and left_alone(issue(), cfg) is None
