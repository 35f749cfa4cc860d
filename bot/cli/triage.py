"""`smolbot triage` (decisions as JSON, no GitHub writes) and `smolbot backfill` (teach the classifier)."""

from __future__ import annotations

import codecs
import difflib
import json
import re
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import click

from bot.core.actions import AddLabels, Comment
from bot.core.config import (
    CONFIG_PATH,
    UTF16_BOMS,
    UTF16_HINT,
    ConfigError,
    RepoConfig,
    default_config,
    parse_config,
)
from bot.core.config import utf8_text as utf8_text  # bot.cli.lifecycle's too
from bot.core.duplicates import Candidate
from bot.core.triage import IssueSnapshot, quarantine, threshold_for, visible
from bot.jobs.context import JobContext
from bot.settings import Settings, get_settings
from bot.store import Store
from bot.webhook import intake

if TYPE_CHECKING:
    from bot.github import GitHubApp

DEFAULT_LABELS = "bug,enhancement,question,documentation"
Row = tuple[int, dict[str, Any] | str]
REPO_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$")
NO_TEXT = "an issue needs a title or a body"


def repo_name(ctx: click.Context | None, param: click.Parameter | None, value: str) -> str:
    """owner/name, as GitHub spells repositories; a learned scope is found by that name."""
    if not REPO_NAME.match(value):
        raise click.BadParameter(f"{value!r} is not owner/name (for example octo-org/sample-app)")
    return value


def known_as(store: Store, repo: str) -> str:
    """`repo` as the store spells it when it knows it in another case (GitHub matches names case
    aside; the store does not), with a note on stderr; else `repo`."""
    known = store.repo_spelling(repo)
    if known != repo:
        click.echo(f"smolbot: the store knows {repo} as {known}; using that", err=True)
    return known


def _context(settings: Settings, with_models: bool = True) -> JobContext:
    from bot.cli import open_service_store
    from bot.llm import get_model_layer

    store = open_service_store(settings.effective_database_url)  # one line if it cannot open
    return JobContext(
        settings, store, None, get_model_layer(settings, store) if with_models else None
    )


def title_text(
    ctx: click.Context | None, param: click.Parameter | None, value: str | None
) -> str | None:
    """--title as text: bytes that are not UTF-8 (a terminal in Latin-1; Python keeps them as
    lone surrogates) are refused as a stdin line's are, not met by the output's encoder."""
    if value is None:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        try:
            raw = value.encode("utf-8", "surrogateescape")  # the bytes as given
        except UnicodeEncodeError:
            raise click.BadParameter(intake.not_text(value) or "not text") from None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise click.BadParameter(
                f"not UTF-8 (byte 0x{raw[err.start]:02x} at position {err.start}); give it as"
                " UTF-8 (a UTF-8 locale), or the issue as a JSON line on stdin"
            ) from None
    return value


def _one_issue(stdin: BinaryIO, title: str | None, body_file: Path | None) -> dict[str, Any]:
    """The issue --title and --body-file give (`-`: the body on stdin), refused as a stdin line
    is when it has neither a title nor a body."""
    try:
        if body_file is None:
            body = ""
        elif str(body_file) == "-":
            body = utf8_text(stdin.read(), "stdin")
        else:
            body = utf8_text(body_file.read_bytes(), str(body_file))
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--body-file") from None
    if not (title or "").strip() and not body.strip():
        given = "--title is empty" if title is not None else "no --title"
        raise click.UsageError(
            f"{NO_TEXT} ({given}, {'--body-file is empty' if body_file else 'no --body-file'})"
        )
    return {"title": title or "", "body": body}


def _issues(stdin: BinaryIO, one: dict[str, Any] | None) -> Iterator[Row]:
    """(line number, the issue or why it cannot be read), one per non-blank input line (or
    `one`, the issue --title and --body-file give)."""
    if one is not None:
        yield 1, one
        return
    for n, line in enumerate(_text_lines(stdin), 1):
        if isinstance(line, ValueError):
            yield n, str(line)
        elif line.strip():
            yield n, _issue(line)


