"""Git hook scripts (tiny, POSIX sh, fail-open) and their install / uninstall / status, chaining existing hooks."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from bot.commits.drafts import DraftBox, write_atomic
from bot.commits.git import Repo, tracked_at

MARK = "# smolbot-hook"
# A hook we replace is kept beside ours as `.smolbot-kept-<name>`: git runs a hook only by its
# exact name, and hook managers (husky's git-ignored `_/`) leave other files alone. Run by that
# path, it finds what lies next to it through $0, BASH_SOURCE, __file__ or __dirname, as before.
KEPT_PREFIX = ".smolbot-kept-"
# Earlier releases kept it as `smolbot-chained/<name>` (a hook looking next to itself found
# nothing) and, before that, as `<name>.smolbot-chained`; either moves to KEPT_PREFIX.
CHAINED_DIR = "smolbot-chained"
LEGACY_SUFFIX = ".smolbot-chained"
HOOKS = ("prepare-commit-msg", "post-index-change")
# A commit stops waiting for a draft when no drafter runs: none holds the lock (`alive`), and the
# one the commit started is gone (one whose interpreter takes over a second to start on a loaded
# 2-core machine is still there). The grace only covers a drafter between taking its lock and
# writing its pid; it stays well under the default wait (2 s), or every commit that gets no
# draft (a deleted venv, a drafter that died) would wait all of it.
START_GRACE_MS = 500
PREFIX_MAX = 40  # a kept hook's first line this long at most can be a prefix for the subject
# The editor git starts (`git var GIT_EDITOR`: GIT_EDITOR, core.editor, VISUAL, EDITOR) when none
# will show the message: git sets GIT_EDITOR=: for --no-edit (and -m, -F), scripts set `true` or
# `:` in any of those, or `/usr/bin/true` (a path to true counts). The hook script spells the same test.
NO_EDITOR = (":", "true")


def no_editor(editor: str) -> bool:
    """Whether git's editor shows nothing: `:`, `true` or a path to true (`/bin/true`)."""
    return editor in NO_EDITOR or editor.endswith("/true")


# -P: `-m` would put the working directory first on sys.path, and the checkout's own argparse.py
# or bot/ would run in the drafter (on git clone/checkout/add, before anyone looked at the code).
_START = """start_drafter() {
  if command -v setsid >/dev/null 2>&1; then
    setsid "$PY" -P -m bot.commits.drafter </dev/null >/dev/null 2>&1 &
  else
    nohup "$PY" -P -m bot.commits.drafter </dev/null >/dev/null 2>&1 &
  fi
}
# A pid file outlives a killed drafter and its pid can be reused: it counts only while the lock is held.
alive() {
  p=; read -r p 2>/dev/null <"$dir/drafter.pid"
  [ -n "$p" ] && kill -0 "$p" 2>/dev/null && [ -f "$dir/drafter.lock" ] || return 1
  command -v flock >/dev/null 2>&1 || return 0
  ! flock -n -s 9 2>/dev/null 9<"$dir/drafter.lock"
}
"""

# The kept hook runs first, by its own path (KEPT_PREFIX). A sh or dash script (its flags as
# the kernel passes them: one word, trailing blanks dropped, a `\r` kept) is sourced by its
# interpreter with our $0 instead, in a process of its own (its `set -e` holds), so it also
# keeps its name: hook managers dispatch on `basename "$0"` (husky's `_/h` runs
# .husky/<name>). Any other sees its name as `.smolbot-kept-<name>`, and install says so
# (keeps_its_name).
KEPT_SHELLS = ("sh", "dash")
_CHAIN = """chained() {
  case "$0" in */*) c=${0%/*} ;; *) c=. ;; esac
  c="$c/KEPT_PREFIX$1"; shift
  [ -x "$c" ] || return 0
  l=; IFS= read -r l 2>/dev/null <"$c"
  case "$l" in '#!'*) ;; *) "$c" "$@"; return ;; esac
  l=${l#??}; l=${l#"${l%%[! 	]*}"}; l=${l%"${l##*[! 	]}"}
  i=${l%%[ 	]*}; a=${l#"$i"}; a=${a#"${a%%[! 	]*}"}
  case "$i" in */env) i=$a; a=; case "$i" in *[' 	']*) i=- ;; esac ;; esac
  case "$a" in -|--) a= ;; esac
  case "${i##*/}" in
    SHELLS) "$i" ${a:+"$a"} -c 'smolbot_kept=$1; shift; . "$smolbot_kept"' "$0" "$c" "$@" ;;
    *) "$c" "$@" ;;
  esac
}
""".replace("KEPT_PREFIX", KEPT_PREFIX).replace("SHELLS", "|".join(KEPT_SHELLS))

