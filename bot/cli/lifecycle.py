"""`smolbot summarize` (offline, from a thread file) and `smolbot sweep` (one installation, now)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from bot.cli import open_service_store, open_stored
from bot.cli.triage import utf8_text
from bot.core.lifecycle import Thread, parse_time
from bot.core.summary import NOT_JUDGED, waiting_line, whole
from bot.jobs.context import JobContext, ModelLayer
from bot.jobs.summarize import waiting_for, write_summary
from bot.ports import RateLimited, Unavailable
from bot.samples.host import comment_data, event_data, issue_data
from bot.settings import Settings, get_settings
from bot.store import Store

REPO_IN_URL = re.compile(r"(?:repos/|github\.com/)([^/]+/[^/]+)/issues/")


def thread_from_json(data: Any) -> Thread:
    """`{"issue": {...}, "comments": [...], "events": [...]}` or `[issue, *comments]`, REST shape."""
    if isinstance(data, list) and data:
        raw_issue, comments, events = data[0], data[1:], []
    elif isinstance(data, dict) and isinstance(data.get("issue"), dict):
        raw_issue, comments, events = (
            data["issue"],
            data.get("comments", []),
            data.get("events", []),
        )
    else:
        raise click.UsageError(
            'the thread file must hold {"issue": {...}, "comments": [...]} or [issue, *comments]'
        )
    if not all(isinstance(x, dict) for x in (raw_issue, *comments, *events)):
        raise click.UsageError(
            "the thread file's issue, comments and events must be JSON objects (REST API shape)"
        )
    url = str(raw_issue.get("url") or raw_issue.get("html_url") or "")
    found = REPO_IN_URL.search(url)
    repo = found.group(1) if found else "local/thread"
    try:
        issue = issue_data(repo, raw_issue)
        thread = Thread(
            issue, tuple(comment_data(c) for c in comments), tuple(event_data(e) for e in events)
        )
    except (KeyError, TypeError, ValueError) as err:
        raise click.UsageError(
            f"the thread file lacks a field GitHub always sends: {err}"
        ) from None
    for what, at in [("the issue", issue.created_at), *(
        (f"comment {i}", c.created_at) for i, c in enumerate(thread.comments, 1)
    )]:  # fmt: skip
        try:
            parse_time(at)
        except (AttributeError, TypeError, ValueError):
            raise click.UsageError(
                f"{what}'s created_at is {at!r}, not an ISO 8601 time (2026-01-31T12:00:00Z)"
            ) from None
    return thread


def whole_strings(data: Any) -> tuple[Any, int]:
    """The thread file's JSON with every lone surrogate in its strings (`"\\ud83d"` alone: a
    text an exporter cut inside an emoji; valid JSON, but half a character no UTF-8 encoder
    writes) as U+FFFD, and how many strings held one: the thread's hash and the output failed on
    it with a traceback."""
    if isinstance(data, str):
        fixed = whole(data)
        return fixed, int(fixed != data)
    if isinstance(data, list):
        pairs = [whole_strings(v) for v in data]
        return [v for v, _ in pairs], sum(n for _, n in pairs)
    if isinstance(data, dict):
        out, count = {}, 0
        for key, value in data.items():
            (k, nk), (v, nv) = whole_strings(key), whole_strings(value)
            out[k] = v
            count += nk + nv
        return out, count
    return data, 0


def _models(
    settings: Settings, store: Store, no_model: bool, says: str | None = None
) -> ModelLayer | None:
    """The model layer, or None with `no_model`; with `says`, one that says it on stderr before
    the local model's first generation (saying_models)."""
    if no_model:
        return None
    if says is not None:
        return saying_models(settings, store, says)
    from bot.llm import get_model_layer

    return get_model_layer(settings, store)


def saying_models(settings: Settings, store: Store, line: str) -> ModelLayer:
    """The model layer, which writes `line` on stderr once, right before the local model first
    generates: on two CPU cores that takes a minute or more, and a command silent that long reads
    as hung. Only then: an answer from the cache, or a model file that is missing, comes at once
    and says nothing (a file the runtime cannot load fails right after the line, and says so)."""
    from bot.llm.layer import ModelLayer as Layer

    layer = Layer(settings, store)  # its own: the process-wide one is left as it is

    def say() -> None:
        layer.before_generation = None  # once
        click.echo(line, err=True)

    layer.before_generation = say
    return layer


