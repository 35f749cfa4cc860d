"""`smolbot serve|web|worker|beat|audit|doctor|retry`: running and inspecting the service."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

import click

from bot.cli import open_service_store, open_stored
from bot.core.numbers import whole_number
from bot.settings import Settings, SettingsError, get_settings

if TYPE_CHECKING:
    from bot.store import Store

BROKER_PROBE_TIMEOUT_S = 3.0
SECRET_PARAM_WORDS = ("pass", "pwd", "secret", "token")  # password, passwd, sslpassword, …


def _web_app(settings: Settings) -> Any:
    from bot.webhook.app import create_app
    from workers.celery_app import configure
    from workers.tasks import enqueue_deliveries

    configure(settings)
    store = open_service_store(settings.effective_database_url)
    return create_app(
        settings, store, enqueue_deliveries, broker_ok=lambda: broker_status(settings)
    )


def run_web(settings: Settings, host: str, port: int, **uvicorn_options: Any) -> None:
    """Serve the web app until stopped: what `smolbot web` runs."""
    import uvicorn

    uvicorn.run(
        _frozen_app(settings),
        host=host,
        port=port,
        forwarded_allow_ips=settings.trusted_proxies,
        **uvicorn_options,
    )


def _frozen_app(settings: Settings) -> Any:
    """The web app, the heap frozen once it is built.

    Importing FastAPI, Celery, SQLAlchemy and pydantic leaves about 90,000 objects the cyclic
    garbage collector tracks; every full collection walked them all, 54-62 ms in which no request
    was answered, and under load these pauses were the p99 (73 ms closed-loop at 50 clients; 20 ms
    once frozen, bench/webhook.py). Frozen objects are never collected: they live as long as the
    process anyway.
    """
    import gc

    app = _web_app(settings)
    gc.collect()
    gc.freeze()
    return app


def broker_status(settings: Settings) -> tuple[bool, str]:
    """Whether the broker answers: what `smolbot doctor` and /healthz report."""
    from bot.store.outage import hide_password
    from workers.celery_app import configure

    app = configure(settings)
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        if settings.effective_broker_url.startswith("sqla+"):
            _within(BROKER_PROBE_TIMEOUT_S, lambda: _select_one(app))
        return True, "ok"
    except Exception as err:  # any failure is the answer here (its text may quote the URL)
        return False, hide_password(_one_line(err), settings.effective_broker_url)


def _one_line(err: BaseException) -> str:
    """The error's first line: SQLAlchemy's go on with hints and a link."""
    first = next(iter(str(err).strip().splitlines()), "")
    return f"{type(err).__name__}: {first}" if first else type(err).__name__


def _select_one(app: Any) -> None:
    """On the SQLAlchemy transport ensure_connection touches no database: open the transport's
    engine (its tables created on first use, as a worker's first poll does) and ask `select 1`."""
    from sqlalchemy import text

    with app.connection_for_write() as conn:
        engine, _ = conn.default_channel._open()
        with engine.connect() as db:
            db.execute(text("select 1"))


def _within(seconds: float, probe: Callable[[], None]) -> None:
    """Run probe, raising what it raised, or TimeoutError after `seconds`. A database that never
    answers (a host dropping packets) would hold a driver's connect for minutes: the probe's
    thread is left to finish on its own, a daemon that never holds up exit."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            probe()
            outcome.append(None)
        except BaseException as err:  # handed to the caller
            outcome.append(err)

    thread = threading.Thread(target=run, name="broker-probe", daemon=True)
    thread.start()
    thread.join(seconds)
    if not outcome:
        raise TimeoutError(f"the broker's database did not answer in {seconds:g} s")
    if outcome[0] is not None:
        raise outcome[0]


def _require_secret(settings: Settings) -> None:
    if settings.webhook_secret is None:
        raise click.UsageError(
            "SMOLBOT_WEBHOOK_SECRET is not set: the webhook needs the secret you gave GitHub"
        )


def require_app(settings: Settings) -> None:
    """The GitHub App's id and private key, checked before a worker starts: it acts as the App,
    and without them it took every delivery only to park it with a traceback. SettingsError, so
    `smolbot` says it in one line (status 2), as it does any other missing or malformed setting.

    `smolbot web` does not ask for them: it checks signatures and records deliveries, and never
    calls GitHub, so it can run where the key is not kept; deliveries wait for a worker.
    """
    from bot.github.app import checked_key, missing_app_settings
    from bot.ports import AppCredentialsError

    missing = missing_app_settings(settings)
    if missing:
        raise SettingsError(
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set: the worker"
            " acts as the GitHub App; set the App ID shown on the App's settings page and its"
            " private key (PEM text or the .pem path), then start it again (`smolbot doctor`"
            " checks them)"
        )
    try:
        checked_key(settings)  # a key that is no RSA PEM fails here, not at the first delivery
    except AppCredentialsError as err:
        raise SettingsError(str(err)) from None
    _check_bot_login(settings)


def _check_bot_login(settings: Settings) -> None:
    """SMOLBOT_BOT_LOGIN against the login GitHub shows for the App: a wrong one is refused (the
    bot would answer its own comments and post again on every retry). So is an API URL that
    answers 404 for the App itself: every installation's token would be a 404 too, each delivery
    skipped as if its issue were deleted, none left to replay once the URL is fixed; refused, the
    worker takes none, and they wait (queued, or the web's store) for one started right. GitHub
    out of reach, or refusing the key, is said in one line and the worker starts: deliveries wait
    or are parked, each saying why."""
    from bot.github import GitHubApp
    from bot.github.app import bot_login_problem
    from bot.github.errors import NotAnApiRoot
    from bot.ports import AppCredentialsError, GitHubError

    quick = settings.model_copy(update={"github_timeout_s": min(settings.github_timeout_s, 10)})
    try:
        found = GitHubApp(quick).app_login()
    except NotAnApiRoot as err:
        raise SettingsError(f"{err} (it is {settings.github_api_url})") from None
    except (AppCredentialsError, GitHubError) as err:
        click.echo(
            f"warning: SMOLBOT_BOT_LOGIN not checked: GitHub did not say the App's login ({err})",
            err=True,
        )
        return
    problem = bot_login_problem(settings, found)
    if problem:
        raise SettingsError(problem)


@click.command()
@click.option("--host", default=None, help="Address to listen on (default: SMOLBOT_HOST).")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=None, help="Port (default: SMOLBOT_PORT)."
)
def web(host: str | None, port: int | None) -> None:
    """Run the web process: webhook intake, health, metrics, dashboard."""
    from workers.celery_app import ensure_data_dir

    settings = get_settings()
    ensure_data_dir(settings)
    _require_secret(settings)
    run_web(
        settings,
        host or settings.host,
        port if port is not None else settings.port,
        log_level=settings.log_level.lower(),
    )


@click.command()
@click.option(
    "-Q", "--queues", default="fast,model,sweep", show_default=True, help="Queues to consume."
)
@click.option(
    "-c",
    "--concurrency",
    type=int,
    default=None,
    help="Worker processes (default: SMOLBOT_WORKER_CONCURRENCY for the queues).",
)
@click.option(
    "--pool",
    type=click.Choice(["prefork", "solo", "threads"]),
    default="prefork",
    show_default=True,
)
@click.option(
    "--beat/--no-beat", default=False, help="Also run the periodic scheduler in this worker."
)
@click.option("-n", "--name", default=None, help="Worker node name (default: smolbot-<pid>@host).")
@click.option(
    "--split", is_flag=True, help="One worker per queue, so a slow model never delays a label."
)
def worker(
    queues: str, concurrency: int | None, pool: str, beat: bool, name: str | None, split: bool
) -> None:
    """Run a Celery worker on the configured broker."""
    from workers.celery_app import configure, ensure_data_dir
    from workers.nodes import concurrency_for, run_split

    settings = get_settings()
    ensure_data_dir(settings)
    require_app(settings)
    open_service_store(settings.effective_database_url).close()  # one line if it cannot open
    if split:
        sys.exit(run_split(settings, queues.split(","), pool, beat))
    app = configure(settings)
    argv = [
        "worker",
        "--loglevel",
        settings.log_level,
        "-Q",
        queues,
        "-c",
        str(concurrency or concurrency_for(settings, queues.split(","))),
        "--pool",
        pool,
        "-n",
        name or f"smolbot-{os.getpid()}@%h",
        "--without-gossip",
        "--without-mingle",
    ]
    if beat:
        argv += ["-B", "-s", str(settings.data_dir / "beat-schedule")]
    app.worker_main(argv)


@click.command()
def beat() -> None:
    """Run the periodic scheduler (recovery sweep, lifecycle sweeps, weekly digests)."""
    from workers.celery_app import configure, ensure_data_dir

    settings = get_settings()
    ensure_data_dir(settings)  # its schedule file: unwritable, a traceback every few seconds
    app = configure(settings)
    app.Beat(schedule=str(settings.data_dir / "beat-schedule"), loglevel=settings.log_level).run()


@click.command()
@click.option("--port", type=click.IntRange(1, 65535), default=None)
@click.option(
    "-c",
    "--concurrency",
    type=int,
    default=None,
    help="One worker for every queue, with this many processes (default: one worker per queue,"
    " each with its SMOLBOT_WORKER_CONCURRENCY, so a slow model job never delays a label).",
)
def serve(port: int | None, concurrency: int | None) -> None:
    """Web + workers + beat in one command, for one machine."""
    from workers.celery_app import ensure_data_dir

    settings = get_settings()
    ensure_data_dir(settings)
    _require_secret(settings)
    require_app(settings)
    open_service_store(settings.effective_database_url).close()  # before the worker starts
    sys.exit(run_serve(settings, port if port is not None else settings.port, concurrency))


# What stops `smolbot serve`: a service manager's SIGTERM, Ctrl-C, a closed terminal's SIGHUP.
SERVE_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
GROUP_PASSES = 3  # rounds of SIGTSTP to the worker tree's groups, each finding groups made since
STARTUP_FAILURE = 3  # uvicorn's status when the web never started (the port taken, say)


def run_serve(
    settings: Settings, port: int, concurrency: int | None, *, grace_s: float | None = None
) -> int:
    """Run the web in this process and `smolbot worker --beat` as a child; the exit status.

    The port is tried first: taken, it is said in one line (status 3) before a worker+beat starts
    beside the one already serving. SIGTERM, SIGINT or SIGHUP to this process (a service manager,
    `kill PID`) or to its process group (Ctrl-C, a closed terminal) stops both: the worker, in a
    process group of its own so that no terminal signal reaches it, gets SIGTERM at once
    (Celery's warm shutdown: a running task finishes; SIGHUP would make Celery restart itself),
    the web stops taking requests, and the worker has `grace_s` seconds (default: `smolbot worker
    --split`'s, and room for it to kill a worker still running then) to end before it is killed,
    with the processes under it. A second SIGINT (Ctrl-C twice) sends it SIGQUIT: Celery's cold
    shutdown, the running tasks given up (acks late: they run again). uvicorn's own handlers are
    not used: after its shutdown it re-raises SIGTERM with the default action, which ended this
    process before it stopped the worker, left running (orphaned, still consuming the broker, a
    second beat after a restart).

    Ctrl-Z (SIGTSTP) suspends the worker tree with this process (suspend_with_workers): in
    groups of their own, the workers got no terminal signal, and ran on while serve was stopped.

    A worker that dies on its own stops the web too, said in one line: a web taking deliveries
    that no worker handles would look healthy while nothing happens. Status 0 after a stop by
    signal with the worker ended in time; non-zero when the worker died, had to be killed, or
    the web never started.
    """
    import uvicorn

    from workers.celery_app import QUEUES
    from workers.nodes import SERVE_GRACE_S, child_of_this, concurrency_for, exit_status

    grace = SERVE_GRACE_S if grace_s is None else grace_s
    stopped_by: list[int] = []
    stopping = threading.Event()  # serve itself ends the worker: its exit is no death
    died: list[int] = []  # the worker's status, when it ended on its own
    server: uvicorn.Server | None = None
    child: subprocess.Popen[bytes] | None = None

    def _on_signal(signum: int, _frame: object) -> None:
        again = bool(stopped_by)
        stopped_by.append(signum)
        stopping.set()
        if child is not None and child.poll() is None:
            if not again:
                child.terminate()
            elif signum == signal.SIGINT:  # Ctrl-C twice: Celery's cold shutdown
                child.send_signal(signal.SIGQUIT)
        if server is not None:
            server.should_exit = True
            if again and signum == signal.SIGINT:  # Ctrl-C twice: don't wait for open requests
                server.force_exit = True

    def _on_suspend(_signum: int, _frame: object) -> None:
        # a worker reaped (it died): its pid may be another process's by now
        running = child is not None and child.returncode is None
        suspend_with_workers(child.pid if child is not None and running else None)

    def _watch(proc: subprocess.Popen[bytes]) -> None:
        status = proc.wait()
        if stopping.is_set():
            return
        died.append(status)
        click.echo(
            f"smolbot: the worker+beat process (pid {proc.pid}) died ({_how(status)}):"
            " stopping the web too, which would take deliveries nothing handles;"
            " see the worker's log above, then start `smolbot serve` again",
            err=True,
        )
        if server is not None:
            server.should_exit = True

    problem = cannot_listen(settings.host, port)
    if problem:
        click.echo(f"smolbot: {problem}", err=True)
        return STARTUP_FAILURE
    previous = {sig: signal.signal(sig, _on_signal) for sig in SERVE_STOP_SIGNALS}
    previous[signal.SIGTSTP] = signal.signal(signal.SIGTSTP, _on_suspend)
    try:
        cmd = [sys.executable, "-m", "bot.cli", "worker", "--beat"]
        # one worker per queue (`worker --split`): a summary or a backfill on the model queue
        # held every delivery behind it when one process took all queues
        cmd += ["--split"] if concurrency is None else ["-c", str(concurrency)]
        child = child_of_this(cmd)
        if stopped_by:  # a signal came before there was a child to pass it to
            child.terminate()
        threading.Thread(target=_watch, args=(child,), name="serve-worker", daemon=True).start()
        workers = (
            ", ".join(f"{q} {concurrency_for(settings, [q])}" for q in QUEUES)
            if concurrency is None
            else f"all queues {concurrency}"
        )
        click.echo(
            f"smolbot: worker+beat pid {child.pid} (processes: {workers}),"
            f" broker {_redact(settings.effective_broker_url)}"
        )
        config = uvicorn.Config(
            _frozen_app(settings),
            host=settings.host,
            port=port,
            log_level=settings.log_level.lower(),
            forwarded_allow_ips=settings.trusted_proxies,
        )
        server = _serve_server(config)
        if not (stopped_by or died):
            server.run()
    finally:
        stopping.set()
        try:
            status = _stop_worker(child, grace) if child is not None else 0
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    if died:
        return max(1, exit_status(died[0]))
    if not (stopped_by or (server is not None and server.started)):
        return STARTUP_FAILURE
    return status


def suspend_with_workers(worker: int | None) -> None:
    """Ctrl-Z for `smolbot serve`: SIGTSTP to the worker's process group and to each group under
    it (`--split`'s workers have one each), then this process stops as SIGTSTP's own action
    would stop it, and once continued (`fg`, `bg`: SIGCONT) it continues them.

    The terminal's SIGTSTP reaches the foreground group, serve's alone: the workers, in groups of
    their own so that no terminal signal reaches them, ran on while serve was stopped, the web
    down and deliveries still taken from the broker. Where the kernel discards the stop (a
    process group no shell controls: none could continue it), this process runs on, and so do
    the workers, continued at once."""
    suspended = [] if worker is None else _signal_tree(worker, signal.SIGTSTP)
    handler = signal.signal(signal.SIGTSTP, signal.SIG_DFL)
    try:
        signal.raise_signal(signal.SIGTSTP)  # returns once continued (or the stop discarded)
    finally:
        signal.signal(signal.SIGTSTP, handler)
        if worker is not None:
            for group in dict.fromkeys(suspended + tree_groups(worker)):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(group, signal.SIGCONT)


def tree_groups(pid: int) -> list[int]:
    """The process groups of `pid` and of the processes under it, first seen first, without this
    process's own."""
    from workers.nodes import descendants

    groups: dict[int, None] = {}
    for each in [pid, *descendants(pid)]:
        with contextlib.suppress(ProcessLookupError):
            groups[os.getpgid(each)] = None
    groups.pop(os.getpgrp(), None)
    return list(groups)


def _signal_tree(pid: int, sig: int) -> list[int]:
    """`sig` to each process group of the tree under `pid`; the groups signalled. Groups made
    meanwhile (a worker started as its parent was signalled) are found by the next pass."""
    done: list[int] = []
    for _ in range(GROUP_PASSES):
        found = [group for group in tree_groups(pid) if group not in done]
        if not found:
            break
        for group in found:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, sig)
        done += found
    return done


def cannot_listen(host: str, port: int) -> str | None:
    """Why the web could not listen on host:port (the port taken, an address not this machine's),
    None if it can: each address uvicorn would bind, bound and let go at once."""
    import errno
    import socket

    try:
        found = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
        for family, kind, proto, _, address in found:
            with socket.socket(family, kind, proto) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:  # as asyncio binds it: IPv6 only
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                sock.bind(address)
    except OSError as err:
        why = " ".join(str(err).split()) or type(err).__name__
        fix = (
            "another process listens there (another `smolbot serve`?): stop it, or set"
            " SMOLBOT_PORT (or --port) to a free port"
            if err.errno == errno.EADDRINUSE
            else "set SMOLBOT_HOST to an address of this machine (127.0.0.1, 0.0.0.0) and"
            " SMOLBOT_PORT (or --port) to a port this user may open"
        )
        return f"cannot listen on {host}:{port} ({why}): {fix}"
    return None


def _serve_server(config: Any) -> Any:
    """A uvicorn server that leaves signals to `run_serve`'s handlers."""
    import contextlib
    from collections.abc import Iterator

    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    return Server(config)


def _stop_worker(child: subprocess.Popen[bytes], grace_s: float) -> int:
    """SIGTERM (if not sent yet), up to `grace_s` seconds to end, then SIGKILL, with the processes
    under it (a Celery worker under `--split`'s supervisor would run on, orphaned); 0 if it ended
    in time (whatever status Celery gave a shutdown), else 128 + 9."""
    from workers.nodes import kill_tree

    if child.poll() is None:
        child.terminate()
    try:
        child.wait(timeout=grace_s)
        return 0
    except subprocess.TimeoutExpired:
        click.echo(
            f"smolbot: the worker (pid {child.pid}) was still running {grace_s:.0f} s after"
            " SIGTERM: killing it and the processes under it; its unfinished tasks run again"
            " (acks late, recovery sweep)",
            err=True,
        )
        kill_tree(child)  # the processes under it pinned first: never another's, given a freed pid
        return 128 + signal.SIGKILL


def _how(returncode: int) -> str:
    if returncode >= 0:
        return f"exit status {returncode}"
    try:
        return f"killed by {signal.Signals(-returncode).name}"
    except ValueError:
        return f"killed by signal {-returncode}"


def _redact(url: str) -> str:
    """A URL fit to print: user info replaced by ***, password-like query values masked.

    Passwords are often pasted unescaped, so the user info ends at the URL's last '@' (urlsplit
    would end it at a '/', '?' or '#' inside the password, and so did splitting off the query
    first: libpq connects with 'Pa55?word', and it was printed); an '@' in the query hides more
    than it must, never less. libpq and others also take a password as a query parameter
    (?password=…).
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    if "@" in rest and not rest.startswith("/"):  # sqlite:///PATH has no authority
        rest = "***@" + rest.rpartition("@")[2]
    rest, qsep, query = rest.partition("?")
    return f"{scheme}://{rest}{qsep}{'&'.join(map(_masked, query.split('&'))) if query else ''}"


def _masked(param: str) -> str:
    name, eq, _value = param.partition("=")
    secret = any(word in unquote_plus(name).lower() for word in SECRET_PARAM_WORDS)
    return f"{name}=***" if eq and secret else param


@click.command()
@click.option("--repo", default=None, help="Only this repository (owner/name).")
@click.option("--issue", "issue", default=None, help="One issue's story: owner/repo#N.")
@click.option(
    "--limit",
    type=click.IntRange(min=1, max=1_000_000),
    default=50,
    show_default=True,
    help="Print the newest this many rows (oldest first).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def audit(repo: str | None, issue: str | None, limit: int, as_json: bool) -> None:
    """Print the audit log: what the bot did or decided not to do, and why."""
    number = None
    if issue:
        if "#" not in issue:
            raise click.BadParameter("expected owner/repo#N", param_hint="--issue")
        repo, num = issue.rsplit("#", 1)
        # as the dashboard's filter: "²" and 20 digits ended in a traceback each
        number = whole_number(num)
        if number is None:
            raise click.BadParameter(
                f"expected owner/repo#N, N a number: {issue!r}", param_hint="--issue"
            )
    from bot.cli.triage import known_as

    store = open_stored(get_settings().effective_database_url)
    if repo is not None:
        repo = known_as(store, repo)
    rows = store.audit_rows(repo=repo, number=number, limit=limit)
    if not rows:
        click.echo("audit log is empty" + (f" for {issue or repo}" if (issue or repo) else ""))
    for r in rows:
        detail = _audit_detail(r.get("detail"))
        if as_json:  # the detail as the object it is, not a JSON string inside the JSON
            click.echo(json.dumps({**r, "detail": r.get("detail") if detail is None else detail}))
            continue
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r["at"]))
        where = f"{r['repo']}#{r['number']}" if r["number"] else (r["repo"] or "-")
        task, reason = _flat(r.get("task") or "-"), _flat(r["reason"] or "")
        model = _model_summary((detail or {}).get("model"))
        click.echo(
            f"{when}  {where:<28} {task:<12} {r['action']:<16} {r['outcome']:<8} {reason}{model}"
        )


def _audit_detail(value: Any) -> dict[str, Any] | None:
    """An audit row's detail as an object; None when it is not a JSON object."""
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _flat(text: str) -> str:
    """Every run of whitespace (a YAML error's line breaks and indents) one space."""
    return " ".join(str(text).split())


MODEL_SUMMARY_CHARS = 60  # the model part of an audit line: the rest is in --json


def _model_summary(model: Any) -> str:
    """`  [backend/model conf 0.90]` for the row's model record; empty when it has none."""
    if not isinstance(model, dict):
        return ""
    who = "/".join(_flat(str(model[k])) for k in ("backend", "model") if model.get(k))
    conf = model.get("confidence")
    if isinstance(conf, int | float) and not isinstance(conf, bool):
        who = f"{who} conf {conf:.2f}".strip()
    if not who:
        return ""
    if len(who) > MODEL_SUMMARY_CHARS:
        who = who[: MODEL_SUMMARY_CHARS - 1] + "…"
    return f"  [{who}]"


@click.command()
@click.option(
    "--held",
    is_flag=True,
    help="Also run the deliveries held for installations GitHub said were suspended (for one"
    " unsuspended whose event never came; one still suspended is held again).",
)
def retry(held: bool) -> None:
    """Replay deliveries and jobs parked in the dead-letter table."""
    from bot.ports import QueueUnavailable
    from workers.celery_app import configure
    from workers.tasks import replay_dead_letter

    settings = get_settings()
    configure(settings)
    store = open_stored(settings.effective_database_url)
    if held:
        _release_held(store)
    dead = store.dead_letters()
    replayed, unknown = 0, 0
    for d in dead:
        try:
            ok = replay_dead_letter(store, d)
        except QueueUnavailable as err:
            raise click.ClickException(
                f"the broker did not take the replay ({err}); replayed {replayed} dead letter(s),"
                f" {len(dead) - replayed - unknown} still parked: start the broker"
                " (`smolbot doctor` checks it), then run `smolbot retry` again"
            ) from err
        if ok:
            store.mark_replayed(d["id"])
            replayed += 1
        else:
            unknown += 1
            click.echo(
                f"dead letter {d['id']} ({d['task']}) names nothing to replay; kept", err=True
            )
    click.echo(f"replayed {replayed} dead letter(s)")


def _release_held(store: Store) -> None:
    """`smolbot retry --held`: the held deliveries made `received` and published; a broker that
    does not take them leaves them to the recovery sweep (nothing is lost). A run GitHub still
    refuses as suspended holds its delivery again."""
    from bot.ports import QueueUnavailable
    from workers.tasks import enqueue_deliveries

    for h in store.held_deliveries():
        inst = int(h["installation_id"])
        ids = store.release_held(inst, "released by `smolbot retry --held`: run again")
        if not ids:
            continue
        store.audit(
            "deliver",
            "queued",
            f"{len(ids)} deliveries held while the installation was suspended run again"
            " (`smolbot retry --held`)",
            task="installation",
            detail={"installation": inst, "deliveries": ids},
        )
        try:
            enqueue_deliveries(ids)
        except QueueUnavailable as err:
            click.echo(
                f"installation {inst}: {len(ids)} held deliveries released, but the broker did"
                f" not take them ({err}): a worker's recovery sweep queues them once the broker"
                " is up (`smolbot doctor` checks it)",
                err=True,
            )
            continue
        store.mark_queued(ids)
        click.echo(f"installation {inst}: {len(ids)} held deliveries queued again")


commands: list[click.Command] = [serve, web, worker, beat, audit, retry]
