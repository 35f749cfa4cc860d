"""When the model's summary loses most of its claims to the grounding check, or keeps much less
than the extractive summary, the extractive one is posted, and the reason is recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from bot.cli import lifecycle as cli
from bot.cli.lifecycle import summarize_cmd, thread_from_json
from bot.core import summary as S
from bot.core.lifecycle import Thread
from bot.jobs.summarize import write_summary
from bot.settings import get_settings, load_settings
from tests.lifecycle.fakes import ScriptedModels

THREAD_FILE = Path(__file__).parent / "data" / "pdf_export_thread.json"

# what the small model answered for the thread file, in shape: the title, a bare name, and
# seven sentences found in no entry (the root cause and the workaround were lost)
LOSSY = {
    "problem": ["Export to PDF hangs on large projects [0]", "The printer driver is outdated [1]"],
    "tried": [
        "Someone rebooted the laptop twice [2]",
        "Switching the theme made no change [2]",
        "Clearing browser cookies was suggested [1]",
    ],
    "state": ["alice (author) [0]", "The team plans a rewrite soon [3]"],
    "open_questions": ["Who owns the printer queue? [4]", "Is macOS affected too? [4]"],
}


def thread() -> Thread:
    return thread_from_json(json.loads(THREAD_FILE.read_text()))


def claims(*texts: str, section: str = "tried") -> S.ThreadSummary:
    return S.ThreadSummary(**{section: list(texts)})


def test_most_claims_dropped_means_extractive() -> None:
    kept = claims("a [0]", "b [1]")
    assert S.extractive_instead(kept, 3, claims("x [0]")) == (
        "the grounding check dropped 3 of the model's 5 claims"
    )
    assert S.extractive_instead(kept, 2, claims("x [0]")) is None  # half is not most


def test_much_less_than_the_extractive_one_means_extractive() -> None:
    rich = claims("p [0]", "q [1]", "r [2]", "s [3]")
    assert S.extractive_instead(claims("a [0]", "b [0]"), 0, rich) == (
        "the model's summary says less: 2 claims from 1 entries, the extractive one 4 from 4"
    )
    # shorter but over the same entries, or more than half as many claims: the model's stays
    assert S.extractive_instead(claims("a [0]", "b [1] [2] [3]"), 0, rich) is None
    assert S.extractive_instead(claims("a [0]", "b [1]", "c [2]"), 1, rich) is None


SUMMARIES = st.builds(
    lambda parts: S.ThreadSummary(**parts),
    st.fixed_dictionaries(
        {
            key: st.lists(st.builds(lambda n: f"claim [{n}]", st.integers(0, 6)), max_size=3)
            for key, _ in S.SECTIONS
        }
    ),
)


@given(SUMMARIES, SUMMARIES, st.integers(0, 12))
def test_the_rule_over_any_pair_of_summaries(kept, extractive, dropped) -> None:
    why = S.extractive_instead(kept, dropped, extractive)
    left = S.claim_count(kept)
    if dropped > left:
        assert why is not None and "dropped" in why
    if why is None:  # what is posted is mostly grounded and not much less than the fallback
        assert dropped <= left
        assert 2 * left > S.claim_count(extractive) or len(S.cited_entries(kept)) >= len(
            S.cited_entries(extractive)
        )
    assert S.extractive_instead(extractive, 0, extractive) is None  # as good as itself


def test_a_lossy_model_summary_is_replaced_by_the_extractive_one(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, env="test")
    t = thread()
    model = write_summary(ScriptedModels(LOSSY), t, settings)
    plain = write_summary(None, t, settings)
    assert model.how == "extractive (the grounding check dropped 8 of the model's 9 claims)"
    assert model.model is not None and model.model["fallback"] in model.how
    assert model.body is not None and plain.body is not None
    bullets = [ln for ln in model.body.splitlines() if ln.startswith("- ")]
    assert bullets == [ln for ln in plain.body.splitlines() if ln.startswith("- ")]
    assert "root cause" in model.body or "workaround" in model.body
    assert "alice (author)" not in model.body


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMOLBOT_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()


@pytest.mark.usefixtures("data_dir")
@pytest.mark.parametrize("scripted", [False, True])
def test_summarize_prints_waiting_on_once(monkeypatch: pytest.MonkeyPatch, scripted: bool) -> None:
    args = ["--thread", str(THREAD_FILE)]
    if scripted:
        monkeypatch.setattr(cli, "_models", lambda *a: ScriptedModels(LOSSY))
    else:
        args.append("--no-model")
    out = CliRunner().invoke(summarize_cmd, args)
    assert out.exit_code == 0, out.output
    assert out.output.count("Waiting on:") == 1, out.output
    assert "the maintainer (`bob`) since 2026-03-04" in out.output
    if scripted:
        assert "extractive (the grounding check dropped 8 of the model's 9 claims)" in out.output
