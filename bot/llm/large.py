"""The large model for escalations, through langchain: ChatOpenAI (any base_url) or ChatAnthropic."""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from pydantic import BaseModel, SecretStr

from bot.settings import Settings

log = logging.getLogger(__name__)
R = TypeVar("R")
BUDGET_SPENT = "large-model daily budget spent"
RETRY_FIRST_WAIT_S = 0.5  # then doubled for each try after (the SDKs' own backoff)
# The longest wait between tries: a triage job sleeping on a Retry-After of 20 s twice held a
# worker of the fast queue for 40 s; a server asking for longer is not asked again in this call
RETRY_WAIT_MAX_S = 5.0


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

    def _client(self, http_client: Any = None) -> Any:
        if http_client is not None:
            return build_chat(self.settings, http_client)
        if self._chat is None:
            self._chat = build_chat(self.settings)
        return self._chat

    def _connection(self) -> Connection:
        """An HTTP client for one request, cut when the request is late. Anthropic's goes by the
        proxy ChatAnthropic would give its own (ANTHROPIC_PROXY), if any."""
        if self.provider == "anthropic":
            return Connection("anthropic", self._client().anthropic_proxy)
        return Connection()

    def complete(
        self,
        system: str,
        user: str,
        schema: type[BaseModel],
        max_tokens: int,
        spend: Callable[[], bool] = lambda: True,
    ) -> LargeReply:
        """One chat call asking for a JSON object; raises LargeModelError on any failure.

        The retries are made here, not by the SDK (its own are off), so that `spend` is asked
        before every request: the daily budget counts the requests a provider may bill, not the
        calls (with 2 retries a budget of 200 let 600 through). A timeout, a lost connection,
        408, 409, 429 and 5xx are tried again, up to large_max_retries times, after a wait of at
        most RETRY_WAIT_MAX_S: a server asking for longer (Retry-After) is not retried, the
        caller takes its cautious path instead of sleeping in a triage job.

        The whole call, waits included, ends within large_timeout_s x (1 + large_max_retries),
        and each request within large_timeout_s: the SDK's timeout is per read, so a server that
        sent its answer a byte a second held a worker for as long as it liked (within())."""
        s = self.settings
        self._client_or_error()  # a client that cannot be made is no request: none is counted
        messages = [("system", system), ("human", user)]
        tries = 1 + s.large_max_retries
        deadline = time.monotonic() + s.large_timeout_s * tries
        failed: _Failed | None = None
        for attempt in range(tries):
            if failed is not None:
                self._pause(failed, attempt, deadline)
            if not spend():
                before = f" (the try before: {failed.why})" if failed else ""
                raise LargeModelError(f"{BUDGET_SPENT}{before}")
            # a retry gets what is left of the call's time, if that is less
            left = deadline - time.monotonic() if attempt else s.large_timeout_s
            try:
                out = self._request(schema, max_tokens, messages, min(s.large_timeout_s, left))
            except LargeModelError:
                raise
            except Exception as err:
                failed = self._failure(err, cut=left < s.large_timeout_s)
                continue
            return self._reply(out)
        assert failed is not None
        raise LargeModelError(failed.why)

    def _request(
        self, schema: type[BaseModel], max_tokens: int, messages: list[Any], seconds: float
    ) -> Any:
        """One request, on a connection of its own; ended by within() after `seconds`, its
        connection is cut so that its thread ends too. Left running, a trickling server kept each
        late request's thread and connection until it stopped, one more for every call."""
        connection = self._connection()
        try:
            own = self._structured(schema, max_tokens, connection)
            return within(lambda: own.invoke(messages), seconds)
        finally:
            connection.cut()

    def _client_or_error(self, http_client: Any = None) -> Any:
        """The chat model (on `http_client`, if given), or LargeModelError saying why not."""
        try:
            return self._client(http_client)
        except LargeModelError:
            raise
        except Exception as err:  # a client that cannot be made (no key): one line, as any failure
            raise LargeModelError(_one_line(f"{self.name}: {type(err).__name__}: {err}")) from err

    def _structured(self, schema: type[BaseModel], max_tokens: int, connection: Connection) -> Any:
        client = self._client_or_error(connection.http)
        update: dict[str, Any] = {"max_tokens": max_tokens}
        if self.provider == "openai" and compatible_server(self.settings.large_base_url):
            # langchain sends max_tokens as max_completion_tokens, which llama-cpp-python's server
            # and Ollama do not read (they answer at any length): send their field too
            update["extra_body"] = {**(client.extra_body or {}), "max_tokens": max_tokens}
        chat = client.model_copy(update=update)
        if self.provider == "openai":
            # json_mode, not json_schema: llama.cpp's OpenAI-compatible server fails on the latter.
            # The parsed value is ignored: the layer validates the raw text itself (with repair).
            return chat.with_structured_output(schema, method="json_mode", include_raw=True)
        return chat.with_structured_output(schema, method="function_calling", include_raw=True)

    def _failure(self, err: Exception, cut: bool) -> _Failed:
        """What went wrong in one request, when another may go better; else raises LargeModelError.
        `cut`: the request had less than large_timeout_s, the rest of the call's time."""
        if isinstance(err, Late) or _is_timeout(err):
            s = self.settings
            span = f"{s.large_timeout_s:g} s"
            if cut:
                span = f"{s.large_timeout_s * (1 + s.large_max_retries):g} s, retries included"
            sdk = "" if isinstance(err, Late) else f" ({type(err).__name__})"
            return _Failed(f"{self.name}: no answer within {span}{sdk}")
        if isinstance(err, (AttributeError, TypeError, IndexError, KeyError)):
            # the SDK parses any 200 it gets: a web page, {"error": ...} or no choices ended as
            # "AttributeError: 'str' object has no attribute 'choices'" in the audit
            raise LargeModelError(self._not_an_answer(err)) from err
        why = _one_line(f"{self.name}: {type(err).__name__}: {err}")
        if not _retryable(err):
            raise LargeModelError(why) from err
        return _Failed(why, retry_after(_headers(err), time.time()))

    def _pause(self, failed: _Failed, attempt: int, deadline: float) -> None:
        """Wait before try number `attempt` (from 1), or end the call with the last failure when
        the server asks for a longer wait than RETRY_WAIT_MAX_S or no time is left for one."""
        wait = failed.wait
        if wait is not None and wait > RETRY_WAIT_MAX_S:
            raise LargeModelError(
                f"{failed.why} (the server asks for {wait:g} s before another try: not retried)"
            )
        if wait is None:
            wait = min(RETRY_FIRST_WAIT_S * 2 ** (attempt - 1), RETRY_WAIT_MAX_S)
        if time.monotonic() + wait >= deadline:
            raise LargeModelError(failed.why)
        time.sleep(wait)

    def _not_an_answer(self, err: Exception) -> str:
        url = self.settings.large_base_url
        where = f" at {shown_url(url)}" if url else ""
        api = "an OpenAI chat completion" if self.provider == "openai" else "an Anthropic message"
        hint = " (an OpenAI-compatible server's ends in /v1)" if self.provider == "openai" else ""
        return (
            f"{self.name}{where}: the server's answer is not {api} ({type(err).__name__});"
            f" check SMOLBOT_LARGE_BASE_URL{hint}"
        )

    def _reply(self, out: Any) -> LargeReply:
        raw = out["raw"] if isinstance(out, dict) else out
        refusal = (getattr(raw, "additional_kwargs", None) or {}).get("refusal")
        if refusal:  # OpenAI's refusal comes instead of content: its words, not 'not JSON'
            raise LargeModelError(_one_line(f"{self.name} refused: {refusal}"))
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


