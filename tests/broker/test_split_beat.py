"""`smolbot worker --split --beat`: exactly one child runs the beat, the sweep queue's when it is
among the queues, else the first (it ran none: no recovery sweep, no daily sweeps, no digests,
and nothing said so)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import workers.nodes as nodes
from bot.settings import load_settings


def _beats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, queues: list[str]) -> list[str]:
    """The queues of the children given --beat."""
    cmds: list[list[str]] = []
    real = subprocess.Popen

    def popen(cmd: list[str], **kw: Any) -> subprocess.Popen[bytes]:
        cmds.append(cmd)
        return real([sys.executable, "-c", "pass"], **kw)

    monkeypatch.setattr(nodes.subprocess, "Popen", popen)
    settings = load_settings(data_dir=tmp_path, webhook_secret="x", env="test")
    # no check of the exit status: the fake children race (the first to end has the others sent
    # SIGTERM, and one not yet ended counts 143), and what is tested is which child got --beat
    nodes.run_split(settings, queues, "solo", True, grace_s=1)
    return [c[c.index("-Q") + 1] for c in cmds if "--beat" in c]


def test_split_beat_without_the_sweep_queue_runs_on_the_first_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _beats(tmp_path, monkeypatch, ["fast", "model"]) == ["fast"]


def test_split_beat_runs_on_the_sweep_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _beats(tmp_path, monkeypatch, ["fast", "model", "sweep"]) == ["sweep"]
