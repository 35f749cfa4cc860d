"""gpt4all checks only the *user* prompt against its context (n_ctx - 4 tokens), not system + user:
a longer whole passed, and gpt4all then erased the oldest 75 % of the context (the system prompt
with the data rule, the opening of the <data> fence) and answered from the rest. The same
happened mid-answer when prompt + max_tokens ran past the context (gpt4all does not cut
max_tokens to the room left, as the llama backend does). Now the first is PromptTooLong (the layer
records it and takes the cautious path) and the second an answer cut short (truncated)."""

from __future__ import annotations

import codecs
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bot.llm.api import PromptTooLong
from bot.llm.gpt4all_backend import Gpt4allBackend, Gpt4allOptions
from tests.llm.conftest import real_model_path

REFUSAL = "ERROR: The prompt size exceeds the context window size and cannot be processed."


class FakeLLModel:
    """gpt4all's LLModel as it treats the context: a token per word; a prompt part over n_ctx - 4
    refused; otherwise evaluated in batches, each prompt token reported to _prompt_callback;
    when the context is full the oldest tokens are erased (`erased` says so); the answer is
    `answer_words` words, each reported to the callback until it says stop."""

    def __init__(self, n_ctx: int, answer_words: int = 3, glyphs: bool = False) -> None:
        self.n_ctx = n_ctx
        self.answer_words = answer_words
        self.glyphs = glyphs  # each answer word a hieroglyph of 3 tokens (its 4 UTF-8 bytes)
        self.context = SimpleNamespace(n_past=0)
        self.erased = False
        self.calls: list[dict[str, Any]] = []

    @staticmethod
    def _prompt_callback(token_id: int) -> bool:
        return True

    def _callback_decoder(self, callback: Any) -> Any:
        """As gpt4all's: the callback hears of a token only once it completes a character."""
        decoder = codecs.getincrementaldecoder("utf-8")("replace")

        def raw(token_id: int, data: bytes) -> bool:
            text = decoder.decode(data)
            if data and not text:
                return True  # the rest of the character is still to come
            return bool(callback(token_id, text))

        return raw

    def _answer(self) -> list[bytes]:
        if not self.glyphs:
            return [f" w{i}".encode() for i in range(self.answer_words)]
        glyph = "\U00013000".encode()
        return [glyph[:2], glyph[2:3], glyph[3:]] * self.answer_words

    def _shift(self) -> None:
        self.erased = True
        self.context.n_past -= int(self.n_ctx * 0.75)

    def prompt_model(
        self, prompt: str, template: str, callback: Any, n_predict: int = 4096, **kw: Any
    ) -> None:
        self.calls.append({"prompt": prompt, "template": template, "n_predict": n_predict, **kw})
        if kw.get("reset_context"):
            self.context.n_past = 0
        raw = self._callback_decoder(callback)  # looked up per call, as gpt4all does
        tokens = template.replace("%1", prompt).replace("%2", "").split()
        if len(tokens) > self.n_ctx - 4:
            raw(-1, REFUSAL.encode())
            return
        for _ in tokens:
            if self.context.n_past + 1 > self.n_ctx:
                self._shift()
            self.context.n_past += 1
            if not self._prompt_callback(1):
                return
        for token in self._answer()[:n_predict]:  # n_predict counts every token
            if self.context.n_past >= self.n_ctx:
                self._shift()
            self.context.n_past += 1
            if not raw(2, token):
                return


def _backend(tmp_path: Path, llm: FakeLLModel) -> Gpt4allBackend:
    backend = Gpt4allBackend(tmp_path / "m.gguf", Gpt4allOptions(n_ctx=llm.n_ctx))
    backend._model = SimpleNamespace(model=llm)
    return backend


def test_system_plus_user_over_the_context_is_prompt_too_long(tmp_path: Path) -> None:
    llm = FakeLLModel(512)
    backend = _backend(tmp_path, llm)
    system = "rule " * 300  # each part alone fits gpt4all's check, together they do not
    user = "apple " * 300
    with pytest.raises(PromptTooLong, match="the context is 512"):
        backend.generate(system, user, max_tokens=4, temperature=0.0)
    assert len(llm.calls) == 2 and not any(c["n_predict"] for c in llm.calls[:1])


def test_a_system_prompt_over_the_context_is_prompt_too_long(tmp_path: Path) -> None:
    """gpt4all refuses it to a callback nobody reads, then reads the user part without it."""
    llm = FakeLLModel(512)
    with pytest.raises(PromptTooLong):
        _backend(tmp_path, llm).generate("rule " * 600, "hi", max_tokens=4, temperature=0.0)
    assert len(llm.calls) == 1  # the user part is not sent


def test_an_answer_that_would_overrun_the_context_is_cut_before_it_does(tmp_path: Path) -> None:
    llm = FakeLLModel(512, answer_words=400)
    gen = _backend(tmp_path, llm).generate(
        "rule " * 200, "apple " * 200, max_tokens=300, temperature=0.0
    )
    assert not llm.erased
    assert gen.truncated and gen.tokens_out > 0
    assert gen.tokens_in + gen.tokens_out <= 512
    assert gen.text.startswith(" w0")


