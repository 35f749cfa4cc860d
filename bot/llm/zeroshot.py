"""Labels from a generative model when the classifier is unsure or untrained (the `triage_kind` prompt)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, field_validator

from bot.core.escalation import LARGE_ASKED, Route
from bot.llm import generate
from bot.llm.api import Answer, Classification, GenerationFailed, ModelRecord, ModelUnavailable
from bot.llm.backends import LabelScorer
from bot.llm.prompts import load_prompt
from bot.llm.records import text_hash

if TYPE_CHECKING:
    from bot.llm.layer import ModelLayer

log = logging.getLogger(__name__)

PROMPT = "triage_kind"
# The 0.5B model zero-shot was right on about 47 % of issues (DESIGN.md): its label is never
# trusted more than that, so on its own it never clears a triage threshold.
LOCAL_ZERO_SHOT_CAP = 0.47
TEXT_CHARS = 4000
# Where the runtime gives logits (llama), the label is read from them instead: the probability of each
# label's first token after the prompt plus the start of the answer, normalised over the labels.
ANSWER_PREFIX = '{"label": "'
# That probability is overconfident (bench/models.py --zeroshot 60, Qwen 0.5B: labels given 0.5-0.7
# were right 44 % of the time, 0.7-0.9 67 %, 48 % overall): the confidence shrinks it toward chance.
LOGIT_SHRINK = 0.6
# Whether a label the large model is sure of is learned (a training example of the scope): not
# in an offline `smolbot triage`, whose input may be a held-out set (context-local: a worker's
# other threads learn as ever).
_LEARNING: ContextVar[bool] = ContextVar("zeroshot_learning", default=True)
# The issue a label is asked for (its number), when the caller says: learned with its example.
_ISSUE: ContextVar[int | None] = ContextVar("zeroshot_issue", default=None)


@contextmanager
def not_learning() -> Iterator[None]:
    """Inside: the large model's labels are used, not learned."""
    token = _LEARNING.set(False)
    try:
        yield
    finally:
        _LEARNING.reset(token)


@contextmanager
def about_issue(number: int | None) -> Iterator[None]:
    """Inside: a label the large model is sure of is learned as issue `number`'s example (one
    example per issue, whatever its text was then: Records.learn)."""
    token = _ISSUE.set(number)
    try:
        yield
    finally:
        _ISSUE.reset(token)


def logit_confidence(probability: float, n_labels: int) -> float:
    """The confidence of a label the logits gave `probability`: chance + LOGIT_SHRINK x the margin."""
    chance = 1.0 / max(n_labels, 1)
    return round(chance + LOGIT_SHRINK * (probability - chance), 4)


class LabelAnswer(BaseModel):
    label: str

    @field_validator("label")
    @classmethod
    def _clean(cls, v: str) -> str:
        return v.strip().strip("`'\"").lower()


def prompt_version(prompts_dir: Path | None = None) -> str:
    return load_prompt(PROMPT, prompts_dir).version


def _request(task: str, text: str, labels: Sequence[str], layer: ModelLayer) -> generate.Request:
    p = load_prompt(PROMPT, layer.prompts_dir)
    variables = {"labels": ", ".join(labels), "issue": text[:TEXT_CHARS]}
    return generate.Request(
        task, p.render(variables), variables, p.spec.max_tokens, p.spec.temperature, p.spec.samples
    )


def _as_classification(
    value: LabelAnswer | None, labels: Sequence[str], conf: float
) -> Classification | None:
    if value is None:
        return None
    match = {lb.lower(): lb for lb in labels}.get(value.label)
    if match is None:
        return None
    rest = (1.0 - conf) / max(len(labels) - 1, 1)
    return Classification(
        label=match, probabilities={lb: conf if lb == match else rest for lb in labels}
    )


def scored_label(
    layer: ModelLayer, req: generate.Request, labels: Sequence[str]
) -> tuple[Classification | None, float, ModelRecord]:
    """The label with the highest probability from the logits (cached like any answer)."""
    backend = layer.local
    assert isinstance(backend, LabelScorer)
    started = time.perf_counter()
    r = req.rendered
    rec = ModelRecord(req.task, backend.name, backend.model_name, r.version, 0.0, False, 0.0)
    rec.note = "label probabilities from logits"
    key = text_hash(
        req.task,
        r.version,
        backend.name,
        backend.model_id,
        ANSWER_PREFIX,
        r.system,
        r.user,
        *labels,
    )
    hit = layer.records.cache_get(key)
    if hit is not None:
        value = Classification.model_validate(hit[0])
        rec.backend, rec.cache_hit, rec.note = "cache", True, f"cached answer of {backend.name}"
    else:
        probs, rec.tokens_in = backend.label_probabilities(r.system, r.user, ANSWER_PREFIX, labels)
        best = max(probs, key=lambda k: probs[k])
        value = Classification(label=best, probabilities={k: round(v, 4) for k, v in probs.items()})
        layer.records.cache_put(
            key, req.task, r.version, backend.model_name, value.model_dump(), 0.0
        )
    conf = logit_confidence(value.probabilities[value.label], len(labels))
    rec.confidence = conf
    rec.latency_ms = round((time.perf_counter() - started) * 1000, 1)
    return value, conf, rec


