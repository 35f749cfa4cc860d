"""Model files: missing, truncated or wrong files give one clear line; install assembles parts atomically."""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from bot.llm import ModelUnavailable, get_model_layer, modelfile
from bot.llm.api import UnknownBackend
from bot.llm.backends import get_backend
from bot.llm.modelfile import DEFAULT_SOURCE, ModelSource, check_model_file, file_status, install
from bot.settings import load_settings
from bot.store import Store


class Line(BaseModel):
    line: str


def _expect_one_line(err: ModelUnavailable) -> None:
    msg = str(err)
    assert "\n" not in msg
    assert "smolbot models install" in msg


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable) as err:
        check_model_file(tmp_path / DEFAULT_SOURCE.filename)
    _expect_one_line(err.value)
    assert file_status(tmp_path / "nothing.gguf") == "missing"


def test_truncated_default_file(tmp_path: Path) -> None:
    path = tmp_path / DEFAULT_SOURCE.filename
    path.write_bytes(b"GGUF" + b"\0" * 1000)
    with pytest.raises(ModelUnavailable, match="incomplete") as err:
        check_model_file(path)
    _expect_one_line(err.value)
    assert "incomplete" in file_status(path)


def test_not_a_gguf(tmp_path: Path) -> None:
    path = tmp_path / "other.gguf"
    path.write_bytes(b"<html>not found</html>")
    with pytest.raises(ModelUnavailable, match="not a GGUF") as err:
        check_model_file(path)
    _expect_one_line(err.value)


@pytest.mark.skipif(not Path("/proc/self/mem").is_file(), reason="Linux's /proc")
def test_a_file_that_cannot_be_read_is_unavailable_not_an_oserror(
    tmp_path: Path, llm_store: Store
) -> None:
    """A file there that this process cannot read (another user's, mode 0600, for a service user;
    an I/O error): its OSError left every ask(), and the triage job failed before its cautious
    path. /proc/self/mem is a file whose read fails (EIO) even for root, who reads any mode."""
    unreadable = Path("/proc/self/mem")
    with pytest.raises(ModelUnavailable, match="cannot read the model file") as err:
        check_model_file(unreadable)
    _expect_one_line(err.value)
    settings = load_settings(data_dir=tmp_path, model_path=unreadable, env="test")
    with pytest.raises(ModelUnavailable):
        get_model_layer(settings, llm_store).ask(
            "digest", "digest_line", {"title": "t", "body": "b", "recent": "", "why": ""}, Line
        )


def test_ask_with_broken_model_raises_one_line(tmp_path: Path, llm_store: Store) -> None:
    broken = tmp_path / DEFAULT_SOURCE.filename
    broken.write_bytes(b"GGUF" + b"\0" * 64)
    settings = load_settings(data_dir=tmp_path, model_path=broken, env="test")
    layer = get_model_layer(settings, llm_store)
    with pytest.raises(ModelUnavailable) as err:
        layer.ask(
            "digest", "digest_line", {"title": "t", "body": "b", "recent": "", "why": ""}, Line
        )
    _expect_one_line(err.value)


def test_unknown_backend_and_unknown_options(tmp_path: Path) -> None:
    with pytest.raises(UnknownBackend, match="known: gpt4all, llama"):
        get_backend("nope", tmp_path / "m.gguf", {})
    with pytest.raises(ValidationError, match="n_gpu"):
        get_backend("gpt4all", tmp_path / "m.gguf", {"n_gpu": 1})


def test_llama_backend_without_llama_cpp_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the environment without the extra: `import llama_cpp` fails as it does when not installed
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    path = tmp_path / "m.gguf"
    path.write_bytes(b"GGUF" + b"\0" * 64)
    backend = get_backend("llama", path, {"n_threads": 1})
    with pytest.raises(ModelUnavailable, match=r"smolbot\[llama\]"):
        backend.generate("s", "u", max_tokens=1, temperature=0)


# --- install from part packages ---------------------------------------------------------


@pytest.fixture
def parts(tmp_path: Path) -> Iterator[tuple[ModelSource, bytes]]:
    """Three importable part packages on sys.path, as `pip install …-partN` would leave them."""
    payload = b"GGUF" + bytes(range(256)) * 40
    chunks = [payload[:3000], payload[3000:7000], payload[7000:]]
    site = tmp_path / "site"
    for n, chunk in enumerate(chunks, 1):
        data = site / f"smoltest_model_part{n}" / "data"
        data.mkdir(parents=True)
        (data.parent / "__init__.py").write_text("")
        (data / f"part{n:02d}.bin").write_bytes(chunk)
    source = ModelSource(
        "smoltest.gguf",
        "smoltest-model",
        "0.0.1",
        3,
        len(payload),
        hashlib.sha256(payload).hexdigest(),
    )
    sys.path.insert(0, str(site))
    yield source, payload
    sys.path.remove(str(site))