@dataclass(frozen=True)
class _Failed:
    """A request that failed in a way another may not: why (one line), and the wait the server
    asked for (Retry-After), if any."""

    why: str
    wait: float | None = None


class Connection:
    """One request's own HTTP client, which another thread can cut: the sockets it opened are
    shut down, which wakes a read waiting on them (closing the client alone left a read on a
    silent server waiting out its whole timeout), then the client is closed. A socket opened
    after the cut is shut down as it opens.

    The client is the provider's SDK's own (its HTTP library, with its defaults); `proxy`
    (Anthropic's only) is the one langchain would have given it."""

    def __init__(self, provider: str = "openai", proxy: str | None = None) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._cut = False
        hooks = {"request": [self._traced]}
        if provider == "anthropic":
            from anthropic import DefaultHttpxClient

            self.http: Any = DefaultHttpxClient(proxy=proxy, event_hooks=hooks)
        else:
            from openai import DefaultHttpxClient as OpenAIHttpxClient

            self.http = OpenAIHttpxClient(event_hooks=hooks)

    def _traced(self, request: Any) -> None:
        request.extensions["trace"] = self._trace

    def _trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's trace of a request: the socket of each connection made (or put in TLS)."""
        stream: Any = info.get("return_value")
        if not event.endswith(".complete") or not hasattr(stream, "get_extra_info"):
            return
        sock = stream.get_extra_info("socket")
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            self._sockets.append(sock)
            cut = self._cut
        if cut:
            _shut(sock)

    def cut(self) -> None:
        """End the request, if it is still running, and free the connection either way."""
        with self._lock:
            self._cut = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)
        self.http.close()


