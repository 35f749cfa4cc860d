"""`smolbot demo`: run the whole loop locally against a fake GitHub, and print what happened."""

from __future__ import annotations

from pathlib import Path

import click

from bot.settings import get_settings


@click.command()
@click.option(
    "--keep",
    type=click.Path(path_type=Path),
    default=None,
    help="Keep the demo's data dir here (store, broker, logs) instead of a temporary one.",
)
@click.option(
    "--timeout", type=float, default=900, show_default=True, help="Seconds to wait per step."
)
def demo(keep: Path | None, timeout: float) -> None:
    """Triage, summarize, re-ping and digest a sample repository: no GitHub account, no server."""
    from bot.demo import run_demo
    from bot.llm.api import ModelUnavailable
    from bot.llm.modelfile import check_model_file

    settings = get_settings()
    try:  # the model layer's check: a file cut short exists, yet every model call fails
        check_model_file(settings.effective_model_path)
    except ModelUnavailable as err:
        raise click.ClickException(str(err)) from None
    raise SystemExit(run_demo(settings, click.echo, keep=keep, timeout=timeout))


commands: list[click.Command] = [demo]