def test_install_assembles_parts(parts: tuple[ModelSource, bytes], tmp_path: Path) -> None:
    source, payload = parts
    seen: list[int] = []
    path = install(source, tmp_path / "models", progress=seen.append)
    assert path.read_bytes() == payload
    assert sum(seen) == len(payload)
    # no temp file left; the stamp says its sha256 was checked, so no check reads it again
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "smoltest.gguf",
        "smoltest.gguf.verified",
    ]


def test_install_refuses_wrong_checksum(parts: tuple[ModelSource, bytes], tmp_path: Path) -> None:
    source, _ = parts
    wrong = ModelSource(source.filename, source.package, source.version, 3, source.size, "0" * 64)
    with pytest.raises(ModelUnavailable, match="nothing was installed"):
        install(wrong, tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []


def test_corrupt_gguf_that_passes_the_magic_check(tmp_path: Path) -> None:
    path = tmp_path / "custom.gguf"  # an unknown name: no size to compare, gpt4all itself refuses
    path.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\xff" * 5000)
    backend = get_backend("gpt4all", path, {"n_threads": 1})
    with pytest.raises(ModelUnavailable, match="could not load") as err:
        backend.generate("s", "u", max_tokens=1, temperature=0)
    _expect_one_line(err.value)


# --- the known model's sha256, once per version of the file ----------------------------------


@pytest.fixture
def known(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, bytes, list[Path]]:
    """A known model file (its name, size and sha256 in SOURCES) and a log of full reads."""
    payload = b"GGUF" + bytes(range(256)) * 40
    source = ModelSource(
        "tiny-known.gguf", "tiny", "1", 1, len(payload), hashlib.sha256(payload).hexdigest()
    )
    monkeypatch.setitem(modelfile.SOURCES, source.filename, source)
    monkeypatch.setattr(modelfile, "_VERIFIED", {})
    reads: list[Path] = []
    real = modelfile.sha256_file
    monkeypatch.setattr(modelfile, "sha256_file", lambda p: reads.append(p) or real(p))
    return tmp_path / "models" / source.filename, payload, reads


def _new_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(modelfile, "_VERIFIED", {})


def test_a_right_size_file_with_the_wrong_sha256_is_refused(
    known: tuple[Path, bytes, list[Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, payload, reads = known
    path.parent.mkdir()
    path.write_bytes(payload[:-1] + b"X")  # one byte flipped: the size check passes
    for _ in range(2):
        with pytest.raises(ModelUnavailable, match="damaged") as err:
            check_model_file(path)
        _expect_one_line(err.value)
    _new_process(monkeypatch)  # a restarted worker trusts the stamp: no second read
    with pytest.raises(ModelUnavailable, match="damaged"):
        check_model_file(path)
    assert len(reads) == 1
    assert file_status(path).endswith("not the sha256 of tiny-known.gguf")


def test_the_sha256_is_read_once_then_trusted_until_the_file_changes(
    known: tuple[Path, bytes, list[Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, payload, reads = known
    path.parent.mkdir()
    path.write_bytes(payload)
    check_model_file(path)
    check_model_file(path)
    _new_process(monkeypatch)
    check_model_file(path)
    assert len(reads) == 1 and modelfile.stamp_path(path).is_file()
    path.write_bytes(payload[:-1] + b"X")  # damaged in place afterwards: size and mtime change
    os.utime(path, ns=(1, 1))
    with pytest.raises(ModelUnavailable, match="damaged"):
        check_model_file(path)
    assert len(reads) == 2
    assert file_status(path, verify=True) != "ok" and len(reads) == 3  # --verify reads again


def test_an_unwritable_models_directory_still_checks_once_per_process(
    known: tuple[Path, bytes, list[Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, payload, reads = known
    path.parent.mkdir()
    path.write_bytes(payload)
    monkeypatch.setattr(modelfile, "stamp_path", lambda p: p.parent / "no-such-dir" / "stamp")
    check_model_file(path)
    check_model_file(path)
    assert len(reads) == 1


def test_ask_with_a_damaged_default_model_says_to_reinstall(
    known: tuple[Path, bytes, list[Path]], llm_store: Store
) -> None:
    path, payload, _ = known
    path.parent.mkdir()
    path.write_bytes(payload[:-1] + b"X")
    layer = get_model_layer(
        load_settings(data_dir=path.parent, model_path=path, env="test"), llm_store
    )
    assert not layer.local_available()
    with pytest.raises(ModelUnavailable, match="smolbot models install"):
        layer.ask("digest", "digest_line", {"title": "t", "body": "b"}, Line)
