"""`smolbot triage` (offline, no GitHub) learns nothing: an issue the large model labels there is
not taught to the repository's classifier, so a held-out set piped through it leaves the
examples (and a later evaluation on that set) as they were. The webhook's triage still learns
a label the large model is sure of."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import cli
from bot.cli.triage import decision
from bot.core.config import default_config
from bot.jobs.context import JobContext
from bot.jobs.triage import handle_issue_event
from bot.settings import get_settings
from bot.store import open_store
from tests.llm.conftest import behaviour, escalating_layer, large_url  # noqa: F401 (fixtures)
from tests.triage.conftest import REPO, OneRepoGitHub, issue_payload
from tests.triage.test_cli import runner  # noqa: F401 (fixture)

TITLE = "Tooltip flickers"
BODY = "The tooltip flickers when hovering over the legend."
ROW = {"title": TITLE, "body": BODY}


def _large(store) -> list[dict]:
    return list(store.rows("select label from llm_examples where source = 'large'"))


def _ctx(tmp_path, store, host, url):
    layer = escalating_layer(
        tmp_path, store, {"large_provider": "openai", "large_model": "big", "large_base_url": url}
    )
    now = lambda: datetime(2026, 3, 1, tzinfo=UTC)  # noqa: E731
    return JobContext(layer.settings, store, OneRepoGitHub(host), layer, now)  # type: ignore[arg-type]


def test_an_offline_decision_the_large_model_made_is_not_learned(
    tmp_path,
    store,
    host,
    behaviour,  # noqa: F811
    large_url,  # noqa: F811
):
    behaviour.replies = ['{"label": "bug"}']
    ctx = _ctx(tmp_path, store, host, large_url)
    said = decision(ctx, REPO, ROW, default_config(), ["bug", "enhancement"])
    assert said["escalated"] is True and said["kind"] == "bug"
    assert "not learned" in said["note"]
    assert _large(store) == []
    # the webhook's triage of the same issue learns it (the large model was sure)
    n = host.add(TITLE, BODY).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert _large(store) == [{"label": "bug"}]


def test_the_triage_command_leaves_the_examples_as_they_were(
    runner,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    behaviour,  # noqa: F811
    large_url,  # noqa: F811
):
    behaviour.replies = ['{"label": "bug"}']
    for name, value in {
        "LARGE_PROVIDER": "openai",
        "LARGE_MODEL": "big",
        "LARGE_BASE_URL": large_url,
        "MODEL_PATH": str(tmp_path / "no-model.gguf"),  # cold start: only the large model
        "THRESHOLDS": '{"triage": 0.9}',
    }.items():
        monkeypatch.setenv(f"SMOLBOT_{name}", value)
    get_settings.cache_clear()
    out = runner.invoke(cli, ["triage", "--repo", "octo/app"], input=json.dumps(ROW) + "\n")
    assert out.exit_code == 0, out.output
    said = json.loads(out.stdout)
    assert said["escalated"] is True and said["kind"] == "bug", said
    store = open_store(get_settings().effective_database_url)
    try:
        assert list(store.rows("select scope, label, source from llm_examples")) == []
    finally:
        store.close()
