"""What happens at commit time, in Python (the pre-commit framework path and `smolbot draft`)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from bot.commits import drafter, hooks
from bot.commits.drafts import DraftBox, DraftResult
from bot.commits.git import Repo
from bot.commits.hooks import PREFIX_MAX, START_GRACE_MS, no_editor
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


def is_prefix(line: str, comment: str = "#") -> bool:
    """Whether a hook's first line is a prefix for the subject (`ABC-123: `, `[ABC-123]`,
    `ABC-123 `): short, and ending in a separator, or in a space after one word. As the hook's awk."""
    text = line.rstrip(" \t")
    if not text or text.startswith(comment) or len(text) > PREFIX_MAX:
        return False
    return text[-1] in ":])|>/-" or (text != line and not any(c in " \t" for c in text))


def with_draft(draft: str, text: str, comment: str = "#") -> str:
    """The message file with the draft in: above what is there, a blank line between, or after a
    prefix a hook put on the first line (`ABC-123: ` + the draft's subject). As the hook's awk."""
    first, _, rest = text.partition("\n")
    draft = draft.rstrip("\n")
    if draft and is_prefix(first, comment):
        prefix = first.rstrip(" \t")
        subject = draft if draft.startswith(prefix) else f"{prefix} {draft}"
        return f"{subject}\n{rest}"
    return f"{draft}\n\n{text}"


def await_draft(
    repo: Repo, box: DraftBox, head: str, tree: str, on: str, budget_s: float
) -> str | None:
    """The draft for tree on HEAD's tree head, on the branch `on` (drafts.on_branch): at once
    when ready, else ask the drafter and wait up to budget_s, and no longer than a draft can
    still come (as the prepare-commit-msg hook)."""
    path, none = box.text_path(head, tree, on), box.none_path(head, tree, on)
    if tree == head or none.exists():
        return None
    if path.is_file():
        return path.read_text()
    if ask_and_wait(repo, box, head, tree, on, budget_s) == READY:
        return path.read_text()
    box.withdraw(head, tree, on)  # the commit goes on without it: nobody waits for the key now
    return None


READY, NO_DRAFT, GONE, BUSY = "ready", "none", "gone", "busy"


def ask_and_wait(repo: Repo, box: DraftBox, head: str, tree: str, on: str, budget_s: float) -> str:
    """Ask the drafter for (head, tree, on), starting one when none runs (the lock keeps it to
    one), and wait up to budget_s: READY, NO_DRAFT (it marked the key), GONE (no drafter runs,
    nor is starting) or BUSY (the budget is spent and a drafter is still at work)."""
    path, none = box.text_path(head, tree, on), box.none_path(head, tree, on)
    box.request(head, tree, on)
    child = drafter.spawn(repo.root) if drafter.alive(box) is None else None
    started = time.monotonic()
    while time.monotonic() < started + budget_s:
        if path.is_file():
            return READY
        if none.exists():
            return NO_DRAFT
        starting = child is not None and child.poll() is None
        late = time.monotonic() - started > START_GRACE_MS / 1000
        if late and not starting and drafter.alive(box) is None:
            return GONE
        time.sleep(0.05)
    return READY if path.is_file() else BUSY


def fill_message(repo: Repo, msg_file: Path, source: str, index_file: Path | None) -> bool:
    """prepare-commit-msg: put the draft above git's comments. False when the message was left
    alone. With no source git wrote no message: words there come from a hook that ran first (the
    pre-commit framework runs them in its config's order), a ticket prefix or a trailer, and the
    draft goes in with them (with_draft). No draft when no editor will show it (`--no-edit`,
    an editor of `true`): git aborts an empty message, and would commit ours unseen."""
    if source not in ("", "template") or not msg_file.is_file():
        return False  # -m, -F, merge, squash, amend/-c/-C: the user's message stands
    if no_editor(repo.editor()):
        return False
    current = msg_file.read_text(errors="replace")
    comment = repo.comment_string()
    if source == "template" and has_message(current, comment):
        return False  # a template with words in it
    tree = repo.staged_tree(index_file)
    box = DraftBox(repo.smolbot_dir())
    head, on, _ = drafter.at(repo)
    budget = wait_budget(repo)
    draft = await_draft(repo, box, head, tree, on, budget)
    if draft:
        msg_file.write_text(with_draft(draft, current, comment))
        return True
    if tree != head and not box.none_path(head, tree, on).exists():  # one is still coming
        msg_file.write_text(with_not_ready_note(current, comment, budget))
    return False


