"""Two kinds mapped to one label in `triage.label_map` is a config error naming both kinds and
the label: accepted, that label named no kind (kind_for_labels gave None), so an issue a
maintainer labelled with it taught the classifier nothing, and nothing said why. Labels are
compared as the bot compares them (canon: case and separators aside)."""

from __future__ import annotations

import pytest

from bot.core.config import ConfigError, Kind, parse_config
from bot.core.labels import kind_for_labels


@pytest.mark.parametrize(
    "label_map,said",
    [
        (
            "{question: support, documentation: support}",
            r"question and documentation are both mapped to the label 'support'",
        ),
        (
            "{bug: 'type: bug', feature: Type-Bug}",
            r"bug and feature are both mapped to 'type: bug' and 'Type-Bug', one label as"
            r" smolbot compares labels",
        ),
    ],
    ids=["same", "same-as-compared"],
)
def test_two_kinds_mapped_to_one_label_is_a_config_error(label_map: str, said: str) -> None:
    with pytest.raises(ConfigError, match=rf"triage\.label_map: .*{said}: a label stands for"):
        parse_config(f"triage:\n  label_map: {label_map}\n")


def test_a_label_per_kind_still_reads_and_names_its_kind() -> None:
    cfg = parse_config("triage:\n  label_map: {question: support, documentation: docs}\n")
    assert kind_for_labels(["Support"], cfg) is Kind.QUESTION
    assert kind_for_labels(["docs"], cfg) is Kind.DOCUMENTATION
