"""A maintainer's label corrects the large model's: the large model learned its escalated label
from the text it read (hidden comments set aside), the maintainer's label comes with the raw
issue, and the two are one example (records.example_text), which the human label replaces."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.jobs.context import JobContext
from bot.jobs.triage import handle_issue_event
from tests.llm.conftest import behaviour, escalating_layer, large_url  # noqa: F401 (fixtures)
from tests.triage.conftest import REPO, OneRepoGitHub, issue_payload

BODY = "<!-- Please describe the problem -->\nThe tooltip flickers when hovering over the legend."


def test_maintainer_label_replaces_the_large_models(tmp_path, store, host, behaviour, large_url):  # noqa: F811
    behaviour.replies = ['{"label": "bug"}']
    layer = escalating_layer(
        tmp_path,
        store,
        {"large_provider": "openai", "large_model": "big", "large_base_url": large_url},
    )
    ctx = JobContext(
        layer.settings, store, OneRepoGitHub(host), layer, lambda: datetime(2026, 3, 1, tzinfo=UTC)
    )  # type: ignore[arg-type]
    n = host.add("Tooltip flickers", BODY).number
    handle_issue_event(ctx, "d1", issue_payload(host, n))
    assert "bug" in host.issues[n].labels  # escalated: the large model's label applied
    # the maintainer corrects it
    host.issues[n].labels[:] = ["enhancement"]
    p = issue_payload(host, n, "labeled", sender="maint")
    p["label"] = {"name": "enhancement"}
    handle_issue_event(ctx, "d2", p)
    rows = list(
        store.rows(
            "select source, label from llm_examples where scope = ? and text like ?",
            [REPO, "Tooltip flickers%"],
        )
    )
    assert rows == [{"source": "human", "label": "feature"}], rows
