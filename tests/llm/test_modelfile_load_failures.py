"""A model file the runtime failed to load: the failure is remembered for the options it was loaded
with (not for every load of the file), and the message does not send the user to `smolbot models
install` when the file passed its size and sha256 check (that command then says "already installed"
and changes nothing)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner

from bot.llm import modelfile
from bot.llm.api import ModelUnavailable
from bot.llm.backends import get_backend
from bot.llm.modelfile import ModelSource, check_model_file, install, load_failed, load_key


@pytest.fixture(autouse=True)
def _no_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(modelfile, "_LOAD_FAILURES", {})


def _parts(tmp_path: Path) -> tuple[ModelSource, Path]:
    payload = b"GGUF" + bytes(range(256)) * 40
    chunks = [payload[:3000], payload[3000:7000], payload[7000:]]
    site = tmp_path / "site"
    for n, chunk in enumerate(chunks, 1):
        data = site / f"smolloadfail_model_part{n}" / "data"
        data.mkdir(parents=True)
        (data.parent / "__init__.py").write_text("")
        (data / f"part{n:02d}.bin").write_bytes(chunk)
    src = ModelSource(
        "smolloadfail.gguf",
        "smolloadfail-model",
        "0.0.1",
        3,
        len(payload),
        hashlib.sha256(payload).hexdigest(),
    )
    return src, site


def test_a_load_failure_of_the_checked_default_file_does_not_send_the_user_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default file passed its size and sha256 check, then the runtime failed to load it (out
    of memory, a context too large for the RAM): `smolbot models install` says the file is
    already installed and changes nothing, so it is not the advice."""
    src, site = _parts(tmp_path)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setitem(modelfile.SOURCES, src.filename, src)
    import bot.cli.models as cli

    monkeypatch.setattr(cli, "DEFAULT_SOURCE", src)
    monkeypatch.setenv("SMOLBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SMOLBOT_ENV", "test")
    path = install(src, tmp_path / "data" / "models")
    load_failed("gpt4all", path, MemoryError("Unable to allocate 1.2 GiB for the KV cache"))
    with pytest.raises(ModelUnavailable) as err:
        check_model_file(path, "gpt4all")
    out = CliRunner().invoke(cli.models, ["install"]).output
    assert "already installed" in out  # the command would change nothing ...
    message = str(err.value)
    assert "smolbot models install" not in message  # ... so it is not the advice
    assert "intact" in message and "SMOLBOT_MODEL_CONTEXT" in message
    assert "Unable to allocate" in message and "\n" not in message


def test_a_load_failure_of_an_unknown_file_still_says_how_to_get_a_good_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "custom.gguf"  # no known sha256: the file may well be the problem
    path.write_bytes(b"GGUF" + b"\0" * 64)
    load_failed("gpt4all", path, ValueError("Unsupported file format"))
    with pytest.raises(ModelUnavailable, match="smolbot models install"):
        check_model_file(path, "gpt4all")


class FakeLlama:
    """llama_cpp.Llama that cannot make a context over 8192 tokens (the machine's memory)."""

    loads: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, model_path: str, verbose: bool, **params: Any) -> None:
        FakeLlama.loads.append(params)
        if int(params.get("n_ctx", 0)) > 8192:
            raise ValueError("Failed to create llama_context")

    def close(self) -> None:
        pass


@pytest.fixture
def fake_llama(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    import llama_cpp

    monkeypatch.setattr(llama_cpp, "Llama", FakeLlama)
    monkeypatch.setattr(FakeLlama, "loads", [])
    return FakeLlama.loads


def test_a_load_that_failed_for_its_options_does_not_condemn_the_file_for_other_options(
    tmp_path: Path, fake_llama: list[dict[str, Any]]
) -> None:
    """The llama backend (n_ctx = SMOLBOT_MODEL_CONTEXT) and the triage reader (embedding=True,
    its own small context) both load the file through load_llama: a context too large for the
    machine's memory turned the reader off too, for the process's life."""
    from bot.llm.llama_backend import load_llama

    path = tmp_path / "custom.gguf"
    path.write_bytes(b"GGUF" + b"\0" * 64)
    for _ in range(2):  # the same options: remembered, not loaded again
        with pytest.raises(ModelUnavailable, match="could not load"):
            load_llama(path, True, n_ctx=32768)
    assert len(fake_llama) == 1
    load_llama(path, True, n_ctx=512, embedding=True)  # the reader's load: the file is fine
    assert len(fake_llama) == 2


def test_the_layer_sees_its_backend_s_failure_and_not_the_reader_s(
    tmp_path: Path, fake_llama: list[dict[str, Any]]
) -> None:
    """The layer asks check_model_file(path, backend.runtime) before it uses the local model: that
    is the backend's own load (its options), not any load of the file."""
    from bot.llm.llama_backend import load_llama

    path = tmp_path / "custom.gguf"
    path.write_bytes(b"GGUF" + b"\0" * 64)
    small = get_backend("llama", path, {"n_threads": 1, "n_ctx": 4096})
    large = get_backend("llama", path, {"n_threads": 1, "n_ctx": 32768})
    with pytest.raises(ModelUnavailable, match="could not load"):
        load_llama(path, n_ctx=16384, embedding=True)  # a reader's load that failed
    check_model_file(path, small.runtime)
    check_model_file(path, large.runtime)
    with pytest.raises(ModelUnavailable, match="could not load"):
        large.generate("s", "u", max_tokens=1, temperature=0)
    with pytest.raises(ModelUnavailable, match="could not load"):
        check_model_file(path, large.runtime)  # what the layer asks: remembered
    check_model_file(path, small.runtime)
    assert small.runtime.startswith("llama-cpp-python") and small.runtime != large.runtime
    assert len(fake_llama) == 2


def test_load_key_names_the_runtime_and_its_options() -> None:
    assert load_key("gpt4all") == "gpt4all"
    assert load_key("gpt4all", {"n_ctx": 4096, "device": "cpu"}) == (
        "gpt4all with device=cpu, n_ctx=4096"
    )
