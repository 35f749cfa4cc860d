"""The background drafter: one per worktree (flock + pid file), watches the index, drafts new trees, exits when idle."""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from bot.commits import hooks
from bot.commits.drafts import DraftBox, on_branch, write_atomic
from bot.commits.git import GitError, Repo, find_repo

if TYPE_CHECKING:  # the model and pipeline (settings, pydantic: 0.4 s) load after the pid file is
    # written: a hook waiting for a drafter it just started would otherwise see none for that long
    from bot.commits.model import Writer
    from bot.commits.pipeline import DraftOptions

log = logging.getLogger("smolbot.drafter")
IDLE_S = float(os.environ.get("SMOLBOT_DRAFTER_IDLE_S", "180"))
POLL_S = 0.1


@contextlib.contextmanager
def drafter_lock(box: DraftBox) -> Iterator[bool]:
    """Hold the per-worktree lock; yields False when another drafter has it. The kernel frees it on kill -9."""
    box.root.mkdir(parents=True, exist_ok=True)
    fd = os.open(box.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _take(fd):
            yield False
            return
        # never seen empty: a reader (`smolbot hook status`, the hook) would take it for no drafter
        write_atomic(box.pid_path, str(os.getpid()))
        try:
            yield True
        finally:
            with contextlib.suppress(OSError):
                if box.pid_path.read_text().strip() == str(os.getpid()):
                    box.pid_path.unlink()
    finally:
        os.close(fd)


def _take(fd: int, tries: int = 5) -> bool:
    """The exclusive lock, retried a moment: `alive()` probes it (held for microseconds) and a
    drafter starting just then must not take the probe for another drafter and exit."""
    for attempt in range(tries):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if attempt < tries - 1:
                time.sleep(0.02)
    return False


Signature = tuple[int, int, int] | None  # a file's (mtime, size, inode); None when it is not there
Staged = tuple[Signature] | None  # a draft of the index: its signature when the tree was read


def signature(path: Path) -> Signature:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def at(repo: Repo) -> tuple[str, str, str]:
    """Where HEAD is, as a draft's key names it: its tree, its branch (drafts.on_branch), and
    that branch's name for the draft to read its issues from ("" detached)."""
    head, ref = repo.head_tree(), repo.head_ref()
    shown = ref.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return head, on_branch(ref, head), shown.removeprefix("refs/heads/")


class Drafter:
    """The watch loop. Drafts the key asked for in `want` first, then whatever the index holds."""

    def __init__(
        self, repo: Repo, box: DraftBox, writer: Writer | None, opts: DraftOptions
    ) -> None:
        self.repo, self.box, self.writer, self.opts = repo, box, writer, opts

    def draft(self, head: str, tree: str, on: str, staged: Staged = None) -> None:
        """Draft `tree` against HEAD, whose tree is `head`, on the branch `on` (a request for
        another HEAD or branch is stale). A draft of what is staged (`staged`: the index's
        signature when `tree` was read from it) is given up before its next model call once the
        index holds another tree or a commit asks for another key; any draft once HEAD moves
        (wanted())."""
        if self.box.ready(head, tree, on):
            return
        now, now_on, branch = at(self.repo)
        if (now, now_on) != (head, on):
            return
        from bot.commits.pipeline import Outdated, draft_tree

        self.box.mark_pending(head, tree, on)
        try:
            wanted = self.wanted(head, tree, on, staged)
            result = draft_tree(self.repo, tree, self.writer, self.opts, wanted, branch)
            if at(self.repo)[:2] != (head, on):  # HEAD moved meanwhile: drafted for another
                return
            if result is None:
                self.box.mark_none(head, tree, on, "nothing to draft")
                return
            result.head = head
            self.box.save(result, on)
            log.info(
                "drafted %s in %.1fs: %s", tree[:12], result.seconds, result.message.splitlines()[0]
            )
        except Outdated as err:  # no draft, and no `.none`: the pair may be staged again
            log.info("gave up drafting %s: %s", tree[:12], err)
        except Exception:  # a bad draft must not kill the watcher, nor keep a commit waiting
            log.exception("drafting %s failed", tree[:12])
            with contextlib.suppress(OSError):
                self.box.mark_none(head, tree, on, "drafting failed: see drafter.log")
        finally:
            self.box.clear_pending(head, tree, on)

    def wanted(self, head: str, tree: str, on: str, staged: Staged = None) -> Callable[[], bool]:
        """Whether the draft of `tree` on `head` and the branch `on` is still wanted, asked
        between the pipeline's steps (a model call takes 20-30 s on 2 cores). A draft of the
        index (`staged` holds its signature then) is not once the index holds another tree (not
        merely rewritten: `git status` refreshes it) or a commit asks for another key; none is
        once HEAD moved to another tree or branch."""
        path = self.repo.index_path()

        def moved_on(index: Signature) -> bool:
            asked = self.box.requested()
            if asked is not None:  # a commit waits: for this key, or for another
                return asked != (head, tree, on)
            return signature(path) != index and self.repo.staged_tree() != tree

        def wanted() -> bool:
            try:
                if staged is not None and moved_on(staged[0]):
                    return False
                return at(self.repo)[:2] == (head, on)
            except (GitError, OSError):  # in doubt (an unmerged index): the draft goes on
                return True

        return wanted

    def current(self) -> None:
        """Draft what is staged now, keeping COMMIT_DRAFT.txt on it: replaced when drafted,
        removed meanwhile, and when nothing is staged or the index has unmerged paths."""
        try:
            index = signature(self.repo.index_path())  # before the tree is read from it
            (head, on, _), tree = at(self.repo), self.repo.staged_tree()
        except (GitError, OSError):
            self.box.unpublish()
            return
        self.box.publish(head, tree, on)
        self.draft(head, tree, on, (index,))
        self.box.publish(head, tree, on)

    def run(self, idle_s: float = IDLE_S, once: bool = False) -> None:
        # the index, and HEAD: a commit, reset --soft or checkout changes what is staged against
        watched = [self.repo.index_path(), *map(self.repo.git_path, ("HEAD", "logs/HEAD"))]
        seen: list[Signature] = []
        last = time.monotonic()
        while self.box.root.is_dir():
            want = self.box.take_request()
            sig = [signature(path) for path in watched]
            if want or sig != seen:
                seen = sig
                if want:
                    self.draft(*want)
                with contextlib.suppress(OSError):
                    self.current()
                last = time.monotonic()
                if once:
                    return
            elif time.monotonic() - last > idle_s:
                log.info("idle for %.0fs: exiting", idle_s)
                return
            time.sleep(POLL_S)


def writer_for_settings() -> tuple[Writer | None, DraftOptions]:
    from bot.commits.model import LayerWriter
    from bot.commits.pipeline import DraftOptions
    from bot.settings import load_settings

    settings = load_settings()
    opts = DraftOptions(  # prompt_tokens() counts about 2 characters a token: the budget too
        allow_large=settings.large_for_commits,
        budget_chars=min(6000, max(1500, (settings.model_context - 700) * 2)),
        context_tokens=settings.model_context,
    )
    if not settings.effective_model_path.is_file():
        log.warning(
            "no model file at %s: drafts come from rules only", settings.effective_model_path
        )
        return None, opts
    return LayerWriter(settings), opts


def serve(root: Path, idle_s: float = IDLE_S, once: bool = False) -> int:
    repo = find_repo(root)
    box = DraftBox(repo.smolbot_dir())
    with drafter_lock(box) as mine:
        if not mine:
            return 0
        _log_to(box.log_path)
        with contextlib.suppress(OSError):  # an older release's hooks get this one's fixes
            for line in hooks.refresh(repo):
                log.info("%s", line)
        writer, opts = writer_for_settings()
        drafter = Drafter(repo, box, writer, opts)
        # Drafting runs in a worker thread so the main thread can answer SIGTERM at once, even
        # while the model is inside a long C call that would defer a Python signal handler.
        worker = threading.Thread(target=drafter.run, args=(idle_s, once), daemon=True)
        stop = _on_signal(box)
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGHUP, stop)
        worker.start()
        while worker.is_alive():
            worker.join(0.2)
    return 0


