"""The escalation rule: given a confidence and what is available, where an answer comes from."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Route(StrEnum):
    ACCEPT = "accept"  # the first stage is sure enough: use its answer
    LOCAL = "local"  # no usable first stage (cold start): ask the local model
    LARGE = "large"  # unsure: ask the large model
    CAUTIOUS = "cautious"  # unsure and no large model (none, over budget, or not allowed)


@dataclass(frozen=True)
class Situation:
    """Everything the rule looks at; built by the model layer, no I/O here."""

    confidence: float | None  # None: the first stage gave no answer at all
    threshold: float
    large_configured: bool
    budget_left: int
    allow_escalation: bool = True
    local_available: bool = False  # a local model that has not been tried yet


def large_usable(s: Situation) -> bool:
    return s.allow_escalation and s.large_configured and s.budget_left > 0


def route(s: Situation) -> Route:
    """Accept a sure answer; otherwise try the cheapest better source, else be cautious."""
    if s.confidence is not None and s.confidence >= s.threshold:
        return Route.ACCEPT
    if s.confidence is None and s.local_available:
        return Route.LOCAL
    if large_usable(s):
        return Route.LARGE
    return Route.CAUTIOUS


# How the model layer's note begins when it asked the large model and did not use the answer
# (bot.llm.zeroshot.large_not_used): an error, or a label outside the list. Policy tells that
# failure from an unsure answer by it.
LARGE_ASKED = "large model asked: "
