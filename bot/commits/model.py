"""The model port for drafting, and its adapter over smolbot's model layer (bot.llm)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pydantic import BaseModel, Field

from bot.commits.retrieval import SUPPORT_VARIABLE, type_check

if TYPE_CHECKING:
    from bot.llm.api import Answer
    from bot.settings import Settings

MESSAGE_PROMPT = "commit_message"
FILE_PROMPT = "commit_message_file"
TASK = "commit"
T = TypeVar("T", bound=BaseModel)
CHARS_PER_TOKEN = 2.0  # Qwen: base64 and hashes 2.0 characters a token, file lists 2.4, code ~3.8
CHAT_TOKENS = 16  # the chat template's role markers around system and user text


class FileSummary(BaseModel):
    """One line about one file of a diff too large to paste."""

    summary: str = Field(min_length=3, max_length=200)


class Writer(Protocol):
    """Anything that answers a prompt with a validated value (the model layer, or a scripted one in tests)."""

    def ask(
        self, prompt: str, variables: dict[str, str], schema: type[T], *, allow_large: bool
    ) -> Answer[T]: ...


def prompt_tokens(prompt: str, variables: dict[str, str]) -> int:
    """A cautious estimate of the context a prompt needs: its rendered text and its longest answer."""
    from bot.llm.prompts import load_prompt

    spec = load_prompt(prompt)
    rendered = spec.render(variables)
    text = len(rendered.system) + len(rendered.user)
    return math.ceil(text / CHARS_PER_TOKEN) + CHAT_TOKENS + spec.spec.max_tokens


class LayerWriter:
    """Asks bot.llm's model layer; the layer (and the model) load lazily, once per process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._layer: Any = None

    def ask(
        self, prompt: str, variables: dict[str, str], schema: type[T], *, allow_large: bool
    ) -> Answer[T]:
        if self._layer is None:
            from bot.llm import get_model_layer
            from bot.store import open_store

            self._layer = get_model_layer(self.settings, open_store(self.settings.db_path))
        support = variables.get(SUPPORT_VARIABLE)
        answer: Answer[T] = self._layer.ask(
            task=TASK,
            prompt=prompt,
            variables=variables,
            schema=schema,
            scope="commits",
            allow_escalation=allow_large,  # only with settings.large_for_commits and no secret seen
            check=type_check(support) if support else None,  # agreement with similar past commits
        )
        return answer
