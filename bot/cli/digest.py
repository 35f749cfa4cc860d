"""`smolbot digest`: print a repository's weekly digest (offline on the bundled sample data)."""

from __future__ import annotations

import re
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import click

from bot.cli import open_stored
from bot.cli.triage import known_as
from bot.core.digest import render_html, render_json, render_markdown
from bot.jobs.context import ModelLayer
from bot.jobs.digest import build_digest, parse_ts
from bot.jobs.repo_config import preview_repo_config
from bot.ports import RepoHost
from bot.settings import Settings, get_settings
from bot.store import Store, open_store

RENDERERS = {"md": render_markdown, "html": render_html, "json": render_json}
SINCE = re.compile(r"^(\d+(?:\.\d+)?)([dhw])$")
MAX_SINCE_DAYS = 3650  # ten years: a digest window, and far from what timedelta can hold


def parse_since(text: str) -> float:
    """ "7d", "36h", "2w" -> days; more than MAX_SINCE_DAYS is a usage error."""
    match = SINCE.match(text.strip())
    if not match:
        raise click.BadParameter(
            "use a number and a unit, like 7d, 36h or 2w", param_hint="--since"
        )
    days = float(match.group(1)) * {"d": 24, "h": 1, "w": 168}[match.group(2)] / 24  # 87600h: 3650
    if days > MAX_SINCE_DAYS:  # timedelta, or the date that far back, overflowed: a traceback
        raise click.BadParameter(
            f"at most {MAX_SINCE_DAYS} days back (10 years), like 7d, 36h or 2w",
            param_hint="--since",
        )
    return days


def _sample_host(repo: str | None) -> tuple[RepoHost, str, datetime]:
    from bot.samples import SAMPLE_REPO, load_sample
    from bot.samples.host import SampleHost

    if repo not in (None, SAMPLE_REPO):
        raise click.UsageError(
            f"--sample has only {SAMPLE_REPO}; leave out the repository or name it"
        )
    data = load_sample()
    return SampleHost(data), SAMPLE_REPO, parse_ts(str(data["now"]))


def _github_host(settings: Settings, store: Store, repo: str) -> RepoHost:
    from bot.github import GitHubApp

    installation = store.installation_for_repo(repo)
    if installation is None:
        raise click.ClickException(not_installed(store, repo))
    return GitHubApp(settings).repo(installation, repo)


def not_installed(store: Store, repo: str) -> str:
    """Why there is no digest of `repo`, which no installation in the store has: the digest reads
    the repository's issues from GitHub as the App installed on it, not from the store. What the
    store does hold of it is said: "not in smolbot's store" was said of a repository whose 160
    labeled examples `smolbot doctor` listed (learned by `backfill --from FILE`, which needs no
    App)."""
    from bot.llm.records import Records

    examples = sum(Records(store).example_counts().get(repo, {}).values())
    issues = next(store.rows("select count(*) as n from issues where repo = ?", [repo]))["n"]
    if not (examples or issues):
        has = f"{repo} is not in smolbot's store"
    else:
        held = [
            f"{n:,} {what}{'s' * (n != 1)}"
            for n, what in [(examples, "labeled example"), (issues, "issue")]
            if n
        ]
        has = f"smolbot's store has {' and '.join(held)} of {repo}"
        if not issues:  # what a file backfill leaves
            has += " (what triage learns from; `backfill --from FILE` stores only these)"
        has += ", but no App installation on it"
    return (
        f"{has}: the digest reads the repository's issues from GitHub, as the App installed on"
        f" it; install the App on {repo} and run `smolbot serve` (installed already, but its"
        f" webhook never arrived: `smolbot backfill {repo}` finds and records the"
        " installation), or try --sample"
    )


def _models(settings: Settings, store: Store, no_model: bool) -> ModelLayer | None:
    """The model layer, which says on stderr when the local model starts on the lines (a minute
    or more on two cores, silent before); None with `no_model`."""
    if no_model:
        return None
    from bot.cli.lifecycle import saying_models

    says = (
        "smolbot digest: writing the top issues' one-line summaries with the local model"
        f" ({settings.effective_model_path.name}; a minute or more on a small CPU; --no-model"
        " for their titles at once)"
    )
    return saying_models(settings, store, says)


@click.command("digest")
@click.argument("repo", required=False)
@click.option("--since", "since", default="7d", show_default=True, help="Window: 7d, 36h, 2w.")
@click.option(
    "--format", "fmt", type=click.Choice(sorted(RENDERERS)), default="md", show_default=True
)
@click.option("--sample", is_flag=True, help="Use the bundled sample repository (offline).")
@click.option(
    "--no-model", is_flag=True, help="Skip the model's one-line summaries (titles instead)."
)
def digest_command(repo: str | None, since: str, fmt: str, sample: bool, no_model: bool) -> None:
    """Print the weekly digest of REPO (owner/name): top issues, waiting issues, what the bot did."""
    days = parse_since(since)
    settings = get_settings()
    if not sample:
        _print_digest(
            settings, open_stored(settings.effective_database_url), repo, days, fmt, False, no_model
        )
        return
    # the sample needs no service, and writes nothing into its store: a throwaway one
    with tempfile.TemporaryDirectory(prefix="smolbot-sample-") as tmp:
        store = open_store(Path(tmp) / "sample.db")
        try:
            _print_digest(settings, store, repo, days, fmt, True, no_model)
        finally:
            store.close()


def _print_digest(
    settings: Settings,
    store: Store,
    repo: str | None,
    days: float,
    fmt: str,
    sample: bool,
    no_model: bool,
) -> None:
    if sample:
        host, repo, until = _sample_host(repo)
    elif repo is None:
        raise click.UsageError("name a repository (owner/name), or pass --sample")
    else:
        repo = known_as(store, repo)
        host, until = _github_host(settings, store, repo), datetime.now(UTC)
    # the config the weekly job would use: an invalid file keeps the last valid one (read only:
    # the issue about the invalid file is the bot's to open)
    cfg, note = preview_repo_config(store, host, repo)
    if note:
        click.echo(f"smolbot: {note}", err=True)
    models = _models(settings, store, no_model)
    audit_until = datetime.now(UTC) if sample else None  # the bot's own rows are in real time
    digest = build_digest(
        host,
        store,
        repo,
        cfg,
        until,
        days=days,
        models=models,
        bot_login=settings.bot_login,
        audit_until=audit_until,
    )
    click.echo(RENDERERS[fmt](digest))
    if models is not None and sys.stderr.isatty():
        written = sum(1 for i in digest.top if i.line != i.title)
        click.echo(f"({written} of {len(digest.top)} lines written by the model)", err=True)


commands: list[click.Command] = [digest_command]
