"""One repository on the fake GitHub (over HTTP), a store and a JobContext, for lifecycle tests
that sweep simulated days: `world()`, `sweep()`, and what the bot wrote."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.github import GitHubApp
from bot.jobs.context import JobContext
from bot.jobs.lifecycle import SweepResult, sweep_installation
from bot.sandbox.fake_github.server import FakeGitHubServer
from bot.sandbox.fake_github.state import FakeGitHub as FakeState
from bot.store import open_store
from tests.fake_github.plugin import make_settings

INST, DAY, REPO = 7, 86400.0, "octo/api"
CLOSE_ON = "lifecycle:\n  days_until_ping: 7\n  days_until_close: 7\n  close: true\n"
CLOSE_OFF = "lifecycle:\n  days_until_ping: 7\n  days_until_close: 7\n"

_runs = itertools.count()


def world(
    gh: FakeGitHubServer, tmp_path: Path, config: str = CLOSE_ON
) -> tuple[FakeState, JobContext]:
    """octo/api (mia maintains it) with `config`, and a context on the fake's clock."""
    st = gh.state
    st.add_repo(REPO, INST)
    st.set_permission(REPO, "mia", "maintain")
    st.put_file(REPO, ".github/smolbot.yml", config)
    return st, context(gh, tmp_path)


def context(gh: FakeGitHubServer, tmp_path: Path) -> JobContext:
    """A context of its own (its own store connection and GitHub client), as a process has."""
    st = gh.state
    settings = make_settings(gh, tmp_path)
    return JobContext(
        settings,
        open_store(settings.db_path),
        github=GitHubApp(settings, clock=st.now),
        now=lambda: datetime.fromtimestamp(st.now(), UTC),
    )


def sweep(ctx: JobContext, **kw: Any) -> SweepResult:
    """A new run each call (as each day's scheduled run is)."""
    return sweep_installation(ctx, INST, run_id=f"run-{next(_runs)}", **kw)


def asked(st: FakeState, t0: float, user: str = "alice", **kw: Any) -> int:
    """An issue opened at t0 whose maintainer asked its author a question shortly after."""
    issue = st.add_issue(REPO, "Crash", "It crashes.", user=user, created_at=t0, **kw)
    st.add_comment(REPO, issue.number, "Which version?", user="mia", created_at=t0 + 0.1 * DAY)
    return issue.number


def awaiting_info(st: FakeState, t0: float, by: str = "mia", question: str | None = None) -> Any:
    """An issue alice opened at t0, labeled needs-info by `by` a minute later, just after
    `question` (mia's comment) when one is given."""
    issue = st.add_issue(
        REPO, "Crash", "It crashes.", user="alice", created_at=t0, labels=["needs-info"]
    )
    at = t0 + 60
    if question is not None:
        st.add_comment(REPO, issue.number, question, user="mia", created_at=at)
        at += 1
    st.add_event(REPO, issue.number, "labeled", by, label="needs-info", created_at=at)
    return issue


def bot_bodies(st: FakeState, number: int, repo: str = REPO) -> list[str]:
    return [c.body for c in st.comments(repo, number) if c.user_type == "Bot"]


def patch_host(ctx: JobContext, change: Callable[[str, Any], None]) -> None:
    """Every repository host the context hands out goes through change(repo name, host) first."""
    app: Any = ctx.github
    real = app.repo

    def repo(inst: int, name: str) -> Any:
        host = real(inst, name)
        change(name, host)
        return host

    app.repo = repo


def reasons(ctx: JobContext, number: int, repo: str = REPO) -> list[str]:
    return [r["reason"] for r in ctx.store.audit_rows(repo, number)]