def _text_lines(stdin: BinaryIO) -> Iterator[str | ValueError]:
    """stdin's lines as text, or why one cannot be read. UTF-8 (a byte-order mark allowed, at
    the start of any line: files joined with cat) is decoded line by line, so a line that is not
    costs only itself; UTF-16 with its byte-order mark (PowerShell 5's `>`) as it streams, until
    a byte that is not UTF-16: the rest is that one error."""
    raws = iter(stdin)
    first = next(raws, None)
    if first is None:
        return
    if not first.startswith(UTF16_BOMS):
        for raw in chain([first], raws):
            try:
                yield utf8_text(raw, "the line")
            except ValueError as err:
                yield err
        return
    decoder, pending = codecs.getincrementaldecoder("utf-16")(), ""
    try:
        for raw in chain([first], raws):  # split at byte 0x0a, which is half a UTF-16 newline
            *lines, pending = (pending + decoder.decode(raw)).split("\n")
            yield from lines
        pending += decoder.decode(b"", final=True)
    except UnicodeDecodeError as err:
        yield ValueError(f"the input is not UTF-16 from here on ({err.reason}); {UTF16_HINT}")
        return
    if pending:
        yield pending


def _issue(line: str) -> dict[str, Any] | str:
    """One JSON line as an issue (keys in any case, as backfill reads them), or what is wrong."""
    try:
        row = intake.json_line(line)
    except intake.BadPayload as err:
        return f"expected a JSON object with title and body, not {err}"
    except json.JSONDecodeError as err:
        return _not_json(err)
    if isinstance(row, list):  # gh's --json output, one array: one decision per line is kept
        return (
            "expected a JSON object with title and body, not a JSON array: one issue a line,"
            " e.g. gh issue list --json number,title,body --jq '.[]'"
        )
    if not isinstance(row, dict):
        return "expected a JSON object with title and body, not " + type(row).__name__
    broken = intake.not_text(row)
    if broken:
        return broken
    row = {str(k).strip().lower(): v for k, v in row.items()}
    for key in ("title", "body", "author"):
        if row.get(key) is not None and not isinstance(row[key], str):
            return f"{key} must be a string"
    if not (row.get("title") or "").strip() and not (row.get("body") or "").strip():
        keys = ", ".join(sorted(row)) or "none"
        return f"{NO_TEXT} (keys found: {keys})"
    number = row.get("number")
    if number is not None and (isinstance(number, bool) or not isinstance(number, int)):
        return "number must be an integer"
    if number is not None and number < 1:
        return f"number must be an issue number (GitHub's start at 1), not {number}; fix or drop it"
    return row


def _not_json(err: json.JSONDecodeError) -> str:
    """What a line that is not JSON gets: the parser's words and where it stopped (`not json`, or
    an object with text after it). A number past Python's 4,300 digits is JSON the parser cannot
    read (intake.json_line): no position of the parser's is said for it."""
    if err.msg.startswith("Exceeds the limit"):
        return "expected a JSON object with title and body"
    return (
        f"not valid JSON ({err.msg} at column {err.colno}); expected one JSON object a line,"
        ' {"title": ..., "body": ...}'
    )


def decision(
    ctx: JobContext,
    repo: str,
    row: dict[str, Any],
    cfg: RepoConfig,
    labels: list[str],
    line: int = 1,
) -> dict[str, Any]:
    """What triage would do with one issue, as a JSON-able dict: with the labels the webhook
    would apply (needs-info and needs-triage as `labels` spell them), the input `line` it
    answers and the row's `number` (null when it has none), so a decision is matched to its
    input. `duplicates` are those the webhook's comment would name (at or over the threshold);
    `near`, the other similar issues found, below it."""
    from bot.jobs.triage import plan_triage, with_repo_spelling
    from bot.llm.zeroshot import not_learning

    cfg = with_repo_spelling(cfg, labels)
    number = int(row.get("number") or 0)
    title, body = str(row.get("title") or ""), str(row.get("body") or "")
    author = str(row.get("author") or "")
    issue = IssueSnapshot(repo, number, quarantine(title), quarantine(body), author)
    shown = IssueSnapshot(repo, number, visible(title), visible(body), author)
    with not_learning():  # the input may be a held-out set: nothing is taught from it
        plan = plan_triage(ctx, None, issue, cfg, labels, report=shown)  # as the webhook's
    verdict, record = plan.classified.verdict, plan.classified.record
    near = [c for c in plan.candidates if c not in plan.likely]
    return {
        "line": line,
        "number": row.get("number"),
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
        # not written in English: these could not be judged, so they are not asked for
        "not_judged": [n.label for n in plan.unread],
        # what the webhook's comment would name, and the others found, under the threshold
        "duplicates": [_candidate(c) for c in plan.likely],
        "near": [_candidate(c) for c in sorted(near, key=lambda c: -c.score)],
        "duplicate_threshold": cfg.triage.duplicate_threshold,
        "would_comment": [a.marker for a in plan.info + plan.duplicates if isinstance(a, Comment)],
    }


