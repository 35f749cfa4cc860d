"""The real default model through llama-cpp-python (the optional [llama] extra): schema-constrained
answers, thread count, a corrupt file, and label probabilities read from the logits. Few, short runs."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, Field

from bot.llm import ModelLayer, ModelUnavailable
from bot.llm.backends import get_backend
from bot.llm.llama_backend import LlamaBackend, cpu_has_amx, grammar_schema
from bot.llm.zeroshot import ANSWER_PREFIX, logit_confidence
from bot.store import Store
from tests.llm.conftest import make_settings
from tests.llm.examples import LABELS

llama_cpp = pytest.importorskip("llama_cpp", reason="the [llama] extra is not installed")
pytestmark = [pytest.mark.model, pytest.mark.slow]

BUG = "App crashes when I click save\n\nTraceback (most recent call last): KeyError 'path'"
POEM_PROMPT = """\
name: haiku
version: "1"
system: You are a poet.
template: "Write a haiku about $topic. Plain text only, no JSON."
max_tokens: 24
"""


class Shape(BaseModel):
    count: int
    mood: Literal["calm", "wild"]


def llama_layer(tmp_path: Path, store: Store, **over: object) -> ModelLayer:
    return ModelLayer(make_settings(tmp_path, model_backend="llama", **over), store)


def test_grammar_holds_the_answer_to_the_schema(
    tmp_path: Path, llm_store: Store, model_path: Path
) -> None:
    # the prompt asks for plain text; gpt4all's answer fails validation (test_local_model), while
    # llama's grammar, built from the schema, only lets the model write a valid Shape
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "haiku.yaml").write_text(POEM_PROMPT)
    layer = ModelLayer(
        make_settings(tmp_path, model_backend="llama"), llm_store, prompts_dir=prompts
    )
    ans = layer.ask("poem", "haiku", {"topic": "rain"}, Shape)
    assert ans.value is not None, ans.record.note
    assert ans.value.mood in ("calm", "wild")
    rec = ans.record
    assert (rec.backend, rec.model) == ("llama", model_path.name)
    assert rec.tokens_in > 10 and 0 < rec.tokens_out <= 24
    assert ans.confidence == 0.8  # clean JSON at the first try, grounded
    assert rec.note.startswith("mean token logprob ")
    assert -20 < float(rec.note.rsplit(" ", 1)[1]) <= 0


class Long(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


def test_length_bounds_stay_out_of_the_grammar(model_path: Path) -> None:
    # a 4,000-character bound spelled out in GBNF makes llama.cpp abort the whole process
    assert grammar_schema(Long.model_json_schema())["properties"]["text"] == {
        "title": "Text",
        "type": "string",
    }
    backend = get_backend("llama", model_path, {"n_threads": 1})
    gen = backend.generate(
        "You answer with JSON.",
        'Reply exactly {"text": "ok"}.',
        max_tokens=12,
        temperature=0,
        schema=Long.model_json_schema(),
    )
    assert Long.model_validate_json(gen.text).text


def test_thread_count_reaches_the_runtime(model_path: Path) -> None:
    backend = get_backend("llama", model_path, {"n_threads": 3, "n_ctx": 512})
    assert isinstance(backend, LlamaBackend)
    model = backend._load()
    assert llama_cpp.llama_n_threads(model.ctx) == 3
    assert llama_cpp.llama_n_threads_batch(model.ctx) == 3  # prompt processing too


def test_amx_is_read_from_the_cpu_flags(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f amx_bf16 amx_tile amx_int8\n")
    assert cpu_has_amx(info)
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f amx_bf16\nbugs\t: amx_int8\n")
    assert not cpu_has_amx(info)  # only the flags line counts, and the whole flag
    assert not cpu_has_amx(tmp_path / "missing")


def test_without_extra_buffers_the_model_loads_plainly_and_answers(model_path: Path) -> None:
    """The path every AMX machine takes (llama.cpp's AMX matmul crashed the process there)."""
    default_params = llama_cpp.llama_cpp.llama_model_default_params
    backend = get_backend("llama", model_path, {"n_threads": 1, "extra_buffers": False})
    gen = backend.generate(
        "You answer with JSON.",
        'Reply exactly {"count": 3, "mood": "calm"}.',
        max_tokens=16,
        temperature=0,
        schema=Shape.model_json_schema(),
    )
    assert Shape.model_validate_json(gen.text).mood in ("calm", "wild")
    # the library's defaults are put back once the model is built
    assert llama_cpp.llama_cpp.llama_model_default_params is default_params
    assert default_params().use_extra_bufts


def test_corrupt_file_gives_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "custom.gguf"  # passes the magic check; the runtime itself refuses it
    path.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\xff" * 5000)
    backend = get_backend("llama", path, {"n_threads": 1})
    with pytest.raises(ModelUnavailable, match="could not load") as err:
        backend.generate("s", "u", max_tokens=1, temperature=0)
    message = str(err.value)
    assert "\n" not in message and "smolbot models install" in message


def test_label_probabilities_come_from_the_logits(model_path: Path) -> None:
    backend = get_backend("llama", model_path, {"n_threads": 1})
    assert isinstance(backend, LlamaBackend)
    system = "You answer with JSON."
    told, n = backend.label_probabilities(
        system, 'Reply exactly {"label": "question"}.', ANSWER_PREFIX, LABELS
    )
    assert n > 10
    assert sum(told.values()) == pytest.approx(1.0)
    assert told["question"] > 0.9  # the position read is the one right after the prefix
    other, _ = backend.label_probabilities(
        system, 'Reply exactly {"label": "feature"}.', ANSWER_PREFIX, LABELS
    )
    assert other["feature"] > 0.9  # the shared prompt start is reused, the rest re-evaluated


def test_cold_start_label_uses_logit_probabilities(
    tmp_path: Path, llm_store: Store, model_path: Path
) -> None:
    layer = llama_layer(tmp_path, llm_store)
    ans = layer.classify("triage", "o/r", BUG, LABELS)
    rec = ans.attempts[-1]
    assert (rec.backend, rec.note) == ("llama", "label probabilities from logits")
    assert ans.value is not None and set(ans.value.probabilities) == set(LABELS)
    top = ans.value.probabilities[ans.value.label]
    assert top == max(ans.value.probabilities.values())
    assert ans.confidence == pytest.approx(logit_confidence(top, 3), abs=1e-3)
    assert (
        1 / 3 < ans.confidence < top
    )  # shrunk toward chance: the raw probability is overconfident
    again = layer.classify("triage", "o/r", BUG, LABELS)
    assert again.attempts[-1].cache_hit and again.value == ans.value
