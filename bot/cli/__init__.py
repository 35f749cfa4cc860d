"""`smolbot`: a thin command line over the jobs. Each feature adds its commands in its own module."""

from __future__ import annotations

import contextlib
import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.ports import AppCredentialsError, GitHubError
from bot.settings import SettingsError

if TYPE_CHECKING:
    from bot.store import Store

# Modules that define `commands: list[click.Command]`; each feature owns one.
COMMAND_MODULES = [
    "bot.cli.config",
    "bot.cli.digest",
    "bot.cli.models",
    "bot.cli.service",
    "bot.cli.doctor",
    "bot.cli.demo",
    "bot.cli.hook",
    "bot.cli.lifecycle",
    "bot.cli.triage",
]

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
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
    if url.startswith(POSTGRES_SCHEMES):
        return None
    path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url
    return None if path == ":memory:" else Path(path).absolute()


def open_stored(url: str) -> Store:
    """The store the service wrote, for commands that read or replay it (audit, retry, stats,
    digest, models eval/tune/reader): a SQLite file that does not exist is not created empty,
    but refused in one line (status 1). Settings are the environment and ./.env, so from another directory these commands
    said "audit log is empty" or "replayed 0 dead letter(s)" from a new store."""
    file = sqlite_file(url)
    if file is not None and not file.exists():
        raise no_store(file)
    return open_service_store(url)


def open_service_store(url: str) -> Store:
    """open_store, with a store it cannot open said as a SettingsError (one line, status 2): a
    PostgreSQL server down or without that database, a data dir this user cannot write (the
    service's, read by an operator), a read-only file system, a file that is no database."""
    import sqlite3

    from bot.store import open_store

    errors: tuple[type[Exception], ...] = (OSError, sqlite3.DatabaseError)
    if url.startswith(POSTGRES_SCHEMES):
        with contextlib.suppress(ImportError):  # open_store says what to install
            import psycopg

            errors += (psycopg.Error,)
    try:
        return open_store(url)
    except errors as err:
        raise SettingsError(cannot_open(url, err)) from None


def cannot_open(url: str, err: Exception) -> str:
    """What stops the store at `url` from opening, and what to do, on one line."""
    from bot.cli.service import _redact

    why = " ".join(str(err).split()) or type(err).__name__
    if url.startswith(POSTGRES_SCHEMES):
        return (
            f"cannot open the store at SMOLBOT_DATABASE_URL={_redact(url)} ({why}): check the"
            " URL, that the PostgreSQL server is running and reachable from here, and that the"
            " database exists (createdb NAME)"
        )
    return (
        f"cannot open the store {sqlite_file(url)} ({why}): set SMOLBOT_DATA_DIR (or"
        " SMOLBOT_DATABASE_URL) to a directory this user can write, or run this as the user the"
        " service runs as"
    )


def no_store(path: Path) -> click.ClickException:
    return click.ClickException(
        f"no store at {path}: settings come from the environment and ./.env, so run this where"
        " the service's .env is, or set SMOLBOT_DATA_DIR (or SMOLBOT_DATABASE_URL) to the"
        " service's"
    )


def _register() -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        for command in module.commands:
            cli.add_command(command)


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
