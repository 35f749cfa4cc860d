"""The drafter under stress: killed mid-draft, two commits in quick succession, staging moving on
mid-draft, the pre-commit framework."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.commits.drafter import Drafter
from bot.commits.drafts import DraftBox
from bot.commits.git import find_repo
from bot.commits.message import CommitDraft
from bot.commits.model import MESSAGE_PROMPT, FileSummary
from bot.commits.pipeline import DraftOptions
from bot.commits.style import CC_SUBJECT
from bot.llm.api import Answer, ModelRecord
from tests.commits.conftest import SMOLBOT, Git, needs_model, wait_for

ROOT = Path(__file__).resolve().parents[2]
NO_MODEL = {"SMOLBOT_MODEL_PATH": "/nonexistent/model.gguf"}


@pytest.mark.model
@needs_model
def test_killed_drafter_leaves_no_stale_lock(repo: Git) -> None:
    assert repo.smolbot("hook", "install", "--no-start").returncode == 0
    repo.write(
        "src/shop/cart.py",
        "def total(items, tax=0):\n    return sum(i.price for i in items) * (1 + tax)\n",
    )
    repo("add", "src/shop/cart.py")
    pending = repo.draft_file().with_suffix(".pending")
    wait_for(pending.is_file, timeout=60)  # the drafter is mid-draft
    pid = wait_for(repo.drafter_pid, timeout=10)
    assert isinstance(pid, int)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: repo.drafter_pid() is None, timeout=10)
    assert repo.git_path("smolbot/drafter.pid").exists()  # stale pid file, lock freed by the kernel
    repo.write(
        "src/shop/cart.py",
        "def total(items, tax=0.2):\n    return sum(i.price for i in items) * (1 + tax)\n",
    )
    repo("add", "src/shop/cart.py")  # the next stage starts a new drafter
    new_pid = wait_for(repo.drafter_pid, timeout=30)
    assert new_pid != pid
    draft = repo.draft_file()
    wait_for(draft.is_file)
    repo("commit", env={"SMOLBOT_COMMIT_WAIT_MS": "0"})
    assert repo.last_message() == draft.read_text().strip()


@pytest.mark.model
@needs_model
def test_two_commits_in_quick_succession_each_get_their_own_draft(repo: Git) -> None:
    assert repo.smolbot("hook", "install").returncode == 0
    env = {"SMOLBOT_COMMIT_WAIT_MS": "240000"}
    repo.write("docs/usage.md", "# Usage\n\nInstall with pip, then run `shop serve`.\n")
    repo("add", "docs/usage.md")
    repo("commit", env=env)
    first = repo.last_message()
    repo.write(
        "src/shop/pay.py",
        "def pay(amount):\n    if amount <= 0:\n        raise ValueError(amount)\n    return amount\n",
    )
    repo("add", "src/shop/pay.py")
    second_draft = repo.draft_file()
    repo("commit", env=env)
    second = repo.last_message()
    assert first.startswith("docs") and first != second
    assert second == second_draft.read_text().strip()
    assert CC_SUBJECT.match(second.splitlines()[0])


def local_config(stages_env: str) -> str:
    """Our .pre-commit-hooks.yaml as a `repo: local` config (system language: no network, this venv)."""
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    for hook in hooks:
        hook["language"] = "system"
        hook["entry"] = hook["entry"].replace("smolbot", SMOLBOT, 1)
    return yaml.safe_dump(
        {
            "default_install_hook_types": ["pre-commit", "prepare-commit-msg"],
            "repos": [{"repo": "local", "hooks": hooks}],
        }
    )


def test_pre_commit_framework_runs_our_hooks(repo: Git) -> None:
    repo.write(".pre-commit-config.yaml", local_config(""))
    repo("add", ".pre-commit-config.yaml")
    repo("commit", "-q", "--no-verify", "-m", "ci: add pre-commit config")
    pre_commit = str(Path(SMOLBOT).parent / "pre-commit")
    done = subprocess.run(
        [pre_commit, "install"],
        cwd=repo.root,
        env={**repo.env, **NO_MODEL},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "pre-commit" in (repo.git_path("hooks") / "prepare-commit-msg").read_text()
    repo.write("docs/usage.md", "# Usage\n\nRun `shop serve`.\n")
    repo("add", "docs/usage.md", env=NO_MODEL)
    started = time.monotonic()
    repo("commit", env={**NO_MODEL, "SMOLBOT_COMMIT_WAIT_MS": "60000"})
    assert time.monotonic() - started < 120
    assert repo.last_message().startswith("docs")
    repo("commit", "--allow-empty", "-m", "chore: mine", env=NO_MODEL)  # -m still wins
    assert repo.last_message() == "chore: mine"


BIG = "".join(
    f"def helper_{i}(x):\n    return x + {i}\n\n\n" for i in range(120)
)  # cut: summarized


class SlowModel:
    """Stands in for the model, whose every call takes 20-30 s on 2 cores: before answering it
    runs `meanwhile` (what the user does during that call) and notes what it was asked."""

    def __init__(self, meanwhile: Callable[[int], None]) -> None:
        self.meanwhile = meanwhile
        self.asked: list[tuple[str, str]] = []  # (prompt, the file list or the summarized path)

    def ask(
        self, prompt: str, variables: dict[str, str], schema: type[Any], *, allow_large: bool
    ) -> Answer[Any]:
        self.asked.append((prompt, variables.get("files") or variables["path"]))
        self.meanwhile(len(self.asked))
        rec = ModelRecord("commit", "scripted", "scripted", f"{prompt}@1", 0.8, False, 1.0)
        if schema is FileSummary:
            return Answer(FileSummary(summary="adds numbered helpers"), 0.8, rec, "ok")
        return Answer(CommitDraft(type="feat", subject="add helpers"), 0.8, rec, "ok")


@pytest.mark.parametrize("change", ["git add", "a commit asks for another tree"])
def test_a_draft_of_what_is_no_longer_staged_is_given_up_between_model_calls(
    repo: Git, tmp_path: Path, change: str
) -> None:
    """Staged in two steps, the drafter drafted the first tree to the end (its file summaries,
    then the message: a minute of model time) before it looked at the index again, and the
    commit found no draft for what it commits."""
    repo.write("src/shop/helpers.py", BIG)
    repo.write("src/shop/more.py", BIG.replace("helper_", "more_"))
    repo("add", "src/shop")
    head, first, on = repo.head_tree(), repo.tree(), repo.on()
    repo.write("docs/usage.md", "# Usage\n\nRun `shop serve`.\n")
    git = find_repo(repo.root)
    box = DraftBox(git.smolbot_dir())
    box.root.mkdir()  # as the drafter's lock makes it
    second: list[str] = []

    def meanwhile(calls: int) -> None:
        if calls != 1:  # during the first file summary of the first tree
            return
        if change == "git add":
            repo("add", "docs/usage.md")
            second.append(repo.tree())
        else:  # `git commit -a` drafts the tree of its own index
            index = {"GIT_INDEX_FILE": str(tmp_path / "commit-index")}
            repo("read-tree", "HEAD", env=index)
            repo("add", "src/shop", "docs/usage.md", env=index)
            second.append(repo("write-tree", env=index).stdout.strip())
            box.request(head, second[0], on)

    model = SlowModel(meanwhile)
    Drafter(git, box, model, DraftOptions(budget_chars=1500)).run(idle_s=0.3)
    messages = [files for prompt, files in model.asked if prompt == MESSAGE_PROMPT]
    assert "docs/usage.md" in messages[0], model.asked  # the second tree's message came first
    assert box.ready(head, second[0], on)
    if change == "git add":  # the first tree is staged no more: never drafted
        assert len(messages) == 1 and not box.ready(head, first, on)
        assert not box.none_path(head, first, on).exists()
        assert len(model.asked) == 1 + 3  # its one summary, then the second tree's three calls
    else:  # still staged: drafted after the commit's
        assert len(messages) == 2 and box.ready(head, first, on)


def test_a_model_call_running_when_the_staged_changes_move_on_is_given_up() -> None:
    """The check between calls left a message call already running to its end (20-30 s on 2
    cores). The watched writer hands its check to the generation (bot.llm.api.stop_when, asked
    by the gpt4all backend about once a second; tests/llm/test_local_model.py runs the real one)
    and a stopped one is the draft given up."""
    from bot.commits.pipeline import Outdated, _Watched
    from bot.llm.api import Stopped, stop_check

    staged = {"moved on": False}

    class Generating:  # what the layer's local generation does with the check
        def ask(self, prompt: str, variables: dict[str, str], schema: Any, *, allow_large: bool):  # type: ignore[no-untyped-def]
            check = stop_check()
            staged["moved on"] = True  # `git add` while the model writes
            if check is not None and check():
                raise Stopped("stopped by the caller after 12 tokens")
            return Answer(CommitDraft(type="feat", subject="add helpers"), 0.8, None, "ok")  # type: ignore[arg-type]

    watched = _Watched(Generating(), lambda: not staged["moved on"])  # type: ignore[arg-type]
    with pytest.raises(Outdated, match="moved on"):
        watched.ask(MESSAGE_PROMPT, {}, CommitDraft, allow_large=False)


def test_drafts_dated_ahead_of_the_clock_do_not_crowd_out_a_new_one(tmp_path: Path) -> None:
    """The clock ran ahead while 50 drafts were made, then was set back: those ranked above any
    new draft, which prune deleted as soon as it was saved (every commit then waited its whole
    budget for a draft that was gone)."""
    import os
    import time

    from bot.commits.drafts import DraftResult

    box = DraftBox(tmp_path / "smolbot")
    box.drafts.mkdir(parents=True)
    ahead = time.time() + 30 * 86400
    for i in range(60):
        old = box.text_path("h" * 40, f"{i:040d}", "detached")
        old.write_text("chore: old\n")
        os.utime(old, (ahead, ahead))
    box.save(DraftResult(tree="t" * 40, head="h" * 40, message="feat: new draft"), "detached")
    assert box.text_path("h" * 40, "t" * 40, "detached").read_text().startswith("feat: new draft")
    assert box.ready("h" * 40, "t" * 40, "detached")
    assert len(list(box.drafts.glob("*.txt"))) == 1  # the ones dated ahead were stale
