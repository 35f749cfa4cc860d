"""A draft belongs to the branch it was made on too: the branch's name decides which closing
keyword (`fixes #123`) a draft keeps (bot.commits.references). Keyed by (HEAD's tree, staged
tree) alone, a draft made on `fix-123` was the editor's after `git switch -c other` (same HEAD,
same index), `fixes #123` and all, and a draft made on `other` lacked it on `fix-123`. The hooks,
the drafter and git are real; no model: the rule-made subject names the staged file, and a
file named `fixes #123.md` puts the closing keyword in it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.commits.drafts import parse_key
from tests.commits.conftest import Git, wait_for

NO_MODEL = {"SMOLBOT_MODEL_PATH": "/nonexistent/model.gguf"}
WAIT = {"SMOLBOT_COMMIT_WAIT_MS": "240000", **NO_MODEL}
NO_WAIT = {"SMOLBOT_COMMIT_WAIT_MS": "0", **NO_MODEL}
NO_HOOKS = ("-c", "core.hooksPath=/dev/null")
FILE = "notes/fixes #123.md"
CLOSES = "fixes #123"


def staged_on(g: Git, branch: str, hooks: bool = True) -> None:
    """`FILE` staged on `branch` (made from HEAD), with smolbot's hooks installed or not."""
    if hooks:
        out = g.smolbot("hook", "install", "--no-start")
        assert out.returncode == 0, out.stderr
    g("switch", "-q", "-c", branch, env=NO_MODEL)
    g.write(FILE, "Crash on save.\n")
    g("add", FILE, env=NO_MODEL)


def one_draft(g: Git) -> Path:
    """The draft the drafter made, whatever its name."""
    drafts = g.git_path("smolbot/drafts")
    found = wait_for(lambda: drafts.is_dir() and list(drafts.glob("*.txt")), timeout=60)
    assert isinstance(found, list) and len(found) == 1, found
    return found[0]


def stop_drafter(g: Git) -> None:
    """No drafter left to draft behind the test's back."""
    pid = g.drafter_pid()
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
    wait_for(lambda: g.drafter_pid() is None, timeout=30)


@pytest.mark.parametrize(("first", "then"), [("fix-123", "other"), ("other", "fix-123")])
def test_a_commit_on_another_branch_gets_that_branch_s_draft(
    repo: Git, first: str, then: str
) -> None:
    staged_on(repo, first)
    made = one_draft(repo)
    assert (CLOSES in made.read_text()) == (first == "fix-123"), made.read_text()
    repo("switch", "-q", "-c", then, env=NO_MODEL)  # same HEAD, same index
    ours = repo.draft_file()
    repo("commit", env=WAIT)
    message = repo.last_message()
    assert (CLOSES in message) == (then == "fix-123"), message
    assert message == ours.read_text().strip()
    assert ours != made and made.is_file()


def test_a_draft_for_another_branch_is_never_taken_for_none(repo: Git) -> None:
    """No draft ready for this branch, and no wait: the commit goes on without one."""
    staged_on(repo, "fix-123")
    assert CLOSES in one_draft(repo).read_text()
    stop_drafter(repo)
    repo(*NO_HOOKS, "switch", "-q", "-c", "other")  # nothing hears of it: no draft for it comes
    repo("commit", env=NO_WAIT)
    assert repo.last_message() == "manual message"


def sha256_repo(make_repo: Callable[..., Git]) -> Git:
    g = make_repo(history=False)
    g("init", "-q", "-b", "main", "--object-format=sha256", str(g.root / "s256"))
    return Git(g.root / "s256", g.env)


@pytest.mark.parametrize("where", ["branch", "detached", "sha256"])
def test_the_branch_s_own_draft_is_ready_at_commit(
    make_repo: Callable[..., Git], where: str
) -> None:
    """The hook spells the key as the drafter does (a detached HEAD; a SHA-256 repository's
    hash, before its first commit): with no wait at all, the draft `git add` made is taken."""
    g = sha256_repo(make_repo) if where == "sha256" else make_repo()
    if where == "detached":
        g("switch", "-q", "--detach")
        assert g.smolbot("hook", "install", "--no-start").returncode == 0
        g.write(FILE, "Crash on save.\n")
        g("add", FILE, env=NO_MODEL)
        assert g.draft_file().stem.endswith("-detached")
    else:
        staged_on(g, "fix-123")
    unborn = g("hash-object", "-t", "tree", os.devnull).stdout.strip()  # the SHA-256 one's HEAD
    draft = g.draft_file(head=unborn if where == "sha256" else None)
    wait_for(draft.is_file, timeout=60)
    g("commit", env=NO_WAIT)
    assert g.last_message() == draft.read_text().strip()
    assert (CLOSES in g.last_message()) == (where != "detached")