def with_not_ready_note(text: str, comment: str, waited_s: float) -> str:
    """The message file with comment lines (git drops them) saying the draft was not ready in
    time and how to get it: the editor opened empty and nothing said why. Above git's own
    comments; at the end when git put its scissors line first (commit.cleanup=scissors drops
    only what is below it). As the prepare-commit-msg hook's awk."""
    note = (
        f"{comment} smolbot: no draft yet: not ready after {waited_s:.1f} s. To use it, quit\n"
        f"{comment} smolbot: with an empty message, run `smolbot draft` (it waits), commit again.\n"
        f"{comment} smolbot: Commits wait longer with: git config smolbot.commitWaitMs 60000\n"
    )
    lines = text.splitlines(keepends=True)
    at = next((i for i, ln in enumerate(lines) if ln.startswith(comment)), len(lines))
    if at < len(lines) and lines[at].rstrip("\r\n") == f"{comment} {SCISSORS}":
        at = len(lines)
    if at == len(lines) and lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return "".join([*lines[:at], note, *lines[at:]])


def trigger(repo: Repo) -> None:
    """Make sure a drafter is running for this worktree (it drafts the staged tree on start)."""
    box = DraftBox(repo.smolbot_dir())
    if drafter.alive(box) is None:
        drafter.spawn(repo.root)


class DraftInProgress(TimeoutError):
    """`smolbot draft` waited its budget and the background drafter is still at work: drafting
    the same change beside it would only slow both (two model loads on the same cores)."""


def drafter_coming(repo: Repo, box: DraftBox) -> bool:
    """Whether a background drafter will draft what is staged: one runs, or our post-index-change
    hook is installed, so `git add` has just started one (whose interpreter may take a second to
    take the lock and write its pid: no `.pending` file yet, and none alive). Without either,
    nothing drafts in the background and `smolbot draft` must not wait for it."""
    return drafter.alive(box) is not None or hooks.state(repo, "post-index-change").ours


def draft_now(
    repo: Repo, wait_s: float, drafting: Callable[[], None] | None = None
) -> DraftResult | None:
    """The draft for the staged changes: the drafter's when one is coming (it is asked for the
    pair, and waited for up to wait_s), else made here at once (`drafting()` is called first:
    the CLI says the slow part has started). Never both: past wait_s with the drafter still at
    work this raises DraftInProgress (an OSError: the CLI's one-line error)."""
    box = DraftBox(repo.smolbot_dir())
    (head, on, branch), tree = drafter.at(repo), repo.staged_tree()
    if tree == head:
        box.unpublish()
        return None
    waits = wait_s > 0 and not box.none_path(head, tree, on).exists()
    if not box.ready(head, tree, on) and waits and drafter_coming(repo, box):
        outcome = ask_and_wait(repo, box, head, tree, on, wait_s)
        pid = drafter.alive(box)
        if outcome == BUSY and pid is not None:
            raise DraftInProgress(
                f"the background drafter (pid {pid}) is still drafting after {wait_s:g} s; "
                "run `smolbot draft` again to wait more (--wait sets how long), or read "
                f"{box.latest_path} once it is there"
            )
    result = box.load(head, tree, on) if box.ready(head, tree, on) else None
    if result is None:
        writer, opts = drafter.writer_for_settings()
        if drafting is not None:
            drafting()
        result = draft_tree(repo, tree, writer, opts, branch=branch)
        if result is not None:
            result.head = head
            box.save(result, on)
    box.publish(head, tree, on)
    return result
