"""`smolbot doctor`: checks settings, store, broker, model and GitHub App, and says what to fix."""

from __future__ import annotations

import errno
import importlib.util
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from bot.cli import open_stored, sqlite_file
from bot.settings import Settings, SettingsError, load_settings

Check = tuple[str, Callable[[Settings], tuple[bool, str]]]
DOCTOR_TIMEOUT_S = 10.0  # one request to GitHub: an unreachable host is said in seconds


def _store(s: Settings) -> tuple[bool, str]:
    from bot.coord.jobs import waiting
    from bot.jobs.backfill import CONTINUING, progress_age_s, unfinished

    if missing := _no_store_yet(s):
        return False, missing
    store = open_stored(s.effective_database_url)
    counts = store.delivery_counts()
    dead = store.dead_letters()
    msg = f"{_safe(s.effective_database_url)} ({sum(counts.values())} deliveries"
    msg += f", {len(dead)} dead letters: run `smolbot retry`)" if dead else ")"
    for d in dead[-5:]:
        msg += f"\n    dead letter {d['id']}: {d['task']} {d['args'][:80]} — {d['error'][:120]}"
    for h in store.held_deliveries():
        held_for = _ago(time.time() - float(h["since"]))
        who = f"{h['installation_id']}" + (f" ({h['account']})" if h["account"] else "")
        msg += (
            f"\n    {h['held']} deliveries of installation {who} held for {held_for}: GitHub"
            " said it is suspended; they run when it is unsuspended — if GitHub shows it"
            " active, run `smolbot retry --held`"
        )
    for b in unfinished(store):
        msg += f"\n    backfill of {b['repo']} {b['status']} at page {b['page']}"
        if b["status"] == CONTINUING:
            msg += f" (last part {progress_age_s(b)} s ago): its next part is a queued job"
            continue
        if b["status"] == "running":
            msg += f", last progress {progress_age_s(b)} s ago — if its process died,"
        else:
            msg += f" ({b['error'] or 'no error recorded'}; {_resumes(b)}) —"
        msg += f" `smolbot backfill {b['repo']}` resumes it"
    for j in waiting(store, "backfill"):
        since = max(0, round(time.time() - float(j["received_at"])))
        part = f" (part {j['kwargs']['part']})" if j["kwargs"].get("part") else ""
        msg += (
            f"\n    backfill of {j['kwargs'].get('repo')}{part} queued {since} s ago, not started:"
        )
        msg += " a model-queue worker runs it (`smolbot worker -Q model`, or `smolbot serve`)"
    return not dead, msg


def _ago(seconds: float) -> str:
    """A span as a person reads it: 40 s, 12 min, 5 h, 3 days."""
    if seconds < 120:
        return f"{max(0, round(seconds))} s"
    if seconds < 7200:
        return f"{round(seconds / 60)} min"
    if seconds < 172800:
        return f"{round(seconds / 3600)} h"
    return f"{round(seconds / 86400)} days"


def _spool(s: Settings) -> tuple[bool, str]:
    """Deliveries the webhook kept on disk while the store could not take them (a directory
    listing, no reads): not lost, but not triaged until a web process records them."""
    from bot.webhook.spool import Spool

    status = Spool(s.data_dir / "spool", s.spool_max_bytes).status()
    if not status.entries and not status.rejected:
        return True, "empty"
    if not status.entries:  # only what was moved aside: a person's to look at
        return False, status.describe()
    return False, (
        f"{status.describe()} (SMOLBOT_SPOOL_MAX_BYTES={s.spool_max_bytes:,}) — if none is"
        " running, start one (`smolbot web` or `smolbot serve`) on this data dir"
    )


def _data_dir(s: Settings) -> tuple[bool, str]:
    """Whether this user can write the data dir (or, not made yet, the directory it would be made
    in): serve, web, worker and beat keep their files there and refuse to start without it."""
    from workers.celery_app import unwritable_data_dir

    err = _unwritable(s.data_dir)
    if err is not None:
        return False, str(unwritable_data_dir(s.data_dir, err))
    if not s.data_dir.is_dir():
        return True, f"{s.data_dir} not made yet: `smolbot serve`, `web` or `worker` makes it"
    return True, f"{s.data_dir} is writable"


def _unwritable(directory: Path) -> OSError | None:
    """What stops this user from writing in `directory`, or in its nearest existing parent when
    it is not made yet (doctor makes nothing), None if nothing does: a file is written there and
    removed at once. Not os.access alone: root passes any mode bits, but not a read-only mount."""
    where = directory
    while not where.exists() and where != where.parent:
        where = where.parent
    try:
        if not where.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(where))
        with tempfile.TemporaryFile(dir=where):
            pass
    except OSError as err:
        return err
    return None


