"""Git adapter: the only module here that runs `git`; every call is short, checked and offline."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# The empty tree of a SHA-1 repository; a SHA-256 one has another (Repo.empty_tree).
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
LOG_SEP = "\x1e"
# Internal commands that may write an index (write-tree refreshes its cache tree) run no hooks:
# the user's post-index-change hook is not theirs to see, and ours would start a drafter.
NO_HOOKS = ("-c", "core.hooksPath=/dev/null")
BIG_FILE = "1m"  # a changed file past this is summarised (its name, binary), never pasted
NO_GIT = "git was not found on PATH; install git or add it to PATH, then retry"
# Paths git takes from the environment, relative to where they were given (GIT_DIR=r/.git
# GIT_WORK_TREE=r smolbot draft): Repo runs git from the worktree's top, where they name another place.
PATH_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY")


class GitError(Exception):
    """A git command failed; the message carries git's own words."""


class UnmergedError(GitError):
    """The index has unmerged paths (a merge, rebase or cherry-pick stopped on a conflict)."""


@dataclass(frozen=True)
class Repo:
    """One working tree (a worktree has its own index and git dir; objects and hooks are shared)."""

    root: Path

    def git(self, *args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
        # An inherited GIT_INDEX_FILE (hooks run with one) must not leak into our reads.
        full_env = {k: v for k, v in os.environ.items() if k != "GIT_INDEX_FILE"}
        full_env.update(env or {})
        try:
            proc = subprocess.run(
                ["git", "-c", "core.quotepath=off", *args],
                cwd=self.root,
                env=full_env,
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                check=False,
            )
        except FileNotFoundError as err:
            raise _no_git(err) from None
        if check and proc.returncode != 0:
            words = args[len(NO_HOOKS) :] if args[: len(NO_HOOKS)] == NO_HOOKS else args
            raise GitError(f"git {' '.join(words[:2])}: {proc.stderr.strip() or proc.returncode}")
        return proc.stdout

    def git_path(self, rel: str) -> Path:
        """Path of `rel` inside this worktree's git dir (hooks, config: the common dir)."""
        out = self.git("rev-parse", "--git-path", rel).strip()
        path = Path(out)
        return path if path.is_absolute() else (self.root / path).resolve()

    def smolbot_dir(self) -> Path:
        return self.git_path("smolbot")

    def index_path(self) -> Path:
        return self.git_path("index")

    def head_tree(self) -> str:
        """HEAD's tree; before the first commit, the empty tree (so the first is drafted too)."""
        out = self.git("rev-parse", "--verify", "-q", "HEAD^{tree}", check=False).strip()
        return out or self.empty_tree()

    def empty_tree(self) -> str:
        """The empty tree in this repository's hash: SHA-1's (EMPTY_TREE) is unknown to a
        SHA-256 repository, whose git diff-tree then fails. Asked once per repository."""
        return _empty_tree(self.root)

    def staged_tree(self, index_file: Path | None = None) -> str:
        """The tree the index would commit, computed on a private copy so the user's index is never locked."""
        source = index_file or self.index_path()
        if not source.exists():
            return self.head_tree()
        with tempfile.TemporaryDirectory(prefix="smolbot-idx-") as tmp:
            # not named `index`: a hook that runs anyway must not take the copy for a real index
            copy = Path(tmp) / "index.smolbot-copy"
            shutil.copyfile(source, copy)
            try:
                return self.git(*NO_HOOKS, "write-tree", env={"GIT_INDEX_FILE": str(copy)}).strip()
            except GitError as err:
                if ": unmerged (" in str(err):
                    raise UnmergedError(str(err)) from None
                raise

    def diff(self, base: str, tree: str, *extra: str) -> str:
        return self.git("diff-tree", "-r", "--no-color", "--no-ext-diff", *extra, base, tree)

    def patch(self, base: str, tree: str) -> str:
        # a file over 1 MB is shown as binary ("Binary files ... differ"), as git shows one over
        # core.bigFileThreshold (512 MiB): a 300 MB SQL dump was read, split and scanned whole
        return self.git(
            "-c", f"core.bigFileThreshold={BIG_FILE}", "diff-tree", "-r", "--no-color",
            "--no-ext-diff", "-p", "--find-renames", base, tree,
        )  # fmt: skip

    def history(self, limit: int = 300) -> list[tuple[str, list[str]]]:
        """Recent (full message, changed files) pairs, newest first, merges skipped."""
        fmt = f"{LOG_SEP}%B{LOG_SEP}"
        out = self.git(  # no signatures: log.showSignature's lines are no file names
            "log", "--no-merges", "--no-show-signature", f"-n{limit}", f"--format={fmt}",
            "--name-only", check=False,
        )  # fmt: skip
        chunks = out.split(LOG_SEP)
        commits = []
        # chunks: ['', msg1, files1, msg2, files2, ...]
        for i in range(1, len(chunks) - 1, 2):
            files = [f for f in chunks[i + 1].splitlines() if f.strip()]
            commits.append((chunks[i].strip(), files))
        return commits

    def branch(self) -> str:
        """The branch HEAD is on, short (`fix/123-crash`); "" on a detached HEAD."""
        return self.git("symbolic-ref", "--quiet", "--short", "HEAD", check=False).strip()

    def config(self, key: str) -> str | None:
        out = self.git("config", "--get", key, check=False).strip()
        return out or None

    def editor(self) -> str:
        """The editor git would start for a message, as configured (GIT_EDITOR, core.editor,
        VISUAL, EDITOR, in git's order); "" when git finds none."""
        return self.git("var", "GIT_EDITOR", check=False).strip()

    def comment_string(self) -> str:
        """What starts a comment line in a commit message: core.commentString or core.commentChar,
        whichever git reads last; `#` when unset or `auto` (git picks `#` for an empty message)."""
        out = self.git("config", "--get-regexp", r"^core\.comment(char|string)$", check=False)
        lines = out.splitlines()
        value = lines[-1].partition(" ")[2] if lines else ""
        return "#" if value in ("", "auto") else value


@functools.cache
def _empty_tree(root: Path) -> str:
    out = Repo(root).git("hash-object", "-t", "tree", os.devnull, check=False).strip()
    return out or EMPTY_TREE


def find_repo(start: Path | None = None) -> Repo:
    """The working tree containing `start` (default: the current directory). Relative paths in
    git's variables (PATH_VARS) are made absolute first, from this process's directory, for every
    git it and the drafters it starts run."""
    for key in PATH_VARS:
        value = os.environ.get(key)
        if value and not os.path.isabs(value):  # joined, not normalized: `link/..` as git reads it
            os.environ[key] = os.path.join(os.getcwd(), value)
    where = start or Path.cwd()
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=where,
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError as err:
        raise _no_git(err) from None
    if proc.returncode != 0:
        raise GitError(f"{where} is not inside a git working tree; run this in a repository")
    return Repo(Path(proc.stdout.strip()))


def _no_git(err: FileNotFoundError) -> Exception:
    """No git on PATH is one clear line; a missing directory stays what it is."""
    return GitError(NO_GIT) if err.filename == "git" else err
