"""The digest counts what the real lifecycle sweep did on the sample repository (audit names agree)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.config import parse_config
from bot.jobs.context import JobContext
from bot.jobs.digest import build_digest, parse_ts
from bot.jobs.lifecycle import sweep_installation
from bot.jobs.summarize import summarize_issue
from bot.ports import RepoHost
from bot.samples import SAMPLE_REPO, load_sample
from bot.samples.host import SampleHost
from bot.settings import Settings
from bot.store import Store


class SampleGitHub:
    """GitHubHost over one SampleHost: one installation, one repository."""

    def __init__(self, host: SampleHost) -> None:
        self.host = host

    def repo(self, installation_id: int, full_name: str) -> RepoHost:
        return self.host

    def installation_repos(self, installation_id: int) -> list[str]:
        return [SAMPLE_REPO]

    def is_self(self, login: str, user_type: str = "Bot") -> bool:
        return login == self.host.bot


def test_re_pings_and_stale_closes_from_the_sweep_are_counted(
    settings: Settings, store: Store
) -> None:
    data = load_sample()
    host = SampleHost(data)
    now = parse_ts(data["now"])
    ctx = JobContext(settings, store, github=SampleGitHub(host), now=lambda: now)
    sweep_installation(ctx, 4242)
    done = [r for r in store.audit_rows(SAMPLE_REPO, limit=1000) if r["outcome"] == "done"]
    pinged = {r["number"] for r in done if r["action"] == "comment"}
    closed = {r["number"] for r in done if r["action"] == "close"}
    assert pinged, "the sample has issues waiting 20+ days: the sweep should re-ping"
    d = build_digest(
        host, store, SAMPLE_REPO, parse_config(data["config"]), now, audit_until=datetime.now(UTC)
    )
    assert d.counts["stale_closed"] == len(closed)
    assert d.counts["re_pinged"] == len(pinged - closed)
    assert d.bot.get("comment done", 0) == sum(r["action"] == "comment" for r in done)


def test_the_summary_and_the_digest_agree_on_who_210_waits_on(
    settings: Settings, store: Store
) -> None:
    """The demo's step 3 then step 5: a maintainer's `/smolbot summarize` and the bot's summary
    come after a user's "Any news on the release date?"; neither is a reply to it."""
    data = load_sample()
    host = SampleHost(data)
    now = parse_ts(data["now"])
    data["comments"]["210"].append(
        {
            "id": 9_100_001,
            "user": {"login": "mona-lisa", "type": "User"},
            "author_association": "OWNER",
            "body": "/smolbot summarize",
            "created_at": data["now"],
            "html_url": "https://github.com/octo-org/sample-app/issues/210#issuecomment-9100001",
        }
    )
    ctx = JobContext(settings, store, github=SampleGitHub(host), now=lambda: now)
    cfg = parse_config(data["config"])
    assert summarize_issue(ctx, host, SAMPLE_REPO, 210, requested_by="mona-lisa", cfg=cfg) == "done"
    posted = host.comments(210)[-1]
    assert posted.author == settings.bot_login and "### Thread summary" in posted.body
    line = next(ln for ln in posted.body.splitlines() if ln.startswith("**Waiting on:**"))
    assert line.startswith("**Waiting on:** the assignee (`priya-s`) since 2026-11-22"), line
    assert "sam-r asked something" in line
    assert "/smolbot" not in posted.body  # the request is no entry of the thread either
    d = build_digest(host, store, SAMPLE_REPO, cfg, now, audit_until=datetime.now(UTC))
    (top,) = [i for i in d.top if i.number == 210]
    asked_at = parse_ts("2026-11-22T19:00:00Z")
    assert (top.waiting_on, top.waiting_days) == ("maintainer", (now - asked_at).days)
    assert "waiting on the author" not in " ".join(top.why)
