"""bench/models.py's learning loop puts an oracle where the large model goes: the model layer
takes it as one (it reads LargeModel.identity, which the oracle lacked: the section crashed)."""

from __future__ import annotations

from pathlib import Path

from bench.models import LABELS, oracle_layer


def test_an_escalation_reaches_the_oracle_and_gets_the_true_label(tmp_path: Path) -> None:
    layer, oracle = oracle_layer(tmp_path)
    oracle.label = "feature"
    ans = layer.classify("triage", "o/r", "Crash on start\n\nThe app crashes on start.", LABELS)
    assert ans.status == "escalated" and oracle.calls == 1
    assert ans.value is not None and ans.value.label == "feature"
