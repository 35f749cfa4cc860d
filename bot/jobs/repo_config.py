"""Per-repository files read through the API and cached by ETag: smolbot.yml and issue templates."""

from __future__ import annotations

import functools
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from bot.core.actions import Action, Close, Comment
from bot.core.config import (
    CONFIG_PATH,
    CONFIG_PATH_YAML,
    MAX_FILE_BYTES,
    ConfigError,
    RepoConfig,
    config_from,
    default_config,
    read_yaml,
    undecoded,
)
from bot.core.markers import inert, marker, with_marker
from bot.core.templates import (
    LEGACY_TEMPLATE_DIRS,
    TEMPLATE_DIR,
    IssueTemplate,
    legacy_template,
    parse_template,
)
from bot.jobs.perform import Performer, Target
from bot.ports import (
    GitHubError,
    IssueData,
    NotFound,
    RateLimited,
    ReadOnly,
    RepoHost,
    Unavailable,
)
from bot.store import Store

log = logging.getLogger(__name__)
CONFIG_ERROR_MARKER = "config-error"
CONFIG_ERROR_TITLE = "smolbot: .github/smolbot.yml is invalid"
CONFIG_FIXED_MARKER = "config-error:fixed"
CONFIG_FIXED_NOTE = (
    "`.github/smolbot.yml` is valid again: smolbot uses it from now on, so this issue is closed."
    " (I am a bot.)"
)
CONFIG_REMOVED_NOTE = (
    "`.github/smolbot.yml` was removed: smolbot uses its defaults from now on, so this issue is"
    " closed. (I am a bot.)"
)
# recorded in place of the error when the file was fixed (or removed) in dry-run: the issue about
# it is closed by the first read with dry-run off (the close in dry-run was only audited)
CLOSE_PENDING = "fixed in dry-run: the issue about the file is closed once dry-run is off"
MAX_ERROR_CHARS = 20_000  # of the error, in the issue (inert() may make it longer)
CONFIG_ERROR_BODY = (
    "smolbot could not use `.github/smolbot.yml`:\n\n```\n{error}\n```\n\n"
    "Until the file is fixed, smolbot keeps using the last valid version "
    "(or its defaults if there was none). Fix the file and this issue can be closed. "
    "(I am a bot.)"
)


@dataclass(frozen=True)
class CachedFile:
    text: str | None
    changed: bool  # False: the ETag matched, the cached copy was used


def read_file(store: Store, host: RepoHost, repo: str, path: str) -> CachedFile:
    """Read a file conditionally; a 304 (ETag unchanged) answers from the store at no quota.
    A file the store cannot hold as it is (_cacheable) is kept without its ETag: read in full
    each time, until it is fixed."""
    rows = list(store.db.table("repo_files").rows_where("repo = ? and path = ?", [repo, path]))
    cached = rows[0] if rows else None
    got = host.file_if_changed(path, cached["etag"] if cached else None)
    if got.not_modified and cached is not None:
        return CachedFile(cached["text"], changed=False)
    kept = got.text if got.text is None or _cacheable(got.text) else None
    store.db.table("repo_files").upsert(
        {
            "repo": repo,
            "path": path,
            "etag": got.etag if kept is not None else None,
            "sha": got.sha,
            "text": kept,
            "fetched_at": time.time(),
        },
        pk=("repo", "path"),
    )
    return CachedFile(got.text, changed=True)


def _cacheable(text: str) -> bool:
    """Whether the store gives `text` back as it was: not a file that is not UTF-8 (its bytes
    kept as surrogates, which no store holds), nor one holding U+0000, which PostgreSQL stores
    as U+FFFD: a config invalid for its NUL was read on the next 304 as a valid file (applied,
    its config-error issue closed, kept as the last good one), on PostgreSQL only."""
    return "\x00" not in text and undecoded(text) is None


def _state(store: Store, repo: str) -> dict[str, object]:
    rows = list(store.db.table("repo_configs").rows_where("repo = ?", [repo]))
    return rows[0] if rows else {"repo": repo, "good_text": None, "error": None}


def _save_state(store: Store, state: dict[str, object]) -> None:
    store.db.table("repo_configs").upsert({**state, "updated_at": time.time()}, pk="repo")


def _last_good(state: dict[str, object]) -> RepoConfig:
    """The last good config, or the defaults: also when the text stored as good no longer reads
    (an earlier release, with looser rules, accepted it), in dry-run if that text asked for it."""
    text = state.get("good_text")
    if not isinstance(text, str):
        return default_config()
    read = _read_config(text)
    if read.cfg is not None:
        return read.cfg
    return _in_dry_run_if_asked(default_config(), text)