def _local_label(
    layer: ModelLayer, req: generate.Request, labels: Sequence[str]
) -> tuple[Classification | None, float, ModelRecord]:
    """The local model's label: from the logits where the runtime gives them, else generated."""
    if isinstance(layer.local, LabelScorer):
        return scored_label(layer, req, labels)
    out = layer._try_local(req, LabelAnswer)
    conf = min(out.confidence, LOCAL_ZERO_SHOT_CAP)
    out.record.confidence = conf
    return _as_classification(out.value, labels, conf), conf, out.record


def local_reach(layer: ModelLayer, labels: Sequence[str]) -> float:
    """The most confidence the local model's label can get: LOCAL_ZERO_SHOT_CAP when generated;
    read from the logits, that of a label given probability 1."""
    if isinstance(layer.local, LabelScorer):
        return logit_confidence(1.0, len(labels))
    return LOCAL_ZERO_SHOT_CAP


def _not_worth_asking(
    layer: ModelLayer, labels: Sequence[str], allow_escalation: bool, threshold: float
) -> str | None:
    """Why the local model is not asked for a label, or None when it is: its answer cannot clear
    `threshold`, and no large model will be asked after it, so it could not change the decision.
    Before any backfill and without a large model, every issue waited 15-35 s (88 s for a 1 MB
    body) for a label that was then set aside as unsure."""
    top = local_reach(layer, labels)
    no_large = layer._why_not_large(allow_escalation, threshold) if threshold > top else None
    if no_large is None:
        return None
    return (
        f"local zero-shot not asked: its answer is capped at {top:.2f}, under the threshold"
        f" {threshold:.2f}, and {no_large}"
    )


def _no_label(layer: ModelLayer, req: generate.Request, err: Exception) -> ModelRecord:
    local = layer.local
    rec = ModelRecord(req.task, local.name, local.model_name, req.rendered.version, 0.0, False, 0.0)
    unusable = isinstance(err, ModelUnavailable)
    rec.note = f"local model unavailable: {err}" if unusable else str(err)
    return rec


def large_not_used(final: ModelRecord, large: ModelRecord) -> None:
    """Say on the final record (the one the audit shows) that the large model was asked and why
    its answer was not used: without it an HTTP 500 read as if it had never been asked."""
    final.escalated = True
    final.add_note(f"{LARGE_ASKED}{large.note or 'no answer'}")


def classify_with(
    layer: ModelLayer,
    where: Route,
    first: Answer[Classification],
    task: str,
    scope: str,
    text: str,
    labels: Sequence[str],
    call_id: str,
    allow_escalation: bool,
    threshold: float,
) -> Answer[Classification]:
    """Follow the escalation route for a label: local zero-shot at cold start (unless its answer
    could not change the decision: _not_worth_asking), then the large model."""
    attempts = list(first.attempts)
    best = first
    if where is Route.LOCAL and (
        why := _not_worth_asking(layer, labels, allow_escalation, threshold)
    ):
        best.record.add_note(why)  # the final record: the audit and `smolbot triage`'s note say it
        where = Route.CAUTIOUS
    if where is Route.LOCAL:
        req = _request(task, text, labels, layer)
        try:
            value, conf, rec = _local_label(layer, req, labels)
        except (ModelUnavailable, GenerationFailed) as err:  # would not load; too long a text
            log.warning("local model gave no label: %s", err)
            value, conf, rec = None, 0.0, _no_label(layer, req, err)
        attempts.append(rec)
        if value is not None:
            best = Answer(value, conf, rec, "ok", attempts)
        where = Route.LARGE if layer._large_ready(allow_escalation, threshold) else Route.CAUTIOUS
        if best.confidence >= threshold:
            return layer._done(best, call_id, scope)
    if where is Route.LARGE:
        out = layer._try_large(_request(task, text, labels, layer), LabelAnswer)
        attempts.append(out.record)
        value = _as_classification(out.value, labels, out.confidence)
        if out.value is not None and value is None:  # validated, but no label it may use
            why = f"label {out.value.label!r} is not in the allowed list"
            out.record.confidence = 0.0
            out.record.add_note(why)
        if value is not None and out.confidence >= threshold:
            if _LEARNING.get():
                layer.learn(scope, text, value.label, source="large", issue=_ISSUE.get())
            else:
                out.record.add_note("not learned")
            ans = Answer(value, out.confidence, out.record, "escalated", attempts)
            return layer._done(ans, call_id, scope)
        if value is not None:  # unsure too: not acted on, and not learned from
            before = best.confidence if best.value is not None else None
            generate.unsure(out.record, before, out.confidence, threshold)
            ans = Answer(value, out.confidence, out.record, "not_escalated", attempts)
            return layer._done(ans, call_id, scope)
    if where is Route.CAUTIOUS:  # the large model not asked: say so when only the bar kept it out
        layer._beyond_reach(best.record, threshold, allow_escalation)
    elif where is Route.LARGE:  # asked, and it failed or answered outside the list: say so
        large_not_used(best.record, attempts[-1])
    status: Literal["not_escalated", "no_answer"] = (
        "not_escalated" if best.value is not None else "no_answer"
    )
    return layer._done(
        Answer(best.value, best.confidence, best.record, status, attempts), call_id, scope
    )
