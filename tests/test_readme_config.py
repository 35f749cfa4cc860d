"""The README's `.github/smolbot.yml` block is the defaults, every setting in it: a maintainer who
copies it changes nothing (it once pinned a threshold the installation's SMOLBOT_THRESHOLDS sets)
and finds every setting there is (six were missing)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bot.core.config import RepoConfig, parse_config

README = Path(__file__).resolve().parents[1] / "README.md"


def _block() -> str:
    section = README.read_text(encoding="utf-8").split("## Per-repository config", 1)[1]
    found = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert found, "no yaml block in the README's config section"
    return found.group(1)


def _keys(value: Any, prefix: str = "") -> set[str]:
    if not isinstance(value, dict):
        return set()
    out = set()
    for key, sub in value.items():
        out.add(prefix + key)
        if key != "label_map" and key != "weights":  # maps of the maintainer's, not settings
            out |= _keys(sub, f"{prefix}{key}.")
    return out


def test_the_readme_config_block_is_the_defaults() -> None:
    shown = parse_config(_block())
    assert shown.model_copy(update={"from_file": False}) == RepoConfig()


def test_the_readme_config_block_names_every_setting() -> None:
    written = _keys(yaml.safe_load(_block()))
    every = _keys(RepoConfig().model_dump(mode="json", exclude={"from_file"}))
    assert every - written == set(), f"settings the README does not show: {every - written}"
