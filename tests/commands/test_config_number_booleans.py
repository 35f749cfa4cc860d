"""A boolean where a number setting is expected is a config error naming the setting.

YAML reads yes, no, on and off as booleans, and pydantic's lax mode took a boolean for a number
(1 or 0): `digest: pinned_issue: yes` rewrote issue #1 with the weekly digest, `threshold: true`
became 1.0, `days_until_ping: yes` 1 and `weekday: on` Tuesday."""

from __future__ import annotations

from types import UnionType
from typing import Any, get_args

import pytest

from bot.core.config import ConfigError, RepoConfig, Strict, parse_config
from tests.commands.conftest import CONFIG, REPO, error_issues
from tests.commands.test_repo_config_file import _load


def _is_number(annotation: Any) -> bool:
    if isinstance(annotation, UnionType):  # `int | None`: a number that may be left out
        return any(_is_number(a) for a in get_args(annotation))
    return annotation in (int, float)


def _number_settings() -> list[tuple[str, str]]:
    """(section, setting) for every number setting of every section, those added later too."""
    out = []
    for section, field in RepoConfig.model_fields.items():
        model = field.annotation
        if isinstance(model, type) and issubclass(model, Strict):
            out += [(section, n) for n, f in model.model_fields.items() if _is_number(f.annotation)]
    return out


def test_the_settings_the_review_named_are_among_the_numbers() -> None:
    named = {("digest", "pinned_issue"), ("triage", "threshold"), ("digest", "weekday")}
    assert named | {("lifecycle", "days_until_ping")} <= set(_number_settings())


@pytest.mark.parametrize("section,setting", _number_settings())
@pytest.mark.parametrize("word", ["yes", "no", "on", "true", "false"])
def test_a_boolean_for_a_number_setting_is_refused_by_name(
    section: str, setting: str, word: str
) -> None:
    with pytest.raises(ConfigError, match=rf"{section}\.{setting}: .*expected a number, not"):
        parse_config(f"{section}:\n  {setting}: {word}\n")


def test_a_boolean_ranking_weight_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match=r"digest\.weights\.security: .*expected a number"):
        parse_config("digest:\n  weights: {security: on}\n")


def test_numbers_and_switches_still_read() -> None:
    cfg = parse_config(
        "triage:\n  enabled: no\n  threshold: 1\n"
        "digest:\n  pinned_issue: 7\n  weekday: 0\n  weights: {security: 2}\n"
    )
    assert cfg.triage.enabled is False and cfg.triage.threshold == 1.0
    assert cfg.digest.pinned_issue == 7 and cfg.digest.weekday == 0
    assert cfg.digest.weights == {"security": 2.0}


def test_pinned_issue_yes_keeps_the_last_good_config_and_reports_it(world: Any) -> None:
    state, ctx = world
    state.put_file(REPO, CONFIG, "digest:\n  top: 5\n")
    assert _load(state, ctx).digest.top == 5
    state.put_file(REPO, CONFIG, "digest:\n  top: 5\n  pinned_issue: yes   # pin the digest\n")
    cfg = _load(state, ctx)
    assert cfg.digest.pinned_issue is None and cfg.digest.top == 5  # the last good one
    (report,) = error_issues(state)
    assert "digest.pinned_issue" in report.body and "expected a number" in report.body
