"""The real hooks run by real `git commit`: speculative and cold paths, every don't-touch case, chaining, hooksPath, worktrees."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from bot.commits.hooks import START_GRACE_MS
from bot.commits.style import CC_SUBJECT
from tests.commits.conftest import Git, needs_model, wait_for

NO_MODEL = {
    "SMOLBOT_MODEL_PATH": "/nonexistent/model.gguf"
}  # rule-made drafts: hook mechanics only
GRACE, EARLIER = f"-ge {START_GRACE_MS} ]", "-ge 2000 ]"  # an earlier release waited 2 s
DISCOUNT = "def total(items):\n    return sum(i.price * i.qty for i in items)\n\n\ndef discount(total, pct):\n    return total * (1 - pct / 100)\n"


def install(g: Git, *extra: str) -> None:
    out = g.smolbot("hook", "install", *extra)
    assert out.returncode == 0, out.stderr


def place_draft(g: Git, text: str = "feat: SMOLBOT DRAFT\n") -> Path:
    path = g.draft_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.mark.model
@needs_model
def test_speculative_draft_is_ready_before_commit_and_used(repo: Git) -> None:
    install(repo)
    repo.write("src/shop/cart.py", DISCOUNT)
    repo("add", "src/shop/cart.py")  # post-index-change wakes the drafter
    draft = repo.draft_file()
    wait_for(draft.is_file)
    meta = json.loads(draft.with_suffix(".json").read_text())
    assert meta["backend"] == "gpt4all" and meta["model"].endswith(".gguf")
    subject = draft.read_text().splitlines()[0]
    assert CC_SUBJECT.match(subject) and len(subject) <= 72
    explain = repo.smolbot("draft", "--explain")  # scripts and editors get the same draft
    assert explain.stdout.startswith(draft.read_text().strip())
    assert "model:      qwen" in explain.stdout and "cache:" in explain.stdout
    assert (
        repo.git_path("smolbot/COMMIT_DRAFT.txt").read_text().strip() == draft.read_text().strip()
    )
    repo("commit", env={"SMOLBOT_COMMIT_WAIT_MS": "0"})  # ready drafts need no wait
    assert repo.last_message() == draft.read_text().strip()
    explain = repo.smolbot("draft", "--explain")
    assert explain.returncode != 0 and "nothing staged" in explain.stderr


@pytest.mark.model
@needs_model
def test_cold_commit_starts_the_drafter_and_waits_within_budget(repo: Git) -> None:
    repo.write("src/shop/pay.py", "def pay(amount, currency='EUR'):\n    return amount, currency\n")
    repo("add", "src/shop/pay.py")  # staged before smolbot was installed: nothing drafted
    install(repo, "--no-start")
    assert repo.drafter_pid() is None and not repo.draft_file().exists()
    repo("commit", env={"SMOLBOT_COMMIT_WAIT_MS": "240000"})
    message = repo.last_message()
    assert message != "manual message" and CC_SUBJECT.match(message.splitlines()[0])


def test_a_commit_waits_for_a_drafter_slow_to_start(
    repo: Git, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a loaded machine a drafter's interpreter can take over a second to write its pid; the
    commit right after `git add` must wait for it, not take it for dead (it did, at 0.5 s)."""
    from bot.commits import hooks
    from bot.commits.git import find_repo

    slow = tmp_path / "slow-python"  # the hooks' interpreter, one second late, as under load
    slow.write_text(f'#!/bin/sh\nsleep 1\nexec {hooks.python()} "$@"\n')
    slow.chmod(0o755)
    monkeypatch.setattr(hooks, "python", lambda: str(slow))
    hooks.install(find_repo(repo.root))
    repo.write("docs/usage.md", "# Usage\n\nInstall with pip, then run `shop serve`.\n")
    repo("add", "docs/usage.md", env=NO_MODEL)  # starts a drafter, which is not up yet
    repo("commit", env={"SMOLBOT_COMMIT_WAIT_MS": "240000", **NO_MODEL})
    assert repo.last_message().startswith("docs")


