"""One source's attempt at a typed answer: cache lookup, generation, repair, bounded retry, confidence."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel

from bot.llm import confidence
from bot.llm.api import GenerationFailed, ModelRecord
from bot.llm.backends import Generation
from bot.llm.parse import Parsed, parse_answer
from bot.llm.prompts import Rendered
from bot.llm.records import Records, text_hash

T = TypeVar("T", bound=BaseModel)
GenerateFn = Callable[[str, str, int, float], Generation]  # system, user, max_tokens, temperature

RETRY_NOTE = (
    "\n\nYour previous answer could not be used ({error}). "
    "Reply again with one JSON object only, no other text."
)
AGREEMENT_TEMPERATURE = 0.7


@dataclass
class Request:
    task: str
    rendered: Rendered
    variables: Mapping[str, str]
    max_tokens: int
    temperature: float
    samples: int = 1
    retries: int = 1  # at most 2: repair first, then a bounded number of fresh tries


@dataclass
class Outcome(Generic[T]):
    value: T | None
    confidence: float
    record: ModelRecord
    error: str = ""


def cache_key(req: Request, backend: str, identity: str, schema: type[BaseModel]) -> str:
    """Task, prompt version, runtime and model, schema, input and sampling: the same file under
    another runtime (gpt4all, llama with a grammar) answers differently, so it is another entry.

    `identity` says which model exactly: the local file's name and fingerprint (another file under
    the same name is another model), or the large model's name and endpoint."""
    schema_id = json.dumps(schema.model_json_schema(), sort_keys=True)
    r = req.rendered
    return text_hash(
        req.task,
        r.version,
        backend,
        identity,
        schema_id,
        r.system,
        r.user,
        str(req.max_tokens),
        repr(req.temperature),
        str(req.samples),
    )


def run(
    records: Records,
    source: str,  # "local" | "large": picks the confidence prior
    backend: str,
    model: str,
    fn: GenerateFn,
    req: Request,
    schema: type[T],
    escalated: bool = False,
    identity: str = "",
) -> Outcome[T]:
    """Answer from cache, else generate (retrying while the output does not validate) and cache it.

    `model` is the name recorded; `identity` (default: `model`) the one the cache tells apart."""
    started = time.perf_counter()
    rec = ModelRecord(req.task, backend, model, req.rendered.version, 0.0, escalated, 0.0)
    key = cache_key(req, backend, identity or model, schema)
    hit = records.cache_get(key)
    if hit is not None:
        rec.backend, rec.cache_hit, rec.confidence = "cache", True, hit[1]
        rec.note = f"cached answer of {backend}"
        rec.latency_ms = _ms(started)
        return Outcome(schema.model_validate(hit[0]), hit[1], rec)
    try:
        parsed, retried = _generate_valid(fn, req, schema, rec)
        agreement = _agreement(fn, req, schema, rec, parsed) if source == "local" else None
    except GenerationFailed as err:
        rec.note, rec.latency_ms = str(err), _ms(started)
        return Outcome(None, 0.0, rec, error=str(err))
    rec.latency_ms = _ms(started)
    if parsed.value is None:
        rec.note = f"no valid answer: {parsed.error}"
        return Outcome(None, 0.0, rec, error=parsed.error)
    conf = confidence.score(
        source,
        repaired=parsed.repaired,
        retried=retried,
        is_grounded=confidence.grounded(parsed.value, req.variables),
        agreement=agreement,
    )
    rec.confidence = conf
    records.cache_put(key, req.task, req.rendered.version, model, parsed.value.model_dump(), conf)
    return Outcome(parsed.value, conf, rec)


def unsure(rec: ModelRecord, first: float | None, large: float, bar: float) -> None:
    """Note on the large model's record that its answer was under the bar too (not acted on)."""
    before = f" and the first answer's {first:.2f} are" if first is not None else " is"
    why = f"unsure: the large model's {large:.2f}{before} under {bar:.2f}"
    rec.add_note(why)


def _generate_valid(
    fn: GenerateFn, req: Request, schema: type[T], rec: ModelRecord
) -> tuple[Parsed[T], bool]:
    user = req.rendered.user
    parsed: Parsed[T] = Parsed(None, error="not tried")
    for attempt in range(1 + min(req.retries, 2)):
        temperature = req.temperature if attempt == 0 else max(req.temperature, 0.5)
        try:
            gen = fn(req.rendered.system, user, req.max_tokens, temperature)
        except GenerationFailed as err:
            if attempt == 0:
                raise
            # the retry's failure (the day's budget spent, a timeout) is not why there is no
            # answer: the answer before it did not validate, and the record says so first
            raise GenerationFailed(f"no valid answer: {parsed.error} (retry: {err})") from None
        rec.tokens_in += gen.tokens_in
        rec.tokens_out += gen.tokens_out
        parsed = _parse(gen, req, schema)
        if parsed.value is not None:
            if gen.mean_logprob is not None:  # recorded to be measured; not (yet) in the confidence
                rec.note = f"mean token logprob {gen.mean_logprob:.3f}"
            return parsed, attempt > 0
        user = req.rendered.user + RETRY_NOTE.format(error=parsed.error[:200])
    return parsed, True


def _parse(gen: Generation, req: Request, schema: type[T]) -> Parsed[T]:
    """The answer, unless the generation was cut off at its token limit before it was whole."""
    cut_off = gen.truncated or gen.tokens_out >= req.max_tokens
    parsed = parse_answer(gen.text, schema, cut_off=cut_off)
    if cut_off and parsed.value is None:
        parsed.error = f"the answer was cut off at {gen.tokens_out} tokens; write a shorter one"
    return parsed


def _agreement(
    fn: GenerateFn, req: Request, schema: type[T], rec: ModelRecord, first: Parsed[T]
) -> float | None:
    if req.samples < 2 or first.value is None:
        return None
    gen = fn(req.rendered.system, req.rendered.user, req.max_tokens, AGREEMENT_TEMPERATURE)
    rec.tokens_in += gen.tokens_in
    rec.tokens_out += gen.tokens_out
    second = _parse(gen, req, schema)
    if second.value is None:
        return 0.0
    return confidence.similarity(first.value, second.value)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


__all__ = ["GenerateFn", "GenerationFailed", "Outcome", "Request", "cache_key", "run", "unsure"]