def _good_text_unread(state: dict[str, object]) -> str | None:
    """Why the stored last good text no longer reads, or None (it reads, or there is none)."""
    text = state.get("good_text")
    error = _read_config(text).error if isinstance(text, str) else None
    return None if error is None else str(error)


@dataclass(frozen=True)
class _Read:
    """The file read once: its config, or why it cannot be used and whether it asks for
    dry-run, or says explicitly that it is off (`asks_writes`)."""

    cfg: RepoConfig | None
    error: ConfigError | None = None
    asks_dry_run: bool = False
    asks_writes: bool = False


def _read_config(text: str, path: str = CONFIG_PATH) -> _Read:
    """The file read (a file too large to read is refused unread); the same text is not read
    again by this process: an invalid file stays on every job until it is fixed."""
    if len(text) > MAX_FILE_BYTES:
        return _read_uncached(text, path)
    return _read_cached(text, path)


def _read_uncached(text: str, path: str = CONFIG_PATH) -> _Read:
    try:
        raw = read_yaml(text, path)
    except ConfigError as err:  # not YAML, or too large: its top-level `dry_run:` lines tell
        said = _dry_run_lines(text)
        asks_writes = bool(said) and all(v is False for v in said)
        return _Read(None, err, any(v is True for v in said), asks_writes)
    try:
        return _Read(config_from(raw, path))
    except ConfigError as err:
        value = _as_bool(raw.get("dry_run")) if isinstance(raw, dict) else None
        return _Read(None, err, value is True, value is False)


_read_cached = functools.lru_cache(maxsize=16)(_read_uncached)

DRY_RUN_KEPT = "it says dry_run: true, so nothing is written until it is fixed"
DRY_RUN_STANDS = (
    "it says dry_run: false, but the last valid version's dry_run: true stands until it is"
    " fixed: only this issue about the file is written"
)


def _in_dry_run_if_asked(cfg: RepoConfig, invalid: str, path: str = CONFIG_PATH) -> RepoConfig:
    """What stands in for an invalid file (the last good config, or the defaults), in dry-run
    when the file asks for it at its top level: its other settings cannot be trusted, that one
    errs on the safe side (the maintainer asked in it that nothing be written)."""
    return cfg.model_copy(update={"dry_run": True}) if _asks_dry_run(invalid, path) else cfg


# a top-level `dry_run:` line (its key quoted or not), found also where the file does not parse
_DRY_RUN_LINE = re.compile(r"""^(["']?)dry_run\1[ \t]*:(.*)$""", re.M)


def _asks_dry_run(text: str, path: str = CONFIG_PATH) -> bool:
    """Whether a file's `dry_run` reads as true (as the config would), or, where the file does
    not parse, erring on the safe side, any top-level `dry_run:` line that does: a YAML slip
    further down, or the key given twice, does not undo what the maintainer asked for."""
    read = _read_config(text, path)
    return read.cfg.dry_run if read.cfg is not None else read.asks_dry_run


def _dry_run_lines(text: str) -> list[bool | None]:
    """What each top-level `dry_run:` line says (None: neither true nor false)."""
    lines = _DRY_RUN_LINE.finditer(text.removeprefix("\ufeff"))  # a BOM an editor saved
    return [_as_bool(_scalar(m.group(2))) for m in lines]


def _scalar(text: str) -> object:
    try:
        return read_yaml(text)
    except ConfigError:
        return None


def _as_bool(value: object) -> bool | None:
    """A setting's value as the config reads a boolean (`yes`, `off`, 0), or None when it is
    none (left empty, or not a boolean)."""
    if value is None:
        return None
    try:
        return TypeAdapter(bool).validate_python(value)
    except ValidationError:
        return None


def _named(text: str, path: str) -> str:
    """An issue's title or note about the file, naming the one read (CONFIG_PATH_YAML too)."""
    return text.replace(CONFIG_PATH, path)


# how long a `.yaml` found missing is not asked for again (a 404 has no ETag to ask with, and
# counts against the installation's quota, where a 304 does not)
YAML_RECHECK_S = 600


