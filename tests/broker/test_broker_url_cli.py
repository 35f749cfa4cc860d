"""A mistyped SMOLBOT_BROKER_URL scheme ends `smolbot worker` in one line naming it, status 2 (it
was an 89-line traceback ending in KeyError 'No such transport')."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_worker_says_a_bad_broker_scheme_in_one_line(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SMOLBOT_")},
        "PYTHONPATH": str(ROOT),
        "SMOLBOT_ENV": "test",
        "SMOLBOT_DATA_DIR": str(tmp_path),
        # the store's form; the broker's is sqla+sqlite:///
        "SMOLBOT_BROKER_URL": f"sqlite:///{tmp_path}/broker.sqlite",
    }
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "worker", "-Q", "fast", "-c", "1", "--pool", "solo"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert "Traceback" not in out.stderr, out.stderr[-600:]
    assert out.returncode == 2 and "SMOLBOT_BROKER_URL" in out.stderr, out.stderr[-600:]
    assert "sqla+sqlite:///" in out.stderr
