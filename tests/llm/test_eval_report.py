"""What `smolbot models eval` prints, from a hand-made report (the numbers come from test_evaluate)."""

from __future__ import annotations

import math

from bot.cli.eval_report import NOW_MARK, as_json, as_text
from bot.llm.evaluate import Level, Report, ScopeScore


def report(dated: int = 10) -> Report:
    r = Report(0.3, dated, 10, "tfidf-lr+all-MiniLM-L6-v2-lr")
    r.scopes = [ScopeScore("o/a", 7, 30, 0.8, 0.81, 0.9), ScopeScore("o/b", 7, 30, 0.6, 0.6, 0.7)]
    r.levels = [
        Level(0.5, 0.8, 0.85, 0.84),
        Level(0.6, 0.5, 0.92, 0.9),
        Level(0.9, 0.0, math.nan, math.nan),
    ]
    return r


def test_text_marks_the_configured_threshold_and_names_the_suggested_one():
    r = report()
    lines = as_text(r, configured=0.6, target=0.9, best=r.suggest(0.9), tuned=False)
    assert lines[0].startswith("Trained tfidf-lr+all-MiniLM-L6-v2-lr") and "30%" in lines[0]
    assert "stock MiniLM" in lines[1]
    assert any(x.startswith("average") and "0.700" in x for x in lines)
    marked = [x for x in lines if x.endswith(NOW_MARK)]
    assert len(marked) == 1 and marked[0].split()[0] == "0.60"
    assert any(x.split()[:2] == ["0.90", "0%"] and x.split()[2:] == ["-", "-"] for x in lines)
    assert lines[-1].startswith("Threshold 0.60 keeps 50% of new issues at 92% accuracy")


def test_text_without_a_threshold_that_reaches_the_target_says_what_helps():
    r = report(dated=4)
    lines = as_text(r, configured=0.6, target=0.99, best=r.suggest(0.99), tuned=True)
    assert "6 examples have no date" in lines[0] and "stock MiniLM" not in lines[1]
    assert lines[-1].startswith("No threshold here keeps issues at 99% accuracy")


def test_json_has_the_numbers_and_no_per_issue_rows():
    r = report()
    out = as_json(r, 0.6, r.suggest(0.9))
    assert out["suggested_threshold"] == 0.6 and out["configured_threshold"] == 0.6
    assert out["macro_f1"] == 0.7 and "scored" not in out and len(out["levels"]) == 3
