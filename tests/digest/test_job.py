"""The digest job over a simulated week: posted once, edited on reruns, new next week; dry-run posts nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.config import parse_config
from bot.core.markers import markers_in
from bot.jobs.digest import last_week_posted, parse_ts, post_weekly_digest
from bot.samples import SAMPLE_REPO, load_sample
from bot.samples.host import SampleHost
from bot.store import Store, open_store


class Clock:
    def __init__(self, start: datetime) -> None:
        self.at = start

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **kw: float) -> None:
        self.at += timedelta(**kw)


def digest_issues(host: SampleHost) -> list[dict[str, object]]:
    return [i for i in host.data["issues"] if any(lb["name"] == "digest" for lb in i["labels"])]


def setup() -> tuple[SampleHost, Clock]:
    data = load_sample()
    clock = Clock(parse_ts(data["now"]))
    return SampleHost(data, now=clock), clock


def test_rerun_in_the_same_week_edits_the_issue(store: Store) -> None:
    host, clock = setup()
    cfg = parse_config(host.data["config"])
    first = post_weekly_digest(host, store, SAMPLE_REPO, cfg, clock)
    assert first.created and first.number is not None
    clock.advance(hours=3)
    host.create_comment(210, "Released 2.4.1 with the fix.")  # activity between the runs
    second = post_weekly_digest(host, store, SAMPLE_REPO, cfg, clock)
    assert (second.created, second.number) == (False, first.number)
    (issue,) = digest_issues(host)
    assert "digest:2026-w48" in markers_in(str(issue["body"]))
    assert last_week_posted(store, SAMPLE_REPO) == "2026-w48"
    outcomes = [r["reason"] for r in store.audit_rows(SAMPLE_REPO) if r["action"] == "digest"]
    assert outcomes == ["weekly digest posted", "weekly digest updated in place"]


def test_next_week_gets_a_new_issue(store: Store) -> None:
    host, clock = setup()
    cfg = parse_config(host.data["config"])
    first = post_weekly_digest(host, store, SAMPLE_REPO, cfg, clock)
    clock.advance(days=7)
    second = post_weekly_digest(host, store, SAMPLE_REPO, cfg, clock)
    assert second.created and second.number != first.number
    assert second.digest.week == "2026-w49"
    assert len(digest_issues(host)) == 2


def test_a_lost_database_still_finds_this_weeks_issue_by_its_marker(tmp_path) -> None:  # type: ignore[no-untyped-def]
    host, clock = setup()
    cfg = parse_config(host.data["config"])
    first = post_weekly_digest(host, open_store(tmp_path / "a.db"), SAMPLE_REPO, cfg, clock)
    clock.advance(minutes=30)
    again = post_weekly_digest(host, open_store(tmp_path / "b.db"), SAMPLE_REPO, cfg, clock)
    assert (again.created, again.number) == (False, first.number)
    assert len(digest_issues(host)) == 1


def test_pinned_issue_is_updated_instead_of_creating_one(store: Store) -> None:
    host, clock = setup()
    cfg = parse_config(host.data["config"] + "  pinned_issue: 204\n")
    run = post_weekly_digest(host, store, SAMPLE_REPO, cfg, clock)
    assert (run.created, run.number) == (False, 204)
    assert "digest:2026-w48" in markers_in(host.issue(204).body)


def test_dry_run_posts_nothing_and_says_so(store: Store) -> None:
    host, clock = setup()
    cfg = parse_config("dry_run: true\n")
    before = len(host.data["issues"])
    run = post_weekly_digest(host, store, SAMPLE_REPO, cfg, clock)
    assert run.number is None and len(host.data["issues"]) == before
    (row,) = [r for r in store.audit_rows(SAMPLE_REPO) if r["action"] == "digest"]
    assert row["outcome"] == "dry-run"


def test_own_digest_issue_is_not_ranked_next_week(store: Store) -> None:
    host, clock = setup()
    cfg = parse_config(host.data["config"])
    first = post_weekly_digest(host, store, SAMPLE_REPO, cfg, clock)
    clock.advance(days=7)
    second = post_weekly_digest(host, store, SAMPLE_REPO, cfg, clock)
    assert first.number not in [i.number for i in second.digest.top + second.digest.waiting]


def test_a_deleted_digest_issue_is_posted_again(store: Store) -> None:
    host, clock = setup()
    cfg = parse_config(host.data["config"])
    first = post_weekly_digest(host, store, SAMPLE_REPO, cfg, clock)
    host.data["issues"] = [i for i in host.data["issues"] if i["number"] != first.number]
    again = post_weekly_digest(host, store, SAMPLE_REPO, cfg, clock)
    assert again.created and again.number != first.number
    assert store.db.execute("select number from digests").fetchall() == [(again.number,)]