# A draft's key (drafts.key) names the branch too, as drafts.on_branch spells it: `detached`,
# or the blob hash of HEAD's ref (its name decides which `closes #N` the draft keeps).
PREPARE = """#!/bin/sh
{mark}: prepare-commit-msg ({version}). Installed by `smolbot hook install`; `smolbot hook uninstall` restores any earlier hook.
# Fills the editor with the draft for (HEAD's tree, staged tree, branch); never blocks or fails a commit. Few processes: it runs on every commit.
PY={python}
{chain}{no_message}chained prepare-commit-msg "$@" || exit $?
[ -n "$sb_draft" ] && [ -x "$PY" ] && [ -f "$1" ] || exit 0
tree=$(git -c core.hooksPath=/dev/null write-tree 2>/dev/null) || exit 0
head=$(git rev-parse -q --verify 'HEAD^{{tree}}' 2>/dev/null) ||
  head=$(git hash-object -t tree /dev/null 2>/dev/null) || exit 0
[ "$tree" = "$head" ] && exit 0
if on=$(git symbolic-ref -q HEAD 2>/dev/null); then
  on=$(printf '%s' "$on" | git hash-object --stdin 2>/dev/null) && [ -n "$on" ] || exit 0
else on=detached
fi
{gitdir}key="$head-$tree-$on"; draft="$dir/drafts/$key.txt"; none="$dir/drafts/$key.none"
{start}if [ ! -f "$draft" ] && [ ! -f "$none" ]; then
  mkdir -p "$dir" 2>/dev/null && printf '%s' "$key" >"$dir/want" 2>/dev/null
  child=
  alive || {{ start_drafter; child=$!; }}
  ms=${{SMOLBOT_COMMIT_WAIT_MS:-$(git config --get smolbot.commitWaitMs 2>/dev/null || echo 2000)}}
  case "$ms" in ''|*[!0-9]*) ms=2000 ;; esac
  i=0
  while [ ! -f "$draft" ] && [ ! -f "$none" ] && [ "$i" -lt "$ms" ]; do
    sleep 0.05; i=$((i + 50))
    [ "$i" -ge {grace_ms} ] && ! alive && ! {{ [ -n "$child" ] && kill -0 "$child" 2>/dev/null; }} && break
  done
fi
if [ ! -f "$draft" ]; then  # no longer waited for: the request goes, if still this commit's
  w=; {{ IFS= read -r w; }} 2>/dev/null <"$dir/want"
  [ "$w" = "$key" ] && rm -f "$dir/want"
  if [ ! -f "$none" ]; then
{not_ready}  fi
  exit 0
fi
{with_draft}exit 0
"""