def _candidate(c: Candidate) -> dict[str, Any]:
    return {"number": c.number, "title": c.title, "state": c.state, "score": round(c.score, 3)}


def cold_start_hint(ctx: JobContext, repo: str, bar: float) -> str | None:
    """Why the decisions are about to be (mostly) needs-triage, when the classifier is not
    trained: nothing learned yet, or too little. `bar`: the threshold a label must clear."""
    from bot.core.triage import KIND_VALUES
    from bot.llm import ModelLayer
    from bot.llm.zeroshot import local_reach

    layer = ctx.models
    if not isinstance(layer, ModelLayer) or layer.classifier().ready:
        return None
    teach = f"`smolbot backfill {repo} --from FILE` teaches the classifier from labeled issues"
    state = untrainable_note(layer.records.examples()) or "no labeled issues learned yet"
    if not layer.local_available():
        return (
            f"{state}, and no local model at {layer.settings.effective_model_path}"
            " (`smolbot models install`): without a large model every issue gets needs-triage;"
            f" {teach}"
        )
    if layer.large is not None:
        return (
            f"{state}: kinds come from the local model's zero-shot guess, which is trusted"
            f" little, and the large model where it is unsure; {teach}"
        )
    reach = local_reach(layer, KIND_VALUES)
    if reach < bar:
        return (
            f"{state}, and no large model: every issue gets needs-triage (the local model's"
            f" zero-shot label, trusted at most {reach:.2f}, cannot clear the threshold"
            f" {bar:.2f}, so it is not asked); {teach}"
        )
    return (
        f"{state}: kinds come from the local model's zero-shot label where it clears the"
        f" threshold {bar:.2f} (it is trusted at most {reach:.2f}); the rest get needs-triage;"
        f" {teach}"
    )


def borrowed_hint(ctx: JobContext, repo: str) -> str | None:
    """Why the decisions are about to come from other repositories' examples: `repo` has no
    labeled issues of its own (a new repository, or a mistyped --repo) while the classifier,
    trained on theirs, answers. The closest known name is offered when it is near (a typo)."""
    from bot.llm import ModelLayer

    layer = ctx.models
    if not isinstance(layer, ModelLayer) or not layer.classifier().ready:
        return None
    counts = {scope: sum(n.values()) for scope, n in layer.records.example_counts().items()}
    if counts.get(repo):
        return None
    others = sorted(counts, key=lambda scope: (-counts[scope], scope))
    named = ", ".join(f"{scope} ({counts[scope]})" for scope in others[:3])
    if len(others) > 3:
        named += f" and {len(others) - 3} more"
    near = difflib.get_close_matches(repo, others, n=1, cutoff=0.88)
    typo = f" (did you mean {near[0]}?)" if near else ""
    return (
        f"{repo} has no labeled issues of its own{typo}: its kinds come from other repositories'"
        f" examples, {named}; `smolbot backfill {repo} --from FILE`, or the App installed on it"
        f" and `smolbot backfill {repo}`, teaches it its own"
    )


def untrainable_note(examples: list[Any]) -> str | None:
    """Why the examples learned so far train no classifier yet, or None (none, or enough)."""
    from bot.llm.classifier import MIN_GENERAL_EXAMPLES

    kinds = sorted({e.label for e in examples})
    if not examples or (len(examples) >= MIN_GENERAL_EXAMPLES and len(kinds) >= 2):
        return None
    return (
        f"{len(examples)} labeled issue(s) learned, of {len(kinds)} kind(s) ({', '.join(kinds)}):"
        f" the classifier trains once it has {MIN_GENERAL_EXAMPLES} of at least two kinds"
    )