def _config_file(store: Store, host: RepoHost, repo: str) -> tuple[str, CachedFile]:
    """The config file, and the path it was read at: CONFIG_PATH, else (missing)
    CONFIG_PATH_YAML. A `.yml` costs one request per read as before (free when its ETag
    matches). Without one, the `.yaml` found missing is asked for again only after
    YAML_RECHECK_S: no file at all costs one 404 per read, as before, and one more every ten
    minutes (a `.yaml` added is read within ten minutes; a `.yml`, at once). Where both exist
    the `.yaml` is ignored, audited once per change of the `.yml` (one more request then, none
    on its 304s)."""
    file = read_file(store, host, repo, CONFIG_PATH)
    if file.text is None:
        if _missing_lately(store, repo, CONFIG_PATH_YAML):
            return CONFIG_PATH, file
        return CONFIG_PATH_YAML, read_file(store, host, repo, CONFIG_PATH_YAML)
    # not for a `.yml` read in full at every job (_cacheable): its 304s skip this
    changed = file.changed and _cacheable(file.text)
    if changed and read_file(store, host, repo, CONFIG_PATH_YAML).text is not None:
        why = f"{CONFIG_PATH_YAML} is ignored: {CONFIG_PATH} is read where both exist"
        log.warning("%s: %s", repo, why)
        store.audit("config", "ignored", why, task="repo_config", repo=repo)
    return CONFIG_PATH, file


def _missing_lately(store: Store, repo: str, path: str) -> bool:
    """Whether `path` answered 404 (stored with no text and no sha) in the last YAML_RECHECK_S."""
    rows = store.db.table("repo_files").rows_where("repo = ? and path = ?", [repo, path])
    row = next(iter(rows), None)
    return (
        row is not None
        and row["text"] is None
        and row["sha"] is None
        and time.time() - float(row["fetched_at"] or 0) < YAML_RECHECK_S
    )


def load_repo_config(store: Store, host: RepoHost, repo: str, *, bot_login: str) -> RepoConfig:
    """The repository's config. An invalid file keeps the last good one and opens one issue."""
    path, file = _config_file(store, host, repo)
    state = _state(store, repo)
    if file.text is None:
        _resolve_report(store, host, repo, state, default_config(), CONFIG_REMOVED_NOTE, bot_login)
        _save_state(store, {**_without_error(state), "good_text": None})
        return default_config()
    read = _read_config(file.text, path)
    unchanged = (
        not file.changed
        and state.get("good_text") == file.text
        and read.cfg is not None
        and (
            state.get("error") is None
            or (state.get("error") == CLOSE_PENDING and read.cfg.dry_run)  # audited already
        )
    )
    if read.cfg is None:
        err = str(read.error)
        last = _last_good(state)
        fallback = _in_dry_run_if_asked(last, file.text, path)
        # The issue is about the bot itself: written when the file says `dry_run: false`, though
        # the last good config's dry-run stands for everything else (the maintainer, leaving
        # dry-run with a typo, would otherwise never hear of it: only audited, in dry-run).
        reporting = fallback.model_copy(update={"dry_run": False}) if read.asks_writes else fallback
        if read.asks_writes and fallback.dry_run:
            err = f"{err}\n\n{DRY_RUN_STANDS}"
        # reported in dry-run (no issue opened): reported again once the file no longer asks it
        error = f"{err} (dry-run)" if reporting.dry_run else str(err)
        before = state.get("error")
        if before != error and _claim_report(store, repo, error):
            unread = _good_text_unread(state)
            if unread is not None:  # stored by an earlier release, whose rules were looser
                why = f"the last valid version no longer reads ({unread}); using the defaults"
                store.audit("config", "fallback", why, task="repo_config", repo=repo)
            if fallback.dry_run and not last.dry_run:
                why = f"{err}; {DRY_RUN_KEPT}"
                store.audit("config", "dry-run", why, task="repo_config", repo=repo)
            known = state.get("error_issue")
            try:
                number = report_config_error(
                    store, host, repo, str(err), known, reporting, bot_login, path
                )
            except (Unavailable, RateLimited, ReadOnly):  # for now: the next delivery reports it
                _swap_error(store, repo, error, before if isinstance(before, str) else None)
                raise
            except GitHubError as exc:  # refused for good (a 422, a 403): the fallback serves
                why = f"GitHub refused the issue about the invalid file ({exc}): {err}"
                store.audit("config_error_issue", "failed", why, task="repo_config", repo=repo)
                number = known if isinstance(known, int) else None
            except Exception:
                _swap_error(store, repo, error, before if isinstance(before, str) else None)
                raise
            _save_state(store, {**state, "error": error, "error_issue": number})
        return fallback
    if unchanged:
        return read.cfg
    fixed = _named(CONFIG_FIXED_NOTE, path)
    _resolve_report(store, host, repo, state, read.cfg, fixed, bot_login)
    _save_state(store, {**_without_error(state), "good_text": file.text})
    return read.cfg