INDEX_CHANGE = """#!/bin/sh
{mark}: post-index-change ({version}). Installed by `smolbot hook install`; starts the drafter and returns at once.
PY={python}
{chain}chained post-index-change "$@"
case "$GIT_INDEX_FILE" in ''|index|*/index) ;; *) exit 0 ;; esac
[ -x "$PY" ] || exit 0
{gitdir}{start}alive || start_drafter
exit 0
"""
# No message source (no -m, -F, template, merge, amend): git wrote only what `-s` or `--trailer`
# adds (a Signed-off-by line a DCO project's every commit has), so the draft goes in, above it,
# as commit_time.fill_message does. A template:
# leave a message the user (or a template) wrote: a line neither blank nor a comment, above the
# scissors line `git commit -v` puts the diff under. Comments start with core.commentString or
# core.commentChar, whichever git reads last (`auto` gives `#` on an empty message); a line's
# `\r` (a template saved with CRLF) is not a word, as has_message reads it. Only awk's
# "no message" (1) drafts: when in doubt, the message is left alone. It is read as git wrote it,
# before the kept hook runs: one that writes a ticket prefix (`ABC-123: `) or a trailer has not
# written the user's message (its text was taken for one, and no draft ever came). No draft
# when no editor will show it (NO_EDITOR): git aborts an empty message, and would commit ours unseen.
_NO_MESSAGE = """sb_draft=
case "$2" in ''|template) if [ -f "$1" ]; then
  sb_cc=$(git config --get-regexp '^core\\.comment(char|string)$' 2>/dev/null)
  sb_cc=${sb_cc##*"
"}
  case "$sb_cc" in *' '?*) sb_cc=${sb_cc#* } ;; *) sb_cc= ;; esac
  case "$sb_cc" in ''|auto) sb_cc='#' ;; esac
  if [ -z "$2" ]; then sb_draft=1; else
  SMOLBOT_CC=$sb_cc awk 'BEGIN { c = ENVIRON["SMOLBOT_CC"]; cut = c " ------------------------ >8 ------------------------" }
    { sub(/\\r$/, "") }
    $0 == cut { exit }
    NF && index($0, c) != 1 { found = 1; exit }
    END { exit !found }' "$1" 2>/dev/null
  [ $? -eq 1 ] && sb_draft=1
  fi
fi ;; esac
if [ -n "$sb_draft" ]; then
  case "$(git var GIT_EDITOR 2>/dev/null)" in :|true|*/true) sb_draft= ;; esac
fi
"""
# A draft still being written (or none coming from a drafter that died) when the wait ends: the
# editor would open empty and nothing say why. Comment lines (git drops them) say how long the
# commit waited and how to get the draft, above git's own comments; below them when git put its
# scissors line first (commit.cleanup=scissors: only what is below it is dropped).
_NOT_READY = """    i=${i:-0}
    SMOLBOT_NOTE="$sb_cc smolbot: no draft yet: not ready after $((i / 1000)).$((i % 1000 / 100)) s. To use it, quit
$sb_cc smolbot: with an empty message, run \\`smolbot draft\\` (it waits), commit again.
$sb_cc smolbot: Commits wait longer with: git config smolbot.commitWaitMs 60000
" SMOLBOT_CC=$sb_cc awk '
      BEGIN { c = ENVIRON["SMOLBOT_CC"]; cut = c " ------------------------ >8 ------------------------" }
      { m[++nm] = $0; l = $0; sub(/\\r$/, "", l) }
      !at && index(l, c) == 1 { at = l == cut ? -1 : nm }
      END {
        if (at < 1) at = nm + 1
        for (i = 1; i <= nm + 1; i++) {
          if (i == at) printf "%s", ENVIRON["SMOLBOT_NOTE"]
          if (i <= nm) print m[i]
        }
      }' "$1" >"$1.smolbot" 2>/dev/null && mv -f "$1.smolbot" "$1" || rm -f "$1.smolbot"
"""
# The draft goes above what the kept hook wrote, and a first line it wrote as a prefix for the
# subject (PREFIX: `ABC-123: `, `[ABC-123]`, `ABC-123 `) gets the draft's subject after it.
# commit_time.with_draft does the same in Python.
_WITH_DRAFT = """SMOLBOT_CC=$sb_cc SMOLBOT_DRAFT=$draft awk '
  function prefix(l,  t) {
    t = l; sub(/[ \\t]+$/, "", t)
    return t != "" && index(t, c) != 1 && length(t) <= PREFIX_MAX && (t ~ /[]:)|>\\/-]$/ || (t != l && t !~ /[ \\t]/))
  }
  BEGIN { c = ENVIRON["SMOLBOT_CC"]; while ((getline l < ENVIRON["SMOLBOT_DRAFT"]) > 0) d[++nd] = l }
  { m[++nm] = $0 }
  END {
    s = 1
    if (nd && prefix(m[1])) {
      t = m[1]; sub(/[ \\t]+$/, "", t); s = 2
      if (index(d[1], t) != 1) d[1] = t " " d[1]  # a draft that learnt the prefix from history has it
    }
    for (i = 1; i <= nd; i++) print d[i]
    if (s == 1 && m[1] ~ /[^ \\t]/) print ""
    for (i = s; i <= nm; i++) print m[i]
  }' "$1" >"$1.smolbot" 2>/dev/null && mv -f "$1.smolbot" "$1" || rm -f "$1.smolbot"
"""
# The worktree's git dir without a git process in the common case (same answer as `--git-path smolbot`).
_GITDIR = """if [ -n "$GIT_DIR" ]; then dir="$GIT_DIR/smolbot"
elif [ -d .git ]; then dir=.git/smolbot
else dir=$(git rev-parse --git-path smolbot 2>/dev/null) || exit 0
fi
"""
TEMPLATES = {"prepare-commit-msg": PREPARE, "post-index-change": INDEX_CHANGE}


