"""`smolbot doctor` gives ✓ only to what works: a model file the model layer would load (not
one whose first bytes merely say GGUF) and a large model escalations can reach (a hosted API
needs its key)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bot.cli.doctor import _large, _model
from bot.llm.api import ModelUnavailable
from bot.llm.modelfile import check_model_file
from bot.settings import load_settings


def test_doctor_gives_no_tick_to_a_cut_short_model_file(tmp_path: Path) -> None:
    """A download or copy that stopped early keeps the GGUF magic; the model layer refuses it, so
    every model call would fail while doctor said ✓."""
    settings = load_settings(env="test", data_dir=tmp_path)
    path = settings.effective_model_path
    path.parent.mkdir(parents=True)
    path.write_bytes(b"GGUF" + b"\0" * 4096)
    with pytest.raises(ModelUnavailable, match="incomplete or damaged"):
        check_model_file(path)
    ok, detail = _model(settings)
    assert not ok, f"doctor said ✓ model: {detail}"
    assert "incomplete or damaged (4,100 of" in detail
    assert "smolbot models install" in detail


def test_doctor_names_a_missing_model_file_and_the_fix(tmp_path: Path) -> None:
    settings = load_settings(env="test", data_dir=tmp_path)
    ok, detail = _model(settings)
    assert not ok
    assert str(settings.effective_model_path) in detail and "smolbot models install" in detail


def test_doctor_ticks_the_installed_model(tmp_path: Path) -> None:
    path = load_settings().effective_model_path  # this user's, as in tests/llm
    if not path.is_file():
        pytest.skip(f"the default model is not installed at {path}")
    settings = load_settings(env="test", data_dir=tmp_path, model_path=path)
    assert _model(settings) == (True, f"{path} ({path.stat().st_size:,} bytes)")


@pytest.mark.parametrize(
    ("provider", "base_url"),
    [
        ("openai", None),
        ("openai", "https://api.openai.com/v1"),
        ("anthropic", None),
        ("anthropic", "http://127.0.0.1:8001"),
    ],
)
def test_doctor_gives_no_tick_to_a_hosted_large_model_without_a_key(
    tmp_path: Path, provider: str, base_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OpenAI's own API gets the key "not-needed" from build_chat and Anthropic none: every
    escalation would be refused, so doctor says which setting is missing."""
    s = load_settings(
        env="test",
        data_dir=tmp_path,
        large_provider=provider,
        large_model="some-model",
        large_base_url=base_url,
    )
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    ok, detail = _large(s)
    assert not ok, f"doctor said ✓ large model: {detail}"
    assert detail.startswith("SMOLBOT_LARGE_API_KEY is not set:"), detail


def test_anthropics_key_from_its_own_variable_is_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given no key, langchain's Anthropic client reads ANTHROPIC_API_KEY: escalations work.
    OpenAI's gets "not-needed" from build_chat, so OPENAI_API_KEY is no key for it."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-env")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    common = {"env": "test", "data_dir": tmp_path, "large_model": "m"}
    ok, detail = _large(load_settings(large_provider="anthropic", **common))
    assert ok and "ANTHROPIC_API_KEY" in detail and "from-env" not in detail, detail
    assert not _large(load_settings(large_provider="openai", **common))[0]


def test_a_local_compatible_server_needs_no_key_and_a_key_is_enough(tmp_path: Path) -> None:
    local = load_settings(
        env="test",
        data_dir=tmp_path,
        large_provider="openai",
        large_model="local",
        large_base_url="http://127.0.0.1:8001/v1",
    )
    assert _large(local)[0]
    hosted = load_settings(
        env="test",
        data_dir=tmp_path,
        large_provider="openai",
        large_model="gpt-4o-mini",
        large_api_key="sk-S3CRET",
    )
    ok, detail = _large(hosted)
    assert ok and "API key set" in detail and "S3CRET" not in detail


def test_demo_does_not_start_on_a_cut_short_model_file(tmp_path: Path) -> None:
    """The demo checked only that the file exists: it started workers on a file the model layer
    refuses. Now it stops first, with the model layer's reason and its fix."""
    from bot.llm.modelfile import DEFAULT_SOURCE
    from tests.test_deploy_cli_store import smolbot

    data = tmp_path / "d"
    (data / "models").mkdir(parents=True)
    (data / "models" / DEFAULT_SOURCE.filename).write_bytes(b"GGUF" + b"\0" * 4096)
    keep = tmp_path / "demo"
    env = {"SMOLBOT_DATA_DIR": str(data)}
    out = smolbot(tmp_path, tmp_path, "demo", "--keep", str(keep), "--timeout", "5", env=env)
    assert out.returncode == 1, out.stdout + out.stderr[-500:]
    assert "incomplete or damaged" in out.stderr and "smolbot models install" in out.stderr
    assert not keep.exists() and out.stdout == ""


def test_the_llama_backend_without_its_runtime_gets_no_tick(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SMOLBOT_MODEL_BACKEND=llama without llama-cpp-python: every local call is refused, so the
    model is ✗ with the install hint (as if the llama extra were missing: its module hidden)."""
    path = load_settings().effective_model_path
    if not path.is_file():
        pytest.skip(f"the default model is not installed at {path}")
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    s = load_settings(env="test", data_dir=tmp_path, model_path=path, model_backend="llama")
    ok, detail = _model(s)
    assert not ok and "llama-cpp-python" in detail, detail


def test_a_model_smolbot_does_not_list_is_said_unchecked(tmp_path: Path) -> None:
    """Only the models of smolbot's own list have a size and sha256 to check: another GGUF gets
    ✓ for its header, and doctor says that is all it checked."""
    own = tmp_path / "my-model.gguf"
    own.write_bytes(b"GGUF" + b"\0" * 1024)
    ok, detail = _model(load_settings(env="test", data_dir=tmp_path, model_path=own))
    assert ok and "size and sha256 not checked" in detail, detail
