"""Payload parsing: any bytes give a dict or BadPayload, never another exception."""

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.webhook.intake import BadPayload, describe, is_own_event, parse_body

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=30,
)


@given(st.binary(max_size=4096))
def test_random_bytes_parse_or_bad_payload(raw: bytes) -> None:
    with contextlib.suppress(BadPayload):
        assert isinstance(parse_body(raw), dict)


@given(st.dictionaries(st.text(), json_values))
def test_objects_parse_back(obj: dict) -> None:
    assert parse_body(json.dumps(obj).encode()) == obj


@given(
    st.dictionaries(
        st.sampled_from(["installation", "repository", "issue", "sender", "action"]), json_values
    )
)
def test_describe_tolerates_any_shape(payload: dict) -> None:
    d = describe("id-1", "issues", payload)
    assert d.id == "id-1" and d.event == "issues"
    assert d.installation_id is None or isinstance(d.installation_id, int)
    assert d.repo is None or isinstance(d.repo, str)


def test_deep_nesting_rejected_cheaply() -> None:
    with pytest.raises(BadPayload, match="nested deeper"):
        parse_body(b"[" * 100_000 + b"]" * 100_000)


def test_brackets_inside_strings_do_not_count() -> None:
    assert parse_body(json.dumps({"a": "[" * 1000}).encode()) == {"a": "[" * 1000}


def test_non_object_rejected() -> None:
    for raw in (b"[]", b"1", b'"x"', b"null"):
        with pytest.raises(BadPayload, match="JSON object"):
            parse_body(raw)


def test_own_events_recognised() -> None:
    d = describe("1", "issue_comment", {"sender": {"login": "smolbot[bot]", "type": "Bot"}})
    assert is_own_event(d, "smolbot[bot]")
    assert not is_own_event(
        describe("1", "x", {"sender": {"login": "alice", "type": "User"}}), "smolbot[bot]"
    )
