"""A delivery retried after GitHub failed the permission lookup writes its audit rows once: the
lookup comes before any row is written."""

from __future__ import annotations

from typing import Any

from bot.jobs.commands import handle_comment_event
from bot.ports import Unavailable
from tests.commands.conftest import REPO, comment_payload


def test_a_retry_after_a_failed_permission_lookup_audits_a_rejected_line_once(
    world: Any,
) -> None:
    state, ctx = world
    n = state.add_issue(REPO, "Crash").number
    state.fail_next(1, status=502, match="permission")
    payload = comment_payload(n, "/smolbot frobnicate\n/smolbot ignore", "maint", on=state)
    tries = 0
    while True:  # as the queue retries the delivery
        tries += 1
        try:
            handle_comment_event(ctx, "c1", payload)
            break
        except Unavailable:
            assert tries < 3
    assert tries == 2
    reasons = [r["reason"] for r in ctx.store.audit_rows(REPO, n)]
    assert [r for r in reasons if "unknown command 'frobnicate'" in r] == [
        "unknown command 'frobnicate': /smolbot frobnicate"
    ], reasons
    assert ctx.store.ignored_by(REPO, n) == "maint"