def python() -> str:
    """The interpreter hooks start the drafter with: this one, so the right environment."""
    return sys.executable


def script(name: str, version: str = "1") -> str:
    return TEMPLATES[name].format(
        mark=MARK,
        version=version,
        python=shlex.quote(python()),
        chain=_CHAIN,
        start=_START,
        gitdir=_GITDIR,
        grace_ms=START_GRACE_MS,
        no_message=_NO_MESSAGE,
        with_draft=_WITH_DRAFT.replace("PREFIX_MAX", str(PREFIX_MAX)),
        not_ready=_NOT_READY,
    )


@dataclass
class HookState:
    name: str
    path: Path
    ours: bool
    chained: Path | None
    foreign: bool  # a hook that is not ours sits there
    current: bool = False  # ours, and what this version (and interpreter) would install
    # a foreign hook the same as the one we keep: a hook manager wrote its own again over ours
    # (husky v9 rewrites .husky/_ on every `npm install`)
    taken_back: bool = False


class HookError(Exception):
    """Installing or removing a hook would lose someone's hook; the message says what to do."""


def hooks_dir(repo: Repo) -> Path:
    """Where git looks for hooks (honours core.hooksPath; the common dir for worktrees)."""
    return repo.git_path("hooks")


SHARED_SCOPES = ("global", "system")
SHARED = "core.hooksPath is set in your {scope} git config ({dir}): {what}; to {verb}, run `smolbot hook {cmd} --global`"
SHARED_WHAT = {
    "install": (
        "hooks installed there run in every repository that does not set its own, not only in "
        "this one",
        "install them for all",
    ),
    "uninstall": (
        "removing the hooks there removes them from every repository that does not set its "
        "own, not only from this one",
        "remove them from all",
    ),
}


def hooks_scope(repo: Repo) -> str | None:
    """Where core.hooksPath comes from (`global`, `system`, `local`, `worktree`, `command`), or
    None when it is not set (the repository's own hooks directory)."""
    out = repo.git("config", "--show-scope", "--get", "core.hooksPath", check=False)
    scope = out.partition("\t")[0].strip()
    return scope or None


def shared_hooks(repo: Repo, everywhere: bool, cmd: str) -> list[str]:
    """With a core.hooksPath from the global or system config, `install` or `uninstall` changes
    every repository's hooks: refused unless `everywhere` (--global); when allowed, the line
    saying so. Empty for a repository's own hooks."""
    scope = hooks_scope(repo)
    if scope not in SHARED_SCOPES:
        return []
    if not everywhere:
        what, verb = SHARED_WHAT[cmd]
        raise HookError(
            SHARED.format(scope=scope, dir=hooks_dir(repo), what=what, verb=verb, cmd=cmd)
        )
    return [
        f"core.hooksPath is in your {scope} git config: this changed the hooks of every "
        f"repository that does not set its own ({hooks_dir(repo)})"
    ]


TRACKED = (
    "{dir} (core.hooksPath) holds files a repository tracks ({files}): they are the team's "
    "hooks, and installing would change them for everyone with scripts naming this machine's "
    "interpreter. To install for yourself only, copy them to a directory git does not track, "
    "point your own config at it (git config core.hooksPath <dir>) and run `smolbot hook "
    "install` again: they keep running first. Or change the shared ones: `smolbot hook install "
    "--force`"
)


def tracked_hooks(repo: Repo) -> list[str]:
    """The tracked files in the hooks directory: this repository's, when it lies inside the
    worktree, else those of the repository around it. A team's hooks clone (or a submodule) that
    a repo-local core.hooksPath names is as much the team's: every repository pointing at it
    would run scripts naming this machine's interpreter, and its `git pull` would conflict."""
    where = hooks_dir(repo).resolve()
    try:
        rel = where.relative_to(repo.root.resolve())
    except ValueError:
        return tracked_at(where)
    return repo.git("ls-files", "--", str(rel), check=False).splitlines() or tracked_at(where)


def kept_path(path: Path) -> Path:
    """Where the hook ours replaced at `path` is kept: beside it, under a name git never runs."""
    return path.with_name(KEPT_PREFIX + path.name)


def legacy_paths(path: Path) -> tuple[Path, Path]:
    """Where earlier releases kept the hook ours replaced at `path`."""
    return path.parent / CHAINED_DIR / path.name, path.with_name(path.name + LEGACY_SUFFIX)


