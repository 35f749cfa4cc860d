"""Review fixes of the digest: checked lines, counts, windows, the digest issue itself, labels,
titles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.config import parse_config
from bot.core.digest import render_markdown, week_slot
from bot.core.ranking import Thread
from bot.jobs.context import JobContext
from bot.jobs.digest import (
    build_digest,
    last_week_posted,
    line_problems,
    post_weekly_digest,
    run_due_digests,
    save_digest,
)
from bot.ports import FileContent
from bot.samples.host import SampleHost
from bot.settings import Settings
from bot.store import Store
from tests.digest.sample_data import BOT, NOW, REPO, data, issue, z


def _thread() -> Thread:
    return Thread(7, "Crash on save", "open", "ann", NOW, url=f"https://github.com/{REPO}/issues/7")


def test_a_model_line_may_not_invent_a_version_or_a_count() -> None:
    line = "Saving crashes since version 3.2 for about 400 users."
    problems = list(line_problems(line, _thread(), "It crashes when I save."))
    assert any("3.2" in p for p in problems) and any("400" in p for p in problems), problems


def test_a_model_line_may_repeat_the_thread_s_numbers() -> None:
    line = "Saving in 3.2 crashes (#7) for 400 users."
    said = "It crashes when I save, since 3.2. We are 400 here."
    assert list(line_problems(line, _thread(), said)) == []


def test_a_closed_issue_s_close_time_is_github_s_closed_at_not_its_last_update(
    store: Store,
) -> None:
    """#1 closed three weeks ago, relabeled yesterday, its events not read (detail limit 1)."""
    closed = NOW - timedelta(days=21)
    d = data(
        [
            issue(1, "Old bug", "ann", NOW - timedelta(days=30), state="closed",
                  closed_at=z(closed), updated=NOW - timedelta(days=1)),
            issue(2, "Newer", "bob", NOW - timedelta(days=2), updated=NOW - timedelta(hours=1)),
            issue(3, "Closed now", "cid", NOW - timedelta(days=9), state="closed",
                  closed_at=z(NOW - timedelta(days=2)), updated=NOW - timedelta(days=2)),
        ]
    )  # fmt: skip
    dg = build_digest(SampleHost(d), store, REPO, parse_config(""), NOW, bot_login=BOT,
                      detail_limit=1)  # fmt: skip
    assert dg.counts["closed"] == 1


def test_the_pinned_digest_issue_is_not_ranked_in_its_own_digest(store: Store) -> None:
    """pinned_issue: #5, opened (and pinned) by a maintainer; the bot rewrites it each week."""
    d = data(
        [
            issue(5, "Weekly digest", "mona", NOW - timedelta(days=3), assoc="OWNER"),
            issue(6, "Bug", "ann", NOW - timedelta(days=30)),
        ],
        config="digest:\n  pinned_issue: 5\n",
    )
    host, cfg = SampleHost(d), parse_config(d["config"])
    run = post_weekly_digest(host, store, REPO, cfg, lambda: NOW, bot_login=BOT)
    assert run.number == 5
    assert [i.number for i in run.digest.top] == [6], render_markdown(run.digest)
    assert run.digest.counts["opened"] == 0 and run.digest.counts["open_total"] == 1


def test_an_issue_a_digest_was_posted_to_is_not_ranked(store: Store) -> None:
    """A digest issue of an earlier week (the pinned one, since unset in the config)."""
    d = data([issue(5, "Weekly digest", "mona", NOW - timedelta(days=3), assoc="OWNER"),
              issue(6, "Bug", "ann", NOW - timedelta(days=30))])  # fmt: skip
    host, cfg = SampleHost(d), parse_config("")
    earlier = build_digest(host, store, REPO, cfg, NOW - timedelta(days=7), bot_login=BOT)
    save_digest(store, earlier, 5, NOW - timedelta(days=7))
    dg = build_digest(host, store, REPO, cfg, NOW, bot_login=BOT)
    assert [i.number for i in dg.top] == [6]


def test_a_title_s_line_breaks_cannot_start_a_heading_in_the_digest() -> None:
    from bot.core.digest import plain

    assert plain("Crash\r\n\n# Everything is broken,\tsee below\n---") == (
        "Crash # Everything is broken, see below ---"
    )


def test_a_repository_with_no_open_issue_says_so_under_top_issues(store: Store) -> None:
    from bot.core.digest import render_html

    dg = build_digest(SampleHost(data([])), store, REPO, parse_config(""), NOW, bot_login=BOT)
    md = render_markdown(dg)
    assert md.split("## Top issues\n\n", 1)[1].split("\n", 1)[0] == "- no open issues", md
    assert "<table class='top'><tr><td>no open issues</td></tr></table>" in render_html(dg)


