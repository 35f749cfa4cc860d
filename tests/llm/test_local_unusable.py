"""A local model file that is there but will not load is treated like a missing one: the large model
answers when there is one, the failure is recorded with its reason, and the load is not retried on
every call (only once the file changed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from bot.llm import ModelLayer, ModelUnavailable
from bot.settings import load_settings
from bot.store import Store
from tests.llm import fake_local
from tests.llm.examples import LABELS
from tests.llm.fake_openai import Behaviour, serve


class Line(BaseModel):
    line: str


VARS = {"title": "t", "body": "b"}


def layer_with(tmp_path: Path, store: Store, model: Path, **over: object) -> ModelLayer:
    settings = load_settings(
        data_dir=tmp_path / "d", env="test", model_path=model, model_threads=1, **over
    )
    return ModelLayer(settings, store)


def test_a_gguf_gpt4all_will_not_load_escalates_and_says_why(
    tmp_path: Path, llm_store: Store
) -> None:
    broken = tmp_path / "custom.gguf"  # an unknown name: no size to compare; gpt4all refuses it
    broken.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\xff" * 5000)
    behaviour = Behaviour(replies=['{"line": "tooltip flickers"}'])
    with serve(behaviour) as url:
        large = {"large_provider": "openai", "large_model": "big", "large_base_url": url}
        layer = layer_with(tmp_path, llm_store, broken, large_max_retries=0, **large)
        ans = layer.ask("digest", "digest_line", VARS, Line)
        again = layer.ask("digest", "digest_line", {"title": "t2", "body": "b"}, Line)
    assert ans.status == again.status == "escalated" and ans.ok
    assert ans.value == Line(line="tooltip flickers")
    skipped = ans.attempts[0]
    assert skipped.backend == "gpt4all" and "could not load" in skipped.note
    assert "smolbot models install" in skipped.note
    assert [a.backend for a in again.attempts] == ["gpt4all", "openai"]
    assert "could not load" in again.attempts[0].note  # remembered, not loaded again
    notes = [r["note"] for r in layer.records.calls()]
    assert sum("could not load" in (n or "") for n in notes) == 2


def test_without_a_large_model_the_failure_is_recorded_and_the_load_not_retried(
    tmp_path: Path, llm_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = fake_local.install(monkeypatch)
    path = fake_local.model_file(tmp_path / "custom.gguf", b"BAD")
    layer = layer_with(tmp_path, llm_store, path)
    for _ in range(3):
        with pytest.raises(ModelUnavailable, match="could not load") as err:
            layer.ask("digest", "digest_line", VARS, Line)
        assert "\n" not in str(err.value)
    assert script.loads == 1
    rows = layer.records.calls()
    assert len(rows) == 3 and all(r["status"] == "no_answer" for r in rows)
    assert all("could not load" in r["note"] for r in rows)
    fake_local.model_file(path, b"fixed")  # replaced: tried again, and it answers
    assert layer.ask("digest", "digest_line", VARS, Line).ok
    assert script.loads == 2


def test_a_cold_start_classify_with_a_file_that_will_not_load_is_cautious(
    tmp_path: Path, llm_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = fake_local.install(monkeypatch)
    path = fake_local.model_file(tmp_path / "custom.gguf", b"BAD")
    layer = layer_with(tmp_path, llm_store, path, model_backend="llama")
    first = layer.classify("triage", "o/r", "It crashes", LABELS)
    second = layer.classify("triage", "o/r", "It crashes again", LABELS)
    for ans in (first, second):
        assert not ans.ok and ans.value is None and ans.status == "no_answer"
        assert any("could not load" in a.note for a in ans.attempts)
    assert script.loads == 1


def test_a_cold_start_classify_escalates_past_a_file_that_will_not_load(
    tmp_path: Path, llm_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_local.install(monkeypatch)
    path = fake_local.model_file(tmp_path / "custom.gguf", b"BAD")
    with serve(Behaviour(replies=['{"label": "bug"}'])) as url:
        large = {"large_provider": "openai", "large_model": "big", "large_base_url": url}
        layer = layer_with(tmp_path, llm_store, path, **large)
        ans = layer.classify("triage", "o/r", "It crashes", LABELS)
    assert ans.status == "escalated" and ans.value is not None and ans.value.label == "bug"
    assert any("could not load" in a.note for a in ans.attempts)