def test_an_answer_of_multi_token_characters_is_cut_before_it_overruns(tmp_path: Path) -> None:
    """gpt4all calls the answer's callback once per character: a hieroglyph's 3 tokens, once."""
    llm = FakeLLModel(512, answer_words=400, glyphs=True)
    gen = _backend(tmp_path, llm).generate(
        "rule " * 200, "apple " * 200, max_tokens=300, temperature=0.0
    )
    assert not llm.erased
    assert gen.truncated and gen.tokens_out > 0
    assert gen.tokens_in + gen.tokens_out <= 512
    assert gen.text.startswith("\U00013000")


def test_an_answer_of_multi_token_characters_stopped_at_max_tokens_says_so(
    tmp_path: Path,
) -> None:
    llm = FakeLLModel(512, answer_words=400, glyphs=True)
    gen = _backend(tmp_path, llm).generate("be brief", "hello", max_tokens=30, temperature=0.0)
    assert gen.truncated and gen.tokens_out == 30
    assert gen.text == "\U00013000" * 10


def test_a_short_answer_of_multi_token_characters_is_whole(tmp_path: Path) -> None:
    llm = FakeLLModel(512, answer_words=3, glyphs=True)
    gen = _backend(tmp_path, llm).generate("be brief", "hello", max_tokens=30, temperature=0.0)
    assert gen.text == "\U00013000" * 3 and gen.tokens_out == 9 and not gen.truncated


def test_a_prompt_that_fits_is_answered_as_before(tmp_path: Path) -> None:
    llm = FakeLLModel(512, answer_words=3)
    gen = _backend(tmp_path, llm).generate("be brief", "hello there", max_tokens=8, temperature=0)
    assert gen.text == " w0 w1 w2" and gen.tokens_out == 3 and not gen.truncated
    assert not llm.erased
    system, user = llm.calls
    assert system["reset_context"] and system["special"] and system["n_predict"] == 0
    assert "<|im_start|>system" in system["prompt"] and "be brief" in system["prompt"]
    assert user["prompt"] == "hello there" and "%1" in user["template"]
    assert user["n_predict"] == 8 and user["top_k"] == 1


@pytest.mark.model
def test_the_real_runtime_refuses_system_plus_user_over_the_context() -> None:
    path = real_model_path()
    if not path.is_file():
        pytest.skip("model not installed")
    backend = Gpt4allBackend(path, Gpt4allOptions(n_ctx=512, n_threads=1))
    system = "You answer with one JSON object. " + "Follow these rules carefully. " * 40
    user = '<data id="body">\n' + "apple " * 400 + "\n</data>\nAnswer with one JSON object."
    with pytest.raises(PromptTooLong):
        backend.generate(system, user, max_tokens=4, temperature=0.0)
    # and the model still answers a prompt that fits, from a clean context
    gen = backend.generate("You are terse.", "Say OK.", max_tokens=4, temperature=0.0)
    assert 5 < gen.tokens_in < 40 and gen.tokens_out >= 1


@pytest.mark.model
def test_the_real_runtime_stops_an_answer_before_it_fills_the_context(
    capfd: pytest.CaptureFixture[str],
) -> None:
    path = real_model_path()
    if not path.is_file():
        pytest.skip("model not installed")
    backend = Gpt4allBackend(path, Gpt4allOptions(n_ctx=512, n_threads=1))
    system = "You are a counter. " + "Count carefully. " * 30
    user = "Write the numbers from 1 to 400, separated by spaces, nothing else. " + "Please. " * 150
    gen = backend.generate(system, user, max_tokens=300, temperature=0.0)
    assert gen.truncated and gen.tokens_out > 10
    assert gen.tokens_in + gen.tokens_out <= 512
    assert "swapping" not in capfd.readouterr().err  # gpt4all's word for erasing the start


GLYPHS = "Write the hieroglyph 𓀀 followed by 𓀁, then repeat that pair 200 times, no spaces, no other text."


@pytest.mark.model
def test_the_real_runtime_stops_an_answer_of_multi_token_characters_in_time(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """A hieroglyph is 3 tokens but one call of the answer's callback."""
    path = real_model_path()
    if not path.is_file():
        pytest.skip("model not installed")
    backend = Gpt4allBackend(path, Gpt4allOptions(n_ctx=512, n_threads=1))
    gen = backend.generate("You copy text exactly.", GLYPHS, max_tokens=480, temperature=0.0)
    assert "swapping" not in capfd.readouterr().err, (gen.tokens_in, gen.tokens_out)
    assert gen.truncated and gen.tokens_in + gen.tokens_out <= 512
    # and one stopped at max_tokens says so, with every token counted
    gen = backend.generate("You copy text exactly.", GLYPHS, max_tokens=90, temperature=0.0)
    assert gen.truncated and gen.tokens_out == 90, (gen.tokens_out, len(gen.text))
