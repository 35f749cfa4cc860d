"""issues.labeled teaches the classifier only when its sender can triage the repository: an issue
form's `labels: [bug]` is applied as the reporter, whose guess is not a maintainer's label."""

from __future__ import annotations

from typing import Any

from bot.jobs.triage import handle_issue_event
from tests.triage.conftest import REPO, issue_payload
from tests.triage.fakes import FakeRepoHost

QUESTION = ("How do I change the theme?", "Is there a setting for it?")


class Lookups(FakeRepoHost):
    """Counts permission lookups."""

    asked: list[str]

    def permission(self, login: str) -> str:
        self.asked.append(login)
        return super().permission(login)


def labeled(host: FakeRepoHost, n: int, label: str, sender: str, **kw: Any) -> dict[str, Any]:
    payload = issue_payload(host, n, "labeled", sender=sender, **kw)
    payload["label"] = {"name": label}
    return payload


def learns(ctx, n: int) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    rows = ctx.store.audit_rows(REPO, n, limit=50)
    return [(r["outcome"], r["reason"]) for r in rows if r["action"] == "learn"]


def spy(ctx, monkeypatch) -> list[tuple[Any, ...]]:  # type: ignore[no-untyped-def]
    """What the model layer was taught, in order (it still learns)."""
    learned: list[tuple[Any, ...]] = []
    inner = ctx.models.learn

    def learn(*a: Any, **k: Any) -> Any:
        learned.append(a)
        return inner(*a, **k)

    monkeypatch.setattr(ctx.models, "learn", learn)
    return learned


def test_the_reporters_own_form_label_is_not_learned(ctx, host, monkeypatch):
    learned = spy(ctx, monkeypatch)
    n = host.add(*QUESTION, labels=["bug"]).number  # alice, the reporter, has read access
    handle_issue_event(ctx, "d1", labeled(host, n, "bug", "alice"))
    assert learned == []
    assert learns(ctx, n) == [
        ("skipped", "not learned: alice cannot triage octo/app (label 'bug')")
    ]


def test_a_maintainers_label_is_learned_and_the_role_is_looked_up_once(ctx, monkeypatch):
    host = Lookups(repo=REPO, permissions={"maint": "maintain", "tri": "triage"})
    host.asked = []
    ctx.github.host = host
    learned = spy(ctx, monkeypatch)
    n = host.add(*QUESTION).number
    handle_issue_event(ctx, "d1", labeled(host, n, "question", "maint"))
    handle_issue_event(ctx, "d2", labeled(host, n, "question", "maint"))
    handle_issue_event(ctx, "d3", labeled(host, n, "bug", "tri"))  # triage access is enough
    assert [a[2] for a in learned] == ["question", "question", "bug"]
    assert host.asked == ["maint", "tri"]  # cached: one lookup per person
    assert learns(ctx, n)[0][0] == "done"
    # a label that names no kind asks nobody anything
    handle_issue_event(ctx, "d4", labeled(host, n, "help wanted", "bob"))
    assert host.asked == ["maint", "tri"]


def test_bots_never_teach(ctx, host, monkeypatch):
    learned = spy(ctx, monkeypatch)
    host.permissions["other-bot[bot]"] = "write"
    n = host.add(*QUESTION).number
    payload = labeled(host, n, "bug", "other-bot[bot]", sender_type="Bot")
    handle_issue_event(ctx, "d1", payload)
    assert learned == []
