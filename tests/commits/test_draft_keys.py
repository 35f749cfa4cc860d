"""Drafts belong to a (HEAD, staged tree) pair: the same staged tree on another HEAD is another change."""

from __future__ import annotations

from tests.commits.conftest import Git, wait_for

NO_MODEL = {"SMOLBOT_MODEL_PATH": "/nonexistent/model.gguf"}
WAIT = {"SMOLBOT_COMMIT_WAIT_MS": "240000", **NO_MODEL}


def commit_with_draft(g: Git, path: str, text: str) -> str:
    g.write(path, text)
    g("add", path, env=NO_MODEL)
    wait_for(g.draft_file().is_file, timeout=60)
    g("commit", env=NO_MODEL)
    return g.last_message()


def test_after_a_soft_reset_the_draft_is_for_everything_staged(repo: Git) -> None:
    """`git reset --soft HEAD~2` stages both commits' changes: the staged tree is the second
    commit's, whose draft (made against HEAD~1) the editor and `smolbot draft` offered."""
    assert repo.smolbot("hook", "install", "--no-start").returncode == 0
    commit_with_draft(repo, "src/shop/tax.py", "def tax(total):\n    return total * 0.2\n")
    second = commit_with_draft(repo, "src/shop/ship.py", "def ship(order):\n    return order\n")
    assert "ship" in second and "tax" not in second
    repo("reset", "--soft", "HEAD~2")
    out = repo.smolbot("draft", env=NO_MODEL)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() != second, out.stdout  # ship.py "and 1 other file" (rules)
    repo("commit", env=WAIT)
    assert repo.last_message() == out.stdout.strip()


def test_an_empty_commit_is_not_offered_the_last_commits_draft(repo: Git) -> None:
    assert repo.smolbot("hook", "install", "--no-start").returncode == 0
    commit_with_draft(repo, "docs/tax.md", "# Tax\n")
    repo("commit", "--allow-empty", env={"SMOLBOT_COMMIT_WAIT_MS": "0", **NO_MODEL})
    assert repo.last_message() == "manual message"
