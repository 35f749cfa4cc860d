"""The first response names no kind but the one policy decided. On the cautious path (unsure, no
large model: needs-triage and no guess) the acknowledgement was still asked to "say what kind of
issue this looks like", and nothing checked what it said: a guess went out as a public comment,
or a kind other than the label just applied. Through the job with a scripted local model (the
checks are what is tested), and as a pure policy function."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.core.actions import Comment, NoOp
from bot.core.config import Kind
from bot.core.triage import IssueSnapshot, first_response_actions, kinds_in_text
from bot.jobs.context import JobContext
from bot.jobs.triage import handle_issue_event
from bot.llm import ModelLayer
from bot.llm.prompts import load_prompt
from bot.settings import load_settings
from bot.store import Store
from tests.llm import fake_local
from tests.triage.conftest import NOW, REPO, THRESHOLDS, OneRepoGitHub, issue_payload, trained_layer
from tests.triage.fakes import FakeRepoHost

ISSUE = IssueSnapshot(REPO, 7, "Editor crashes on save", "The editor crashes on save.", "alice")
GUESS = "Thanks for the report! This looks like a feature request; a maintainer will look at it."


def _posted(text: str, kind: Kind | None) -> bool:
    acts = first_response_actions(text, issue=ISSUE, related=(), people=(), enabled=True, kind=kind)
    return any(isinstance(a, Comment) for a in acts)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (GUESS, None),
        ("Thanks! This looks like a bug; a maintainer will look at it.", None),
        ("Thanks for the question! A maintainer will answer.", None),
        ("Thanks! This seems to be a docs problem.", None),
        (GUESS, Kind.BUG),  # another kind than the label applied
        ("Thanks for this enhancement idea!", Kind.QUESTION),
        ("Thanks! This b\u200bug report will be looked at.", None),  # read as shown
    ],
)
def test_a_kind_policy_did_not_decide_is_not_posted(text: str, kind: Kind | None) -> None:
    (noop,) = first_response_actions(
        text, issue=ISSUE, related=(), people=(), enabled=True, kind=kind
    )
    assert isinstance(noop, NoOp) and "names a kind" in noop.reason, noop


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Thanks for the report! A maintainer will look at it and label it.", None),
        ("Thanks! The save feature crashing is now with the maintainers.", None),
        (GUESS, Kind.FEATURE),
        ("Thanks for the bug report! A maintainer will look at it.", Kind.BUG),
        (
            "Thanks! The documentation gap is noted; a maintainer will follow up.",
            Kind.DOCUMENTATION,
        ),
    ],
)
def test_the_decided_kind_or_none_is_posted(text: str, kind: Kind | None) -> None:
    assert _posted(text, kind), text


def test_every_kind_has_a_way_to_be_named() -> None:
    assert {k for k in Kind if kinds_in_text(f"a {k.value}")} == set(Kind) - {Kind.FEATURE}
    assert kinds_in_text("a feature request") == {Kind.FEATURE}


def test_the_prompt_asks_for_no_guess_when_the_kind_is_not_known() -> None:
    assert "name no kind" in load_prompt("first_response_triage").spec.system


def test_the_cautious_path_posts_no_guessed_kind(
    store: Store, host: FakeRepoHost, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script: Any = fake_local.install(monkeypatch)
    script.replies = [f'{{"comment": "{GUESS}"}}']
    model = fake_local.model_file(tmp_path / "m.gguf", b"qwen")
    settings = load_settings(
        data_dir=tmp_path / "data",
        env="test",
        model_path=model,
        thresholds={**THRESHOLDS, "comment": 0.5},
    )
    layer = trained_layer(ModelLayer(settings, store))
    ctx = JobContext(settings, store, OneRepoGitHub(host), layer, lambda: NOW)
    host.files[".github/smolbot.yml"] = "triage:\n  first_response: true\n  threshold: 0.95\n"
    n = host.add("App crashes with an exception when I click save", "It crashes every time.")
    handle_issue_event(ctx, "d1", issue_payload(host, n.number))

    assert host.issues[n.number].labels == ["needs-triage"]
    assert not [w for k, w in host.writes if k == "comment"], host.writes
    (row,) = [r for r in store.audit_rows(REPO, n.number) if "first response failed" in r["reason"]]
    assert "names a kind (feature) though triage decided none" in row["reason"], row