def _without_error(state: dict[str, object]) -> dict[str, object]:
    """The state to save once the file is valid (or gone), but the recorded error: that one is
    _resolve_report's to settle (cleared, or CLOSE_PENDING), and a worker that lost its swap to
    another must not overwrite what the other recorded."""
    return {k: v for k, v in state.items() if k != "error"}


def config_text(host: RepoHost) -> tuple[str, str | None]:
    """The config file's path and text as GitHub has it now (no cache, no side effects):
    CONFIG_PATH, else CONFIG_PATH_YAML; None when there is neither."""
    text = host.file(CONFIG_PATH)
    if text is not None:
        return CONFIG_PATH, text
    return CONFIG_PATH_YAML, host.file(CONFIG_PATH_YAML)


def preview_repo_config(store: Store, host: RepoHost, repo: str) -> tuple[RepoConfig, str | None]:
    """The config load_repo_config would use, read without its side effects: no issue about an
    invalid file, nothing written to the store or to GitHub. The note (None when the file, or
    the defaults for no file, is used) says which config stands in for an invalid file and why."""
    path, text = config_text(host)
    if text is None:
        return default_config(), None
    read = _read_config(text, path)
    if read.cfg is not None:
        return read.cfg, None
    state = _state(store, repo)
    if _good_text_unread(state) is not None:
        kept = "using the defaults, as the bot does: the last valid version no longer reads"
    elif isinstance(state.get("good_text"), str):
        kept = "using the last valid version smolbot read, as the bot does until it is fixed"
    else:
        kept = "using the defaults, as the bot does: it never read a valid version"
    last = _last_good(state)
    cfg = _in_dry_run_if_asked(last, text, path)
    if cfg.dry_run and not last.dry_run:
        kept = f"{kept}; {DRY_RUN_KEPT}"
    elif read.asks_writes and cfg.dry_run:
        kept = f"{kept}; {DRY_RUN_STANDS}"
    return cfg, f"{path} is invalid ({read.error}); {kept}"


def _claim_report(store: Store, repo: str, error: str) -> bool:
    """Whether this process reports `error`: it records the error before it opens the issue, so
    of the workers that found the same broken file at once (each holds only its issue's lock),
    one opens it and the others keep the fallback config."""
    now = time.time()
    store.db.execute(
        "insert into repo_configs (repo, updated_at) values (?, ?) on conflict (repo) do nothing",
        [repo, now],
    )
    cur = store.db.execute(
        "update repo_configs set error = ?, updated_at = ?"
        " where repo = ? and (error is null or error <> ?)",
        [error, now, repo, error],
    )
    store.db.conn.commit()
    return bool(cur.rowcount)


def _swap_error(store: Store, repo: str, old: str | None, new: str | None) -> bool:
    """Compare-and-set of the recorded error: `new` only where it is still `old` (None: no error
    recorded). Takes a claim back when the report or the close it stood for failed, and claims a
    resolved file's close, so of the workers that read the fixed file at once, one closes."""
    where = "error is null" if old is None else "error = ?"
    cur = store.db.execute(
        f"update repo_configs set error = ?, updated_at = ? where repo = ? and {where}",
        [new, time.time(), repo, *([] if old is None else [old])],
    )
    store.db.conn.commit()
    return bool(cur.rowcount)


def _resolve_report(
    store: Store,
    host: RepoHost,
    repo: str,
    state: dict[str, object],
    cfg: RepoConfig,
    note: str,
    bot_login: str,
) -> None:
    """The file fixed (or removed) while the bot's issue about it is open: the issue is closed
    with a note, once (of the workers that read the fixed file at once, the one that clears the
    recorded error). In dry-run the close is only audited, once, and stays pending
    (CLOSE_PENDING recorded in place of the error): the first read with dry-run off closes it,
    else the issue would stay open for good saying the file is invalid. GitHub away: the next
    delivery closes it."""
    error = state.get("error")
    if not isinstance(error, str) or (error == CLOSE_PENDING and cfg.dry_run):
        return
    after = CLOSE_PENDING if cfg.dry_run else None
    if not _swap_error(store, repo, error, after):
        return
    number: int | None = None
    try:
        number = _find_error_issue(host, state.get("error_issue"), bot_login)
        if number is None:  # none was opened (dry-run), or a maintainer closed or deleted it
            if after is not None:
                _swap_error(store, repo, after, None)  # nothing left to close
            return
        target = Target(repo, number, "repo_config", None, cfg.dry_run, bot_login)
        why = f"{CONFIG_PATH} no longer invalid"
        actions: list[Action] = [Comment(note, CONFIG_FIXED_MARKER, why), Close(why, "completed")]
        Performer(host, store, target).perform(actions)
    except (Unavailable, RateLimited, ReadOnly):
        _swap_error(store, repo, after, error)
        raise
    except GitHubError as exc:  # refused for good: the issue stays open for a maintainer
        if after is not None:
            _swap_error(store, repo, after, None)
        why = f"GitHub refused to close the issue about the file, now valid ({exc})"
        store.audit("close", "failed", why, task="repo_config", repo=repo, number=number)


