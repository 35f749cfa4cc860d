"""JobContext: the collaborators every job receives (settings, store, GitHub, models, clock)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from bot.llm.api import Answer
from bot.ports import GitHubHost
from bot.settings import Settings
from bot.store import Store


class ModelLayer(Protocol):
    """The part of the model layer (bot.llm.get_model_layer) that jobs call."""

    def classify(
        self, task: str, scope: str, text: str, labels: list[str]
    ) -> Answer[Any]: ...  # value: Classification(label, probabilities)

    def learn(self, scope: str, text: str, label: str, source: str) -> Any: ...

    def ask(
        self, task: str, prompt: str, variables: dict[str, str], schema: Any
    ) -> Answer[Any]: ...


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class JobContext:
    """Passed to every job; tests build one with fakes, workers with the real adapters."""

    settings: Settings
    store: Store
    github: GitHubHost | None = None
    models: ModelLayer | None = None
    now: Callable[[], datetime] = field(default=utcnow)
