"""What happens at commit time, in Python (the pre-commit framework path and `smolbot draft`)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from bot.commits import drafter
from bot.commits.drafts import DraftBox, DraftResult
from bot.commits.git import Repo
from bot.commits.hooks import START_GRACE_MS
from bot.commits.pipeline import draft_tree

DEFAULT_WAIT_S = 2.0


def wait_budget(repo: Repo) -> float:
    """Seconds a commit may wait for a draft in progress: SMOLBOT_COMMIT_WAIT_MS, then git config smolbot.commitWaitMs."""
    raw = os.environ.get("SMOLBOT_COMMIT_WAIT_MS") or repo.config("smolbot.commitWaitMs")
    try:
        return max(0.0, int(raw) / 1000) if raw else DEFAULT_WAIT_S
    except ValueError:
        return DEFAULT_WAIT_S


SCISSORS = "------------------------ >8 ------------------------"


def has_message(text: str, comment: str = "#") -> bool:
    """Whether someone wrote a message: a line neither blank nor a comment, above the scissors
    line under which `git commit -v` shows the diff."""
    for line in text.splitlines():
        if line == f"{comment} {SCISSORS}":
            return False
        if line.strip() and not line.startswith(comment):
            return True
    return False


def await_draft(repo: Repo, box: DraftBox, head: str, tree: str, budget_s: float) -> str | None:
    """The draft for tree on HEAD's tree head: at once when ready, else ask the drafter and wait
    up to budget_s, and no longer than a draft can still come (as the prepare-commit-msg hook)."""
    path, none = box.text_path(head, tree), box.none_path(head, tree)
    if tree == head or none.exists():
        return None
    if path.is_file():
        return path.read_text()
    box.request(head, tree)
    child = drafter.spawn(repo.root) if drafter.alive(box) is None else None
    started = time.monotonic()
    while time.monotonic() < started + budget_s:
        if path.is_file():
            return path.read_text()
        if none.exists():
            return None
        starting = child is not None and child.poll() is None
        late = time.monotonic() - started > START_GRACE_MS / 1000
        if late and not starting and drafter.alive(box) is None:
            return None
        time.sleep(0.05)
    return path.read_text() if path.is_file() else None


def fill_message(repo: Repo, msg_file: Path, source: str, index_file: Path | None) -> bool:
    """prepare-commit-msg: put the draft above git's comments. False when the message was left alone."""
    if source not in ("", "template") or not msg_file.is_file():
        return False  # -m, -F, merge, squash, amend/-c/-C: the user's message stands
    current = msg_file.read_text(errors="replace")
    if has_message(current, repo.comment_string()):
        return False  # a template with words in it too
    tree = repo.staged_tree(index_file)
    box = DraftBox(repo.smolbot_dir())
    draft = await_draft(repo, box, repo.head_tree(), tree, wait_budget(repo))
    if not draft:
        return False
    msg_file.write_text(draft.rstrip("\n") + "\n\n" + current)
    return True


def trigger(repo: Repo) -> None:
    """Make sure a drafter is running for this worktree (it drafts the staged tree on start)."""
    box = DraftBox(repo.smolbot_dir())
    if drafter.alive(box) is None:
        drafter.spawn(repo.root)


def draft_now(repo: Repo, wait_s: float) -> DraftResult | None:
    """The draft for the staged changes: the drafter's if ready (or ready within wait_s), else made here."""
    box = DraftBox(repo.smolbot_dir())
    head, tree = repo.head_tree(), repo.staged_tree()
    if tree == head:
        box.unpublish()
        return None
    if not box.ready(head, tree) and box.pending_path(head, tree).exists() and drafter.alive(box):
        deadline = time.monotonic() + wait_s
        while not box.ready(head, tree) and time.monotonic() < deadline:
            time.sleep(0.1)
    result = box.load(head, tree) if box.ready(head, tree) else None
    if result is None:
        writer, opts = drafter.writer_for_settings()
        result = draft_tree(repo, tree, writer, opts)
        if result is not None:
            result.head = head
            box.save(result)
    box.publish(head, tree)
    return result
