"""The answer cache tells models apart: another file under the same name, another endpoint, another
temperature or sample count is another entry, never an old answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel

from bot.llm import ModelLayer, generate, modelfile
from bot.llm.modelfile import fingerprint
from bot.llm.prompts import load_prompt
from bot.settings import load_settings
from bot.store import Store
from tests.llm import fake_local
from tests.llm.examples import LABELS
from tests.llm.fake_openai import Behaviour, serve


class Line(BaseModel):
    line: str


def the_file_s_bytes(backend: fake_local.ScriptedBackend, _user: str) -> str:
    return json.dumps({"line": f"answer of {backend._model[4:12].decode()}"})


def test_a_replaced_model_file_is_not_served_the_old_file_s_answers(
    tmp_path: Path, llm_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = fake_local.install(monkeypatch)
    script.replies = [the_file_s_bytes]
    path = tmp_path / "models" / "model.gguf"
    seen = []
    for content in (b"old-qwen", b"new-tune", b"new-tune"):
        fake_local.model_file(path, content)  # replaced in place, same name, same size
        fake_local.restart()
        settings = load_settings(data_dir=tmp_path / "d", env="test", model_path=path)
        ans = ModelLayer(settings, llm_store).ask(
            "digest", "digest_line", {"title": "t", "body": "b"}, Line
        )
        assert ans.value is not None
        seen.append((ans.value.line, ans.record.cache_hit))
    assert seen[:2] == [("answer of old-qwen", False), ("answer of new-tune", False)]
    assert seen[2][1]  # the same file again: the cache serves it


def test_a_model_loaded_before_the_file_was_replaced_keeps_its_own_entries(
    tmp_path: Path, llm_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that loaded the old file answers with its weights until it restarts: those answers
    must not be filed under the new file."""
    script = fake_local.install(monkeypatch)
    script.replies = [the_file_s_bytes]
    path = fake_local.model_file(tmp_path / "model.gguf", b"old-qwen")
    layer = ModelLayer(
        load_settings(data_dir=tmp_path / "d", env="test", model_path=path), llm_store
    )
    layer.ask("digest", "digest_line", {"title": "t", "body": "b"}, Line)
    fake_local.model_file(path, b"new-tune")
    stale = layer.ask("digest", "digest_line", {"title": "t2", "body": "b"}, Line)
    assert stale.value is not None and stale.value.line == "answer of old-qwen"
    fake_local.restart()
    fresh = layer.ask("digest", "digest_line", {"title": "t2", "body": "b"}, Line)
    assert fresh.value is not None and fresh.value.line == "answer of new-tune"
    assert not fresh.record.cache_hit


def test_the_same_large_model_name_on_another_endpoint_is_another_entry(
    tmp_path: Path, llm_store: Store
) -> None:
    one = Behaviour(replies=['{"line": "from the loopback stand-in"}'])
    two = Behaviour(replies=['{"line": "from the production endpoint"}'])
    lines = []
    with serve(one) as url_one, serve(two) as url_two:
        for url in (url_one, url_two):
            settings = load_settings(
                data_dir=tmp_path / "d",
                env="test",
                model_path=tmp_path / "missing.gguf",
                large_provider="openai",
                large_model="default",
                large_base_url=url,
            )
            ans = ModelLayer(settings, llm_store).ask(
                "digest", "digest_line", {"title": "t", "body": "b"}, Line
            )
            assert ans.value is not None
            lines.append(ans.value.line)
    assert lines == ["from the loopback stand-in", "from the production endpoint"]
    assert len(two.requests) == 1


def test_temperature_and_samples_are_part_of_the_key() -> None:
    rendered = load_prompt("digest_line").render({"title": "t", "body": "b"})
    base = generate.Request("digest", rendered, {}, 64, 0.0, 1)
    keys = {
        generate.cache_key(req, "gpt4all", "m.gguf#abc", Line)
        for req in (
            base,
            generate.Request("digest", rendered, {}, 64, 0.7, 1),
            generate.Request("digest", rendered, {}, 64, 0.0, 2),
        )
    }
    assert len(keys) == 3


def test_label_probabilities_of_a_replaced_file_are_read_again(
    tmp_path: Path, llm_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The zero-shot labels from the logits (llama) are cached under the file's fingerprint too."""
    script = fake_local.install(monkeypatch)
    path = tmp_path / "model.gguf"
    got = []
    for content, best in ((b"old-qwen", "bug"), (b"new-tune", "question")):
        fake_local.model_file(path, content)
        fake_local.restart()
        script.labels = {best: 0.9}
        settings = load_settings(
            data_dir=tmp_path / "d", env="test", model_path=path, model_backend="llama"
        )
        ans = ModelLayer(settings, llm_store).classify("triage", "o/r", "It crashes", LABELS)
        got.append((ans.value.label if ans.value else None, ans.record.cache_hit))
    assert got == [("bug", False), ("question", False)]


def test_the_fingerprint_is_read_once_per_file_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[Path] = []
    real = modelfile.model_fingerprint
    monkeypatch.setattr(modelfile, "model_fingerprint", lambda p: reads.append(p) or real(p))
    path = fake_local.model_file(tmp_path / "m.gguf", b"one")
    first = fingerprint(path)
    assert fingerprint(path) == first and len(reads) == 1
    fake_local.model_file(path, b"two")
    assert fingerprint(path) != first and len(reads) == 2
