"""The demo's steps, in order; each pushes real events and prints what the bot did."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.demo import Say, Stack, new_issue_numbers, wait_done
from bot.sandbox.seed import issue_from
from bot.store import Store

Step = Callable[[Stack, Store, Any, dict[str, Any], Say, float], None]


def install(
    stack: Stack, store: Store, fake: Any, sample: dict[str, Any], say: Say, timeout: float
) -> None:
    say("\n== 1. The App is installed on the sample repository")
    payload = {
        "action": "created",
        "installation": sample["installation"],
        "repositories": [{"full_name": sample["repository"]["full_name"], "id": 1}],
        "sender": {"login": sample["collaborators"][0]["login"], "type": "User"},
    }
    delivery, status = stack.deliver("installation", payload)
    say(f"  POST /webhook installation.created -> {status}")
    wait_done(store, [delivery], timeout, say)
    for inst in store.installations():
        names = ", ".join(r["full_name"] for r in store.repositories(inst["id"]))
        say(f"  installation {inst['id']} ({inst['account']}): {names}")


def open_issues(
    stack: Stack, store: Store, fake: Any, sample: dict[str, Any], say: Say, timeout: float
) -> None:
    from bot.sandbox.fake_github.model import Issue

    repo = sample["repository"]["full_name"]
    numbers = new_issue_numbers(sample)
    say(f"\n== 2. {len(numbers)} new issues are opened: triage by the local model")
    by_number = {i["number"]: i for i in sample["issues"]}
    ids = []
    for n in numbers:
        fake.state.repos[repo].issues[n] = issue_from(by_number[n], Issue)
        payload = {
            "action": "opened",
            "installation": {"id": sample["installation"]["id"]},
            "repository": sample["repository"],
            "issue": by_number[n],
            "sender": by_number[n]["user"],
        }
        delivery, _ = stack.deliver("issues", payload)
        ids.append(delivery)
    statuses = wait_done(store, ids, timeout, say)
    for n, d in zip(numbers, ids, strict=True):
        issue = fake.state.issue(repo, n)
        say(f"  #{n} {issue.title[:60]!r}: labels {issue.labels} [{statuses[d]}]")
        for row in store.audit_rows(repo=repo, number=n):
            say(f"      {row['action']:<14} {row['outcome']:<8} {row['reason']}")


STEPS: list[Step] = [install, open_issues]
