"""The audit's reason tells a large model that failed from one that was unsure. Both read "no
large-model answer was used": a maintainer whose key was revoked saw every issue go to
needs-triage with a reason that named nothing to fix. Through the job, the real model layer and
an OpenAI-compatible server on loopback (tests/llm/fake_openai.py) answering 500, and as policy."""

from __future__ import annotations

from pathlib import Path

from bot.core.escalation import LARGE_ASKED
from bot.core.triage import Verdict, decide_kind
from bot.jobs.context import JobContext
from bot.jobs.triage import handle_issue_event
from bot.llm import ModelLayer
from bot.settings import load_settings
from bot.store import Store
from tests.llm.conftest import behaviour, large_url  # noqa: F401 (fixtures)
from tests.llm.fake_openai import Behaviour
from tests.triage.conftest import NOW, REPO, THRESHOLDS, OneRepoGitHub, issue_payload, trained_layer
from tests.triage.fakes import FakeRepoHost


def test_policy_names_the_failure_and_keeps_the_unsure_wording() -> None:
    failed = Verdict("bug", 0.4, "not_escalated", f"{LARGE_ASKED}OpenAIAPIError: 401 bad key")
    kind, why = decide_kind(failed, 0.6)
    assert kind is None
    assert why.endswith("the large model's answer was not used: OpenAIAPIError: 401 bad key")
    kind, why = decide_kind(Verdict("bug", 0.4, "not_escalated", "unsure: 0.80 under 0.90"), 0.6)
    assert kind is None and why.endswith("and no large-model answer was used")


def test_a_large_model_answering_500_is_named_in_the_audit(
    store: Store,
    host: FakeRepoHost,
    tmp_path: Path,
    behaviour: Behaviour,  # noqa: F811
    large_url: str,  # noqa: F811
) -> None:
    behaviour.mode = "fail"
    settings = load_settings(
        data_dir=tmp_path / "data",
        env="test",
        thresholds=THRESHOLDS,
        large_provider="openai",
        large_model="big",
        large_base_url=large_url,
        large_max_retries=0,
        large_timeout_s=5,
    )
    layer = trained_layer(ModelLayer(settings, store))
    ctx = JobContext(settings, store, OneRepoGitHub(host), layer, lambda: NOW)
    host.files[".github/smolbot.yml"] = "triage:\n  threshold: 0.9\n"
    n = host.add("App crashes with an exception when I click save", "It crashes every time.")
    handle_issue_event(ctx, "d1", issue_payload(host, n.number))

    assert behaviour.requests and host.issues[n.number].labels == ["needs-triage"]
    (row,) = [r for r in store.audit_rows(REPO, n.number) if r["action"] == "add_labels"]
    assert "the large model's answer was not used:" in row["reason"], row
    assert "Error code: 500" in row["reason"], row