def _config(path: Path | None) -> RepoConfig:
    """The --config file's settings, or a one-line usage error naming the file (the parser's
    messages name the repository's file, which a --config file need not be)."""
    if path is None:
        return default_config()
    try:
        return parse_config(utf8_text(path.read_bytes(), str(path)))
    except ConfigError as err:
        said = str(err)
        raise click.UsageError(
            str(path) + said.removeprefix(CONFIG_PATH) if said.startswith(CONFIG_PATH) else said
        ) from None
    except ValueError as err:  # not UTF-8 (utf8_text says what to run)
        raise click.UsageError(str(err)) from None


def _label_names(labels: str | None, cfg: RepoConfig) -> list[str]:
    """The repository's labels: as --labels gives them, else the usual ones and those the
    config's label_map names (a mapped label the repository lacks gets needs-triage, as on
    GitHub: without --labels, the file's map is taken to name labels the repository has)."""
    given = labels if labels is not None else DEFAULT_LABELS
    names = [s.strip() for s in given.split(",") if s.strip()]
    if labels is None:
        names += [lb for lb in cfg.triage.label_map.values() if lb not in names]
    return names


@click.command()
@click.option(
    "--repo",
    required=True,
    callback=repo_name,
    help="owner/name: whose learned classifier and issues to use.",
)
@click.option(
    "--title",
    default=None,
    callback=title_text,
    help="One issue's title (else JSON lines on stdin).",
)
@click.option(
    "--body-file",
    type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path),
    default=None,
    help="That issue's body (-: read it from stdin).",
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
    default=None,
    help=f"The repository's labels, comma-separated [default: {DEFAULT_LABELS}, and the"
    " labels the --config's label_map names].",
)
def triage(
    repo: str,
    title: str | None,
    body_file: Path | None,
    config_file: Path | None,
    labels: str | None,
) -> None:
    """Triage issues without GitHub: one JSON decision per line. Nothing is written to GitHub
    and nothing is learned (a label the large model gives is not taught to the classifier, so a
    held-out set can be piped through); the store keeps what any model call leaves: its record,
    its cached answer, the large model's daily budget spent.

    Each decision names the input line it answers ("line") and the issue's "number" (null when
    the line has none); a blank line is skipped. A line that is not an issue gets {"line": N,
    "error": ...} in its place; the others are still triaged, and the exit status is 1. A title
    or body longer than GitHub takes (256 and 65,536 characters) is cut to that, said on
    stderr."""
    from bot.jobs.backfill import cut_note, github_sized

    single = title is not None or body_file is not None
    one = _one_issue(sys.stdin.buffer, title, body_file) if single else None
    cfg = _config(config_file)  # a usage error before the store is opened, as _one_issue's
    if one is None and _on_terminal(sys.stdin):  # said at once: it waits, silent, for input
        click.echo(
            'smolbot triage: reading issues from stdin, one JSON object a line ({"title": ...,'
            ' "body": ...}); end with Ctrl-D (or give --title)',
            err=True,
        )
    ctx = _context(get_settings())
    repo = known_as(ctx.store, repo)
    names = _label_names(labels, cfg)
    bar = threshold_for(cfg, ctx.settings.threshold("triage"))
    hint = cold_start_hint(ctx, repo, bar) or borrowed_hint(ctx, repo)
    if hint:
        click.echo(f"smolbot triage: {hint}", err=True)
    if cfg.triage.duplicates and not ctx.store.issues(repo):
        click.echo(
            f"smolbot triage: no issues of {repo} are stored, so no duplicates can be found;"
            f" they are stored from the App's webhooks and `smolbot backfill {repo}` through the"
            " API (a --from file teaches kinds only: its rows, --github-numbers ones too, are"
            " not stored as issues)",
            err=True,
        )
    unread = read = 0
    said_cut = False
    for n, row in _issues(sys.stdin.buffer, one):
        read += 1
        if isinstance(row, str):  # one line per input line, so outputs stay in step with inputs
            unread += 1
            click.echo(json.dumps({"line": n, "error": row}))
            continue
        cut = github_sized(row)  # as GitHub would keep it; the filters took minutes over 22 MB
        if cut and not said_cut:
            said_cut = True
            where, later = ("the issue", "") if one else (f"line {n}", "any later line's is")
            click.echo(f"smolbot triage: {cut_note(where, cut, later)}", err=True)
        answer = decision(ctx, repo, row, cfg, names, line=n)
        click.echo(json.dumps(answer, ensure_ascii=False))
    if not read:
        click.echo(
            'smolbot triage: no issues on stdin; pipe JSON lines ({"title": ..., "body": ...})'
            " or give --title and --body-file",
            err=True,
        )
    if unread:
        raise click.ClickException(
            f"{unread} input line(s) could not be read; their output lines say why"
        )


