"""The nesting guard in front of json.loads, against a plain reference scan."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.webhook.intake import MAX_DEPTH, _depth_ok
from tests.triage.test_review_slow_patterns import _finishes


def reference_depth(raw: bytes) -> int:
    """Byte at a time: the deepest bracket nesting outside strings."""
    depth = deepest = 0
    in_str = esc = False
    for b in raw:
        if in_str:
            if esc:
                esc = False
            elif b == 0x5C:
                esc = True
            elif b == 0x22:
                in_str = False
        elif b == 0x22:
            in_str = True
        elif b in (0x7B, 0x5B):
            depth += 1
            deepest = max(deepest, depth)
        elif b in (0x7D, 0x5D):
            depth -= 1
    return deepest


def nest(value: Any, levels: int) -> Any:
    for i in range(levels):
        value = [value] if i % 2 else {'k[{\\"': value}
    return value


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='ab"\\[]{}\n'),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=20,
)


@given(JSON, st.integers(min_value=0, max_value=90))
def test_agrees_with_the_reference_scan(value: Any, levels: int) -> None:
    raw = json.dumps(nest(value, levels)).encode()
    assert _depth_ok(raw) == (reference_depth(raw) <= MAX_DEPTH)


def test_the_limit_itself() -> None:
    assert _depth_ok(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH)
    assert not _depth_ok(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
    # brackets inside strings, escaped quotes included, do not count
    assert _depth_ok(json.dumps(["[" * 500, '"{' * 300]).encode())


@given(JSON, st.integers(min_value=0, max_value=90), st.integers(min_value=0))
def test_a_cut_body_agrees_with_the_reference_scan(value: Any, levels: int, cut: int) -> None:
    """Cut anywhere (inside a string, after a lone backslash): a string left open runs to the
    end, as the reference scan reads it."""
    raw = json.dumps(nest(value, levels)).encode()
    raw = raw[: cut % (len(raw) + 1)]
    assert _depth_ok(raw) == (reference_depth(raw) <= MAX_DEPTH)


def test_an_open_string_of_escaped_quotes_is_read_in_one_pass() -> None:
    """Deep enough to be scanned, then a string never closed, of escaped quotes (and a last lone
    backslash): each quote started a scan to the end (6 s for 40 KB, on the event loop); 2 MB
    must take well under a minute. In a fresh interpreter: a regular expression holds the GIL."""
    code = (
        "from bot.webhook.intake import MAX_DEPTH, _depth_ok\n"
        "raw = b'{' * (MAX_DEPTH + 1) + b'\"' + b'\\\\\"' * 1_000_000\n"
        "assert not _depth_ok(raw) and not _depth_ok(raw + b'\\\\')\n"
    )
    assert _finishes(code)
