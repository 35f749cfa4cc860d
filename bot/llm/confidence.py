"""Confidence of generated answers, from signals we can check (the model's own claims are not one).

confidence = prior(source) x validity x grounding x agreement, each in [0, 1]:
- prior: how far a valid answer from this source is trusted (local 0.5B model 0.8, large model 0.95);
- validity: 1.0 clean JSON that validated at once, 0.85 after repair (JSON cut out of prose, trailing
  commas), 0.7 after a retry;
- grounding: 1.0 when every link, #number and @mention in the answer's text also appears in the input
  (bot.core.checks.check_text), else 0.3 — an invented reference is the commonest small-model failure;
- agreement (prompts with samples > 1): a second sample at temperature 0.7 is compared with the first;
  0.5 + 0.5 x similarity, so two answers that share nothing halve the confidence.
An answer below 0.5 therefore failed at least one check or was unstable; at 0.8 it passed them all.

Two more signals come from outside this module:
- evidence (ModelLayer.ask(check=...)): what the caller knows about an answer multiplies it; commit
  drafts use 0.5 + 0.5 x the share of similar past commits that used the drafted type
  (bot.commits.retrieval.type_check; bench/commits.py --part confidence);
- zero-shot labels on the llama backend come from the label tokens' probabilities in the logits,
  shrunk toward chance (bot.llm.zeroshot.logit_confidence; bench/models.py --zeroshot N).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from bot.core.checks import CROSS_REF, ISSUE_REF, MENTION, check_text, links

PRIOR = {"local": 0.8, "large": 0.95}
VALIDITY_CLEAN, VALIDITY_REPAIRED, VALIDITY_RETRIED = 1.0, 0.85, 0.7
UNGROUNDED = 0.3


def strings(value: Any) -> Iterable[str]:
    """Every string inside a (nested) JSON-like value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from strings(v)


def grounded(answer: BaseModel, variables: Mapping[str, str]) -> bool:
    """True when the answer references only links, numbers and people present in the input."""
    source = "\n".join(variables.values())
    text = "\n".join(strings(answer.model_dump()))
    if not text.strip():
        return True
    result = check_text(
        text,
        allowed_urls=links(source),
        allowed_numbers=[int(n) for n in ISSUE_REF.findall(source)],
        allowed_people=MENTION.findall(source),
        allowed_refs=CROSS_REF.findall(source),
        max_chars=max(len(text), 1),
    )
    return result.ok


def similarity(a: BaseModel, b: BaseModel) -> float:
    """0..1: how alike two answers' texts are (word sequences)."""
    wa = re.findall(r"\w+", " ".join(strings(a.model_dump())).lower())
    wb = re.findall(r"\w+", " ".join(strings(b.model_dump())).lower())
    if not wa and not wb:
        return 1.0
    return difflib.SequenceMatcher(None, wa, wb, autojunk=False).ratio()


def reach(source: str) -> float:
    """The most confidence an answer from `source` can get (a clean, grounded, stable one): its
    prior. A bar above it is one no answer of that source clears, so asking it is paid for nothing
    (a large-model call whose answer is then set aside as unsure)."""
    return round(min(max(PRIOR[source] * VALIDITY_CLEAN, 0.0), 1.0), 4)


def score(
    source: str,
    *,
    repaired: bool,
    retried: bool,
    is_grounded: bool,
    agreement: float | None = None,
) -> float:
    validity = VALIDITY_RETRIED if retried else VALIDITY_REPAIRED if repaired else VALIDITY_CLEAN
    conf = PRIOR[source] * validity * (1.0 if is_grounded else UNGROUNDED)
    if agreement is not None:
        conf *= 0.5 + 0.5 * agreement
    return round(min(max(conf, 0.0), 1.0), 4)
