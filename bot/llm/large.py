"""The large model for escalations, through langchain: ChatOpenAI (any base_url) or ChatAnthropic."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, SecretStr

from bot.settings import Settings

log = logging.getLogger(__name__)


class LargeModelError(Exception):
    """The large model could not answer (timeout, HTTP error, refused); the message says why."""


@dataclass(frozen=True)
class LargeReply:
    text: str
    tokens_in: int
    tokens_out: int
    # stopped at max_tokens (Anthropic stop_reason "max_tokens", OpenAI finish_reason "length")
    truncated: bool = False


class LargeModel:
    """One configured chat model. Answers are JSON: json_mode on OpenAI-compatible servers, a forced
    tool call (function_calling) on Anthropic."""

    def __init__(self, settings: Settings) -> None:
        self.provider = settings.large_provider
        self.model = settings.large_model
        self.settings = settings
        self._chat: Any = None

    @property
    def name(self) -> str:
        return f"{self.provider}:{self.model}"

    @property
    def identity(self) -> str:
        """The name and the endpoint: the same model name on another server is another model."""
        return f"{self.name}@{self.settings.large_base_url or 'default'}"

    def _client(self) -> Any:
        if self._chat is None:
            self._chat = build_chat(self.settings)
        return self._chat

    def complete(
        self, system: str, user: str, schema: type[BaseModel], max_tokens: int
    ) -> LargeReply:
        """One chat call asking for a JSON object; raises LargeModelError on any failure."""
        client = self._client()
        update: dict[str, Any] = {"max_tokens": max_tokens}
        if self.provider == "openai" and compatible_server(self.settings.large_base_url):
            # langchain sends max_tokens as max_completion_tokens, which llama-cpp-python's server
            # and Ollama do not read (they answer at any length): send their field too
            update["extra_body"] = {**(client.extra_body or {}), "max_tokens": max_tokens}
        chat = client.model_copy(update=update)
        if self.provider == "openai":
            # json_mode, not json_schema: llama.cpp's OpenAI-compatible server fails on the latter.
            # The parsed value is ignored: the layer validates the raw text itself (with repair).
            chat = chat.with_structured_output(schema, method="json_mode", include_raw=True)
        elif self.provider == "anthropic":
            chat = chat.with_structured_output(schema, method="function_calling", include_raw=True)
        messages = [("system", system), ("human", user)]
        try:
            out = chat.invoke(messages)
        except Exception as err:  # every transport/provider error becomes one line
            raise LargeModelError(
                f"{self.name}: {type(err).__name__}: {err}".splitlines()[0]
            ) from err
        raw = out["raw"] if isinstance(out, dict) else out
        refusal = (getattr(raw, "additional_kwargs", None) or {}).get("refusal")
        if refusal:  # OpenAI's refusal comes instead of content: its words, not 'not JSON'
            raise LargeModelError(f"{self.name} refused: {refusal}".splitlines()[0])
        meta = getattr(raw, "response_metadata", None) or {}
        stopped = _stopped(meta)
        if stopped:  # whatever text came is part of an answer: never closed up and used
            raise LargeModelError(f"{self.name} refused: {stopped}")
        usage = getattr(raw, "usage_metadata", None) or {}
        calls = getattr(raw, "tool_calls", None) or []
        truncated = _truncated(meta)
        text = _text(raw.content)
        if calls:
            # A tool call's input arrives parsed, so json.dumps would make a call cut off at
            # max_tokens look whole (even `{}`): then there is no whole text to give, and the
            # layer's cut-off parse refuses the empty one like any answer cut short.
            text = "" if truncated else json.dumps(calls[0]["args"])
        return LargeReply(
            text=text,
            tokens_in=int(usage.get("input_tokens", 0)),
            tokens_out=int(usage.get("output_tokens", 0)),
            truncated=truncated,
        )


def _stopped(meta: dict[str, Any]) -> str | None:
    """Why the provider stopped an answer it would not give, or None: Anthropic's stop_reason
    "refusal", OpenAI's (and Azure's) finish_reason "content_filter". The text before the stop
    is half an answer; repaired into JSON, `{"comment": "Thanks for the report. It looks` would
    pass for a whole one."""
    if meta.get("stop_reason") == "refusal":
        return "stop_reason refusal"
    if meta.get("finish_reason") == "content_filter":
        return "finish_reason content_filter (the provider's content filter stopped the answer)"
    return None


def _truncated(meta: dict[str, Any]) -> bool:
    """Whether the provider says the answer stopped at the token limit."""
    return meta.get("stop_reason") == "max_tokens" or meta.get("finish_reason") == "length"


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts = [c.get("text", "") if isinstance(c, dict) else str(c) for c in content]
    return "".join(parts)


def compatible_server(base_url: str | None) -> bool:
    """An OpenAI-compatible server, not OpenAI itself (whose reasoning models refuse max_tokens)."""
    return bool(base_url) and urlsplit(base_url or "").hostname != "api.openai.com"


def build_chat(settings: Settings) -> Any:
    key = settings.large_api_key
    common: dict[str, Any] = {
        "model": settings.large_model,
        "timeout": settings.large_timeout_s,
        "max_retries": settings.large_max_retries,
        "temperature": 0,
    }
    if settings.large_provider == "openai":
        from langchain_openai import ChatOpenAI

        # local OpenAI-compatible servers accept any key
        common["api_key"] = key or SecretStr("not-needed")
        common["base_url"] = settings.large_base_url
        return ChatOpenAI(**common)
    if settings.large_provider == "anthropic":
        from langchain_anthropic import ChatAnthropic

        common["api_key"] = key
        if settings.large_base_url:
            common["base_url"] = settings.large_base_url
        return ChatAnthropic(**common)
    raise LargeModelError("no large model configured (SMOLBOT_LARGE_PROVIDER=none)")


def configured(settings: Settings) -> bool:
    return settings.large_provider != "none" and bool(settings.large_model)
