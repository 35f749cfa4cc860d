"""Many files: the prompt stays within its budget, says what it leaves out, and is never sent too large."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bot.commits import diffs
from bot.commits.git import Repo
from bot.commits.message import CommitDraft
from bot.commits.pipeline import DraftOptions, draft_tree
from bot.llm.api import Answer, ModelRecord
from bot.llm.prompts import load_prompt
from tests.commits.conftest import Git

MORE = re.compile(r"^\.\.\. and (\d+) more files? \((.*)\)$", re.M)


class SeeingWriter:
    """Records each prompt's variables; answers a fixed draft."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, dict[str, str]]] = []

    def ask(
        self, prompt: str, variables: dict[str, str], schema: type[Any], *, allow_large: bool
    ) -> Answer[Any]:
        self.asked.append((prompt, dict(variables)))
        rec = ModelRecord("commit", "scripted", "scripted", f"{prompt}@1", 0.8, False, 1.0)
        value = CommitDraft(type="feat", subject="add modules") if schema is CommitDraft else None
        return Answer(value, 0.8, rec, "ok" if value else "no_answer")


def many_files(make_repo: Callable[..., Git], n: int) -> Repo:
    g = make_repo(history=False)
    g.write("README.md", "x\n")
    g("add", ".")
    g("commit", "-q", "--no-verify", "-m", "docs: start")
    for i in range(n):
        g.write(f"pkg{i % 7}/mod_{i}.py", f"x = {i}\n")
    g("add", ".")
    return Repo(g.root)


def test_a_thousand_files_fit_the_budget_and_every_file_is_counted(
    make_repo: Callable[..., Git],
) -> None:
    repo = many_files(make_repo, 1500)
    writer = SeeingWriter()
    opts = DraftOptions()
    result = draft_tree(repo, repo.staged_tree(), writer, opts)
    assert result is not None and result.message.startswith("feat: add modules")
    prompt, variables = writer.asked[-1]
    assert prompt == "commit_message"
    assert len(variables["files"]) + len(variables["diff"]) <= opts.budget_chars
    rendered = load_prompt(prompt).render(variables)
    assert len(rendered.system) + len(rendered.user) < opts.budget_chars + 2000  # was 129,022
    listed = MORE.search(variables["files"])
    assert listed and re.match(r"pkg\d/ \d+, ", listed.group(2))
    assert listed.group(2).endswith(f"2 more directories; +{listed.group(1)} -0 lines")
    files = variables["files"].splitlines()
    assert len(files) - 1 + int(listed.group(1)) == 1500  # listed, or counted in the last line
    left_out = MORE.search(variables["diff"])
    assert left_out
    pasted = variables["diff"].count("diff --git ")
    lines = variables["diff"].split("\n\n", 1)[0].splitlines()[1:-1]  # the summary lines
    assert pasted + len(lines) + int(left_out.group(1)) == 1500


def test_a_prompt_that_cannot_fit_is_not_sent_and_the_draft_says_why(
    make_repo: Callable[..., Git],
) -> None:
    repo = many_files(make_repo, 40)
    writer = SeeingWriter()
    result = draft_tree(repo, repo.staged_tree(), writer, DraftOptions(context_tokens=1000))
    assert result is not None
    assert writer.asked == []  # not the file summaries either
    assert any(
        n.startswith("prompt too large for the model (about ") and "holds 1000" in n
        for n in result.notes
    )
    assert result.message.startswith("feat: add pkg0/mod_0.py and 39 other files")


def test_the_line_for_left_out_files_groups_them_by_directory() -> None:
    patch = "".join(
        f"diff --git a/src/{d}/{f} b/src/{d}/{f}\n--- a/src/{d}/{f}\n+++ b/src/{d}/{f}\n"
        "@@ -1 +1 @@\n-a\n+b\n"
        for d, f in [("a", "x.py"), ("b", "y.py"), ("b", "z.py")]
    )
    changes = diffs.changes_from_patch(patch)
    assert diffs.more_line(changes) == "... and 3 more files (src/b/ 2, src/a/ 1; +3 -3 lines)"
    assert diffs.stat_block(changes, 10_000).count("\n") == 2  # room: every file has its line


def test_a_rule_made_body_counts_the_files_it_does_not_name(
    make_repo: Callable[..., Git],
) -> None:
    repo = many_files(make_repo, 20)
    result = draft_tree(repo, repo.staged_tree(), None, DraftOptions())
    assert result is not None
    body = result.message.split("\n\n", 1)[1].replace("\n  ", " ")
    named = [line for line in body.splitlines() if line.startswith("- add ")]
    more = re.search(r"^- \.\.\. and (\d+) more files \(", body, re.M)
    assert more and len(named) + int(more.group(1)) == 20  # it named 12 and dropped 8 silently


def test_the_drafter_s_options_follow_the_model_s_context(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The fit check uses SMOLBOT_MODEL_CONTEXT (it assumed 4096), and a small context gets a
    budget that fits it rather than one the check then always refuses."""
    from bot.commits.drafter import writer_for_settings
    from bot.settings import get_settings

    monkeypatch.setenv("SMOLBOT_MODEL_PATH", "/nonexistent.gguf")
    for context, budget in ((2048, 2696), (8192, 6000)):
        monkeypatch.setenv("SMOLBOT_MODEL_CONTEXT", str(context))
        get_settings.cache_clear()
        _, opts = writer_for_settings()
        assert (opts.context_tokens, opts.budget_chars) == (context, budget)
    get_settings.cache_clear()
