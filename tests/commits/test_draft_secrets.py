"""A credential in the staged diff never lands in the drafted message: a small model repeats a key
it is shown, and the hook would commit it. The notes name the kind of secret, never the secret."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from bot.commits import pipeline
from bot.commits.git import Repo
from bot.commits.message import CommitDraft
from bot.commits.pipeline import DraftOptions, draft_tree
from bot.core.secrets import credentials
from bot.llm.api import Answer, ModelRecord
from tests.commits.conftest import Git

KEY = "AKIAIOSFODNN7EXAMPLE"
PASSWORD = "9fQx7Lr2Vt8mZk4Wp1"  # recognizable only after `password = `
FIRST = "feat: add the settings"


class ScriptedWriter:
    """A model port that answers with the next scripted draft (the last one again after that)."""

    def __init__(self, *drafts: CommitDraft) -> None:
        self.drafts, self.calls = list(drafts), 0

    def ask(
        self, prompt: str, variables: dict[str, str], schema: type[Any], *, allow_large: bool
    ) -> Answer[Any]:
        self.calls += 1
        rec = ModelRecord("commit", "scripted", "scripted", f"{prompt}@1", 0.9, False, 1.0)
        return Answer(self.drafts[min(self.calls, len(self.drafts)) - 1], 0.9, rec, "ok")


def staged(make_repo: Callable[..., Git], text: str) -> Git:
    g = make_repo(history=False)
    g.write("README.md", "settings\n")
    g("add", "README.md")
    g("commit", "-q", "--no-verify", "-m", FIRST)
    g.write("conf.py", text)
    g("add", "conf.py")
    return g


def draft(g: Git, writer: ScriptedWriter) -> Any:
    result = draft_tree(Repo(g.root), g.tree(), writer, DraftOptions())
    assert result is not None
    shown = json.dumps([result.message, result.notes, result.repairs])
    assert KEY not in shown and PASSWORD not in shown, shown
    assert not credentials(result.message)
    return result


def test_a_subject_with_the_diffs_key_gets_the_rule_made_draft(
    make_repo: Callable[..., Git],
) -> None:
    g = staged(make_repo, f'AWS = "{KEY}"\n')
    echo = CommitDraft(type="feat", subject=f"add AWS key {KEY}", body=f"AWS = {KEY}")
    result = draft(g, ScriptedWriter(echo))
    assert result.confidence == 0.0
    assert result.message.splitlines()[0] == "feat: add conf.py"
    assert any("possible secret (AWS access key id)" in n for n in result.notes), result.notes


def test_body_lines_with_a_secret_are_dropped_and_the_rest_kept(
    make_repo: Callable[..., Git],
) -> None:
    g = staged(make_repo, f'password = "{PASSWORD}"\n')
    body = f"Read the settings from conf.py.\nSet the password to {PASSWORD}."
    result = draft(g, ScriptedWriter(CommitDraft(type="feat", subject="read settings", body=body)))
    assert result.message.strip() == "feat: read settings\n\nRead the settings from conf.py."
    assert 0 < result.confidence < 0.9
    note = "1 body line(s) with a possible secret dropped (high-entropy password assignment)"
    assert note in result.notes, result.notes


def test_the_answer_asked_for_again_is_checked_too(make_repo: Callable[..., Git]) -> None:
    g = staged(make_repo, f'AWS = "{KEY}"\n')
    copy = CommitDraft(type="feat", subject="add the settings")  # repeats FIRST: asked again
    echo = CommitDraft(type="feat", subject=f"add {KEY}")
    result = draft(g, ScriptedWriter(copy, echo))
    assert result.message.splitlines()[0] == "feat: add conf.py"
    assert result.confidence == 0.0
    assert any("possible secret (AWS access key id)" in n for n in result.notes), result.notes


def test_the_staged_diff_is_scanned_once_however_often_the_model_is_asked(
    make_repo: Callable[..., Git], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pass over a large diff costs about 0.14 s a megabyte: the message asked twice (the first
    answer repeated an earlier subject) with the large model allowed reads each file once, and
    the whole diff at most twice (any secret, then one on added lines)."""
    g = staged(make_repo, f'AWS = "{KEY}"\n')
    g.write("notes.txt", "plain words\n")
    g("add", "notes.txt")
    scanned: list[str] = []

    def counted(real: Callable[..., Any]) -> Callable[..., Any]:
        def scan(text: str, **kw: Any) -> Any:
            scanned.append(text)
            return real(text, **kw)

        return scan

    monkeypatch.setattr(pipeline, "secret_values", counted(pipeline.secret_values))
    monkeypatch.setattr(pipeline, "find_secrets", counted(pipeline.find_secrets))
    copy = CommitDraft(type="feat", subject="add the settings")  # repeats FIRST: asked again
    writer = ScriptedWriter(copy, CommitDraft(type="feat", subject="read the AWS settings"))
    result = draft_tree(Repo(g.root), g.tree(), writer, DraftOptions(allow_large=True))
    assert result is not None and writer.calls == 2
    assert result.message.splitlines()[0] == "feat: read the AWS settings"
    files = [t for t in scanned if t.startswith("diff --git")]
    assert len(files) == 4, files  # each file alone once, and the whole diff twice
    assert sum(KEY in t and "notes.txt" in t for t in files) == 2