def test_no_draft_within_budget_leaves_the_message_to_the_user(repo: Git) -> None:
    install(repo, "--no-start")
    repo.write("notes.txt", "hello\n")
    repo("-c", "core.hooksPath=/nonexistent", "add", "notes.txt")
    done = repo("commit", env={"SMOLBOT_COMMIT_WAIT_MS": "0", **NO_MODEL})
    assert done.returncode == 0 and repo.last_message() == "manual message"


@pytest.mark.parametrize("case", ["-m", "-F", "template", "amend", "squash", "merge"])
def test_a_given_message_is_never_replaced(repo: Git, tmp_path: Path, case: str) -> None:
    install(repo, "--no-start")
    env = {"SMOLBOT_COMMIT_WAIT_MS": "3000", **NO_MODEL}
    if case in ("squash", "merge"):
        repo("checkout", "-q", "-b", "side")
        repo.write("side.txt", "side\n")
        repo("add", "side.txt", env=env)
        repo("commit", "-q", "-m", "feat: side work", env=env)
        repo("checkout", "-q", "main")
        repo.write("main.txt", "main\n")
        repo("add", "main.txt", env=env)
        repo("commit", "-q", "-m", "feat: main work", env=env)
        flag = "--squash" if case == "squash" else "--no-commit"
        repo("merge", flag, *([] if case == "squash" else ["--no-ff"]), "side", env=env)
    else:
        repo.write("src/shop/cart.py", DISCOUNT)
        repo("add", "src/shop/cart.py", env=env)
    place_draft(repo)
    args = {
        "-m": ["commit", "-m", "fix: my own words"],
        "-F": ["commit", "-F", str(tmp_path / "msg.txt")],
        "template": ["-c", f"commit.template={tmp_path / 'tpl.txt'}", "commit"],
        "amend": ["commit", "--amend"],
        "squash": ["commit"],
        "merge": ["commit"],
    }[case]
    (tmp_path / "msg.txt").write_text("fix: words from a file\n")
    (tmp_path / "tpl.txt").write_text("chore: from the template\n")
    before = repo.last_message()
    if case == "template":  # git refuses an unedited template
        env["GIT_EDITOR"] = "sh -c 'echo edited >> \"$1\"' -"
    repo(*args, env=env)
    message = repo.last_message()
    assert "SMOLBOT DRAFT" not in message
    expected = {
        "-m": "fix: my own words", "-F": "fix: words from a file", "template": "chore: from the template",
        "amend": before, "squash": "Squashed commit", "merge": "Merge branch 'side'",
    }[case]  # fmt: skip
    assert message.startswith(expected)


def test_existing_hooks_are_chained_and_restored(repo: Git) -> None:
    hooks = repo.git_path("hooks")
    mine = '#!/bin/sh\necho "$0 $*" >> "$(git rev-parse --git-dir)/user-hook.log"\n'
    for name in ("prepare-commit-msg", "post-index-change"):
        (hooks / name).write_text(mine)
        (hooks / name).chmod(0o755)
    install(repo, "--no-start")
    install(repo, "--no-start")  # twice: still chains the user's hook, never itself
    assert (hooks / ".smolbot-kept-prepare-commit-msg").read_text() == mine
    repo.write("docs/usage.md", "# Usage\n\nRun it.\n")
    repo("add", "docs/usage.md", env=NO_MODEL)
    wait_for(repo.draft_file().is_file, timeout=60)
    repo("commit", env=NO_MODEL)
    assert repo.last_message().startswith("docs")
    log = repo.git_path("user-hook.log").read_text()
    assert "post-index-change" in log and "prepare-commit-msg" in log
    status = repo.smolbot("hook", "status").stdout
    assert "chains .smolbot-kept-prepare-commit-msg" in status
    assert repo.smolbot("hook", "uninstall").returncode == 0
    assert (hooks / "prepare-commit-msg").read_text() == mine
    assert not (hooks / ".smolbot-kept-prepare-commit-msg").exists()


