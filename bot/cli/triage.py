"""`smolbot triage` (decisions as JSON, no GitHub writes) and `smolbot backfill` (teach the classifier)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import click

from bot.core.actions import AddLabels, Comment
from bot.core.config import ConfigError, RepoConfig, default_config, parse_config
from bot.core.triage import IssueSnapshot, quarantine
from bot.jobs.context import JobContext
from bot.settings import Settings, get_settings
from bot.store import open_store

DEFAULT_LABELS = "bug,enhancement,question,documentation"
Row = tuple[int, dict[str, Any] | str]


def _context(settings: Settings, with_models: bool = True) -> JobContext:
    from bot.llm import get_model_layer

    store = open_store(settings.effective_database_url)
    return JobContext(
        settings, store, None, get_model_layer(settings, store) if with_models else None
    )


def _issues(stdin: TextIO, title: str | None, body_file: Path | None) -> Iterator[Row]:
    """(line number, the issue or why it cannot be read), one per non-blank input line."""
    if title is not None or body_file is not None:
        body = body_file.read_text(encoding="utf-8") if body_file else ""
        yield 1, {"title": title or "", "body": body}
        return
    for n, line in enumerate(stdin, 1):
        if line.strip():
            yield n, _issue(line)


def _issue(line: str) -> dict[str, Any] | str:
    """One JSON line as an issue, or what is wrong with it."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError:
        return "expected a JSON object with title and body"
    if not isinstance(row, dict):
        return "expected a JSON object with title and body, not " + type(row).__name__
    for key in ("title", "body", "author"):
        if row.get(key) is not None and not isinstance(row[key], str):
            return f"{key} must be a string"
    number = row.get("number")
    if number is not None and (isinstance(number, bool) or not isinstance(number, int)):
        return "number must be an integer"
    return row


def decision(
    ctx: JobContext, repo: str, row: dict[str, Any], cfg: RepoConfig, labels: list[str]
) -> dict[str, Any]:
    """What triage would do with one issue, as a JSON-able dict."""
    from bot.jobs.triage import plan_triage

    number = int(row.get("number") or 0)
    title, body = str(row.get("title") or ""), str(row.get("body") or "")
    issue = IssueSnapshot(
        repo, number, quarantine(title), quarantine(body), str(row.get("author") or "")
    )
    plan = plan_triage(ctx, None, issue, cfg, labels)
    verdict, record = plan.classified.verdict, plan.classified.record
    return {
        "title": title,
        "kind": plan.kind.value if plan.kind else None,
        "labels": sorted(
            {lb for a in plan.labels + plan.info if isinstance(a, AddLabels) for lb in a.labels}
        ),
        "confidence": round(verdict.confidence, 4),
        # the label the model leaned to, also when it was not acted on, and why (or why not)
        "guess": verdict.label,
        "why": "; ".join(a.reason for a in plan.labels),
        "status": verdict.status,
        "escalated": bool(record.get("escalated")),
        "model": record.get("model"),
        "note": record.get("note") or None,  # e.g. the classifier is untrained, the model missing
        "ask_for": [n.label for n in plan.missing],
        "duplicates": [
            {"number": c.number, "title": c.title, "state": c.state, "score": round(c.score, 3)}
            for c in plan.candidates[:5]
        ],
        "would_comment": [a.marker for a in plan.info + plan.duplicates if isinstance(a, Comment)],
    }


def cold_start_hint(ctx: JobContext, repo: str) -> str | None:
    """Why the decisions are about to be (mostly) needs-triage, when nothing has been learned."""
    from bot.llm import ModelLayer

    layer = ctx.models
    if not isinstance(layer, ModelLayer) or layer.classifier().ready:
        return None
    teach = f"`smolbot backfill {repo} --from FILE` teaches the classifier from labeled issues"
    if layer.local_available():
        return (
            "no labeled issues learned yet: kinds come from the local model's zero-shot guess,"
            " which is trusted little (without a large model most issues get needs-triage);"
            f" {teach}"
        )
    return (
        f"no labeled issues learned yet and no local model at {layer.settings.effective_model_path}"
        " (`smolbot models install`): without a large model every issue gets needs-triage;"
        f" {teach}"
    )


def _config(path: Path | None) -> RepoConfig:
    if path is None:
        return default_config()
    try:
        return parse_config(path.read_text(encoding="utf-8"))
    except ConfigError as err:
        raise click.UsageError(str(err)) from None


