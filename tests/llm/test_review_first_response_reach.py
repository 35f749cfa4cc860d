"""A first response is posted only when its answer clears the `comment` bar, so ask() does not pay
the large model for one when no answer of it can (its prior, 0.95): with SMOLBOT_THRESHOLDS
{"comment": 0.97} every opened issue spent one large-model call whose answer was then dropped.
A caller that does use an answer under the bar (a commit draft) still gets the large model's."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.jobs.context import JobContext
from bot.jobs.triage import COMMENT_TASK, PROMPT, FirstResponse, handle_issue_event
from bot.llm import ModelLayer
from bot.llm.api import ModelUnavailable
from bot.settings import Settings, load_settings
from bot.store import Store
from tests.llm import fake_local
from tests.llm.fake_openai import Behaviour
from tests.triage.conftest import NOW, REPO, THRESHOLDS, OneRepoGitHub, issue_payload
from tests.triage.examples import labeled
from tests.triage.fakes import FakeRepoHost

ACK = '{"comment": "Thanks for the report! A maintainer will look at it."}'
WHY = "not escalated: the threshold 0.97 is above the most a large model's answer can get (0.95)"
VARIABLES = {
    "repo": REPO,
    "title": "App crashes on save",
    "body": "It crashes every time.",
    "kind": "bug",
    "next_steps": "a maintainer will look at it",
    "related": "none",
}


def settings_for(tmp_path: Path, url: str, model: Path) -> Settings:
    return load_settings(
        data_dir=tmp_path / "data",
        env="test",
        model_path=model,
        thresholds={**THRESHOLDS, "comment": 0.97, "commit": 0.97},
        large_provider="openai",
        large_model="big",
        large_base_url=url,
        large_max_retries=0,
    )


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch, behaviour: Behaviour) -> fake_local.Script:
    script = fake_local.install(monkeypatch)
    script.replies = [ACK]
    behaviour.replies = [ACK]
    return script


def test_a_first_response_past_the_large_model_s_reach_is_not_paid_for(
    tmp_path: Path, llm_store: Store, behaviour: Behaviour, large_url: str, scripted: object
) -> None:
    model = fake_local.model_file(tmp_path / "m.gguf", b"qwen")
    layer = ModelLayer(settings_for(tmp_path, large_url, model), llm_store)
    ans = layer.ask(COMMENT_TASK, PROMPT, VARIABLES, FirstResponse, use_unsure=False)
    assert behaviour.requests == [] and layer.budget_left() == layer.settings.large_daily_budget
    assert ans.status == "not_escalated" and not ans.ok and ans.record.backend == "gpt4all"
    assert WHY in ans.record.note  # the audit's model record says why
    asked = layer.ask(COMMENT_TASK, PROMPT, VARIABLES, FirstResponse, use_unsure=True)
    assert len(behaviour.requests) == 1 and WHY not in asked.record.note  # when a caller says


def test_a_commit_draft_still_asks_the_large_model(
    tmp_path: Path, llm_store: Store, behaviour: Behaviour, large_url: str, scripted: object
) -> None:
    """Its answer under the bar is the caller's to use: paid for as before."""
    model = fake_local.model_file(tmp_path / "m.gguf", b"qwen")
    layer = ModelLayer(settings_for(tmp_path, large_url, model), llm_store)
    layer.ask("commit", PROMPT, VARIABLES, FirstResponse)
    assert len(behaviour.requests) == 1


def test_no_local_model_and_a_bar_past_reach_is_the_cautious_path(
    tmp_path: Path, llm_store: Store, behaviour: Behaviour, large_url: str, scripted: object
) -> None:
    """A local model that cannot answer leaves only the large one, which cannot clear the bar."""
    model = fake_local.model_file(tmp_path / "m.gguf", b"BAD")  # GGUFBAD: will not load
    layer = ModelLayer(settings_for(tmp_path, large_url, model), llm_store)
    with pytest.raises(ModelUnavailable):
        layer.ask(COMMENT_TASK, PROMPT, VARIABLES, FirstResponse, use_unsure=False)
    assert behaviour.requests == []
    (row,) = layer.records.calls()
    assert WHY in row["note"]


def test_opened_issues_spend_no_large_call_on_an_unusable_first_response(
    tmp_path: Path, llm_store: Store, behaviour: Behaviour, large_url: str, scripted: object
) -> None:
    model = fake_local.model_file(tmp_path / "m.gguf", b"qwen")
    layer = ModelLayer(settings_for(tmp_path, large_url, model), llm_store)
    for text, label in labeled():
        layer.learn(REPO, text, label, "backfill")
    layer.classifier(force=True)
    host = FakeRepoHost(repo=REPO)
    ctx = JobContext(layer.settings, llm_store, OneRepoGitHub(host), layer, lambda: NOW)  # type: ignore[arg-type]
    host.files[".github/smolbot.yml"] = "triage:\n  first_response: true\n"
    n = host.add("App crashes with an exception when I click save", "It crashes every time.")
    handle_issue_event(ctx, "d1", issue_payload(host, n.number))
    acks = [r for r in behaviour.requests if "acknowledgement" in str(r["body"]["messages"])]
    assert acks == []
    (row,) = [r for r in llm_store.audit_rows(REPO, n.number) if r["action"] == "comment"][-1:]
    assert row["outcome"] == "skipped" and WHY in row["detail"]
