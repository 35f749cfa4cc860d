"""Only an empty file, or one of comments only, means the defaults: a top-level `[]`, `false`,
`0` or `''` was read as an empty valid config, a file that says nothing smolbot reads."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.config import ConfigError, default_config, parse_config
from tests.commands.conftest import CONFIG, REPO, error_issues
from tests.commands.test_repo_config_file import _load


@pytest.mark.parametrize(
    "text,kind",
    [("[]\n", "list"), ("false\n", "bool"), ("0\n", "int"), ("''\n", "str"), ("- a\n", "list")],
)
def test_a_file_that_is_not_a_mapping_is_refused(text: str, kind: str) -> None:
    with pytest.raises(ConfigError, match=rf"must be a mapping of settings, not {kind}$"):
        parse_config(text)


@pytest.mark.parametrize("text", ["", "\n", "# smolbot: defaults for now\n", "---\n", "{}\n"])
def test_an_empty_file_means_the_defaults(text: str) -> None:
    cfg = parse_config(text)
    assert cfg.from_file and cfg.model_dump() == default_config().model_dump()


def test_a_top_level_false_keeps_the_last_good_config(world: Any) -> None:
    state, ctx = world
    state.put_file(REPO, CONFIG, "triage:\n  enabled: false\n")
    assert _load(state, ctx).triage.enabled is False
    state.put_file(REPO, CONFIG, "false\n")
    assert _load(state, ctx).triage.enabled is False
    (report,) = error_issues(state)
    assert "must be a mapping of settings" in report.body
