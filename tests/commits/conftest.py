"""Real git repositories in temporary directories, smolbot's real hooks, and drafters cleaned up after."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.commits.git import EMPTY_TREE
from bot.settings import DEFAULT_MODEL_FILE, default_data_dir

SMOLBOT = str(Path(sys.executable).parent / "smolbot")
REAL_MODEL = Path(
    os.environ.get("SMOLBOT_MODEL_PATH") or default_data_dir() / "models" / DEFAULT_MODEL_FILE
)
HISTORY = [
    (
        "src/shop/cart.py",
        "def total(items):\n    return sum(i.price for i in items)\n",
        "feat(cart): add cart totals",
    ),
    ("src/shop/pay.py", "def pay(amount):\n    return amount\n", "feat(pay): accept payments"),
    ("docs/usage.md", "# Usage\n", "docs: describe usage"),
    (
        "src/shop/cart.py",
        "def total(items):\n    return sum(i.price * i.qty for i in items)\n",
        "fix(cart): count quantities in totals",
    ),
]


class Git:
    """One test repository; runs git like a user would, with a non-interactive editor."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root, self.env = root, env

    def __call__(
        self,
        *args: str,
        check: bool = True,
        env: dict[str, str] | None = None,
        timeout: float = 300,
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            ["git", *args], cwd=self.root, env={**self.env, **(env or {})},
            capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        if check and proc.returncode != 0:
            raise AssertionError(f"git {args} failed: {proc.stderr}")
        return proc

    def smolbot(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [SMOLBOT, *args], cwd=self.root, env={**self.env, **(env or {})},
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    def write(self, rel: str, text: str) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def git_path(self, rel: str) -> Path:
        out = self("rev-parse", "--git-path", rel).stdout.strip()
        return (self.root / out).resolve()

    def tree(self) -> str:
        # write-tree may rewrite the index (cache tree): keep the hooks out of the test's own reads
        return self("-c", "core.hooksPath=/dev/null", "write-tree").stdout.strip()

    def head_tree(self) -> str:
        out = self("rev-parse", "-q", "--verify", "HEAD^{tree}", check=False).stdout.strip()
        return out or EMPTY_TREE

    def on(self) -> str:
        """The branch HEAD is on as a draft's key names it: `detached`, or its ref's blob hash."""
        ref = self("symbolic-ref", "-q", "HEAD", check=False).stdout.strip()
        if not ref:
            return "detached"
        proc = subprocess.run(
            ["git", "hash-object", "--stdin"], input=ref, cwd=self.root, env=self.env,
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return proc.stdout.strip()

    def draft_file(self, tree: str | None = None, head: str | None = None) -> Path:
        """Where the draft for (HEAD's tree, staged tree, branch) goes; all default to the
        current ones."""
        name = f"{head or self.head_tree()}-{tree or self.tree()}-{self.on()}"
        return self.git_path(f"smolbot/drafts/{name}.txt")

    def last_message(self) -> str:
        return self("log", "-1", "--format=%B").stdout.strip()

    def drafter_pid(self) -> int | None:
        try:
            pid = int(self.git_path("smolbot/drafter.pid").read_text())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        return pid


def wait_for(check: Callable[[], object], timeout: float = 240.0, every: float = 0.1) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {check}")


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data dir for the session, so identical prompts hit the model layer's cache."""
    return tmp_path_factory.mktemp("smolbot-data")


@pytest.fixture
def base_env(data_dir: Path, tmp_path: Path) -> dict[str, str]:
    editor = tmp_path / "editor.sh"  # leaves a prepared message alone, writes one when empty
    editor.write_text(
        '#!/bin/sh\ngrep -v "^#" "$1" | grep -q "[^[:space:]]" || echo "manual message" >> "$1"\n'
    )
    editor.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "SMOLBOT_"))}
    env.update(
        SMOLBOT_DATA_DIR=str(data_dir), SMOLBOT_MODEL_PATH=str(REAL_MODEL), SMOLBOT_ENV="test",
        GIT_EDITOR=str(editor), GIT_AUTHOR_NAME="Tess", GIT_AUTHOR_EMAIL="t@example.com",
        GIT_COMMITTER_NAME="Tess", GIT_COMMITTER_EMAIL="t@example.com", SMOLBOT_DRAFTER_IDLE_S="30",
        HOME=str(tmp_path), GIT_CONFIG_NOSYSTEM="1", PRE_COMMIT_HOME=str(tmp_path / "pre-commit-cache"),
    )  # fmt: skip
    return env


@pytest.fixture
def make_repo(tmp_path: Path, base_env: dict[str, str]) -> Iterator[Callable[..., Git]]:
    made: list[Git] = []

    def make(name: str = "repo", *, history: bool = True) -> Git:
        g = Git(tmp_path / name, base_env)
        g.root.mkdir()
        g("init", "-q", "-b", "main")
        if history:
            for path, text, msg in HISTORY:
                g.write(path, text)
                g("add", path)
                g("commit", "-q", "--no-verify", "-m", msg)
        made.append(g)
        return g

    yield make
    # no orphans: every drafter started under this test's directory is stopped and really gone
    for _ in range(3):
        for pid in drafters_under(tmp_path):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)
        time.sleep(0.4)
    wait_for(lambda: not drafters_under(tmp_path), timeout=20)


def drafters_under(root: Path) -> list[int]:
    """Live drafter processes whose working directory is inside root (Linux /proc)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes()
            cwd = os.readlink(proc / "cwd")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if b"bot.commits.drafter" in cmd and cwd.startswith(str(root)) and state != "Z":
            found.append(int(proc.name))
    return found


@pytest.fixture
def repo(make_repo: Callable[..., Git]) -> Git:
    return make_repo()


needs_model = pytest.mark.skipif(
    not REAL_MODEL.is_file(), reason=f"no model file at {REAL_MODEL}; run `smolbot models pull`"
)
