"""A real OpenAI-compatible large model on loopback: llama-cpp-python's server with the local model,
reached by ChatOpenAI(base_url=…/v1) in json_mode. One real escalated classification."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.store import Store
from tests.llm.conftest import escalating_layer, real_model_path
from tests.llm.examples import LABELS
from tests.llm.fake_openai import free_port

pytest.importorskip(
    "llama_cpp.server", reason="the [llama] extra (with its server) is not installed"
)
pytestmark = [pytest.mark.model, pytest.mark.slow]

ISSUE = "App crashes when I click save\n\nTraceback (most recent call last): KeyError 'path'"
START_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    model = real_model_path()
    if not model.is_file():
        pytest.skip(f"the default model is not installed at {model}: run `smolbot models install`")
    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    cmd = [sys.executable, "-m", "bot.llm.llama_server", "--model", str(model)]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--n_threads", "1", "--n_ctx", "2048"]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {proc.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not start in {START_TIMEOUT_S} s")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_escalates_a_real_classification_to_the_server(
    tmp_path: Path, llm_store: Store, llama_server: str
) -> None:
    large = {
        "large_provider": "openai",
        "large_model": "qwen-on-llama-server",
        "large_base_url": llama_server,
    }
    layer = escalating_layer(tmp_path, llm_store, large, timeout=120)
    ans = layer.classify("triage", "o/r", ISSUE, LABELS)
    assert [a.backend for a in ans.attempts] == ["classifier", "openai"]
    assert ans.status == "escalated" and ans.value is not None, ans.attempts[-1].note
    assert ans.value.label in LABELS
    rec = ans.record
    assert rec.escalated and rec.model == "qwen-on-llama-server"
    assert rec.tokens_in > 50 and rec.tokens_out > 0  # the server's real usage numbers
    rows = list(llm_store.rows("select source, label from llm_examples where text = ?", [ISSUE]))
    assert rows == [{"source": "large", "label": ans.value.label}]
