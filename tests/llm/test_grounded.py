"""An answer is grounded when every link, issue, other repository's issue and person it names was in its input."""

from __future__ import annotations

from pydantic import BaseModel

from bot.llm.confidence import grounded


class Said(BaseModel):
    text: str


def test_an_answer_may_name_only_what_its_input_named() -> None:
    source = {"thread": "@ana reported it; same as octo/lib#12 and #7, see https://x.org/a"}
    assert grounded(Said(text="As @ana said, octo/lib#12 and #7 (https://x.org/a)."), source)
    for invented in (
        "octo/lib#13",
        "other/lib#12",
        "#8",
        "GH-9",
        "@bo",
        "_@bo_",
        "https://x.org/b",
    ):
        assert not grounded(Said(text=f"Also {invented}."), source), invented
