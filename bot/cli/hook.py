"""`smolbot hook install|uninstall|status|run`, `smolbot draft` and the hidden `smolbot drafter`."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import click

from bot.commits import commit_time, hooks
from bot.commits import drafter as drafter_mod
from bot.commits.drafts import DraftBox
from bot.commits.git import GitError, Repo, UnmergedError, find_repo
from bot.commits.message import without_controls

UNMERGED = (
    "the index has unmerged paths (a merge, rebase or cherry-pick stopped on a conflict): "
    "resolve them and `git add` the files, then retry"
)


@contextlib.contextmanager
def _one_line() -> Iterator[None]:
    """What a user can act on (a conflict, no git, git's refusal) is one line and exit 1, not a traceback."""
    try:
        yield
    except UnmergedError:
        raise click.ClickException(UNMERGED) from None
    except (GitError, hooks.HookError) as err:
        lines = [line.strip() for line in str(err).splitlines() if line.strip()]
        raise click.ClickException("; ".join(lines)) from None
    except OSError as err:
        raise click.ClickException(str(err)) from None


def _repo() -> Repo:
    with _one_line():
        return find_repo()


@click.group("hook")
def hook() -> None:
    """Commit messages drafted while you stage: git hooks and the background drafter."""


EVERYWHERE = (
    "{verb} the hooks directory a core.hooksPath in your global or system git config names,"
    " which every repository that does not set its own uses (refused without this flag)."
)


@hook.command("install")
@click.option("--no-start", is_flag=True, help="Do not start the drafter now.")
@click.option(
    "--force", is_flag=True, help="Install into a hooks directory the repository tracks, too."
)
@click.option("--global", "everywhere", is_flag=True, help=EVERYWHERE.format(verb="Install into"))
def install(no_start: bool, force: bool, everywhere: bool) -> None:
    """Install the prepare-commit-msg and post-index-change hooks (existing hooks keep running)."""
    repo = _repo()
    with _one_line():
        for line in hooks.install(repo, force=force, everywhere=everywhere):
            click.echo(line)
        if not no_start:
            commit_time.trigger(repo)
            click.echo("drafter started; stage changes and run `git commit`")


@hook.command("uninstall")
@click.option("--global", "everywhere", is_flag=True, help=EVERYWHERE.format(verb="Remove from"))
def uninstall(everywhere: bool) -> None:
    """Remove smolbot's hooks, restore the hooks they chained, and remove the drafts."""
    repo = _repo()
    with _one_line():
        # the hooks go first: no `git add` starts a drafter once this one is stopped
        done = hooks.uninstall(repo, everywhere)
        for box in hooks.draft_boxes(repo):
            done += _remove_drafts(box)
        for line in done or ["no smolbot hooks installed here"]:
            click.echo(line)


STOP_WAIT_S = 5.0


def _remove_drafts(box: DraftBox) -> list[str]:
    """Stop the worktree's drafter and remove what it and the hooks wrote in its smolbot/
    directory (drafts, its log, COMMIT_DRAFT.txt). A file smolbot did not write stays, with
    the directory, and the line says so."""
    pid = drafter_mod.alive(box)
    if pid:
        os.kill(pid, 15)
        deadline = time.monotonic() + STOP_WAIT_S
        while drafter_mod.locked(box) and time.monotonic() < deadline:
            time.sleep(0.05)
        if drafter_mod.locked(box):  # it would write its draft into the directory again
            return [f"kept {box.root}: its drafter (pid {pid}) did not stop; retry"]
    left = box.remove()
    if left:
        names = ", ".join(str(p.relative_to(box.root)) for p in left[:3])
        return [f"kept {box.root}: it holds files smolbot did not write ({names})"]
    return [f"removed {box.root} (drafts, the drafter's log, COMMIT_DRAFT.txt)"]


@hook.command("status")
def status() -> None:
    """Show which hooks are installed, whether the drafter runs, and the drafts on hand."""
    repo = _repo()
    with _one_line():
        _status(repo)


def _status(repo: Repo) -> None:
    scope = hooks.hooks_scope(repo)
    if scope in hooks.SHARED_SCOPES:
        click.echo(
            f"hooks directory: {hooks.hooks_dir(repo)} (core.hooksPath in your {scope} git config:"
            " every repository that does not set its own uses these hooks)"
        )
    for name in hooks.HOOKS:
        st = hooks.state(repo, name)
        what = "smolbot" if st.ours else ("another hook (not smolbot)" if st.foreign else "none")
        if st.taken_back:
            what = (
                "the kept hook again, not smolbot: a hook manager (husky?) took it back; "
                "`smolbot hook install` puts ours back"
            )
        if st.ours and not st.current:
            what += (
                " (an older script, or another interpreter's: `smolbot hook install` updates it)"
            )
        chained = f", chains {st.chained.relative_to(st.path.parent)}" if st.chained else ""
        click.echo(f"{name}: {what}{chained} [{st.path}]")
    box = DraftBox(repo.smolbot_dir())
    pid = drafter_mod.alive(box)
    click.echo(f"drafter: {'running, pid ' + str(pid) if pid else 'not running'}")
    count = len(list(box.drafts.glob("*-*-*.txt"))) if box.drafts.is_dir() else 0
    click.echo(f"drafts: {count} in {box.drafts}")
    click.echo(f"hook interpreter: {hooks.python()}")


@hook.command("run", hidden=True)
@click.argument("stage", type=click.Choice(["prepare-commit-msg", "trigger"]))
@click.argument("args", nargs=-1)
def run(stage: str, args: tuple[str, ...]) -> None:
    """Hook entry for the pre-commit framework; always exits 0."""
    try:
        repo = _repo()
        if stage == "trigger":
            commit_time.trigger(repo)
            return
        source = os.environ.get("PRE_COMMIT_COMMIT_MSG_SOURCE", args[1] if len(args) > 1 else "")
        index = os.environ.get("GIT_INDEX_FILE")
        commit_time.fill_message(repo, Path(args[0]), source, Path(index) if index else None)
    except Exception as err:  # never break a commit
        click.echo(f"smolbot: no draft ({err})", err=True)


@click.command("draft")
@click.option(
    "--explain", is_flag=True, help="Also show which model made it, its confidence and cache use."
)
@click.option(
    "--wait",
    type=float,
    default=300.0,
    show_default=True,
    help="Seconds to wait for the background drafter's draft (a draft takes 1-3 minutes on 2"
    " cores; past this, stop and say so rather than draft a second copy beside it).",
)
def draft(explain: bool, wait: float) -> None:
    """Print the commit message drafted for the staged changes (also in .git/smolbot/COMMIT_DRAFT.txt)."""
    repo = _repo()
    with _one_line():
        result = commit_time.draft_now(repo, wait, _say_drafting)
    if result is None:
        raise click.ClickException("nothing staged; `git add` some changes first")
    # without control characters, as drafts are made: a draft file an earlier release wrote
    # (or anyone) must not drive the terminal (a file name's ESC ]0; retitled it)
    click.echo(without_controls(result.message.rstrip("\n")))
    if explain:
        click.echo("\n" + without_controls(result.explain()), err=False)


def _say_drafting() -> None:
    """Said as `smolbot draft` starts drafting here with the local model (rules, with no model
    file, draft at once): the draft itself says nothing for up to minutes."""
    from bot.settings import load_settings

    model = load_settings().effective_model_path
    if model.is_file():
        click.echo(
            f"smolbot draft: drafting the message with the local model ({model.name}; 20 s"
            " to a few minutes on a small CPU)",
            err=True,
        )


@click.command("drafter", hidden=True)
@click.option("--repo", "root", type=click.Path(path_type=Path), default=".")
@click.option("--idle", type=float, default=drafter_mod.IDLE_S)
@click.option("--once", is_flag=True)
def drafter(root: Path, idle: float, once: bool) -> None:
    """Internal: the background drafter the hooks start."""
    sys.exit(
        drafter_mod.main(["--repo", str(root), "--idle", str(idle), *(["--once"] if once else [])])
    )


commands: list[click.Command] = [hook, draft, drafter]
