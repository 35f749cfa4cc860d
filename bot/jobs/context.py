"""JobContext: the collaborators every job receives (settings, store, GitHub, models, clock)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from bot.llm.api import Answer
from bot.ports import GitHubHost, RepoHost
from bot.settings import Settings
from bot.store import Store


class ModelLayer(Protocol):
    """The part of the model layer (bot.llm.get_model_layer) that jobs call."""

    def classify(
        self, task: str, scope: str, text: str, labels: list[str], *, threshold: float
    ) -> Answer[Any]: ...  # value: Classification(label, probabilities)

    def learn(
        self,
        scope: str,
        text: str,
        label: str,
        source: str,
        created: float | None = None,
        issue: int | None = None,
    ) -> str: ...  # new, known or outranked (bot.llm.records.Learned)

    def forget_backfilled(
        self, scope: str, text: str, issue: int | None = None
    ) -> bool: ...  # a backfill's example of it

    def forget_label(
        self, scope: str, text: str, issue: int | None, label: str
    ) -> bool: ...  # a person's (or the large model's) example of `label` from it

    def ask(
        self,
        task: str,
        prompt: str,
        variables: dict[str, str],
        schema: Any,
        *,
        use_unsure: bool = True,
    ) -> Answer[Any]: ...

    # retrained first when examples arrived (`here`: in this call, not beside it)
    def classifier(self, force: bool = False, *, here: bool = False) -> Any: ...


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
    # Hands a model-heavy job (name, kwargs, idempotency key) to the model queue; None: run inline.
    # True when this call recorded the run; False when the same run was recorded before.
    defer: Callable[[str, dict[str, Any], str | None], bool] | None = None


def sent_by_bot(ctx: JobContext, payload: dict[str, Any]) -> bool:
    """The event was caused by this app (or another bot): never react to it."""
    sender = payload.get("sender") or {}
    login = str(sender.get("login", ""))
    return login.lower() == ctx.settings.bot_login.lower() or sender.get("type") == "Bot"


def host_for(ctx: JobContext, payload: dict[str, Any]) -> RepoHost:
    """The repository of a webhook payload, as the installation that sent it."""
    if ctx.github is None:
        raise RuntimeError("no GitHub connection: set SMOLBOT_APP_ID and SMOLBOT_PRIVATE_KEY")
    inst = int((payload.get("installation") or {}).get("id", 0))
    return ctx.github.repo(inst, payload["repository"]["full_name"])
