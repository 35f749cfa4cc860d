"""`smolbot`: a thin command line over the jobs. Each feature adds its commands in its own module."""

from __future__ import annotations

import importlib
import sys

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


def _register() -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        for command in module.commands:
            cli.add_command(command)


def main() -> None:
    _register()
    try:
        cli(standalone_mode=True)
    except SettingsError as err:
        click.echo(f"smolbot: configuration error: {err}", err=True)
        sys.exit(2)