@click.command("summarize")
@click.option(
    "--thread",
    "thread_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="An issue and its comments as JSON (REST API shape).",
)
@click.option("--no-model", is_flag=True, help="Extractive summary only; no model is loaded.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of Markdown.")
def summarize_cmd(thread_file: Path, no_model: bool, as_json: bool) -> None:
    """Summarize a thread file and say who it waits on, without GitHub.

    The file is {"issue": {...}, "comments": [...], "events": [...]} (events optional: labels,
    assignments, closes), as GitHub's REST API gives them; from an issue on GitHub, with gh and
    jq (--paginate: every page of a long thread; jq's `add` joins them):

    \b
      gh api repos/OWNER/REPO/issues/N > issue.json
      gh api --paginate repos/OWNER/REPO/issues/N/comments > comments.json
      gh api --paginate repos/OWNER/REPO/issues/N/events > events.json
      jq -n --slurpfile i issue.json --slurpfile c comments.json \\
        --slurpfile e events.json \\
        '{issue: $i[0], comments: ($c | add), events: ($e | add)}' > thread.json
      smolbot summarize --thread thread.json
    """
    try:
        data = json.loads(utf8_text(thread_file.read_bytes(), str(thread_file)))
    except json.JSONDecodeError as err:  # a ValueError too: it goes first
        raise click.UsageError(f"{thread_file} is not valid JSON: {err}") from None
    except ValueError as err:
        raise click.UsageError(str(err)) from None
    data, halves = whole_strings(data)
    if halves:
        click.echo(
            f"{thread_file}: {halves} texts hold half of an emoji or other character (a lone"
            " surrogate: the text was cut inside it); read as U+FFFD (\ufffd)",
            err=True,
        )
    thread = thread_from_json(data)
    settings = get_settings()
    store = open_service_store(settings.effective_database_url)
    says = (
        "smolbot summarize: writing the summary with the local model"
        f" ({settings.effective_model_path.name}; a minute or more on a small CPU; --no-model"
        " for the extractive one at once)"
    )
    written = write_summary(_models(settings, store, no_model, says), thread, settings)
    waiting = waiting_for(thread, settings.bot_login)  # None: a pull request, not judged
    if as_json:
        out = {
            "summary": written.body,
            "how": written.how,
            "rejected": list(written.problems),
            "waiting_on": waiting.on if waiting else None,
            "who": list(waiting.who) if waiting else [],
            "since": waiting.since.isoformat() if waiting else None,
            "reason": waiting.reason if waiting else NOT_JUDGED,
        }
        click.echo(json.dumps(out, indent=2))
        return
    if written.body is not None:  # the summary ends with its own "Waiting on:" line
        click.echo(written.body)
        return
    click.echo(f"No summary: {written.how} ({'; '.join(written.problems)})")
    click.echo(f"\nWaiting on: {waiting_line(waiting) if waiting else NOT_JUDGED}")


@click.command("sweep")
@click.option(
    "--installation", "installation_id", type=int, required=True, help="The App installation id."
)
@click.option(
    "--run-id",
    default=None,
    help="Resume this run (a paused one goes on where it stopped); default: a new run now.",
)
@click.option(
    "--max-operations", default=100, show_default=True, help="Cap on writes for this run."
)
@click.option(
    "--summaries",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Summaries of long threads to write this run, each a local model call; 0 loads no"
    " model and writes none, so a sweep run by hand is quick. The daily job writes up to 3 a run"
    " (a fixed number, no setting).",
)
def sweep_cmd(
    installation_id: int, run_id: str | None, max_operations: int, summaries: int
) -> None:
    """Run the lifecycle sweep for one installation now (the scheduler runs it daily)."""
    from bot.github import GitHubApp
    from bot.jobs.lifecycle import UNAVAILABLE_TRIES, SweepBusy, sweep_installation
    from bot.jobs.summarize import auto_summarize

    settings = get_settings()
    store = open_stored(settings.effective_database_url)
    models = _models(settings, store, summaries == 0)
    ctx = JobContext(settings=settings, store=store, github=GitHubApp(settings), models=models)
    run_id = run_id or datetime.now(UTC).strftime("cli-%Y-%m-%dT%H:%M:%S.%fZ")  # not the day's
    again = f"smolbot sweep --installation {installation_id} --run-id {run_id}"
    try:
        res = sweep_installation(
            ctx,
            installation_id,
            run_id=run_id,
            max_operations=max_operations,
            summarize=auto_summarize if summaries else None,
            max_summaries=summaries,
        )
    except RateLimited as err:
        raise click.ClickException(
            f"GitHub rate limit: run {again} in {err.retry_after_s:.0f} s; it resumes where it"
            " stopped"
        ) from None
    except SweepBusy as err:
        raise click.ClickException(str(err)) from None
    except Unavailable as err:
        raise click.ClickException(
            f"{err}: run {again}; it resumes where it stopped (an issue that fails"
            f" {UNAVAILABLE_TRIES} times in a row is skipped and audited)"
        ) from None
    if res.counts.get("uninstalled"):  # the sweep audits it once and ends; here it is an error
        raise click.ClickException(
            f"GitHub: installation {installation_id} does not exist or was removed (check the"
            " id); nothing was swept"
        )
    if res.finished_before:
        click.echo(
            f"sweep {res.run_id}: finished earlier; nothing was swept now (leave out --run-id"
            " to sweep again). What that run did:"
        )
    else:
        click.echo(f"sweep {res.run_id}: {res.status}, {res.operations} operations")
    for key, value in sorted(res.counts.items()):
        click.echo(f"  {key:28} {value}")


commands: list[click.Command] = [summarize_cmd, sweep_cmd]
