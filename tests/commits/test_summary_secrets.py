"""A secret that only the file-summary (map) step saw never reaches the drafted message. The map
step is shown a large file's raw diff, the message step only the model's summary of it: a summary
that repeats the password without its `password = ` (what made it recognizable) went into the
message prompt, and the message's secret check, which looked only at that prompt, let it through.
It uses scripted writers like test_draft_secrets.py, not the real model."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import pytest

from bot.commits.git import Repo
from bot.commits.message import CommitDraft
from bot.commits.model import FILE_PROMPT, FileSummary
from bot.commits.pipeline import DraftOptions, draft_tree
from bot.llm.api import Answer, ModelRecord
from tests.commits.conftest import Git

PASSWORD = "9fQx7Lr2Vt8mZk4Wp1"  # recognizable only after `password = `


class MapThenMessage:
    """The map step answers `summary`, the message step `draft`; the message prompts are kept."""

    def __init__(self, summary: str, draft: CommitDraft) -> None:
        self.summary, self.draft = summary, draft
        self.message_prompts: list[dict[str, str]] = []

    def ask(
        self, prompt: str, variables: dict[str, str], schema: type[Any], *, allow_large: bool
    ) -> Answer[Any]:
        rec = ModelRecord("commit", "scripted", "scripted", f"{prompt}@1", 0.9, False, 1.0)
        if prompt == FILE_PROMPT:
            assert PASSWORD in variables["diff"]  # the map step is shown the secret
            return Answer(FileSummary(summary=self.summary), 0.9, rec, "ok")
        self.message_prompts.append(variables)
        return Answer(self.draft, 0.9, rec, "ok")


def draft_large_settings(make_repo: Callable[..., Git], writer: MapThenMessage) -> Any:
    g = make_repo(history=False)
    g.write("README.md", "settings\n")
    g("add", "README.md")
    g("commit", "-q", "--no-verify", "-m", "docs: add readme")
    filler = "".join(f"OPTION_{i} = {i}  # tuning knob number {i}\n" for i in range(400))
    g.write("conf.py", f'DB_PASSWORD = "{PASSWORD}"\n{filler}')  # too large to paste: summarized
    g("add", "conf.py")
    result = draft_tree(Repo(g.root), g.tree(), writer, DraftOptions())
    assert result is not None
    assert writer.message_prompts, result.notes  # the message step was asked
    shown = json.dumps([result.message, result.notes, result.repairs])
    assert PASSWORD not in shown, shown
    return result


def test_a_file_summary_with_a_secret_is_not_put_in_the_message_prompt(
    make_repo: Callable[..., Git],
) -> None:
    body = "Add the database settings."
    writer = MapThenMessage(
        f"set the database password to {PASSWORD}",
        CommitDraft(type="feat", subject="add database settings", body=body),
    )
    result = draft_large_settings(make_repo, writer)
    summary = "the database password to"  # the rule-made line (the diff's first lines) instead
    assert all(summary not in v for p in writer.message_prompts for v in p.values())
    assert result.message.strip() == f"feat: add database settings\n\n{body}"
    note = "file summary of conf.py held a possible secret (high-entropy password assignment)"
    assert any(note in n for n in result.notes), result.notes


def test_a_message_repeating_a_secret_only_the_map_step_saw_loses_that_line(
    make_repo: Callable[..., Git],
) -> None:
    body = f"Add the database settings.\nSet the database password to {PASSWORD}."
    writer = MapThenMessage(
        "adds the database settings and many tuning knobs",
        CommitDraft(type="feat", subject="add database settings", body=body),
    )
    result = draft_large_settings(make_repo, writer)
    assert result.message.strip() == "feat: add database settings\n\nAdd the database settings."
    note = "1 body line(s) with a possible secret dropped (high-entropy password assignment)"
    assert note in result.notes, result.notes


def test_a_setting_name_in_a_large_diff_is_not_taken_for_a_secret(
    make_repo: Callable[..., Git], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`WEBHOOK_TOKEN = settings.webhook_token` (a name, not a value) in a summarized file: a
    subject naming the setting is no secret and keeps the model's draft (the whole staged diff
    is checked: the name was taken for a token, and the rule-made draft replaced the model's)."""
    name = "settings.webhook_token"
    monkeypatch.setattr(sys.modules[__name__], "PASSWORD", name)  # what the map step is shown
    subject = f"read the webhook token from {name}"
    writer = MapThenMessage(
        "adds the webhook settings and many tuning knobs",
        CommitDraft(type="feat", subject=subject, body=f"- use {name} for the hook"),
    )
    g = make_repo(history=False)
    g.write("README.md", "settings\n")
    g("add", "README.md")
    g("commit", "-q", "--no-verify", "-m", "docs: add readme")
    filler = "".join(f"OPTION_{i} = {i}  # tuning knob number {i}\n" for i in range(400))
    g.write("conf.py", f"WEBHOOK_TOKEN = {name}\n{filler}")  # too large to paste: summarized
    g("add", "conf.py")
    result = draft_tree(Repo(g.root), g.tree(), writer, DraftOptions())
    assert result is not None
    assert writer.message_prompts, result.notes
    assert result.message.strip() == f"feat: {subject}\n\n- use {name} for the hook", result.notes