def test_status_names_a_hook_an_older_version_installed(repo: Git) -> None:
    install(repo, "--no-start")
    assert "prepare-commit-msg: smolbot [" in repo.smolbot("hook", "status").stdout
    hook = repo.git_path("hooks") / "prepare-commit-msg"
    hook.write_text(hook.read_text().replace(GRACE, EARLIER))  # an earlier release's
    status = repo.smolbot("hook", "status").stdout
    assert "prepare-commit-msg: smolbot (an older script, or another interpreter's:" in status
    assert "post-index-change: smolbot [" in status
    install(repo, "--no-start")
    assert "older script" not in repo.smolbot("hook", "status").stdout


def test_a_drafter_updates_the_hooks_an_older_release_wrote(repo: Git) -> None:
    """Hook fixes (the start grace was 2 s) reach a repository without a reinstall: the
    drafter the post-index-change hook starts rewrites our older scripts, and only ours."""
    chained = repo.git_path("hooks") / ".smolbot-kept-prepare-commit-msg"
    repo.git_path("hooks").mkdir(parents=True, exist_ok=True)
    (repo.git_path("hooks") / "prepare-commit-msg").write_text("#!/bin/sh\nexit 0\n")
    install(repo, "--no-start")  # keeps that hook as the chained one
    mine = chained.read_text()
    hook = repo.git_path("hooks") / "prepare-commit-msg"
    hook.write_text(hook.read_text().replace(GRACE, EARLIER))  # an earlier release's
    hook.chmod(0o700)
    assert "older script" in repo.smolbot("hook", "status").stdout
    repo.write("notes.txt", "hello\n")
    repo("add", "notes.txt", env=NO_MODEL)  # starts a drafter
    wait_for(lambda: "older script" not in repo.smolbot("hook", "status").stdout, timeout=60)
    assert GRACE in hook.read_text() and hook.stat().st_mode & 0o777 == 0o711
    assert chained.read_text() == mine
    assert "to this version's script" in repo.git_path("smolbot/drafter.log").read_text()
    repo("commit", env={"SMOLBOT_COMMIT_WAIT_MS": "240000", **NO_MODEL})  # the new script
    assert repo.last_message() != "manual message"  # ran after the kept one and put the draft


def test_refresh_leaves_other_interpreters_and_other_hooks(repo: Git) -> None:
    from bot.commits import hooks
    from bot.commits.git import find_repo

    git = find_repo(repo.root)
    hooks.install(git)
    prepare = repo.git_path("hooks") / "prepare-commit-msg"
    index = repo.git_path("hooks") / "post-index-change"
    old = prepare.read_text().replace(GRACE, EARLIER)
    prepare.write_text(old.replace(f"PY={hooks.python()}", "PY=/opt/other/bin/python"))
    assert f"PY={hooks.python()}\n" in index.read_text()  # the test edits what it means to
    index.write_text(index.read_text().replace("(1)", "(0)"))  # ours, this interpreter, older
    assert hooks.refresh(git) == [f"updated {index} to this version's script"]
    assert prepare.read_text() == old.replace(f"PY={hooks.python()}", "PY=/opt/other/bin/python")
    assert hooks.state(git, "post-index-change").current
    assert hooks.refresh(git) == []
    index.write_text("#!/bin/sh\n# someone's own hook, not ours\nexit 0\n")
    assert hooks.refresh(git) == [] and "not ours" in index.read_text()


