"""Git adapter: the only module here that runs `git`; every call is short, checked and offline."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# The empty tree of a SHA-1 repository; a SHA-256 one has another (Repo.empty_tree).
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
LOG_SEP = "\x1e"
# Internal commands that may write an index (write-tree refreshes its cache tree) run no hooks:
# the user's post-index-change hook is not theirs to see, and ours would start a drafter.
NO_HOOKS = ("-c", "core.hooksPath=/dev/null")
BIG_FILE = "1m"  # a changed file past this is summarised (its name, binary), never pasted
# The staged diff read for one draft, in all: past it the files are listed from their line counts
# (Repo.stat) and only the smallest are read. The model is shown a few thousand characters of it.
PATCH_CAP = 8 * 2**20
NO_GIT = "git was not found on PATH; install git or add it to PATH, then retry"
# Paths git takes from the environment, relative to where they were given (GIT_DIR=r/.git
# GIT_WORK_TREE=r smolbot draft): Repo runs git from the worktree's top, where they name another place.
PATH_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY")


@dataclass(frozen=True)
class Stat:
    """One changed file as `git diff-tree --raw --numstat` gives it."""

    status: str  # A, M, D, R, C, T
    path: str  # the new name (a deleted file's own)
    old_path: str  # the old name of a rename or copy, else the path
    added: int | None  # None: binary (or over BIG_FILE)
    deleted: int | None


def _stats(out: str) -> list[Stat]:
    """Parse `diff-tree -z --raw --numstat`: every raw entry, then every numstat one, in order."""
    tokens = out.split("\0")
    raw: list[tuple[str, str, str]] = []
    counts: list[tuple[int | None, int | None]] = []
    i = 0
    while i < len(tokens) and tokens[i]:
        if tokens[i].startswith(":"):
            status = tokens[i].split()[-1][:1]
            two = status in "RC"
            old, new = tokens[i + 1], tokens[i + 2] if two else tokens[i + 1]
            raw.append((status, old, new))
            i += 3 if two else 2
        else:
            added, deleted, path = tokens[i].split("\t", 2)
            counts.append((None, None) if added == "-" else (int(added), int(deleted)))
            i += 1 if path else 3  # a rename's names follow in tokens of their own
    return [Stat(s, new, old, *c) for (s, old, new), c in zip(raw, counts, strict=False)]


class GitError(Exception):
    """A git command failed; the message carries git's own words."""


class UnmergedError(GitError):
    """The index has unmerged paths (a merge, rebase or cherry-pick stopped on a conflict)."""


@dataclass(frozen=True)
class Repo:
    """One working tree (a worktree has its own index and git dir; objects and hooks are shared)."""

    root: Path

    def git(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        check: bool = True,
        errors: str = "replace",
    ) -> str:
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
                errors=errors,
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

    def patch(
        self, base: str, tree: str, paths: Sequence[str] = (), limit: int = PATCH_CAP
    ) -> tuple[str, bool]:
        """The staged diff (of `paths` alone, when given), read up to `limit` bytes; whether it
        was read whole. A file over 1 MB is shown as binary ("Binary files ... differ"), as git
        shows one over core.bigFileThreshold (512 MiB): a 300 MB SQL dump was read, split and
        scanned whole. Past `limit` in all, git is stopped: a hundred 900 KB data files took
        330 MB and 10 s for a draft that shows the model 6,000 characters (stat() lists them)."""
        return self._read_capped(
            "--literal-pathspecs", "-c", f"core.bigFileThreshold={BIG_FILE}", "diff-tree", "-r",
            "--no-color", "--no-ext-diff", "-p", "--find-renames", base, tree, "--", *paths,
            limit=limit,
        )  # fmt: skip

    def stat(self, base: str, tree: str) -> list[Stat]:
        """Each changed file's status, path and line counts (None: binary, or over BIG_FILE), as
        the patch would give them, without reading it."""
        out = self.git(
            "-c", f"core.bigFileThreshold={BIG_FILE}", "diff-tree", "-r", "-z", "--no-color",
            "--no-ext-diff", "--raw", "--numstat", "--find-renames", base, tree,
        )  # fmt: skip
        return _stats(out)

    def _read_capped(self, *args: str, limit: int) -> tuple[str, bool]:
        """git's output up to `limit` bytes, and whether that was all of it (git is stopped
        there: what it would write past it is never held)."""
        env = {k: v for k, v in os.environ.items() if k != "GIT_INDEX_FILE"}
        with tempfile.TemporaryFile() as err:
            try:
                proc = subprocess.Popen(
                    ["git", "-c", "core.quotepath=off", *args], cwd=self.root, env=env,
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                )  # fmt: skip
            except FileNotFoundError as e:
                raise _no_git(e) from None
            assert proc.stdout is not None
            with proc:
                chunks, size = [], 0
                while size <= limit and (chunk := proc.stdout.read(1 << 16)):
                    chunks.append(chunk)
                    size += len(chunk)
                whole = size <= limit
                if not whole:
                    proc.kill()
                data = b"".join(chunks)[:limit]
                code = proc.wait()
            if whole and code != 0:
                err.seek(0)
                words = err.read().decode(errors="replace").strip() or code
                raise GitError(f"git diff-tree: {words}")
        return data.decode("utf-8", errors="replace"), whole

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

    def head_ref(self) -> str:
        """The ref HEAD is on, in full (`refs/heads/fix/123-crash`); "" on a detached HEAD. A
        name that is not UTF-8 keeps its bytes as surrogates (os.fsdecode's way), so on_branch
        hashes the bytes the hook hashes (drafter.at shows it with U+FFFD)."""
        return self.git(
            "symbolic-ref", "--quiet", "HEAD", check=False, errors="surrogateescape"
        ).strip()

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


def tracked_at(directory: Path) -> list[str]:
    """The files that the repository around `directory` tracks in it, named from that
    repository's top; [] when none does (no such directory, or none around it, as for .git/hooks).
    Git's path variables (a hook's GIT_DIR) are left out: they name this repository, not that one."""
    if not directory.is_dir():
        return []
    env = {k: v for k, v in os.environ.items() if k not in PATH_VARS}

    def git(*args: str) -> str:
        try:
            proc = subprocess.run(
                ["git", "-c", "core.quotepath=off", *args], cwd=directory, env=env,
                capture_output=True, text=True, errors="replace", check=False,
            )  # fmt: skip
        except FileNotFoundError as err:
            raise _no_git(err) from None
        return proc.stdout if proc.returncode == 0 else ""

    # inside a git dir (.git/hooks) ls-files lists the whole worktree's files
    if git("rev-parse", "--is-inside-work-tree").strip() != "true":
        return []
    return git("ls-files", "--full-name", "--", ".").splitlines()


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
