"""Turn model text into a validated pydantic value: extract the JSON object, repair trivia, validate."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

T = TypeVar("T", bound=BaseModel)

FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)
TRAILING_COMMA = re.compile(r",\s*([}\]])")
PY_LITERALS = {r"\bTrue\b": "true", r"\bFalse\b": "false", r"\bNone\b": "null"}


@dataclass
class Parsed(Generic[T]):
    value: T | None
    repaired: bool = False  # the text was not clean JSON but was fixed
    error: str = ""


def first_object(text: str) -> str | None:
    """The first balanced {...} in text, ignoring braces inside strings."""
    start = text.find("{")
    while start != -1:
        depth, in_str, esc = 0, False, False
        for i in range(start, len(text)):
            c = text[i]
            if in_str:
                esc = (c == "\\") and not esc
                if c == '"' and not esc:
                    in_str = False
                continue
            if c == '"':
                in_str = True
            elif c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    return text[start : i + 1]
        # unbalanced: close what is open (a generation cut off by max_tokens)
        tail = text[start:]
        if in_str:
            tail += '"'
        return tail + "}" * depth
    return None


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        fixed = TRAILING_COMMA.sub(r"\1", text)
        for pat, rep in PY_LITERALS.items():
            fixed = re.sub(pat, rep, fixed)
        return json.loads(fixed)


def candidates(text: str) -> list[tuple[str, bool]]:
    out = [(text.strip(), False)]
    out += [(m.strip(), True) for m in FENCE.findall(text)]
    obj = first_object(text)
    if obj is not None:
        out.append((obj, True))
    return out


def parse_answer(text: str, schema: type[T], *, cut_off: bool = False) -> Parsed[T]:
    """Validate text against schema, repairing when it is JSON inside prose or slightly broken.

    `cut_off`: the generation stopped at its token limit. Then only a whole, clean JSON object
    counts: a repair would close what was cut and pass half an answer off as a whole one."""
    error = "no JSON object in the answer"
    for candidate, repaired in candidates(text) if not cut_off else [(text.strip(), False)]:
        try:
            data = _loads(candidate)
        except (json.JSONDecodeError, ValueError) as err:
            error = f"not JSON: {err}"
            continue
        if not isinstance(data, dict):
            error = "the answer is not a JSON object"
            continue
        try:
            return Parsed(schema.model_validate(data), repaired=repaired)
        except ValidationError as err:
            e = err.errors()[0]
            error = f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
    return Parsed(None, error=error)
