"""The demo's steps, in order; each pushes real events and prints what the bot did."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bot.demo import Say, Stack, child_env, new_issue_numbers, wait_done
from bot.llm.records import Records
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
    say("  the repository's backfill is a model-queue job; waiting for it")
    job = wait_job(store, "backfill", timeout)
    for row in store.audit_rows(repo=sample["repository"]["full_name"]):
        if row["action"] == "backfill" and row["outcome"] != "queued":
            say(f"  backfill (closed issues with one kind label teach triage): {row['reason']}")
    if job != "done":
        say(f"  backfill job: {job}")


def open_issues(
    stack: Stack, store: Store, fake: Any, sample: dict[str, Any], say: Say, timeout: float
) -> None:
    from bot.sandbox.fake_github.model import Issue

    repo = sample["repository"]["full_name"]
    numbers = new_issue_numbers(sample)
    say(f"\n== 2. {len(numbers)} new issues are opened: triage by what the history taught")
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
    unsure = sum("needs-triage" in fake.state.issue(repo, n).labels for n in numbers)
    if unsure:
        say(
            f"  {unsure} of {len(numbers)} labeled needs-triage: the classifier learned from the"
            f" sample's {len(Records(store).examples())} labeled closed issues and was not sure"
            " of these; no large model is configured (SMOLBOT_LARGE_*), so smolbot acts on no"
            " guess. How sure can it be on this repository? `smolbot models eval` scores the"
            " newest 30 % of the history, trained on the rest:"
        )
        say(_indent(models_eval(stack.settings)))


def models_eval(settings: Any) -> str:
    """`smolbot models eval` as a maintainer runs it, on the demo's data dir."""
    cmd = [sys.executable, "-m", "bot.cli", "models", "eval"]
    done = subprocess.run(
        cmd,
        env=child_env(settings),
        cwd=settings.data_dir,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return done.stdout + done.stderr


def _context(stack: Stack, store: Store, sample: dict[str, Any]) -> Any:
    """A JobContext as a worker builds it, with the clock pinned to the sample's 'now'."""
    from bot.github import GitHubApp
    from bot.jobs.context import JobContext
    from bot.llm import get_model_layer

    now = datetime.fromisoformat(sample["now"].replace("Z", "+00:00"))
    models = get_model_layer(stack.settings, store)
    return JobContext(
        stack.settings, store, github=GitHubApp(stack.settings), models=models, now=lambda: now
    )


def longest_thread(sample: dict[str, Any]) -> int:
    counts = {int(n): len(c) for n, c in sample["comments"].items()}
    return max(counts, key=lambda n: counts[n])


def summarize(
    stack: Stack, store: Store, fake: Any, sample: dict[str, Any], say: Say, timeout: float
) -> None:
    repo, number = sample["repository"]["full_name"], longest_thread(sample)
    maintainer = next(
        c["login"] for c in sample["collaborators"] if c["permission"] in ("admin", "maintain")
    )
    issue = next(i for i in sample["issues"] if i["number"] == number)
    say(f"\n== 3. @{maintainer} asks for a summary of #{number} ({issue['comments']} comments)")
    comment = fake.state.add_comment(repo, number, "/smolbot summarize", user=maintainer)
    payload = {
        "action": "created",
        "installation": {"id": sample["installation"]["id"]},
        "repository": sample["repository"],
        "issue": issue,
        "comment": {
            "id": comment.id,
            "body": comment.body,
            "user": {"login": maintainer, "type": "User"},
            "author_association": "OWNER",
        },
        "sender": {"login": maintainer, "type": "User"},
    }
    delivery, _ = stack.deliver("issue_comment", payload)
    wait_done(store, [delivery], timeout, say)
    say("  the summary is a model-queue job; waiting for it")
    job = wait_job(store, "summarize", timeout)
    bot = [c for c in fake.state.comments(repo, number) if c.user == sample["bot_login"]]
    for c in bot[-1:]:
        say(_indent(c.body))
    if not bot:
        say(f"  no summary posted (job {job})")
        for row in store.audit_rows(repo=repo, number=number)[-4:]:
            say(f"      {row['action']:<14} {row['outcome']:<8} {row['reason']}")


def wait_job(store: Store, name: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    status = "not recorded"
    while time.monotonic() < deadline:
        rows = list(store.rows("select status, error from jobs where name = ?", [name]))
        if rows:
            status = rows[-1]["status"] + (f": {rows[-1]['error']}" if rows[-1]["error"] else "")
            if rows[-1]["status"] in ("done", "dead"):
                break
        time.sleep(0.5)
    return status


def sweep(
    stack: Stack, store: Store, fake: Any, sample: dict[str, Any], say: Say, timeout: float
) -> None:
    from bot.jobs.lifecycle import sweep_installation

    say(f"\n== 4. The daily sweep at {sample['now']}: who is each issue waiting on?")
    result = sweep_installation(_context(stack, store, sample), sample["installation"]["id"])
    say(f"  sweep {result.status}: {dict(sorted(result.counts.items()))}")
    repo = sample["repository"]["full_name"]
    for row in store.audit_rows(repo=repo, limit=400):
        if row["task"].startswith("lifecycle") and row["outcome"] in ("done", "dry-run"):
            say(f"  #{row['number']:<4} {row['action']:<14} {row['outcome']:<8} {row['reason']}")


def digest(
    stack: Stack, store: Store, fake: Any, sample: dict[str, Any], say: Say, timeout: float
) -> None:
    from bot.core.digest import render_markdown
    from bot.jobs.digest import post_weekly_digest, repo_config

    ctx = _context(stack, store, sample)
    repo = sample["repository"]["full_name"]
    say("\n== 5. The weekly digest, posted as an issue")
    host = ctx.github.repo(sample["installation"]["id"], repo)
    run = post_weekly_digest(
        host,
        store,
        repo,
        repo_config(host, store, repo),  # what the weekly job reads: the last good config
        ctx.now,
        models=ctx.models,
        bot_login=stack.settings.bot_login,
        audit_until=datetime.now(UTC),  # the bot's own audit rows carry real time
    )
    say(_indent(render_markdown(run.digest)))


def _indent(text: str) -> str:
    return "\n".join("  | " + line for line in text.strip().splitlines())


STEPS: list[Step] = [install, open_issues, summarize, sweep, digest]