def _find_error_issue(host: RepoHost, known: object, bot_login: str) -> int | None:
    """The bot's own open issue about the file: the one it recorded, else one it wrote that holds
    the marker (markers are trusted only in the bot's own writing: anyone can paste one)."""
    if isinstance(known, int):
        try:
            issue = host.issue(known)
        except NotFound:  # deleted (or transferred away) by a maintainer: open a new one
            return None
        return known if issue.state == "open" and _is_own(issue, bot_login) else None
    tag = marker(CONFIG_ERROR_MARKER)
    for issue in host.list_issues(state="open"):
        if not issue.is_pull_request and _is_own(issue, bot_login) and tag in (issue.body or ""):
            return issue.number
    return None


def _is_own(issue: IssueData, bot_login: str) -> bool:
    return issue.author.lower() == bot_login.lower()


def report_config_error(
    store: Store,
    host: RepoHost,
    repo: str,
    error: str,
    known_issue: object,
    cfg: RepoConfig,
    bot_login: str,
    path: str = CONFIG_PATH,
) -> int | None:
    """Open one issue about the broken file (at `path`), or rewrite the open one with the new
    error."""
    if len(error) > MAX_ERROR_CHARS:  # GitHub refuses a body past 65,536 characters
        error = f"{error[:MAX_ERROR_CHARS]} ... (cut)"
    safe = inert(error.replace("```", "'''"))  # the file's text, quoted: no marker from it
    body = with_marker(_named(CONFIG_ERROR_BODY, path).format(error=safe), CONFIG_ERROR_MARKER)
    number = _find_error_issue(host, known_issue, bot_login)
    audit: dict[str, Any] = {"task": "repo_config", "repo": repo, "number": number}
    if cfg.dry_run:
        store.audit("config_error_issue", "dry-run", error, **audit)
        return number
    if number is not None:
        host.edit_issue(number, body=body)
        store.audit("edit_issue", "done", f"config still invalid: {error}", **audit)
        return number
    number = host.create_issue(_named(CONFIG_ERROR_TITLE, path), body)
    store.audit("create_issue", "done", error, **{**audit, "number": number})
    return number


def load_templates(store: Store, host: RepoHost, repo: str) -> list[IssueTemplate]:
    """The repository's issue templates (Markdown and issue forms), config.yml excluded; with
    none in .github/ISSUE_TEMPLATE, the legacy single template GitHub shows instead: in the
    first of .github, the root and docs that holds one, named ISSUE_TEMPLATE case aside, .md,
    .txt or no extension (`.github/issue_template.md`). Its name is not known in advance, so
    each folder is listed (one request, as each exact-path read it replaces was: a missing file
    has no ETag to save it) until one holds it, and the file is then read by ETag as before."""
    out = _template_dir(store, host, repo)
    if out:
        return out
    for folder in LEGACY_TEMPLATE_DIRS:
        path = legacy_template(host.list_dir(folder), folder)
        if path is None:
            continue
        text = read_file(store, host, repo, path).text
        parsed = parse_template(path, _lenient(text)) if text else None
        if parsed is not None:
            return [parsed]
    return []


def _template_dir(store: Store, host: RepoHost, repo: str) -> list[IssueTemplate]:
    out = []
    for path in sorted(host.list_dir(TEMPLATE_DIR)):
        if path.rsplit("/", 1)[-1] in ("config.yml", "config.yaml"):
            continue
        if not path.endswith((".md", ".yml", ".yaml")):
            continue
        text = read_file(store, host, repo, path).text
        parsed = parse_template(path, _lenient(text)) if text else None
        if parsed is not None:
            out.append(parsed)
    return out


def _lenient(text: str) -> str:
    """A template's text with bytes that are not UTF-8 as replacement characters: unlike the
    config, a template read in part still helps, and only its own words are garbled."""
    if undecoded(text) is None:
        return text
    return text.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")


def cached_config(store: Store, repo: str) -> RepoConfig:
    """The last good config the store holds, without calling GitHub (defaults if none)."""
    return _last_good(_state(store, repo))
