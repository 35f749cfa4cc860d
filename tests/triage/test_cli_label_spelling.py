"""`smolbot triage` (CLI) says the labels the webhook would apply: needs-info and needs-triage
as the repository spells them (`--labels ...,"Needs Info"`), not the config's default spelling."""

from __future__ import annotations

import json
from pathlib import Path

from bot.cli import cli
from bot.cli.triage import decision
from bot.core.config import default_config
from bot.jobs.triage import handle_issue_event
from tests.triage.conftest import REPO, issue_payload
from tests.triage.test_cli import _backfill, runner  # noqa: F401 (fixture)

LABELS = ["bug", "enhancement", "question", "documentation", "Needs Info", "needs triage"]
TITLE = "App crashes with an exception when I click save"
BODY = "It crashes every time I click the save button."


def test_cli_labels_match_what_the_webhook_applies(ctx, host):
    host.repo_labels = list(LABELS)
    n = host.add(TITLE, BODY).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    applied = sorted(lb for lb in host.issues[n].labels)
    row = {"title": TITLE, "body": BODY}
    said = decision(ctx, REPO, row, default_config(), list(LABELS))
    assert "Needs Info" in applied
    assert said["labels"] == applied


def test_triage_command_uses_the_repositorys_spelling(runner, tmp_path: Path):  # noqa: F811
    _backfill(runner, tmp_path)
    lines = "\n".join(
        json.dumps(x)
        for x in [
            {"title": TITLE, "body": "It crashes every time."},
            {"title": "Something", "body": "hm"},  # unsure: needs-triage
        ]
    )
    args = ["triage", "--repo", "octo/app", "--labels", ",".join(LABELS)]
    out = runner.invoke(cli, args, input=lines + "\n")
    assert out.exit_code == 0, out.output
    crash, vague = (json.loads(line) for line in out.stdout.strip().splitlines())
    assert crash["kind"] == "bug" and "Needs Info" in crash["labels"], crash
    assert "needs-info" not in crash["labels"]
    assert vague["kind"] is None and vague["labels"] == ["needs triage"], vague