def test_weekly_windows_tile_across_a_dst_change(store: Store) -> None:
    """Europe/Berlin leaves summer time on 2026-10-25. Slot Mon 08:00 local: 06:00 UTC on
    Oct 19, 07:00 UTC on Oct 26: the second week is 169 hours long, and an issue opened at
    06:30 UTC on Oct 19 is in it."""
    cfg = parse_config("digest:\n  timezone: Europe/Berlin\n  hour: 8\n")
    s1 = week_slot(datetime(2026, 10, 20, tzinfo=UTC), cfg.digest)
    s2 = week_slot(datetime(2026, 10, 27, tzinfo=UTC), cfg.digest)
    gap = datetime(2026, 10, 19, 6, 30, tzinfo=UTC)
    host = SampleHost(data([issue(1, "Opened in the lost hour", "ann", gap)], now=s2))
    clock = lambda: s2 + timedelta(minutes=5)  # noqa: E731
    first = post_weekly_digest(host, store, REPO, cfg, clock, bot_login=BOT, slot=s1)
    second = post_weekly_digest(host, store, REPO, cfg, clock, bot_login=BOT, slot=s2)
    assert first.digest.until == "2026-10-19T06:00:00+00:00"
    assert second.digest.since == first.digest.until
    assert second.digest.until == "2026-10-26T07:00:00+00:00"
    assert (first.digest.counts["opened"], second.digest.counts["opened"]) == (0, 1)


class _OneRepoGitHub:
    """GitHubHost over one SampleHost: one installation, one repository."""

    def __init__(self, host: SampleHost) -> None:
        self.host = host

    def repo(self, installation_id: int, full_name: str) -> SampleHost:
        return self.host

    def installation_repos(self, installation_id: int) -> list[str]:
        return [REPO]


class _EditableConfig(SampleHost):
    def file_if_changed(self, path: str, etag: str | None) -> FileContent:
        text = self.file(path)
        return FileContent(text=text, etag=str(hash(text)))


def test_a_week_previewed_in_dry_run_is_posted_once_dry_run_is_off(
    settings: Settings, store: Store
) -> None:
    """Dry-run at the slot stores the week's preview (no issue); hourly runs do not build it
    again; dry-run turned off an hour later: the week's digest is posted, once."""
    slot = week_slot(NOW, parse_config("").digest)
    host = _EditableConfig(data([issue(1, "Bug", "ann", NOW - timedelta(days=2))], now=NOW,
                                config="dry_run: true\n"))  # fmt: skip
    store.upsert_installation(1, "o")
    store.add_repositories(1, [{"full_name": REPO, "id": 1}])
    clock = [slot + timedelta(minutes=5)]
    ctx = JobContext(settings, store, github=_OneRepoGitHub(host), now=lambda: clock[0])
    (preview,) = run_due_digests(ctx)
    assert preview.number is None and last_week_posted(store, REPO) is None
    assert last_week_posted(store, REPO, previews=True) == preview.digest.week
    clock[0] += timedelta(hours=1)
    assert run_due_digests(ctx) == []  # the preview is not built again every hour
    host.data["config"] = ""
    clock[0] += timedelta(hours=1)
    (run,) = run_due_digests(ctx)
    assert run.created and run.digest.week == preview.digest.week
    assert last_week_posted(store, REPO) == preview.digest.week
    clock[0] += timedelta(hours=1)
    assert run_due_digests(ctx) == []


def test_the_dashboard_marks_a_dry_run_preview(tmp_path: Path) -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from bot.dashboard import add_signin_redirect, make_dashboard_router
    from bot.settings import load_settings
    from bot.store import open_store

    token = "a-long-dashboard-token-for-tests"
    settings = load_settings(data_dir=tmp_path / "dash", dashboard_token=token, env="test")
    store = open_store(settings.db_path)
    store.upsert_installation(1, "o")
    store.add_repositories(1, [{"full_name": REPO, "id": 1}])
    host = SampleHost(data([issue(1, "Bug", "ann", NOW - timedelta(days=2))], now=NOW))
    run = post_weekly_digest(host, store, REPO, parse_config("dry_run: true\n"), lambda: NOW)
    app = FastAPI()
    app.include_router(make_dashboard_router(settings, store, now=lambda: NOW))
    add_signin_redirect(app)
    client = TestClient(app, follow_redirects=False)
    assert client.post("/login", data={"token": token}).status_code == 303
    assert "dry-run preview, not posted" in client.get("/").text
    page = client.get(f"/digests/{REPO}/{run.digest.week}").text
    assert "Dry-run preview: not posted to GitHub." in page


def test_a_model_line_may_name_the_thread_s_commit_but_not_invent_one() -> None:
    said = "It crashes when I save. Fixed by 3f9a2c1b, please check."
    assert list(line_problems("Save crash fixed by 3f9a2c1b.", _thread(), said)) == []
    problems = list(line_problems("Save crash fixed by 7be41d09.", _thread(), said))
    assert any("7be41d09" in p for p in problems), problems