@click.command()
@click.option(
    "--repo", required=True, help="owner/name: whose learned classifier and issues to use."
)
@click.option("--title", default=None, help="One issue's title (else JSON lines on stdin).")
@click.option(
    "--body-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A .github/smolbot.yml to apply (label map, thresholds).",
)
@click.option(
    "--labels",
    default=DEFAULT_LABELS,
    show_default=True,
    help="The repository's labels, comma-separated.",
)
def triage(
    repo: str, title: str | None, body_file: Path | None, config_file: Path | None, labels: str
) -> None:
    """Triage issues without GitHub: one JSON decision per line, nothing written anywhere.

    A line that is not an issue gets {"line": N, "error": ...} in its place; the others are
    still triaged, and the exit status is 1."""
    ctx = _context(get_settings())
    cfg, names = _config(config_file), [s.strip() for s in labels.split(",") if s.strip()]
    hint = cold_start_hint(ctx, repo)
    if hint:
        click.echo(f"smolbot triage: {hint}", err=True)
    unread = 0
    for n, row in _issues(sys.stdin, title, body_file):
        if isinstance(row, str):  # one line per input line, so outputs stay in step with inputs
            unread += 1
            click.echo(json.dumps({"line": n, "error": row}))
            continue
        click.echo(json.dumps(decision(ctx, repo, row, cfg, names), ensure_ascii=False))
    if unread:
        raise click.ClickException(
            f"{unread} input line(s) could not be read; their output lines say why"
        )


def _installation(ctx: JobContext, repo: str) -> int:
    inst = ctx.store.installation_for_repo(repo)
    if inst is None:
        raise click.UsageError(
            f"{repo} is not a known installation repository; use --from FILE or install the App"
        )
    return inst


@click.command()
@click.argument("repo")
@click.option(
    "--from",
    "from_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="CSV or JSON lines with title, body, label (instead of the API).",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="With --from: a .github/smolbot.yml whose label map reads the labels"
    " (default: the repository's last good one, if the store has it).",
)
def backfill(repo: str, from_file: Path | None, config_file: Path | None) -> None:
    """Teach REPO's classifier from its closed, labeled issues (API) or from a file."""
    from bot.jobs.backfill import BackfillBusy, backfill_from_file, backfill_repo, cursor
    from bot.ports import RateLimited, Unavailable

    if config_file is not None and from_file is None:
        raise click.UsageError("--config goes with --from (the API path reads the repository's)")
    settings = get_settings()
    ctx = _context(settings)
    cfg = _config(config_file) if config_file is not None else None
    with click.progressbar(length=0, label=f"backfill {repo}", show_pos=True) as bar:
        if from_file is not None:
            try:
                result = backfill_from_file(ctx, repo, from_file, progress=bar.update, cfg=cfg)
            # columns or a line it cannot read; rows learned before it are not learned twice
            except ValueError as err:
                raise click.ClickException(str(err)) from None
        else:
            from bot.github import GitHubApp

            host = GitHubApp(settings).repo(_installation(ctx, repo), repo)
            try:
                result = backfill_repo(ctx, host, repo, progress=bar.update)
            except BackfillBusy as err:
                raise click.ClickException(str(err)) from None
            except (RateLimited, Unavailable) as err:  # what was stored stays
                stopped = cursor(ctx.store, repo) or {"page": 1}
                raise click.ClickException(  # err says when to retry
                    f"{err}. Running the same command again resumes at page"
                    f" {stopped['page']} of the issue listing"
                ) from None
    if ctx.models is not None:
        ctx.models.classifier(force=True)
    click.echo(
        f"{repo}: {result.seen} read, {result.stored} stored,"
        f" {result.learned} learned{result.known_note},"
        f" {result.skipped} skipped"
        + (f" (resumed at page {result.first_page})" if result.first_page > 1 else "")
    )
    for line in result.explain():
        click.echo(line)
    if ctx.models is not None:
        _suggest_tune(settings, ctx.models.records.examples())  # type: ignore[attr-defined]


def _suggest_tune(settings: Settings, examples: list[Any]) -> None:
    """A worker tunes on its own (the daily check); a CLI user is told the command."""
    from bot.llm import tune

    ok, why = tune.decide(examples, settings.data_dir)
    if ok:
        click.echo(f"the triage encoder can now be tuned ({why}): `smolbot models tune`")


commands: list[click.Command] = [triage, backfill]
