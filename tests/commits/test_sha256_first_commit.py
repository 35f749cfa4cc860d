"""The first commit of a SHA-256 repository gets a draft, as in a SHA-1 one. HEAD is unborn, and
the drafter and the hook took the SHA-1 empty tree for HEAD's tree: git diff-tree in a SHA-256
repository does not know that object, so the drafter marked the pair "drafting failed"."""

from __future__ import annotations

from collections.abc import Callable

from bot.commits.git import Repo
from bot.commits.pipeline import DraftOptions, draft_tree
from tests.commits.conftest import Git, wait_for

NO_MODEL = {"SMOLBOT_MODEL_PATH": "/nonexistent/model.gguf"}
SHA256_EMPTY_TREE = "6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321"


def sha256_repo(make_repo: Callable[..., Git]) -> Git:
    g = make_repo(history=False)
    g("init", "-q", "--object-format=sha256", str(g.root / "s256"))
    return Git(g.root / "s256", g.env)


def test_the_first_commit_of_a_sha256_repository_is_drafted(
    make_repo: Callable[..., Git],
) -> None:
    s = sha256_repo(make_repo)
    s.write("README.md", "hello\n")
    s("add", "README.md")
    repo = Repo(s.root)
    assert repo.head_tree() == SHA256_EMPTY_TREE
    result = draft_tree(repo, s.tree(), None, DraftOptions())
    assert result is not None
    assert result.message.startswith("docs")


def test_the_hook_waits_for_the_draft_the_drafter_writes(make_repo: Callable[..., Git]) -> None:
    """The hook's key (HEAD's tree before the first commit) is the drafter's."""
    s = sha256_repo(make_repo)
    out = s.smolbot("hook", "install", "--no-start")
    assert out.returncode == 0, out.stderr
    s.write("docs/usage.md", "# Usage\n\nRun it.\n")
    s("add", "docs/usage.md", env=NO_MODEL)
    draft = s.draft_file(head=SHA256_EMPTY_TREE)
    wait_for(draft.is_file, timeout=60)
    s("commit", env={"SMOLBOT_COMMIT_WAIT_MS": "240000", **NO_MODEL})
    assert s.last_message() == draft.read_text().strip()
