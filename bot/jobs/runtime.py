"""Per-process runtime for workers: settings, store, GitHub and models, built once per process."""

from __future__ import annotations

import json
import threading
from functools import cached_property
from typing import TYPE_CHECKING, Any

from bot.jobs.context import JobContext
from bot.settings import Settings
from bot.store import Store

if TYPE_CHECKING:
    from bot.ports import GitHubHost

_lock = threading.Lock()
_runtimes: dict[tuple[int, str], Runtime] = {}


class Runtime:
    """What a task needs. Heavy parts (GitHub client, model) are built at first use."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings, self.store = settings, store

    @cached_property
    def github(self) -> GitHubHost:
        from bot.github import GitHubApp

        return GitHubApp(self.settings)

    @cached_property
    def models(self) -> Any:
        from bot.llm import get_model_layer

        return get_model_layer(self.settings, self.store)

    def context(self) -> JobContext:
        """The collaborators jobs take: this process's store, GitHub client and model layer."""
        from bot.coord.jobs import submitted

        def defer(name: str, kwargs: dict[str, Any], key: str | None) -> bool:
            return submitted(self.store, name, kwargs, key)[1]

        return JobContext(
            self.settings, self.store, github=self.github, models=self.models, defer=defer
        )

    def dispatch(self, delivery_id: str) -> None:
        from bot.jobs.dispatch import dispatch

        row = self.store.delivery(delivery_id)
        if row is None:
            raise LookupError(f"delivery {delivery_id} is not in the store")
        dispatch(self, row, json.loads(row["payload"] or "{}"))

    def fail(self, delivery_id: str, error: str) -> None:
        """Park a delivery in the dead-letter table; `smolbot retry` replays it. The audit log
        says so too: a parked delivery is a decision not to act, on the repository and issue.
        The dead letter first: a store failing between the two writes leaves a delivery still
        running (its retry parks it again), never one marked dead that `smolbot retry` cannot
        find."""
        self.store.dead_letter("smolbot.handle_delivery", {"delivery_id": delivery_id}, error)
        self.store.set_delivery_status(delivery_id, "dead", error=error)
        row = self.store.delivery(delivery_id) or {}
        event = ".".join(filter(None, (row.get("event"), row.get("action"))))
        self.store.audit(
            "deliver",
            "parked",
            f"{error} (replay: smolbot retry)",
            task="smolbot.handle_delivery",
            delivery_id=delivery_id,
            repo=row.get("repo"),
            number=row.get("number"),
            detail={"event": event},
        )