def _on_terminal(stream: Any) -> bool:
    """Whether `stream` is a terminal (a person who may not know it waits for input)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed, or no stream at all
        return False


def _installation(ctx: JobContext, app: GitHubApp, repo: str) -> tuple[int, str]:
    """The installation to backfill `repo` as, and the repository's name as GitHub spells it.
    A repository the store does not know, or knows under an installation that no longer has it
    (removed, or the repository taken off it), is asked about as the App: the webhook that told
    of it may never have reached the bot (GitHub does not redeliver one by itself); found, it is
    recorded."""
    from bot.ports import AppCredentialsError, GitHubError

    stored = ctx.store.installation_for_repo(repo)
    if stored is not None and _still_has(app, stored, repo):
        return stored, repo
    if stored is None:
        fail: type[click.ClickException] = click.UsageError
        why = f"{repo} is not a known installation repository; use --from FILE or install the App"
    else:
        fail = click.ClickException
        why = (
            f"{repo}: the App has no access to it any more; install the App on it, or use"
            " --from FILE"
        )
    try:
        found = app.repo_installation(repo)
    except (AppCredentialsError, GitHubError) as err:
        raise fail(f"{why} (GitHub could not be asked: {err})") from None
    if found is None:
        raise fail(why)
    inst, listed = int(found["id"]), found["repository"]
    name = str(listed["full_name"])
    if stored is not None and name.lower() == repo.lower():
        name = repo  # as the store spells it: its rows are under that name
    ctx.store.upsert_installation(inst, found["account"], found["account_type"])
    ctx.store.add_repositories(inst, [{**listed, "full_name": name}])
    was = (
        f"(installation {inst}), which the store did not know (its installation webhook never"
        " arrived)"
        if stored is None
        else f"as installation {inst}, not {stored} as the store had it (no webhook told it)"
    )
    click.echo(f"smolbot: the App is installed on {name} {was}; recorded it", err=True)
    return inst, name


def _still_has(app: GitHubApp, inst: int, repo: str) -> bool:
    """Whether installation `inst` can still read `repo` (GET /repos/{repo} as it): False on
    GitHub's 404, the installation removed or the repository taken off it. Another error is
    left to the backfill, which waits out or says what it meets."""
    from bot.ports import GitHubError, NotFound

    try:
        app.repository_as(inst, repo)
    except NotFound:
        return False
    except GitHubError:
        pass
    return True


@click.command()
@click.argument("repo", callback=repo_name)
@click.option(
    "--from",
    "from_file",
    type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path),
    default=None,
    help="Labeled issues instead of the API: CSV, JSON lines, or the JSON array gh issue list"
    " --json number,title,body,labels writes; with title, body, label (or labels); -: stdin.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="With --from: a .github/smolbot.yml whose label map reads the labels"
    " (default: the repository's last good one, if the store has it).",
)
@click.option(
    "--github-numbers",
    is_flag=True,
    help="With --from: the file's `number`s are REPO's own issue numbers (an export of REPO, e.g."
    " gh issue list --json number,title,body,labels): each row is that issue's example, which"
    " its later edits and labels on GitHub replace. Without it, rows are learned by title and"
    " body (another tracker's numbers are not REPO's issues).",
)
def backfill(
    repo: str, from_file: Path | None, config_file: Path | None, github_numbers: bool
) -> None:
    """Teach REPO's classifier from its closed, labeled issues (API) or from a file."""
    from bot.jobs.backfill import (
        ISSUES_OFF,
        BackfillBusy,
        backfill_from_file,
        backfill_repo,
        cursor,
    )
    from bot.ports import RateLimited, Unavailable

    if config_file is not None and from_file is None:
        raise click.UsageError("--config goes with --from (the API path reads the repository's)")
    if github_numbers and from_file is None:
        raise click.UsageError("--github-numbers goes with --from (the API's numbers are GitHub's)")
    cfg = _config(config_file) if config_file is not None else None  # before the store opens
    settings = get_settings()
    ctx = _context(settings)
    repo = known_as(ctx.store, repo)
    # on stderr, as it goes: issues read, no total (the listing does not say how many there are:
    # an iterable of unknown length makes click count without one); stdout keeps the results only
    unknown_length = (n for n in range(0))
    counter = click.progressbar(
        unknown_length, label=f"backfill {repo}", show_pos=True, file=sys.stderr
    )
    with counter as bar:
        if from_file is not None:
            try:
                result = backfill_from_file(
                    ctx,
                    repo,
                    from_file,
                    progress=bar.update,
                    cfg=cfg,
                    note=_note,
                    github_numbers=github_numbers,
                )
            # columns or a line it cannot read; rows learned before it are not learned twice
            except ValueError as err:
                raise click.ClickException(str(err)) from None
        else:
            from bot.github import GitHubApp

            app = GitHubApp(settings)
            inst, repo = _installation(ctx, app, repo)
            host = app.repo(inst, repo)
            try:
                result = backfill_repo(ctx, host, repo, progress=bar.update, waiting=_waiting)
            except BackfillBusy as err:
                raise click.ClickException(str(err)) from None
            except (RateLimited, Unavailable) as err:  # what was stored stays
                stopped = cursor(ctx.store, repo) or {"page": 1}
                raise click.ClickException(  # err says when to retry
                    f"{err}. Running the same command again resumes at page"
                    f" {stopped['page']} of the issue listing"
                ) from None
            if result.issues_off:  # GitHub's 410 to the listing; audited
                raise click.ClickException(
                    f"{repo}: {ISSUES_OFF} (GitHub answered its issue listing 410), so there is"
                    " nothing to backfill; run this again once they are switched on, or use"
                    " --from FILE"
                )
    if ctx.models is not None:
        ctx.models.classifier(force=True)
    click.echo(
        f"{repo}: {result.seen} read, {result.stored} stored,"
        f" {result.learned} learned{result.known_note},"
        f" {result.skipped} skipped"
        + (f" (resumed at page {result.first_page})" if result.first_page > 1 else "")
        + (f"; {result.gone} no longer on GitHub (deleted or transferred)" if result.gone else "")
        + result.none_stored_note
    )
    for line in result.explain():
        click.echo(line)
    if ctx.models is not None:
        examples = ctx.models.records.examples()  # type: ignore[attr-defined]
        note = untrainable_note(examples)
        if note:
            click.echo(note)
        _suggest_tune(settings, examples, ctx.models.records.learned_since)  # type: ignore[attr-defined]


def _note(text: str) -> None:
    """A note of the backfill's on stderr, as it goes (on a terminal, below the progress line)."""
    below = "\n" if sys.stderr.isatty() else ""
    click.echo(f"{below}smolbot backfill: {text}", err=True)


def _waiting(seconds: float, why: str) -> None:
    """A wait the backfill is about to sit out (a rate limit, GitHub down), said on stderr: the
    progress stands still meanwhile, up to 15 minutes (on a terminal, below its line)."""
    until = datetime.now(UTC) + timedelta(seconds=seconds)
    below = "\n" if sys.stderr.isatty() else ""
    click.echo(f"{below}{why}: waiting {seconds:.0f} s (until {until:%H:%M} UTC)", err=True)


def _suggest_tune(
    settings: Settings, examples: list[Any], learned_since: Callable[[float], int]
) -> None:
    """A worker tunes on its own (the daily check); a CLI user is told the command."""
    from bot.llm import tune

    ok, why = tune.decide(examples, settings.data_dir, learned_since=learned_since)
    if ok:
        click.echo(f"the triage encoder can now be tuned ({why}): `smolbot models tune`")


commands: list[click.Command] = [triage, backfill]