def _shut(sock: socket.socket) -> None:
    """Shut the socket down for both directions; its TLS state is left to the thread reading it
    (a socket put in TLS is no longer open itself: nothing to do)."""
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class Late(Exception):
    """The request was still running when its time was up (within())."""


def within(fn: Callable[[], R], seconds: float) -> R:
    """fn() in a daemon thread, waited for at most `seconds`; raises Late after that.

    The thread is not stopped here (the SDK's timeout is per read): a late request is ended by
    cutting its Connection (LargeModel._request). A daemon thread, not an executor's: those are
    joined when the worker exits."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["out"] = fn()
        except BaseException as err:  # handed to the caller's thread
            box["err"] = err

    ctx = contextvars.copy_context()  # langchain's callbacks and config live in contextvars
    thread = threading.Thread(target=ctx.run, args=(run,), name="large-model-call", daemon=True)
    thread.start()
    thread.join(max(seconds, 0.0))
    if thread.is_alive():
        raise Late(f"no answer within {seconds:g} s")
    if "err" in box:
        raise box["err"]
    return cast(R, box["out"])


def _retryable(err: Exception) -> bool:
    """What the SDKs retry: 408, 409, 429 and 5xx, a timeout, a lost connection."""
    status = getattr(err, "status_code", None)
    if isinstance(status, int):
        return status in (408, 409, 429) or status >= 500
    return bool(getattr(err, "is_retryable", False)) or _named(err, "APIConnectionError")


def _is_timeout(err: Exception) -> bool:
    return _named(err, "APITimeoutError") or _named(err, "ModelTimeoutError")


def _named(err: Exception, name: str) -> bool:
    """Whether `err` is of a class called `name` (either SDK's, imported only when used)."""
    return any(c.__name__ == name for c in type(err).__mro__)


def _headers(err: Exception) -> Mapping[str, str]:
    headers = getattr(getattr(err, "response", None), "headers", None)
    return headers if isinstance(headers, Mapping) else {}


def retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """The wait in seconds a server asks for (retry-after-ms, retry-after in seconds or as an
    HTTP date), or None when it names none it can be held to."""
    for name, per_second in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            wait = float(value) / per_second
        except ValueError:
            try:
                wait = parsedate_to_datetime(value).timestamp() - now
            except (TypeError, ValueError, IndexError, OverflowError):
                continue
        if wait == wait and wait >= 0:  # not NaN, not negative
            return wait
    return None


def shown_url(url: str) -> str:
    """A base URL fit for a record: no user info (up to the last '@': a password is often pasted
    unescaped) and no query or fragment (some gateways take their key as ?key=)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    rest = rest.rpartition("@")[2]
    rest = re.split(r"[?#]", rest, maxsplit=1)[0]
    return f"{scheme}://{rest}"


def _one_line(text: str) -> str:
    return text.splitlines()[0] if text else text


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


def build_chat(settings: Settings, http_client: Any = None) -> Any:
    """The configured chat model; `http_client`, if given, is the one its requests go by."""
    key = settings.large_api_key
    common: dict[str, Any] = {
        "model": settings.large_model,
        # per read: LargeModel.complete bounds each request and the whole call
        "timeout": settings.large_timeout_s,
        "max_retries": 0,  # LargeModel.complete retries, spending the budget for every request
        "temperature": 0,
    }
    if settings.large_provider == "openai":
        from langchain_openai import ChatOpenAI

        # local OpenAI-compatible servers accept any key; OPENAI_API_KEY is never read (langchain
        # would send it to whatever SMOLBOT_LARGE_BASE_URL names; doctor says it is not sent)
        common["api_key"] = key or SecretStr("not-needed")
        common["base_url"] = settings.large_base_url
        if http_client is not None:
            common["http_client"] = http_client
        return ChatOpenAI(**common)
    if settings.large_provider == "anthropic":
        from langchain_anthropic import ChatAnthropic

        common["api_key"] = key
        if settings.large_base_url:
            common["base_url"] = settings.large_base_url
        chat = ChatAnthropic(**common)
        if http_client is not None:
            # ChatAnthropic has no http_client field (an unknown one goes into the request body):
            # its SDK client, made on first use and cached as `_client`, is replaced by a copy
            # on ours (the SDK's public with_options), with the same key, URL and timeout
            chat.__dict__["_client"] = chat._client.with_options(http_client=http_client)
        return chat
    raise LargeModelError("no large model configured (SMOLBOT_LARGE_PROVIDER=none)")


def configured(settings: Settings) -> bool:
    return settings.large_provider != "none" and bool(settings.large_model)