def test_smolbot_draft_and_the_framework_hook_follow_the_branch(repo: Git) -> None:
    """`smolbot draft`, COMMIT_DRAFT.txt and `smolbot hook run prepare-commit-msg` (the
    pre-commit framework's path) take the draft for the branch HEAD is on."""
    staged_on(repo, "fix-123", hooks=False)
    out = repo.smolbot("draft", env=NO_MODEL)
    assert out.returncode == 0 and CLOSES in out.stdout, out.stdout + out.stderr
    fix = out.stdout.strip()
    repo("switch", "-q", "-c", "other")
    msg = repo.root / "COMMIT_EDITMSG.test"
    msg.write_text("\n# Please enter the commit message\n")
    ran = repo.smolbot("hook", "run", "prepare-commit-msg", str(msg), env=NO_WAIT)
    assert ran.returncode == 0, ran.stderr
    shown = msg.read_text()  # none ready for `other`: fix-123's is not taken, the note says so
    kept = "".join(ln for ln in shown.splitlines(True) if not ln.startswith("# smolbot: "))
    assert kept == "\n# Please enter the commit message\n" and "no draft yet" in shown, shown
    out = repo.smolbot("draft", env=NO_MODEL)
    assert out.returncode == 0 and CLOSES not in out.stdout, out.stdout + out.stderr
    latest = repo.git_path("smolbot/COMMIT_DRAFT.txt")
    assert latest.read_text().strip() == out.stdout.strip()
    assert repo.git_path("smolbot/COMMIT_DRAFT.for").read_text().strip() == repo.draft_file().stem
    repo("switch", "-q", "fix-123")
    out = repo.smolbot("draft", env=NO_MODEL)
    assert out.returncode == 0 and out.stdout.strip() == fix
    assert latest.read_text().strip() == fix


def test_an_older_release_s_files_match_nothing(repo: Git) -> None:
    """A draft, request and COMMIT_DRAFT.for named `<head>-<tree>` (made for whichever branch
    was out then) are never taken, and crash nothing."""
    staged_on(repo, "other", hooks=False)
    head, tree = repo.head_tree(), repo.tree()
    old = f"{head}-{tree}"
    drafts = repo.git_path("smolbot/drafts")
    drafts.mkdir(parents=True)
    (drafts / f"{old}.txt").write_text(f"fix: stale, {CLOSES}\n\n")
    (drafts / f"{old}.json").write_text(json.dumps({"tree": tree, "message": "fix: stale"}))
    repo.git_path("smolbot/want").write_text(old)
    repo.git_path("smolbot/COMMIT_DRAFT.for").write_text(old + "\n")
    repo.git_path("smolbot/COMMIT_DRAFT.txt").write_text(f"fix: stale, {CLOSES}\n")
    assert parse_key(old) is None
    status = repo.smolbot("hook", "status")
    assert status.returncode == 0 and "drafts: 0 in" in status.stdout, status.stdout
    out = repo.smolbot("draft", env=NO_MODEL)
    assert out.returncode == 0 and "stale" not in out.stdout, out.stdout + out.stderr
    assert repo.git_path("smolbot/COMMIT_DRAFT.for").read_text().strip() == repo.draft_file().stem
    assert repo.smolbot("hook", "install", "--no-start").returncode == 0
    repo.write("docs/usage.md", "# Usage\n\nSave often.\n")
    repo("add", "docs/usage.md", env=NO_MODEL)  # the drafter takes the old request: dropped
    repo("commit", env=WAIT)
    assert "stale" not in repo.last_message()
    assert repo.last_message() == repo.draft_file(head=head).read_text().strip()


def test_keys_name_the_branch_as_git_hashes_it(repo: Git) -> None:
    from bot.commits.drafts import DETACHED, key, on_branch

    head = repo.head_tree()
    ref = repo("symbolic-ref", "-q", "HEAD").stdout.strip()
    blob = subprocess.run(
        ["git", "hash-object", "--stdin"], input=ref, cwd=repo.root, env=repo.env,
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert on_branch(ref, head) == blob and on_branch("", head) == DETACHED
    assert on_branch("refs/heads/a", head) != on_branch("refs/heads/b", head)
    assert parse_key(key(head, "t" * 40, blob)) == (head, "t" * 40, blob)
    assert parse_key(f"{head}-{'t' * 40}") is None and parse_key("t" * 40) is None


def test_a_branch_name_that_is_not_utf8_keys_as_the_hook_keys_it(repo: Git) -> None:
    """git keeps a ref name as bytes: `caf\\xe9` (Latin-1) is no UTF-8. The hook hashes the
    bytes; the drafter read them as U+FFFD and hashed that, so no draft ever matched there."""
    from bot.commits.drafter import at
    from bot.commits.git import Repo

    name = b"refs/heads/caf\xe9"
    subprocess.run(
        [b"git", b"symbolic-ref", b"HEAD", name], cwd=repo.root, env=repo.env, check=True
    )
    hook_side = subprocess.run(
        ["git", "hash-object", "--stdin"], input=name, cwd=repo.root, env=repo.env,
        capture_output=True, check=True,
    ).stdout.decode().strip()  # fmt: skip
    _, on, branch = at(Repo(repo.root))
    assert on == hook_side
    assert branch == "caf\ufffd"  # shown (and read for issue numbers) with a replacement