RENAMED = " (a hook that reads its own name in $0 sees {kept}: only a sh script keeps {name})"


DISPATCHER = (
    "{path} reads its own name (basename: a hook manager's dispatcher, as overcommit's) and is"
    " not a sh script: kept beside ours it would run as .smolbot-kept-{name}, a name it does not"
    " know, and fail every commit. Nothing was installed; add smolbot's hooks through that hook"
    " manager, or move {path} away and install again"
)


# basename of the script's own path: `basename "$0"`, File.basename($0), os.path.basename(
# __file__), path.basename(process.argv[1]) (not of its directory: `basename "$(dirname "$0")"`)
_OWN_NAME = re.compile(
    r"basename\s*\(?\s*[\"']?(?:\$0|\$\{0\}|\$PROGRAM_NAME|__FILE__|__file__|__filename"
    r"|\$\{?BASH_SOURCE|process\.argv\[1\]|sys\.argv\[0\])"
)


def _dispatches_on_its_name(path: Path) -> bool:
    """A hook that finds what to do by its own name (overcommit's `File.basename($0)`) and that
    the chain cannot give that name (not a sh or dash script)."""
    return not keeps_its_name(path) and _OWN_NAME.search(_read(path)) is not None


def keeps_its_name(kept: Path) -> bool:
    """Whether the chain gives this kept hook the $0 it had (_CHAIN: a sh or dash script, its
    first line read as the shell reads it); any other runs as .smolbot-kept-<name>."""
    first = _read(kept).partition("\n")[0]
    if not first.startswith("#!"):
        return False
    # as the chain: the interpreter up to the first blank or tab, the rest one word
    m = re.fullmatch(r"[ \t]*([^ \t]*)[ \t]*(.*?)[ \t]*", first[2:])
    interpreter, arg = m.groups() if m else ("", "")
    if interpreter.endswith("/env"):
        interpreter = "" if re.search(r"[ \t]", arg) else arg
    return os.path.basename(interpreter) in KEPT_SHELLS


def _kept_name(st: HookState) -> str:
    """The kept hook as `smolbot hook status` names it, from the hooks directory."""
    return str(st.chained.relative_to(st.path.parent)) if st.chained else ""


def state(repo: Repo, name: str) -> HookState:
    path = hooks_dir(repo) / name
    # lexists: a kept symlink whose target is gone is still someone's hook, not a free name
    kept = [p for p in (kept_path(path), *legacy_paths(path)) if os.path.lexists(p)]
    text = _read(path) if path.is_file() else ""
    ours = MARK in text[:2000]  # our mark sits in the first lines
    return HookState(
        name,
        path,
        ours,
        kept[0] if kept else None,
        os.path.lexists(path) and not ours,
        ours and text == script(name),
        bool(kept) and not ours and _same_hook(path, kept[0]),
    )


def _same_hook(path: Path, kept: Path) -> bool:
    """Whether two hooks are one: links to the same file, or the same bytes."""
    if path.is_symlink() or kept.is_symlink():
        return path.resolve() == kept.resolve()
    try:
        return path.read_bytes() == kept.read_bytes()
    except OSError:
        return False


def install(repo: Repo, force: bool = False, everywhere: bool = False) -> list[str]:
    """Install both hooks, keeping any existing hook as a chained one. Returns what was done.
    A hooks directory the repository tracks (core.hooksPath=.githooks) is the team's: refused
    unless forced, as our scripts name this machine's interpreter. One that every repository
    uses (core.hooksPath in the global or system config) only with `everywhere` (--global)."""
    shared = shared_hooks(repo, everywhere, "install")
    tracked = tracked_hooks(repo)
    if tracked and not force:
        raise HookError(TRACKED.format(dir=hooks_dir(repo), files=", ".join(tracked[:3])))
    for name in HOOKS:  # before anything moves
        st = state(repo, name)
        if st.foreign and st.chained is None and _dispatches_on_its_name(st.path):
            raise HookError(DISPATCHER.format(path=st.path, name=name))
    done = []
    for name in HOOKS:
        st = state(repo, name)
        st.path.parent.mkdir(parents=True, exist_ok=True)
        if st.taken_back:
            st.path.unlink()
            done.append(
                f"{name} was the same as the kept {_kept_name(st)} again (a hook manager wrote"
                " its hook back): replaced with ours; the kept one still runs first"
            )
        elif st.foreign:
            if st.chained is not None:
                raise HookError(
                    f"{st.path} exists and so does {st.chained}; move one away, then retry"
                )
            kept = kept_path(st.path)
            os.replace(st.path, kept)  # a link too: it stays in the same directory
            done.append(
                f"kept your {name} hook as {kept.name}; it still runs first, from {kept.parent}"
                + ("" if keeps_its_name(kept) else RENAMED.format(kept=kept.name, name=name))
            )
        _write_ours(st)
        done.append(f"installed {st.path}")
    return done + shared