def _on_signal(box: DraftBox) -> Callable[[int, FrameType | None], None]:
    def stop(signum: int, frame: FrameType | None) -> None:
        """Leave no stale files behind, then exit without waiting for the model."""
        with contextlib.suppress(OSError):
            for pending in box.drafts.glob("*.pending"):
                if pending.read_text().strip() == str(os.getpid()):
                    pending.unlink()
            if box.pid_path.read_text().strip() == str(os.getpid()):
                box.pid_path.unlink()
        logging.shutdown()
        os._exit(0)

    return stop


def spawn(root: Path) -> subprocess.Popen[bytes]:
    """Start a drafter for `root`, detached (own session, no inherited pipes); returns at once.
    `-P`: the checkout is its working directory, and its own modules must not shadow ours."""
    env = {k: v for k, v in os.environ.items() if k != "GIT_INDEX_FILE"}
    return subprocess.Popen(
        [sys.executable, "-P", "-m", "bot.commits.drafter", "--repo", str(root)],
        cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True,
    )  # fmt: skip


def alive(box: DraftBox) -> int | None:
    """The running drafter's pid, or None. The pid file is trusted only while the lock is held:
    after a kill -9 it stays behind, and its pid may be reused by an unrelated process."""
    try:
        pid = int(box.pid_path.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid if locked(box) else None


def locked(box: DraftBox) -> bool:
    """Whether a drafter holds the lock (a shared, non-blocking attempt on it fails)."""
    try:
        fd = os.open(box.lock_path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also lets go of our shared lock at once
    return False


def _log_to(path: Path) -> None:
    with contextlib.suppress(OSError):
        if path.stat().st_size > 1_000_000:
            path.unlink()
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="smolbot drafter", description=__doc__)
    parser.add_argument("--repo", type=Path, default=Path.cwd())
    parser.add_argument(
        "--idle", type=float, default=IDLE_S, help="seconds without changes before exiting"
    )
    parser.add_argument(
        "--once", action="store_true", help="draft the current staged tree, then exit"
    )
    args = parser.parse_args(argv)
    try:
        return serve(args.repo, args.idle, args.once)
    except Exception:  # started detached by a hook: nobody reads a traceback, and git must not care
        logging.getLogger(__name__).exception("drafter failed")
        return 0


if __name__ == "__main__":
    sys.exit(main())