@pytest.mark.parametrize(
    "kept",
    [
        ".smolbot-kept-prepare-commit-msg",
        "smolbot-chained/prepare-commit-msg",
        "prepare-commit-msg.smolbot-chained",
    ],
)
def test_refuses_to_lose_a_hook(repo: Git, kept: str) -> None:
    hooks = repo.git_path("hooks")
    for rel in ("prepare-commit-msg", kept):  # two different hooks (the same one: ours goes back)
        (hooks / rel).parent.mkdir(exist_ok=True)
        (hooks / rel).write_text(f"#!/bin/sh\n# {rel}\nexit 0\n")
    out = repo.smolbot("hook", "install", "--no-start")
    assert out.returncode != 0 and "move one away" in out.stderr


def test_core_hooks_path(repo: Git) -> None:
    repo("config", "core.hooksPath", ".githooks")
    install(repo, "--no-start")
    assert (repo.root / ".githooks" / "prepare-commit-msg").is_file()
    repo.write("tests/test_cart.py", "def test_total():\n    assert True\n")
    repo("add", "tests/test_cart.py", env=NO_MODEL)
    wait_for(repo.draft_file().is_file, timeout=60)
    repo("commit", env=NO_MODEL)
    assert repo.last_message().startswith("test")


def test_worktree_drafts_in_its_own_git_dir(repo: Git, make_repo: object) -> None:
    install(repo, "--no-start")
    wt_root = repo.root.parent / "wt"
    repo("worktree", "add", "-q", str(wt_root), "-b", "feature")
    wt = Git(wt_root, repo.env)
    wt.write("docs/faq.md", "# FAQ\n")
    wt("add", "docs/faq.md", env=NO_MODEL)
    draft = wt.draft_file()
    assert "worktrees" in str(draft)
    wait_for(draft.is_file, timeout=60)
    wt("commit", env=NO_MODEL)
    assert wt.last_message() == draft.read_text().strip()
    pid = wt.drafter_pid()
    if pid:
        os.kill(pid, signal.SIGTERM)


def test_drafter_exits_when_idle(repo: Git) -> None:
    install(repo)
    wait_for(repo.drafter_pid, timeout=30)
    pid = repo.drafter_pid()
    assert pid is not None
    out = repo.smolbot("hook", "status")
    assert f"running, pid {pid}" in out.stdout
    repo.env["SMOLBOT_DRAFTER_IDLE_S"] = "1"
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: repo.drafter_pid() is None, timeout=20)
    install(repo)  # a fresh drafter with a 1 s idle limit goes away by itself
    wait_for(repo.drafter_pid, timeout=30)  # started (before, no pid file looked like gone)
    wait_for(lambda: repo.drafter_pid() is None, timeout=60)
    assert not repo.git_path("smolbot/drafter.pid").exists()


def test_temporary_indexes_do_not_start_the_drafter(repo: Git, tmp_path: Path) -> None:
    install(repo, "--no-start")
    repo.write("notes.txt", "hello\n")
    repo("add", "notes.txt", env={"GIT_INDEX_FILE": str(tmp_path / "tmp-index"), **NO_MODEL})
    assert (tmp_path / "tmp-index").exists()
    time.sleep(1.5)  # the hook would have started it by now
    assert repo.drafter_pid() is None


def test_submodule_commits_get_drafts(make_repo: object, repo: Git) -> None:
    sub_src = Git(repo.root.parent / "lib", repo.env)
    sub_src.root.mkdir()
    sub_src("init", "-q", "-b", "main")
    sub_src.write("lib.py", "X = 1\n")
    sub_src("add", "lib.py")
    sub_src("commit", "-q", "-m", "feat: lib")
    repo(
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        str(sub_src.root),
        "vendor/lib",
    )
    sub = Git(repo.root / "vendor" / "lib", repo.env)
    install(sub, "--no-start")
    assert "modules" in str(sub.git_path("hooks"))
    sub.write("docs/readme.md", "# lib\n")
    sub("add", "docs/readme.md", env=NO_MODEL)
    draft = sub.draft_file()
    wait_for(draft.is_file, timeout=60)
    sub("commit", env=NO_MODEL)
    assert sub.last_message() == draft.read_text().strip() and sub.last_message().startswith("docs")