def refresh(repo: Repo) -> list[str]:
    """Rewrite our hooks that an earlier release wrote for this interpreter, so a fix in the
    scripts reaches a repository without a new `smolbot hook install` (the drafter calls it as
    it starts, from the interpreter the hook named). Only a file with our mark and this
    interpreter is touched: a chained or foreign hook never is, and a hook naming another
    interpreter stays with it. Returns what was done."""
    done: list[str] = []
    if tracked_hooks(repo):  # the team's files: only `smolbot hook install --force` changes them
        return done
    mine = f"\nPY={shlex.quote(python())}\n"
    for name in HOOKS:
        st = state(repo, name)
        if st.ours and not st.current and mine in _read(st.path)[:2000]:
            _write_ours(st)
            done.append(f"updated {st.path} to this version's script")
    return done


def _write_ours(st: HookState) -> None:
    """Write our script; a hook an earlier release kept (legacy_paths) moves to kept_path,
    linked there before the script changes so it never misses a run."""
    legacy, kept = st.chained, kept_path(st.path)
    move = legacy is not None and legacy != kept
    if legacy is not None and move and not _same_link(legacy, kept):
        try:
            os.link(legacy, kept)
        except OSError:
            shutil.copy2(legacy, kept)
    _write(st.path, script(st.name))
    if legacy is not None and move:
        legacy.unlink()
        with contextlib.suppress(OSError):  # smolbot-chained/, only when empty
            (st.path.parent / CHAINED_DIR).rmdir()


def _same_link(src: Path, dst: Path) -> bool:
    """When `src` is a symlink, make `dst` one to the same file and say so. A relative target
    (`../../githooks/prepare-commit-msg`, to the team's tracked script) is read from the link's
    own directory: one `../` less out of an earlier release's smolbot-chained/, so the kept hook
    still runs and uninstall puts back the very link that was there."""
    if not src.is_symlink():
        return False
    target = os.readlink(src)
    if not os.path.isabs(target) and src.parent == dst.parent / CHAINED_DIR:
        up = os.pardir + os.sep
        target = target[len(up) :] if target.startswith(up) else f"{CHAINED_DIR}/{target}"
    os.symlink(target, dst)
    return True


def _write(path: Path, text: str) -> None:
    """Replace a hook in one rename, executable for all who can read it."""
    old = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644
    write_atomic(path, text, old | stat.S_IRUSR | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def uninstall(repo: Repo, everywhere: bool = False) -> list[str]:
    """Remove our hooks and put back the hooks they chained (from every repository's hooks
    directory only with `everywhere`, as install)."""
    shared = shared_hooks(repo, everywhere, "uninstall")
    done = []
    for name in HOOKS:
        st = state(repo, name)
        if st.ours:
            st.path.unlink()
            done.append(f"removed {st.path}")
        if st.chained is not None and not os.path.lexists(st.path):
            if _same_link(st.chained, st.path):
                st.chained.unlink()
            else:
                os.replace(st.chained, st.path)
            done.append(f"restored your {name} hook")
        with contextlib.suppress(OSError):  # an earlier release's, only when empty
            (st.path.parent / CHAINED_DIR).rmdir()
    return done + shared if done else done


def draft_boxes(repo: Repo) -> list[DraftBox]:
    """Where this repository's worktrees keep their drafts: each its own git dir's smolbot/ (the
    main one's in the common dir, a linked one's under worktrees/), while the hooks are shared."""
    common = Path(repo.git("rev-parse", "--git-common-dir").strip())
    common = common if common.is_absolute() else (repo.root / common).resolve()
    found = {repo.smolbot_dir(), common / "smolbot", *common.glob("worktrees/*/smolbot")}
    return [DraftBox(path) for path in sorted(found) if path.is_dir()]


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""
