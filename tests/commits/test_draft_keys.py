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


def test_commit_draft_txt_follows_the_index_and_head(repo: Git) -> None:
    """COMMIT_DRAFT.txt (for editors that never run prepare-commit-msg) is the draft for what is
    staged now, and COMMIT_DRAFT.for names that pair; it stayed on the last draft made, after a
    commit, with nothing staged, and while another change waited for its draft."""
    latest, pair = (
        repo.git_path("smolbot/COMMIT_DRAFT.txt"),
        repo.git_path("smolbot/COMMIT_DRAFT.for"),
    )

    def shows_the_staged_draft() -> bool:
        draft = repo.draft_file()
        return (
            draft.is_file()
            and pair.is_file()
            and latest.is_file()
            and (
                pair.read_text().strip() == draft.stem
                and latest.read_text().strip() == draft.read_text().strip()
            )
        )

    assert repo.smolbot("hook", "install", "--no-start").returncode == 0
    repo.write("docs/tax.md", "# Tax\n")
    repo("add", "docs/tax.md", env=NO_MODEL)
    wait_for(shows_the_staged_draft, timeout=60)
    first = latest.read_text()
    repo.write("src/shop/tax.py", "def tax(total):\n    return total * 0.2\n")
    repo("add", "src/shop/tax.py", env=NO_MODEL)  # another tree: replaced
    wait_for(shows_the_staged_draft, timeout=60)
    assert latest.read_text() != first
    repo("reset", "-q", env=NO_MODEL)  # nothing staged: removed
    wait_for(lambda: not latest.exists() and not pair.exists(), timeout=60)
    repo("add", "docs/tax.md", "src/shop/tax.py", env=NO_MODEL)
    wait_for(shows_the_staged_draft, timeout=60)
    repo("commit", env=NO_MODEL)  # committed: nothing staged any more
    wait_for(lambda: not latest.exists() and not pair.exists(), timeout=60)
    repo.write("docs/tax.md", "# Tax\n\n20 %.\n")
    repo("-c", "core.hooksPath=/dev/null", "add", "docs/tax.md")  # no drafter hears of it
    out = repo.smolbot("draft", env=NO_MODEL)
    assert out.returncode == 0 and shows_the_staged_draft()
    assert latest.read_text().strip() == out.stdout.strip()
    repo("-c", "core.hooksPath=/dev/null", "commit", "-q", "-m", "docs: tax rate")
    assert repo.smolbot("draft", env=NO_MODEL).returncode != 0  # nothing staged
    assert not latest.exists() and not pair.exists()