def _no_store_yet(s: Settings) -> str | None:
    """What to say when the SQLite store these settings name does not exist: doctor checks the
    store, it never creates one (a mistyped SMOLBOT_DATA_DIR got an empty store and a ✓)."""
    file = sqlite_file(s.effective_database_url)
    if file is None or file.exists():
        return None
    if (err := _unwritable(file.parent)) is not None:  # `serve` would not start it there
        return f"no store at {file}, and this user cannot write {file.parent} to make one ({err})"
    return (
        f"no store at {file} yet (`smolbot serve`, `web` or `worker` starts it there); if the"
        " service runs already, these are not its settings: they come from the environment and"
        " ./.env, so run this where its .env is, or set SMOLBOT_DATA_DIR (or"
        " SMOLBOT_DATABASE_URL) to the service's"
    )


def _resumes(row: dict[str, Any]) -> str:
    from bot.jobs.backfill import MAX_AUTO_RESUMES

    n = int(row["resumes"] or 0)
    if n >= MAX_AUTO_RESUMES:
        return f"the workers gave up after {n} automatic resumes"
    return f"the workers resume it hourly, {n} of {MAX_AUTO_RESUMES} tries used"


def _broker(s: Settings) -> tuple[bool, str]:
    from bot.cli.service import broker_status

    url = s.effective_broker_url
    file = sqlite_file(url.removeprefix("sqla+")) if url.startswith("sqla+sqlite:///") else None
    unwritable = _unwritable(file.parent) if file is not None else None
    # the embedded broker: checked, never created here
    if file is not None and not os.path.lexists(file.parent):  # no directory made for it
        if unwritable is not None:
            return False, f"no broker file at {file}, and this user cannot make it ({unwritable})"
        return False, (
            f"no broker file at {file} yet (`smolbot serve`, `web` or `worker` starts it"
            " there); if the service runs already, these are not its settings: set"
            " SMOLBOT_DATA_DIR (or SMOLBOT_BROKER_URL) to the service's"
        )
    ok, detail = broker_status(s)
    hint = "" if ok else " — start the broker or fix SMOLBOT_BROKER_URL"
    if not ok and file is not None and unwritable is not None:
        hint = f" — this user cannot write {file.parent}, its directory: fix SMOLBOT_BROKER_URL"
        hint += " (SMOLBOT_DATA_DIR for the default one)"
    return ok, f"{_safe(s.effective_broker_url)}: {detail}{hint}"


def _safe(url: str) -> str:
    from bot.cli.service import _redact

    return _redact(url)


def _model(s: Settings) -> tuple[bool, str]:
    """The model layer's own check of the file (size and sha256 of a known model, not only its
    first bytes): a copy cut short kept the GGUF magic and got a ✓ that no model call bore out."""
    from bot.llm.api import ModelUnavailable
    from bot.llm.modelfile import SOURCES, check_model_file

    path = s.effective_model_path
    try:
        check_model_file(path)
    except ModelUnavailable as err:
        return False, str(err)
    if s.model_backend == "llama" and importlib.util.find_spec("llama_cpp") is None:
        from bot.llm.llama_backend import INSTALL_HINT

        return False, f"{path}: {INSTALL_HINT} (SMOLBOT_MODEL_BACKEND=llama)"
    known = path.name in SOURCES  # a model of our own list: size and sha256 checked
    checked = "" if known else "; not a model smolbot lists: its size and sha256 not checked"
    return True, f"{path} ({path.stat().st_size:,} bytes{checked})"


def _github(s: Settings) -> tuple[bool, str]:
    from bot.github.app import checked_key, missing_app_settings
    from bot.ports import AppCredentialsError

    missing = missing_app_settings(s, webhook=True)
    if missing:
        return False, "not configured: set " + ", ".join(missing) + " (see README: GitHub App)"
    try:
        checked_key(s)
    except (AppCredentialsError, SettingsError) as err:
        return False, str(err)
    return _github_answers(s)


def _github_answers(s: Settings) -> tuple[bool, str]:
    """One request as the App (its installations): a key that parses may still be another
    App's, or GitHub may be out of reach; either way the bot cannot work, so no ✓."""
    from bot.github import GitHubApp
    from bot.github.app import bot_login_problem
    from bot.ports import AppCredentialsError, GitHubError

    where = f"app {s.app_id} at {s.github_api_url}"
    quick = s.model_copy(update={"github_timeout_s": min(s.github_timeout_s, DOCTOR_TIMEOUT_S)})
    app = GitHubApp(quick)
    try:
        ids = app.installations()
    except AppCredentialsError as err:
        return False, f"{where}: {err}"
    except GitHubError as err:
        return False, (
            f"{where}: {err} — the key is well formed but GitHub did not answer for it: check"
            " SMOLBOT_GITHUB_API_URL and that this machine reaches it"
        )
    where += ": GitHub accepted its key"
    try:
        problem = bot_login_problem(s, app.app_login())
    except (AppCredentialsError, GitHubError) as err:
        problem = f"could not read the App's login to check SMOLBOT_BOT_LOGIN ({err})"
    if problem:
        return False, f"{where}; {problem}"
    if not ids:
        return True, f"{where}; not installed anywhere yet (install it on a repository)"
    return True, f"{where}; installed {len(ids)} time{'s' if len(ids) > 1 else ''}"


