"""The model layer's contract: typed answers with a confidence and a record of how they were made."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel

T = TypeVar("T", bound=BaseModel)


@dataclass
class ModelRecord:
    """How one answer was made: goes to the audit log and the model_calls table."""

    task: str
    backend: str  # "gpt4all" | "llama" | "openai" | "anthropic" | "classifier" | "cache" | "none"
    model: str
    prompt_version: str
    confidence: float
    escalated: bool
    latency_ms: float
    tokens_in: int = 0
    tokens_out: int = 0
    cache_hit: bool = False
    note: str = ""

    def add_note(self, more: str) -> None:
        """One more thing the audit should know about this call, after what the note says."""
        self.note = f"{self.note}; {more}".lstrip("; ")

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Answer(Generic[T]):
    """A validated answer, or value=None when no model gave one that validated."""

    value: T | None
    confidence: float
    record: ModelRecord
    status: Literal["ok", "escalated", "not_escalated", "no_answer"] = "ok"
    attempts: list[ModelRecord] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.value is not None and self.status in ("ok", "escalated")


class GenerationFailed(Exception):
    """A source could not produce any text (transport error, timeout, a prompt longer than its
    context); message in one line. The layer records it and does not retry that source."""


class PromptTooLong(GenerationFailed):
    """The prompt does not fit the model's context window (`tokens` None: the runtime did not say
    how many it had, only that there were more than `context` - `reserve`)."""

    def __init__(self, tokens: int | None, context: int, reserve: int = 0) -> None:
        size = f"{tokens}" if tokens is not None else f"more than {context - reserve}"
        super().__init__(
            f"prompt is {size} tokens, the context is {context}; shorten the input or raise"
            " SMOLBOT_MODEL_CONTEXT"
        )
        self.tokens, self.context = tokens, context


class ModelUnavailable(Exception):
    """The local model file is missing or broken. The message says which command fixes it."""


class Classification(BaseModel):
    """A label chosen from a fixed list, with the probability of every label in that list."""

    label: str
    probabilities: dict[str, float] = {}


class PromptError(ValueError):
    """A prompt file is malformed, or a variable it needs was not given."""


class UnknownBackend(ValueError):
    """No model backend is registered under the requested name."""


class Stopped(Exception):
    """The caller gave up a generation it no longer wants (`stop_when`): no answer, and nothing
    recorded, cached or escalated for it (not a failure of the model)."""


_STOP: ContextVar[Callable[[], bool] | None] = ContextVar("smolbot_stop", default=None)


@contextlib.contextmanager
def stop_when(check: Callable[[], bool]) -> Iterator[None]:
    """Local generations started inside ask `check()` about once a second while they run, and
    end with Stopped when it says so (a commit draft of what is no longer staged)."""
    token = _STOP.set(check)
    try:
        yield
    finally:
        _STOP.reset(token)


def stop_check() -> Callable[[], bool] | None:
    return _STOP.get()
