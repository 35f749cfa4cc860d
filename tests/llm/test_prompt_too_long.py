"""A prompt longer than the model's context is one recorded GenerationFailed line, not retried: not
llama-cpp-python's ValueError escaping ask(), nor gpt4all's stderr line read as 'not JSON'. And
the summary's first entry (the issue body) is cut like the comments, so it fits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from bot.core import summary as S
from bot.core.lifecycle import Thread
from bot.llm import ModelLayer, reader
from bot.llm.api import PromptTooLong
from bot.llm.gpt4all_backend import Gpt4allBackend, Gpt4allOptions
from bot.llm.llama_backend import LlamaBackend, LlamaOptions
from bot.ports import IssueData
from bot.settings import load_settings
from bot.store import Store
from tests.llm import fake_local
from tests.llm.conftest import make_settings
from tests.llm.fake_openai import Behaviour, serve


class Line(BaseModel):
    line: str


LONG_BODY = " ".join(f"step {i}: the widget crashes when resized" for i in range(120))
TOO_LONG = "ERROR: The prompt size exceeds the context window size and cannot be processed."


class LlamaRefusing:
    def create_chat_completion(self, **_: Any) -> Any:
        raise ValueError("Requested tokens (11036) exceed context window of 4096")


class Gpt4allRefusing:
    """gpt4all's answer to a prompt part over the context: the callback gets token -1 and the
    error (its LLModel, as GPT4All keeps it in .model)."""

    @property
    def model(self) -> Gpt4allRefusing:
        return self

    def _callback_decoder(self, callback: Any) -> Any:  # bytes to text, as gpt4all's
        return lambda token_id, data: callback(token_id, data.decode())

    def prompt_model(self, prompt: str, _template: str, callback: Any, **_: Any) -> None:
        if "<|im_start|>system" not in prompt:  # the user's part is the long one
            self._callback_decoder(callback)(-1, TOO_LONG.encode())


def test_llama_s_value_error_is_prompt_too_long(tmp_path: Path) -> None:
    backend = LlamaBackend(tmp_path / "m.gguf", LlamaOptions())
    backend._model = LlamaRefusing()
    with pytest.raises(PromptTooLong) as err:
        backend.generate("s", "u", max_tokens=8, temperature=0)
    assert str(err.value).startswith("prompt is 11036 tokens, the context is 4096; ")
    assert "SMOLBOT_MODEL_CONTEXT" in str(err.value)


def test_gpt4all_s_refusal_is_prompt_too_long_not_text(tmp_path: Path) -> None:
    backend = Gpt4allBackend(tmp_path / "m.gguf", Gpt4allOptions(n_ctx=512))
    backend._model = Gpt4allRefusing()
    with pytest.raises(PromptTooLong, match="prompt is more than 508 tokens, the context is 512"):
        backend.generate("s", "u", max_tokens=8, temperature=0)


def test_the_layer_records_it_once_and_does_not_retry(
    tmp_path: Path, llm_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = fake_local.install(monkeypatch)

    def refuse(_backend: fake_local.ScriptedBackend, _user: str) -> str:
        raise PromptTooLong(5000, 4096)

    script.replies = [refuse]
    path = fake_local.model_file(tmp_path / "m.gguf", b"qwen")
    settings = load_settings(data_dir=tmp_path / "d", env="test", model_path=path)
    ans = ModelLayer(settings, llm_store).ask(
        "digest", "digest_line", {"title": "t", "body": LONG_BODY}, Line
    )
    assert ans.status == "no_answer" and not ans.ok
    assert ans.record.note.startswith("prompt is 5000 tokens, the context is 4096; ")
    assert len(script.calls) == 1  # the same prompt is not sent again
    (row,) = ModelLayer(settings, llm_store).records.calls()
    assert row["note"] == ans.record.note and row["final"]


def test_a_prompt_too_long_for_the_local_model_goes_to_the_large_one(
    tmp_path: Path, llm_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = fake_local.install(monkeypatch)

    def refuse(_backend: fake_local.ScriptedBackend, _user: str) -> str:
        raise PromptTooLong(5000, 4096)

    script.replies = [refuse]
    path = fake_local.model_file(tmp_path / "m.gguf", b"qwen")
    with serve(Behaviour(replies=['{"line": "the widget crashes when resized"}'])) as url:
        settings = load_settings(
            data_dir=tmp_path / "d",
            env="test",
            model_path=path,
            large_provider="openai",
            large_model="big",
            large_base_url=url,
        )
        ans = ModelLayer(settings, llm_store).ask(
            "digest", "digest_line", {"title": "t", "body": LONG_BODY}, Line
        )
    assert ans.status == "escalated" and ans.ok
    assert "prompt is 5000 tokens" in ans.attempts[0].note


@pytest.mark.model
@pytest.mark.parametrize("backend", ["gpt4all", "llama"])
def test_the_real_runtimes_over_their_context(
    backend: str, tmp_path: Path, llm_store: Store, model_path: Path
) -> None:
    if backend == "llama" and not reader.available():
        pytest.skip("the [llama] extra is not installed")
    settings = make_settings(tmp_path, model_context=512, model_backend=backend)
    layer = ModelLayer(settings, llm_store)
    ans = layer.ask("digest", "digest_line", {"title": "Crash on resize", "body": LONG_BODY}, Line)
    assert ans.status == "no_answer"
    (only,) = ans.attempts  # recorded once, not retried
    size = only.note.split(" tokens, the context is 512; ")[0]
    if backend == "gpt4all":
        assert size == "prompt is more than 508"
    else:
        assert size.startswith("prompt is ") and int(size.split()[-1]) > 512


def test_the_issue_body_is_cut_like_the_comments() -> None:
    log = "\n".join(
        f"12:00:{i % 60:02d} ERROR worker[{i}] failed at pool.py:{i}" for i in range(250)
    )
    issue = IssueData("o/r", 7, "Crash after upgrade", f"Logs:\n{log}", "open", "alice", [], "", "")
    items = S.entries(Thread(issue), "smolbot[bot]", per_entry_chars=1500)
    assert len(items[0].text) == 1500 and items[0].text.startswith("Crash after upgrade\n\nLogs:")
