"""Signature verification: GitHub's documented vector, and properties over random inputs."""

from hypothesis import given
from hypothesis import strategies as st

from bot.webhook.signature import sign, verify

DOC_SECRET = b"It's a Secret to Everybody"
DOC_BODY = b"Hello, World!"
DOC_SIG = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_github_documented_vector() -> None:
    assert sign(DOC_SECRET, DOC_BODY) == DOC_SIG
    assert verify(DOC_SECRET, DOC_BODY, DOC_SIG)


def test_missing_or_malformed_headers_fail() -> None:
    for header in (None, "", "sha1=abc", DOC_SIG[7:], "sha256=", "sha256=zz", DOC_SIG.upper()):
        assert not verify(DOC_SECRET, DOC_BODY, header)


@given(st.binary(min_size=1, max_size=64), st.binary(max_size=2048))
def test_roundtrip(secret: bytes, body: bytes) -> None:
    assert verify(secret, body, sign(secret, body))


@given(st.binary(min_size=1, max_size=32), st.binary(min_size=1, max_size=512), st.data())
def test_any_single_bit_flip_in_body_fails(secret: bytes, body: bytes, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(body) - 1))
    bit = data.draw(st.integers(0, 7))
    flipped = body[:i] + bytes([body[i] ^ (1 << bit)]) + body[i + 1 :]
    assert not verify(secret, flipped, sign(secret, body))


@given(
    st.binary(min_size=1, max_size=32), st.binary(min_size=1, max_size=32), st.binary(max_size=256)
)
def test_other_secret_fails(a: bytes, b: bytes, body: bytes) -> None:
    if a != b:
        assert not verify(b, body, sign(a, body))


@given(st.text(max_size=100))
def test_arbitrary_header_text_never_raises(header: str) -> None:
    assert verify(DOC_SECRET, DOC_BODY, header) == (header.strip() == DOC_SIG)
