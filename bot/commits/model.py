"""The model port for drafting, and its adapter over smolbot's model layer (bot.llm)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from bot.commits.message import CommitDraft

if TYPE_CHECKING:
    from bot.llm.api import Answer
    from bot.settings import Settings

PROMPT = "commit_message"
TASK = "commit"


class Writer(Protocol):
    """Anything that turns prompt variables into a validated CommitDraft answer."""

    def write(self, variables: dict[str, str], *, allow_large: bool) -> Answer[CommitDraft]: ...


class LayerWriter:
    """Asks bot.llm's model layer; the layer (and the model) load lazily, once per process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._layer: Any = None

    def write(self, variables: dict[str, str], *, allow_large: bool) -> Answer[CommitDraft]:
        if self._layer is None:
            from bot.llm import get_model_layer
            from bot.store import open_store

            self._layer = get_model_layer(self.settings, open_store(self.settings.db_path))
        answer: Answer[CommitDraft] = self._layer.ask(
            task=TASK,
            prompt=PROMPT,
            variables=variables,
            schema=CommitDraft,
            scope="commits",
            allow_escalation=allow_large,  # only with settings.large_for_commits and no secret seen
        )
        return answer
