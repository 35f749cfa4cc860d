"""`smolbot config check [FILE]`: a repository's .github/smolbot.yml, read as the bot reads it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from pydantic import BaseModel
from pydantic_core import to_json

from bot.core.config import (
    CONFIG_PATH,
    CONFIG_PATH_YAML,
    ConfigError,
    default_config,
    file_text,
    parse_config,
)

KEPT = (
    "until it is fixed the bot keeps the last valid version (or its defaults) and opens an issue"
    " explaining the errors"
)


@click.group("config")
def config_group() -> None:
    """The per-repository settings file, .github/smolbot.yml."""


@click.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), required=False)
def check(file: Path | None) -> None:
    """Validate FILE (default: .github/smolbot.yml here, else .github/smolbot.yaml, as the bot
    reads them) with the bot's own reader: "ok" and the settings that differ from the defaults,
    or the errors the bot would open an issue about (status 1)."""
    path = file if file is not None else _default_file()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise click.ClickException(_missing(path, given=file is not None)) from None
    except OSError as err:
        raise click.ClickException(f"cannot read {path}: {err.strerror or err}") from None
    try:  # the bytes as the bot gets a repository file, and its parser: the same errors
        cfg = parse_config(file_text(data), str(path))
    except ConfigError as err:
        raise click.ClickException(f"{err}\n{KEPT}") from None
    changed = list(differences(cfg, default_config()))
    if not changed:
        click.echo(f"{path}: ok; every setting is the default")
        return
    click.echo(f"{path}: ok; the settings that differ from the defaults:")
    for name, value in changed:
        click.echo(f"  {name}: {to_json(value).decode()}")


def _default_file() -> Path:
    """CONFIG_PATH, else CONFIG_PATH_YAML where only that exists: the file the bot reads."""
    yml, yaml = Path(CONFIG_PATH), Path(CONFIG_PATH_YAML)
    if yml.exists() or not yaml.exists():
        if yml.exists() and yaml.exists():
            click.echo(
                f"smolbot: {yaml} is ignored: the bot reads {yml} where both exist", err=True
            )
        return yml
    return yaml


def _missing(path: Path, given: bool) -> str:
    where = "" if given else f" (nor {CONFIG_PATH_YAML}) in {Path.cwd()}"
    run_here = "" if given else ": run this in the repository's top directory, or name the file"
    return (
        f"no file {path}{where}{run_here}; a repository without one gets the defaults (the"
        " lifecycle closes nothing until `lifecycle: close: true`)"
    )


def differences(cfg: BaseModel, defaults: BaseModel, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Each setting of `cfg` that is not its default, as `section.key` and its value; a section
    (triage, lifecycle, …) is gone into, a mapping (label_map, weights) is one value."""
    for name, field in type(cfg).model_fields.items():
        if field.exclude:  # from_file: where the config came from, no setting
            continue
        value, default = getattr(cfg, name), getattr(defaults, name)
        if isinstance(value, BaseModel):
            yield from differences(value, default, f"{prefix}{name}.")
        elif value != default:
            yield f"{prefix}{name}", value


config_group.add_command(check)
commands: list[click.Command] = [config_group]
