"""A dry run's audit rows of would-be actions carry the model record, as the live rows do: what
a dry run is for is seeing which model decided what."""

from __future__ import annotations

import json

from bot.jobs.triage import handle_issue_event
from tests.triage.conftest import issue_payload
from tests.triage.test_jobs import BUG, audits


def _label_row(ctx, host, n):
    rows = [r for r in audits(ctx, n) if r["action"] == "add_labels"]
    (row,) = [r for r in rows if "bug" in r["detail"]]
    return row


def test_live_label_row_has_the_model_record(ctx, host):
    n = host.add(*BUG).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    row = _label_row(ctx, host, n)
    assert row["outcome"] == "done" and "model" in json.loads(row["detail"])


def test_dry_run_label_row_has_the_model_record_too(ctx, host):
    host.files[".github/smolbot.yml"] = "dry_run: true\n"
    n = host.add(*BUG).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    row = _label_row(ctx, host, n)
    assert row["outcome"] == "dry-run"
    detail = json.loads(row["detail"])
    assert detail["model"]["backend"], row["detail"]
    assert host.issues[n].labels == []  # still nothing applied
