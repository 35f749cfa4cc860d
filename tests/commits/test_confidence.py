"""A draft's confidence carries evidence from the repository's history: the type similar past commits used."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.commits import diffs
from bot.commits.message import CommitDraft
from bot.commits.pipeline import DraftOptions, draft_changes
from bot.commits.retrieval import (
    SUPPORT_VARIABLE,
    support_json,
    type_check,
    type_shares,
)
from bot.llm.api import Answer, ModelRecord

CART = "src/shop/cart.py"
HISTORY = [
    ("fix(cart): round totals", [CART]),
    ("fix(cart): empty cart total", [CART, "src/shop/__init__.py"]),
    ("feat(cart): add discounts", ["src/shop/cart.py", "src/shop/discount.py"]),
    ("docs: usage", ["docs/usage.md"]),
]


def patch(path: str, added: list[str]) -> str:
    head = f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n@@ -0,0 +1,{len(added)} @@\n"
    return head + "".join(f"+{line}\n" for line in added)


def test_shares_weigh_the_types_of_similar_past_commits() -> None:
    shares = type_shares([CART], HISTORY)
    assert set(shares) == {"fix", "feat"}  # the docs commit shares no file feature
    assert shares["fix"] > shares["feat"] > 0
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-3)
    assert type_shares(["other/x.c"], HISTORY) == {}


@pytest.mark.parametrize(
    ("shares", "forced", "drafted", "evidence"),
    [
        ({"fix": 1.0}, None, "fix", 1.0),  # every neighbour agrees
        ({"fix": 1.0}, None, "feat", 0.5),  # none does
        ({"fix": 0.6, "feat": 0.4}, None, "FEAT ", 0.7),  # the type is read as compose reads it
        ({"fix": 1.0}, None, "wibble", 1.0),  # not a type: compose uses the rules' type (fix)
        ({"fix": 1.0}, "docs", "fix", 0.5),  # the paths force docs, whatever the model said
        ({}, None, "fix", 0.75),  # no conventional neighbour: neither for nor against
    ],
)
def test_evidence_of_a_draft(
    shares: dict[str, float], forced: str | None, drafted: str, evidence: float
) -> None:
    check = type_check(support_json(shares, forced, "fix"))
    assert check(CommitDraft(type=drafted, subject="do it")) == pytest.approx(evidence)


class SeeingWriter:
    """Records the variables the pipeline hands the model port."""

    def __init__(self) -> None:
        self.variables: dict[str, str] = {}

    def ask(
        self, prompt: str, variables: dict[str, str], schema: type[Any], *, allow_large: bool
    ) -> Answer[Any]:
        self.variables = variables
        rec = ModelRecord("commit", "scripted", "scripted", f"{prompt}@1", 0.8, False, 1.0)
        return Answer(CommitDraft(type="fix", subject="round totals"), 0.8, rec, "ok")


def test_the_pipeline_passes_support_only_for_conventional_repositories() -> None:
    changes = diffs.changes_from_patch(patch(CART, ["x = 1"]))
    writer = SeeingWriter()
    draft_changes("t", changes, HISTORY, writer, DraftOptions())
    support = json.loads(writer.variables[SUPPORT_VARIABLE])
    assert support["shares"] == type_shares([CART], HISTORY)
    assert support["forced"] is None and support["fallback"] == "fix"
    plain = [("Round totals", [CART]), ("Add discounts", [CART])]
    draft_changes(
        "t", diffs.changes_from_patch(patch(CART, ["x = 1"])), plain, writer, DraftOptions()
    )
    assert SUPPORT_VARIABLE not in writer.variables  # no type in the message: no type evidence