def _classifier(s: Settings) -> tuple[bool, str]:
    """What triage's first stage has learned, per repository: it answers only from that."""
    from bot.llm.classifier import MAX_EXAMPLES, MIN_SCOPE_EXAMPLES
    from bot.llm.layer import INLINE_RETRAIN_MAX
    from bot.llm.records import Records

    stored = not _no_store_yet(s)  # none yet: nothing learned, and none created here
    counts = Records(open_stored(s.effective_database_url)).example_counts() if stored else {}
    if not counts:
        return True, (
            "nothing learned yet: installing the App backfills each repository's closed, labeled"
            " issues (or `smolbot backfill owner/name [--from FILE]`); until then issues go to"
            " the large model when one is configured (after the local model's zero-shot guess,"
            " trusted little), and otherwise mostly get needs-triage"
        )
    sources: Counter[str] = Counter()
    for by in counts.values():
        sources.update(by)
    total = sum(sources.values())
    how = ", ".join(
        f"{n:,} {src}" for src, n in sorted(sources.items(), key=lambda x: (-x[1], x[0]))
    )
    msg = f"{total:,} labeled examples in {len(counts)} repositories ({how})"
    if total > INLINE_RETRAIN_MAX:
        msg += f"; over {INLINE_RETRAIN_MAX:,}, it retrains beside the triage"
    for repo, by in sorted(counts.items(), key=lambda x: (-sum(x[1].values()), x[0]))[:10]:
        n = sum(by.values())
        msg += f"\n    {repo}: {n:,}"
        if n < MIN_SCOPE_EXAMPLES:
            msg += f" (under {MIN_SCOPE_EXAMPLES}: the model of all repositories answers for it)"
        elif n > MAX_EXAMPLES:
            msg += f" (its model learns from the newest {MAX_EXAMPLES:,})"
    if len(counts) > 10:
        msg += f"\n    … and {len(counts) - 10} more"
    return True, msg


def _reader(s: Settings) -> tuple[bool, str]:
    from bot.llm import reader

    if not s.triage_reader:
        return (
            True,
            "off (SMOLBOT_TRIAGE_READER=true: the local model reads what triage is unsure of)",
        )
    if not reader.available():
        return False, reader.INSTALL_HINT
    return True, reader.status(s.data_dir)


def _large(s: Settings) -> tuple[bool, str]:
    """Which large model escalations go to, if any; never its key. A hosted API without a key
    is ✗: only a local OpenAI-compatible server answers without one."""
    from bot.llm import large

    if not large.configured(s):
        return True, (
            "off: nothing escalates (SMOLBOT_LARGE_PROVIDER and SMOLBOT_LARGE_MODEL send what"
            " the local models are unsure of to a larger one)"
        )
    hosted = s.large_provider == "anthropic" or not large.compatible_server(s.large_base_url)
    # build_chat sends openai "not-needed" without a key: refused; anthropic's client reads
    # ANTHROPIC_API_KEY from the environment when it is given none
    env_key = s.large_provider == "anthropic" and bool(os.environ.get("ANTHROPIC_API_KEY"))
    if hosted and not (s.large_api_key or env_key):
        return False, (
            "SMOLBOT_LARGE_API_KEY is not set: openai without SMOLBOT_LARGE_BASE_URL (or with"
            " OpenAI's own URL) and anthropic need one, or every escalation is refused"
        )
    where = f" at {_safe(s.large_base_url)}" if s.large_base_url else ""
    key = "API key set" if s.large_api_key else "no API key"
    key = "API key from ANTHROPIC_API_KEY" if env_key and not s.large_api_key else key
    if s.large_provider == "openai" and not s.large_api_key and os.environ.get("OPENAI_API_KEY"):
        # build_chat never sends OpenAI's key to another server: a gateway that needs one
        # (OpenRouter, Azure, a LiteLLM proxy) refused every escalation with a 401
        key += " (OPENAI_API_KEY is not sent to it: SMOLBOT_LARGE_API_KEY is, if it needs one)"
    return True, (
        f"{s.large_provider}:{s.large_model}{where}, {key},"
        f" at most {s.large_daily_budget:,} calls a day"
    )


CHECKS: list[Check] = [
    ("data dir", _data_dir),
    ("store", _store),
    ("webhook spool", _spool),
    ("broker", _broker),
    ("model", _model),
    ("triage classifier", _classifier),
    ("triage reader", _reader),
    ("large model", _large),
    ("github app", _github),
]


@click.command()
def doctor() -> None:
    """Check settings, store, broker, model files and the GitHub App; say what to fix."""
    try:
        settings = load_settings()
    except SettingsError as err:
        click.echo(f"✗ settings: {err}")
        sys.exit(1)
    click.echo(f"✓ settings: data dir {settings.data_dir}")
    failed = 0
    for name, check in CHECKS:
        try:
            ok, detail = check(settings)
        except Exception as err:  # doctor reports every failure as a line, never a traceback
            ok, detail = False, f"{type(err).__name__}: {err}"
        failed += not ok
        click.echo(f"{'✓' if ok else '✗'} {name}: {detail}")
    sys.exit(1 if failed else 0)


commands: list[click.Command] = [doctor]
