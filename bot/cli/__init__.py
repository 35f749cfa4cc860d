"""`smolbot`: a thin command line over the jobs. Each feature adds its commands in its own module."""

from __future__ import annotations

import functools
import importlib
import sys
from pathlib import Path
from typing import Any

import click

from bot.ports import AppCredentialsError, GitHubError
from bot.settings import SettingsError

# Modules that define `commands: list[click.Command]`; each feature owns one.
COMMAND_MODULES = [
    "bot.cli.digest",
    "bot.cli.models",
    "bot.cli.service",
    "bot.cli.doctor",
    "bot.cli.demo",
    "bot.cli.hook",
    "bot.cli.lifecycle",
    "bot.cli.triage",
]

# Commands that read what the service stored, or replay it: name -> the flag with which one needs
# no store (digest --sample). Run away from the service's settings (from another directory: they
# are the environment and ./.env), they created an empty store under the default data dir and
# said "audit log is empty" or "replayed 0 dead letter(s)". (Not `models eval`: on no store it
# advises a backfill, what a new user needs.)
READ_STORED: dict[str, str | None] = {
    "audit": None,
    "retry": None,
    "stats": None,
    "digest": "sample",
}
NO_POSTGRES_DRIVER = (
    "SMOLBOT_DATABASE_URL is a PostgreSQL URL but psycopg is not installed here: pip install"
    " 'smolbot[postgres]' (in a checkout: pip install '.[postgres]')"
)


class _Group(click.Group):
    """Commands that act as the GitHub App (backfill, sweep, digest) say a missing, malformed or
    refused App id or key, or what GitHub answered (an installation or repository it does not
    know, a rate limit, a 5xx), as a click error: one line and status 1, not a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (AppCredentialsError, GitHubError) as err:
            raise click.ClickException(str(err)) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="smolbot")
def cli() -> None:
    """smolbot: a self-hosted GitHub App that does first-responder work with a small local model."""


def sqlite_file(url: str) -> Path | None:
    """The file a store URL or path names (None: PostgreSQL, or in memory), as open_store reads
    it: a relative path is from the current directory."""
    if url.startswith(("postgresql://", "postgres://")):
        return None
    path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url
    return None if path == ":memory:" else Path(path).absolute()


def no_store(path: Path) -> click.ClickException:
    return click.ClickException(
        f"no store at {path}: settings come from the environment and ./.env, so run this where"
        " the service's .env is, or set SMOLBOT_DATA_DIR (or SMOLBOT_DATABASE_URL) to the"
        " service's"
    )


def _reads_stored(command: click.Command, unless: str | None) -> None:
    """While `command` runs, its module's open_store refuses a SQLite file that does not exist
    (one line, status 1) instead of creating it empty; `unless`: a flag with which it needs no
    store. At the open, not before the command: its own checks of its arguments speak first."""
    callback = command.callback
    if callback is None or getattr(callback, "_reads_stored", False):
        return
    module: Any = sys.modules[callback.__module__]
    if not hasattr(module, "open_store"):
        return

    @functools.wraps(callback)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if unless and kwargs.get(unless):
            return callback(*args, **kwargs)
        opener = module.open_store

        def existing_only(path: str | Path, **options: Any) -> Any:
            file = sqlite_file(str(path))
            if file is not None and not file.exists():
                raise no_store(file)
            return opener(path, **options)

        module.open_store = existing_only
        try:
            return callback(*args, **kwargs)
        finally:
            module.open_store = opener

    checked._reads_stored = True  # type: ignore[attr-defined]
    command.callback = checked


def _register() -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        for command in module.commands:
            cli.add_command(command)
    for name, unless in READ_STORED.items():
        if name in cli.commands:
            _reads_stored(cli.commands[name], unless)


def _no_postgres_driver(err: ImportError) -> bool:
    """psycopg missing (the [postgres] extra), or installed without a libpq it can load."""
    return (err.name or "").split(".")[0].startswith("psycopg") or "pq wrapper" in str(err)


def main() -> None:
    _register()
    try:
        cli(standalone_mode=True)
    except SettingsError as err:
        click.echo(f"smolbot: configuration error: {err}", err=True)
        sys.exit(2)
    except ImportError as err:
        if not _no_postgres_driver(err):
            raise
        click.echo(f"smolbot: {NO_POSTGRES_DRIVER}", err=True)
        sys.exit(2)
