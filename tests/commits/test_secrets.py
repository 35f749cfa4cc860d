"""Secrets anywhere in the diff sent keep it from the large model; the scan stays linear."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from bot.commits.git import Repo
from bot.commits.message import CommitDraft
from bot.commits.pipeline import DraftOptions, draft_tree
from bot.llm.api import Answer, ModelRecord
from tests.commits.conftest import Git

CONFIG = 'AWS = "AKIAIOSFODNN7EXAMPLE"\nSTRIPE = "sk_live_{}"\nDEBUG = False\n'


class SpyWriter:
    """Records what each prompt would send and whether the large model was allowed."""

    def __init__(self) -> None:
        self.calls: list[tuple[bool, str]] = []

    def ask(
        self, prompt: str, variables: dict[str, str], schema: type[Any], *, allow_large: bool
    ) -> Answer[Any]:
        self.calls.append((allow_large, variables.get("diff", "")))
        rec = ModelRecord("commit", "scripted", "scripted", f"{prompt}@1", 0.3, False, 1.0)
        return Answer(CommitDraft(type="fix", subject="turn on debug"), 0.3, rec, "ok")


def test_secrets_on_context_lines_never_go_to_the_large_model(
    make_repo: Callable[..., Git],
) -> None:
    g = make_repo(history=False)
    g.write("conf.py", CONFIG.format("abcdefghijklmnopqrstuvwx"))
    g("add", "conf.py")
    g("commit", "-q", "--no-verify", "-m", "chore: add config")
    g.write("conf.py", CONFIG.format("abcdefghijklmnopqrstuvwx").replace("False", "True"))
    g("add", "conf.py")
    repo = Repo(g.root)
    writer = SpyWriter()
    result = draft_tree(repo, repo.staged_tree(), writer, DraftOptions(allow_large=True))
    assert result is not None
    assert writer.calls and "AKIAIOSFODNN7EXAMPLE" in writer.calls[-1][1]  # context is sent...
    assert [allowed for allowed, _ in writer.calls] == [False]  # ...so it stays local
    note = " ".join(result.notes)
    assert "AWS access key id, Stripe key; on lines this change does not add" in note


def test_a_long_run_of_name_characters_is_scanned_in_linear_time() -> None:
    code = (
        "from bot.commits.secrets import find_secrets\n"
        "line = '+' + 'a.' * 20000 + 'secret' * 5000 + '\\n'\n"
        "key = '+x_' + 'a' * 60 + '_api_key = \"q8Zr2Lx9Vb4Nm7Kp3Wd6\"\\n'\n"
        "print(find_secrets(line), find_secrets(line + key))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )  # quadratic, this took minutes
    assert done.stdout.strip() == "[] ['high-entropy api_key assignment']"


KEY_DIFF = """diff --git a/deploy/key.pem b/deploy/key.pem
+-----BEGIN OPENSSH PRIVATE KEY-----
+b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
+QyNTUxOQAAACDq9XqUu1m0Hh8Yf2YpC3v6aL1t0r8cJ7m2J2bq7lq+FwAAAJgbWY3kG1mN
+-----END OPENSSH PRIVATE KEY-----
 unrelated = 1
"""


def test_a_drafted_line_that_repeats_a_private_key_s_body_is_caught() -> None:
    from bot.commits.secrets import secret_values, secrets_in

    shown = secret_values(KEY_DIFF)
    line = "add QyNTUxOQAAACDq9XqUu1m0Hh8Yf2YpC3v6aL1t0r8cJ7m2J2bq7lq+FwAAAJgbWY3kG1mN for deploys"
    assert secrets_in(line, shown) == ["private key block"]
    fragment = "a2V5LXYxAAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB"  # a run of the first line's middle
    assert secrets_in(f"use {fragment} here", shown) == ["private key block"]
    assert secrets_in("add the deploy key", shown) == []
    assert secrets_in("unrelated = 1", shown) == []  # a line after the block is not the key


# A name after `token = ` is what the model is meant to mention, not a secret it was shown: a
# setting, an attribute path, a constant, a file path (taken for values, every draft naming one
# lost its subject to the rule-made draft).
NAMES = [
    "WEBHOOK_TOKEN = settings.webhook_token",
    "self.token = self.dashboard_token",
    "api_key = base.large_api_key",
    "secret = Settings.webhook_secret",
    "token_name = github_app_installation_token",
    "TOKEN_ENV = SMOLBOT_DASHBOARD_TOKEN",
    'token_file = "models/qwen2-0_5b-instruct-q4_0.gguf"',
    "secret_path = /etc/smolbot/webhook-secret.txt",
]
# Real values keep being caught, whatever letters they start with or hold.
SECRETS = [
    'password = "9fQx7Lr2Vt8mZk4Wp1"',
    'api_key = "aB3xY9kQ2mN7pL4wZ"',
    "token = eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r",
    "secret = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "token = k3j9x_2mq8z_77ab4",
    # under a password key nothing is a name; a path's parts are lower-case words
    'password = "summer2024_prod_admin"',
    'password = "Hunter2.prod.backup"',
    'db_password = "q8z/k3j9x2mq8z77ab4v"',
    'token = "aws/wJalrXUtnFEMI.K7MDENGbPxRfiCY.key"',
    'token = "q8z/k3j9x2mq8z77ab4v"',
]


@pytest.mark.parametrize("line", NAMES)
def test_a_name_after_a_secret_keyword_is_not_a_secret_value(line: str) -> None:
    from bot.commits.secrets import secret_values

    assert secret_values(f"+{line}\n") == {}


@pytest.mark.parametrize("line", SECRETS)
def test_a_secret_value_is_still_found(line: str) -> None:
    from bot.commits.secrets import secret_values

    value = line.split("= ")[1].strip('"')
    assert value in secret_values(f"+{line}\n"), line


# Names quoted as JSON, Python/JS dict literals and PHP arrays write them: the pattern wanted a
# `:` or `=` right after the name, met the closing quote, and found nothing.
QUOTED = [
    '"api_key": "q8Zr2Lx9Vb4Nm7Kp3Wd6",',
    "{'password': 'q8Zr2Lx9Vb4Nm7Kp3Wd6'}",
    "'secret_token' => 'q8Zr2Lx9Vb4Nm7Kp3Wd6',",
    'const cfg = { "accessKey" : "q8Zr2Lx9Vb4Nm7Kp3Wd6" };',
]


@pytest.mark.parametrize("line", QUOTED)
def test_a_secret_under_a_quoted_name_is_found(line: str) -> None:
    from bot.commits.secrets import find_secrets, secret_values

    assert find_secrets(f"+{line}\n"), line
    assert "q8Zr2Lx9Vb4Nm7Kp3Wd6" in secret_values(f"+{line}\n"), line
