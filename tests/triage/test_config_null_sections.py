"""A setting left empty in .github/smolbot.yml (`key:` with nothing after it, or a section whose
only child is commented out: YAML's null) means its default, as if left out. It used to be
refused ("Input should be a valid dictionary", "... a valid tuple"): the whole file was dropped,
its other settings (`exempt_labels: [security]`) ignored, and a config-error issue opened about
a valid file. A value of the wrong type, or an unknown key left empty, is still refused with the
setting named."""

from __future__ import annotations

import pytest

from bot.core.config import ConfigError, RepoConfig, default_config, parse_config
from bot.jobs.repo_config import CONFIG_PATH, load_repo_config
from bot.store import Store
from tests.triage.fakes import FakeRepoHost

DEFAULTS = default_config()


@pytest.mark.parametrize(
    "text",
    [
        "summaries:\n  # auto_after_comments: 30\n",
        "triage:\n  # duplicates: false\n",
        "lifecycle:\n",
        "digest:\n",
        "exempt_labels:\n",
        "triage:\n  label_map:\n",
        "triage:\n  duplicate_threshold:\n",
        "triage:\n  threshold:\n",
        "lifecycle:\n  exempt_labels:\n  only_labels:\n  days_until_ping:\n  start_date:\n",
        "digest:\n  weights:\n  pinned_issue:\n  hour:\n",
        "dry_run:\n",
    ],
)
def test_an_empty_setting_means_its_default(text: str) -> None:
    cfg = parse_config(text)
    assert cfg.model_dump() == DEFAULTS.model_dump() and cfg.from_file


def test_the_file_s_other_settings_are_kept_beside_an_empty_one() -> None:
    text = (
        "exempt_labels: [security]\n"
        "summaries:\n"
        "  # auto_after_comments: 30\n"
        "triage:\n"
        "  label_map:\n"
        "  duplicate_threshold:\n"
        "lifecycle:\n"
        "  close: true\n"
        "  only_labels:\n"
    )
    cfg = parse_config(text)
    assert cfg.exempt_labels == ("security",) and cfg.lifecycle.close
    assert cfg.summaries == DEFAULTS.summaries
    assert cfg.triage.label_map == {} and cfg.triage.duplicate_threshold == 0.45
    assert cfg.lifecycle.only_labels == () and cfg.lifecycle.exempt_labels == (
        DEFAULTS.lifecycle.exempt_labels
    )


def test_an_empty_list_written_as_one_still_empties_it() -> None:
    assert parse_config("lifecycle:\n  exempt_labels: []\n").lifecycle.exempt_labels == ()


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("triage: 3\n", "triage"),
        ("summaries: []\n", "summaries"),
        ("exempt_labels: pinned\n", "exempt_labels"),
        ("triage:\n  duplicate_threshold: high\n", "triage.duplicate_threshold"),
        ("triage:\n  label_map: [bug]\n", "triage.label_map"),
        ("triage:\n  label_map:\n    bug:\n", "triage.label_map.bug"),  # a label name: needed
        ("exempt_labels:\n  - security\n  -\n", "exempt_labels.1"),  # `-` with no name
        ("digest:\n  weights:\n    reactions:\n", "digest.weights.reactions"),
        ("triage:\n  treshold:\n", "triage.treshold"),  # a typo, even left empty
        ("tirage:\n", "tirage"),
    ],
)
def test_a_wrong_type_or_an_unknown_key_is_still_refused_with_the_setting_named(
    text: str, named: str
) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(text)
    assert f"{named}: " in str(err.value)


def test_an_empty_section_opens_no_config_error_issue(store: Store) -> None:
    host = FakeRepoHost(repo="octo/app")
    host.files[CONFIG_PATH] = "exempt_labels: [security]\nsummaries:\n  # enabled: false\n"

    cfg = load_repo_config(store, host, host.repo, bot_login=host.bot)

    assert isinstance(cfg, RepoConfig) and cfg.exempt_labels == ("security",)
    assert host.writes == [] and host.issues == {}
