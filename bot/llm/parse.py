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
# a JSON string (an unclosed one runs to the end): the repairs never reach inside one
JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*(?:"|\\?$)', re.DOTALL)


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


def _fix_between_strings(text: str) -> str:
    """A trailing comma dropped and Python's True, False and None spelled as JSON's, outside
    string values only: a comment's "None of these" or "(a, )" keeps its words."""
    out, at = [], 0
    for m in JSON_STRING.finditer(text):
        out += [_fix(text[at : m.start()]), m.group(0)]
        at = m.end()
    out.append(_fix(text[at:]))
    return "".join(out)


def _fix(between: str) -> str:
    fixed = TRAILING_COMMA.sub(r"\1", between)
    for pat, rep in PY_LITERALS.items():
        fixed = re.sub(pat, rep, fixed)
    return fixed


def _loads(text: str) -> tuple[Any, bool]:
    """The JSON value of text, and whether it had to be fixed first (a trailing comma, a
    Python literal) to be read."""
    try:
        return json.loads(text), False
    except json.JSONDecodeError:
        fixed = _fix_between_strings(text)
        if fixed == text:
            raise
        return json.loads(fixed), True


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
    counts: a repair would close what was cut and pass half an answer off as a whole one.
    An answer with nothing in it (`{}` for a schema whose fields all have defaults) is refused."""
    error = "no JSON object in the answer"
    for candidate, extracted in candidates(text) if not cut_off else [(text.strip(), False)]:
        try:
            data, fixed = _loads(candidate)
        except (ValueError, RecursionError) as err:  # nested past the parser's depth: no answer
            error = f"not JSON: {err}"
            continue
        if not isinstance(data, dict):
            error = "the answer is not a JSON object"
            continue
        try:
            value = schema.model_validate(data)
        except ValidationError as err:
            e = err.errors()[0]
            error = f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            continue
        if not has_content(value.model_dump()):
            error = "the answer is empty: every field is blank"
            continue
        return Parsed(value, repaired=extracted or fixed)
    return Parsed(None, error=error)


def has_content(data: Any) -> bool:
    """Whether a value says anything: a non-blank string, a number or a boolean somewhere in it.

    A schema whose fields all have defaults (a summary's lists) validates `{}`, but an answer that
    says nothing is no answer: it would be trusted at its source's full confidence and cached."""
    if isinstance(data, str):
        return bool(data.strip())
    if isinstance(data, bool | int | float):
        return True
    if isinstance(data, dict):
        return any(has_content(v) for v in data.values())
    if isinstance(data, list | tuple):
        return any(has_content(v) for v in data)
    return False
