"""Guards around the close that hold: a month without sweeps pings before it closes; an exempt
label added after the ping (in any case) stops the close; a locked issue is never touched; a rate
limit on the close resumes without a second closing note."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from bot.jobs.lifecycle import sweep_installation
from bot.ports import RateLimited
from bot.sandbox.fake_github.server import FakeGitHubServer
from tests.lifecycle.http_world import (
    DAY,
    INST,
    REPO,
    asked,
    bot_bodies,
    patch_host,
    reasons,
    sweep,
    world,
)


def test_a_month_without_sweeps_pings_before_any_close(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    numbers = [asked(st, st.now() - 40 * DAY) for _ in range(3)]
    sweep(ctx)
    assert all(st.issue(REPO, n).state == "open" and len(bot_bodies(st, n)) == 1 for n in numbers)
    st.advance(30 * DAY)
    sweep(ctx)
    assert all(st.issue(REPO, n).state == "closed" for n in numbers)


def test_an_exempt_label_in_another_case_added_after_the_ping_stops_the_close(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    n = asked(st, st.now() - 8 * DAY)
    sweep(ctx)
    st.advance(8 * DAY)
    st.issue(REPO, n).labels = ["Help-Wanted"]
    st.issue(REPO, n).updated_at = st.now()
    sweep(ctx)
    assert st.issue(REPO, n).state == "open" and len(bot_bodies(st, n)) == 1
    assert "exempt: label help wanted" in reasons(ctx, n)


def test_a_locked_issue_is_untouched(fake_github: FakeGitHubServer, tmp_path: Path) -> None:
    st, ctx = world(fake_github, tmp_path)
    a = asked(st, st.now() - 30 * DAY, locked=True)
    sweep(ctx)
    st.advance(30 * DAY)
    sweep(ctx)
    assert bot_bodies(st, a) == [] and st.issue(REPO, a).state == "open"


def test_a_rate_limit_on_the_close_resumes_without_a_second_note(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = world(fake_github, tmp_path)
    n = asked(st, st.now() - 8 * DAY)
    sweep(ctx)
    st.advance(8 * DAY)
    calls = {"n": 0}

    def limit_the_first_close(name: str, host: Any) -> None:
        real = host.close

        def close(number: int, reason: str) -> None:
            calls["n"] += 1
            if calls["n"] == 1:
                raise RateLimited(1.0)
            real(number, reason)

        host.close = close

    patch_host(ctx, limit_the_first_close)
    with contextlib.suppress(RateLimited):
        sweep_installation(ctx, INST, run_id="r")
    sweep_installation(ctx, INST, run_id="r")
    notes = [b for b in bot_bodies(st, n) if b.startswith("Closing")]
    assert st.issue(REPO, n).state == "closed" and len(notes) == 1
