"""Drafting one message: staged diff -> style, hints, examples -> model -> validated, repaired message."""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.commits import diffs
from bot.commits.drafts import DraftResult
from bot.commits.git import PATCH_CAP, Repo
from bot.commits.message import (
    CONTROLS_OUT,
    TRIMMED,
    CommitDraft,
    compose,
    uncommented,
    without_controls,
)
from bot.commits.model import (
    FILE_PROMPT,
    MESSAGE_PROMPT,
    FileSummary,
    T,
    Writer,
    prompt_tokens,
)
from bot.commits.references import DROPPED, Cleaner, branch_issues
from bot.commits.retrieval import SUPPORT_VARIABLE, similar, support_json, type_shares, type_vote
from bot.commits.secrets import find_secrets, secret_values, secrets_in
from bot.commits.style import TRAILING_REF, Style, infer_scope, infer_type, learn, path_type

if TYPE_CHECKING:
    from bot.llm.api import Answer

log = logging.getLogger(__name__)
DECISIVE_TYPES = {"docs", "test", "ci"}  # when the paths say so, the model does not get a vote
BODY_FILES = 12  # files a rule-made body names; a last line counts the rest
# A draft asked for again because the first repeated an earlier commit's subject counts as a retry
# (bot.llm.confidence: VALIDITY_RETRIED); what the model is told then:
COPY_RETRIED = 0.7
RETRY_HINT = (
    " Your first answer repeated the subject of an earlier commit word for word. Write a new"
    " subject that says what this staged diff changes."
)

# A model's draft repaired here, its subject cut at MAX_SUBJECT or a body line dropped, counts as
# repaired (bot.llm.confidence: VALIDITY_REPAIRED).
REPAIRED = 0.85
# The prompt's own notes about what it could not paste (diffs.summary_line, the model's one-line
# file summaries, diffs.more_line, the file list, its headings). A small model copies them:
# `feat: add big.py (+90000 -0 lines; summarized by the model): One file's`. Such a subject is not
# used, nor a body line with one.
SCAFFOLDING = re.compile(
    r"\(\s*\+\d+ -\d+\b|\+\d+ -\d+ lines|summari[sz]ed by the model|too large to (show|paste)"
    r"|not pasted in full|\((binary|lock|generated) file\b|\(binary\)"
    r"|\[\.\.\. ?\d+ more lines|\.\.\. and \d+ more files?\b|suggested (type|scope):|staged diff:",
    re.IGNORECASE,
)


class Outdated(Exception):
    """The draft is no longer wanted (what is staged moved on): raised before a model call, and
    let through, so no model time goes to it and no draft is saved."""


class _Watched:
    """The writer, asked only while `wanted()` says the draft still is (checked before each
    model call: the file summaries, the message, a retry; and about once a second while the
    local model generates)."""

    def __init__(self, writer: Writer, wanted: Callable[[], bool]) -> None:
        self.writer, self.wanted = writer, wanted

    def ask(
        self, prompt: str, variables: dict[str, str], schema: type[T], *, allow_large: bool
    ) -> Answer[T]:
        from bot.llm.api import Stopped, stop_when

        if not self.wanted():
            raise Outdated(f"not asking the model for {prompt}: the staged changes moved on")
        try:  # and asked again while the model writes: a message call takes 20-30 s on 2 cores
            with stop_when(lambda: not self.wanted()):
                return self.writer.ask(prompt, variables, schema, allow_large=allow_large)
        except Stopped as err:
            raise Outdated(f"gave up {prompt}: the staged changes moved on ({err})") from None


@dataclass(frozen=True)
class DraftOptions:
    budget_chars: int = 6000  # characters of file list and diff shown to the local model
    context_tokens: int = 4096  # settings.model_context: a prompt that cannot fit is not sent
    history: int = 300  # commits read from `git log` to learn style, scopes and examples
    allow_large: bool = False  # settings.large_for_commits
    body_over_lines: int = 30  # changes larger than this get a body
    file_summaries: int = 3  # files too large to paste that the model summarizes first (map step)
    comment: str = "#"  # core.commentChar / commentString: git drops a line that starts with it
    branch: str = ""  # the branch HEAD is on: a closing keyword may name only an issue it names


class _Scan:
    """The staged diff's likely secrets, looked for once per draft however many model calls it
    makes (a pass over a large diff costs about 0.14 s a megabyte here)."""

    def __init__(self, changes: list[diffs.FileChange]) -> None:
        self.changes = changes

    @functools.cached_property
    def note(self) -> str | None:
        """Why the diff stays local, or None: every line sent counts (context and removed lines
        too)."""
        patch = "".join(c.patch for c in self.changes)
        kinds = find_secrets(patch)
        if not kinds:
            return None
        where = (
            "" if find_secrets(patch, added_only=True) else "; on lines this change does not add"
        )
        return (
            f"possible secret in the diff ({', '.join(kinds)}{where}): not sent to the large model"
        )

    @functools.cached_property
    def by_file(self) -> list[dict[str, str]]:
        """Each change's likely secret values (secret_values), in order, file by file: no second
        copy of a large diff (a path can come twice: a type change is a delete and an add)."""
        return [secret_values(c.patch) for c in self.changes]

    def of(self, change: diffs.FileChange) -> dict[str, str]:
        """The likely secret values of one of the changes (the map step shows it its own diff)."""
        return next(v for c, v in zip(self.changes, self.by_file, strict=True) if c is change)

    def shown(self, variables: dict[str, str]) -> dict[str, str]:
        """The likely secrets a model call may have seen: the message prompt's, and the whole
        staged diff's. The map step is shown a file's raw diff (diffs.clip), the message step
        only the summary, which can repeat a password without the `password = ` that made it
        one."""
        shown = secret_values("\n".join(variables.values()))
        for values in self.by_file:
            shown.update(values)
        return shown


def draft_tree(
    repo: Repo,
    tree: str,
    writer: Writer | None,
    opts: DraftOptions,
    wanted: Callable[[], bool] | None = None,
    branch: str | None = None,
) -> DraftResult | None:
    """Draft a message for `tree` against HEAD; None when nothing is staged. With `wanted`, a
    draft it says is no longer wanted raises Outdated before its next model call. `branch`: the
    one the draft is for (its name gives the issues it may close; "" detached), by default the
    one HEAD is on now."""
    if writer is not None and wanted is not None:
        writer = _Watched(writer, wanted)
    base = repo.head_tree()
    if tree == base:
        return None
    changes, note = staged_changes(repo, base, tree)
    if not changes:
        return None
    branch = repo.branch() if branch is None else branch
    opts = dataclasses.replace(opts, comment=repo.comment_string(), branch=branch)
    result = draft_changes(tree, changes, repo.history(opts.history), writer, opts)
    result.notes += [note] if note else []
    return result


# Past PATCH_CAP of staged diff, what is read: the smallest code files' diffs, up to this many
# changed lines and bytes in all (the model is shown a few thousand characters).
SAMPLE_LINES = 20_000
SAMPLE_BYTES = 2**20
SAMPLE_FILES = 500  # paths on one git command line


def staged_changes(repo: Repo, base: str, tree: str) -> tuple[list[diffs.FileChange], str | None]:
    """The changed files with their diffs, and a note when not all were read: past PATCH_CAP in
    all, every file is listed from its line counts (Repo.stat) and only the smallest code files'
    diffs are read, so a huge staged tree (a data import) costs what a small one does."""
    text, whole = repo.patch(base, tree)
    if whole:
        return diffs.changes_from_patch(text), None
    del text  # the next read holds SAMPLE_BYTES at most
    stats = repo.stat(base, tree)
    changes = [
        diffs.FileChange(st.path, st.status, st.added, st.deleted,
                         kind=diffs.classify(st.path, st.added is None))
        for st in stats
    ]  # fmt: skip
    picked: list[str] = []
    lines = 0
    for st, c in sorted(zip(stats, changes, strict=True), key=lambda p: diffs.size([p[1]])):
        if c.kind != "code":
            continue
        if picked and lines + diffs.size([c]) > SAMPLE_LINES:
            break  # smallest first: none after fits either
        picked += [st.old_path, st.path] if st.old_path != st.path else [st.path]
        lines += diffs.size([c])
        if len(picked) >= SAMPLE_FILES:
            break
    read: dict[str, str] = {}
    if picked:
        sample, _ = repo.patch(base, tree, picked, limit=SAMPLE_BYTES)
        read = {c.path: c.patch for c in diffs.changes_from_patch(sample)}
    for c in changes:  # the counts stay git's: a diff cut at SAMPLE_BYTES has fewer lines
        c.patch = read.get(c.path, "")
    mb = PATCH_CAP // 2**20
    return changes, (
        f"staged diff over {mb} MB: {len(changes)} files listed from their line counts, "
        f"the diffs of {len(read)} of them read"
    )


def draft_changes(
    tree: str,
    changes: list[diffs.FileChange],
    history: list[tuple[str, list[str]]],
    writer: Writer | None,
    opts: DraftOptions,
) -> DraftResult:
    started = time.monotonic()
    style = learn(history)
    files = [c.path for c in changes]
    statuses = {c.path: c.status for c in changes}
    ctype = infer_type(
        files, statuses, style, diffs.adds_symbols(changes), type_vote(files, history)
    )
    scope = infer_scope(files, style)
    listing = diffs.stat_block(changes, opts.budget_chars // 4)  # many files: one line for the rest
    diffs.fit(changes, opts.budget_chars - len(listing))
    result = DraftResult(tree, "")
    large = diffs.size(changes) > opts.body_over_lines or len(changes) > 3
    examples = similar(files, history)
    variables = _variables(changes, listing, style, examples, ctype, scope, large)
    forced = path_type(files, statuses)
    if style.conventional:  # evidence for the draft's confidence (the type is part of the message)
        decisive = forced if forced in DECISIVE_TYPES else None
        variables[SUPPORT_VARIABLE] = support_json(type_shares(files, history), decisive, ctype)
    scan = _Scan(changes)
    draft = _model_draft(scan, writer, variables, opts, result)

    def finish(d: CommitDraft) -> tuple[str, list[str]]:
        return _finish(d, changes, style, ctype, scope, forced, large, opts.comment, opts.branch)

    message, repairs = finish(draft or fallback(changes, ctype))
    used = past_subjects(history)
    if draft is not None and subject_key(message) in used:
        message, repairs = _instead_of_copy(
            message, used, examples, scan, writer, variables, opts, result, finish, ctype
        )
    if TRIMMED in repairs and result.confidence:  # the model's subject, its end cut off
        result.notes.append(
            f"the model's subject ran past the limit and was cut: {message.splitlines()[0]!r}"
        )
        result.confidence = round(result.confidence * REPAIRED, 4)
    if result.confidence and any(r.startswith(DROPPED) for r in repairs):
        result.confidence = round(result.confidence * REPAIRED, 4)  # words the model may not say
    result.message = message
    result.repairs += repairs
    result.seconds = time.monotonic() - started
    return result


def _finish(
    draft: CommitDraft,
    changes: list[diffs.FileChange],
    style: Style,
    ctype: str,
    scope: str | None,
    forced: str | None,
    large: bool,
    comment: str = "#",
    branch: str = "",
) -> tuple[str, list[str]]:
    """The message for a draft (the paths' type, a listed body, the format rules, nothing it may
    not say: _without_references); its repairs."""
    draft, repairs = draft.model_copy(), []
    plain = without_controls(draft.subject), without_controls(draft.body)
    if plain != (draft.subject, draft.body):  # before the cleaner: `\x01Signed-off-by:` is one
        draft.subject, draft.body = plain
        repairs.append(CONTROLS_OUT)
    if style.conventional and forced in DECISIVE_TYPES and draft.type != forced:
        repairs.append(f"type {draft.type!r} replaced by {forced!r} (paths)")
        draft.type = forced
    draft, cleaner = _without_references(draft, changes, ctype, branch, repairs)
    if large and not draft.body.strip():
        draft.body = cleaner.body(_listed_body(changes))
        repairs.append("body listed from the changed files")
    message, more = compose(draft, style, ctype, scope, comment)
    return message, repairs + cleaner.found.repairs() + more


def _without_references(
    draft: CommitDraft,
    changes: list[diffs.FileChange],
    ctype: str,
    branch: str,
    repairs: list[str],
) -> tuple[CommitDraft, Cleaner]:
    """The draft without what it may not say on the model's word (bot.commits.references), which
    the staged diff can tell a model to write: a closing keyword (`closes #1` closes the issue once
    pushed) unless for an issue the branch's name gives, an image, a link the diff does not hold;
    its @-mentions made inert. A subject with nothing else left gets the rule-made one. The
    cleaner says what it took out (its repairs)."""
    cleaner = Cleaner(branch_issues(branch), "".join(c.patch for c in changes))
    subject = cleaner.subject(draft.subject)
    if not re.search(r"\w", subject):
        subject = cleaner.subject(fallback(changes, ctype).subject)
        repairs.append("the subject said nothing else: the rule-made subject instead")
    draft.subject, draft.body = subject, cleaner.body(draft.body)
    return draft, cleaner


def subject_key(message: str) -> str:
    """A message's subject as repeats are found: case, spacing and a trailing `(#123)` aside."""
    lines = message.strip().splitlines()
    subject = TRAILING_REF.sub("", lines[0].strip()) if lines else ""
    return " ".join(subject.split()).casefold()


def past_subjects(history: list[tuple[str, list[str]]]) -> set[str]:
    """The subjects of the recent commits the drafter read, as subject_key spells them."""
    return {subject_key(msg) for msg, _ in history if msg.strip()}


def _instead_of_copy(
    message: str,
    used: set[str],
    examples: list[str],
    scan: _Scan,
    writer: Writer | None,
    variables: dict[str, str],
    opts: DraftOptions,
    result: DraftResult,
    finish: Callable[[CommitDraft], tuple[str, list[str]]],
    ctype: str,
) -> tuple[str, list[str]]:
    """The model's subject repeats an earlier commit's word for word (a small model copies the
    examples it is shown): asked once more without that example and told not to repeat one; a
    second repeat gets the rule-made draft. The confidence says so either way."""
    copied = message.splitlines()[0]
    first = result.confidence
    result.notes.append(f"the model repeated an earlier commit's subject ({copied!r}); asked again")
    others = [e for e in examples if subject_key(e) != subject_key(copied)]
    again_vars = {**variables, "examples": _examples(others), "retry_hint": RETRY_HINT}
    allow_large = opts.allow_large and not scan.note
    too_large = _too_large(writer, again_vars, opts)
    if too_large:
        result.notes.append(too_large)
    again = None if too_large else _ask(writer, again_vars, scan, allow_large, result, opts.comment)
    if again is not None:
        message, repairs = finish(again)
        if subject_key(message) not in used:
            result.confidence = round(min(first, result.confidence) * COPY_RETRIED, 4)
            return message, repairs
        result.notes.append(f"asked again, it repeated one again ({message.splitlines()[0]!r})")
    result.notes.append("deterministic draft instead of a repeated subject")
    result.confidence = 0.0  # as for any rule-made draft: the model's answer is not used
    return finish(fallback(scan.changes, ctype))


def _model_draft(
    scan: _Scan,
    writer: Writer | None,
    variables: dict[str, str],
    opts: DraftOptions,
    result: DraftResult,
) -> CommitDraft | None:
    """The model's draft, after its summaries of the largest cut files; None when it gave none."""
    changes = scan.changes
    secrets = scan.note if opts.allow_large else None
    allow_large = opts.allow_large and not secrets
    too_large = _too_large(writer, variables, opts)
    if not too_large:
        rule_made = variables["diff"]
        _summarize_files(scan, writer, opts, allow_large, result)
        variables["diff"] = diffs.render(changes)
        if _too_large(writer, variables, opts):  # the model's lines ran longer than the rules'
            variables["diff"] = rule_made
    result.notes += _summary_notes(changes)
    if secrets:
        result.notes.append(secrets)
    if too_large:
        result.notes.append(too_large)
        return None
    return _ask(writer, variables, scan, allow_large, result, opts.comment)


def _too_large(writer: Writer | None, variables: dict[str, str], opts: DraftOptions) -> str | None:
    """Why the prompt is not sent, when it cannot fit the model's context (the model would refuse it)."""
    if writer is None:
        return None
    try:
        tokens = prompt_tokens(MESSAGE_PROMPT, variables)
    except Exception:  # a broken prompt file: the model call says so
        return None
    if tokens <= opts.context_tokens:
        return None
    return (
        f"prompt too large for the model (about {tokens} tokens with the answer; the context "
        f"holds {opts.context_tokens}): not sent; deterministic draft"
    )


def _ask(
    writer: Writer | None,
    variables: dict[str, str],
    scan: _Scan,
    allow_large: bool,
    result: DraftResult,
    comment: str = "#",
) -> CommitDraft | None:
    if writer is None:
        result.notes.append("no model configured: deterministic draft")
        return None
    try:
        answer = writer.ask(MESSAGE_PROMPT, variables, CommitDraft, allow_large=allow_large)
    except Outdated:
        raise
    except Exception as err:  # fail open: a draft from the rules beats no draft
        log.warning("commit draft: model failed: %s", err)
        result.notes.append(f"model failed ({type(err).__name__}: {err}); deterministic draft")
        return None
    rec = answer.record
    result.model, result.backend, result.confidence = rec.model, rec.backend, answer.confidence
    result.cache_hit, result.escalated, result.status = rec.cache_hit, rec.escalated, answer.status
    if answer.value is None:
        result.notes.append(f"model gave no valid answer ({answer.status}); deterministic draft")
        return None
    # secrets first: the other checks' notes quote the subject
    draft = _without_secrets(answer.value.model_copy(), scan.shown(variables), result)
    return None if draft is None else _without_notes(draft, result, comment)


def _without_secrets(
    draft: CommitDraft, shown: dict[str, str], result: DraftResult
) -> CommitDraft | None:
    """The draft, unless its subject line holds a likely secret (None: the rule-made draft,
    confidence 0); body lines with one are dropped. The notes name the kind, never the secret:
    a small model repeats a key it is shown, and the message would commit it."""
    kinds = secrets_in(f"{draft.type} {draft.scope or ''} {draft.subject}", shown)
    if kinds:
        result.notes.append(
            f"the model's subject holds a possible secret ({', '.join(kinds)}); deterministic draft"
        )
        result.confidence = 0.0
        return None
    lines = draft.body.splitlines()
    found = [secrets_in(line, shown) for line in lines]
    if any(found):
        kinds = sorted({k for ks in found for k in ks})
        result.notes.append(
            f"{sum(map(bool, found))} body line(s) with a possible secret dropped ({', '.join(kinds)})"
        )
        result.confidence = round(result.confidence * REPAIRED, 4)
        draft.body = "\n".join(line for line, ks in zip(lines, found, strict=True) if not ks)
    return draft


def _without_notes(
    draft: CommitDraft, result: DraftResult, comment: str = "#"
) -> CommitDraft | None:
    """The draft, unless its subject copies the prompt's notes or is all comment (`#`: git drops
    it) (None: the rule-made draft, whose confidence is 0, as for any); body lines that copy one
    are dropped, the confidence cut."""
    if not uncommented(draft.subject, comment):
        result.notes.append(
            f"the model's subject is only a comment to git ({draft.subject[:100]!r}); deterministic draft"
        )
        result.confidence = 0.0
        return None
    if SCAFFOLDING.search(draft.subject):
        result.notes.append(
            f"the model's subject copied the prompt's notes ({draft.subject[:100]!r}); deterministic draft"
        )
        result.confidence = 0.0
        return None
    lines = draft.body.splitlines()
    kept = [line for line in lines if not SCAFFOLDING.search(line)]
    if len(kept) < len(lines):
        result.repairs.append(
            f"{len(lines) - len(kept)} body line(s) copying the prompt's notes dropped"
        )
        result.confidence = round(result.confidence * REPAIRED, 4)
        draft.body = "\n".join(kept)
    return draft


def _summarize_files(
    scan: _Scan,
    writer: Writer | None,
    opts: DraftOptions,
    allow_large: bool,
    result: DraftResult,
) -> None:
    """Map step for large diffs: the model sums up the biggest cut files, one line each. A
    summary with a secret from the file's diff keeps the rule-made line: the message step would
    read it without what made it look like one."""
    cut = [c for c in scan.changes if c.summarized and c.kind == "code" and c.patch]
    if writer is None or not cut:
        return
    for c in sorted(cut, key=lambda c: -len(c.patch))[: opts.file_summaries]:
        head = diffs.clip(c.patch, max(opts.budget_chars // 2, 800))
        counts, path = f"+{c.added} -{c.deleted} lines", diffs.quoted(c.path)
        try:
            answer = writer.ask(
                FILE_PROMPT,
                {"path": path, "counts": counts, "diff": head},
                FileSummary,
                allow_large=allow_large,
            )
        except Outdated:
            raise
        except Exception as err:  # the rule-made summary line stays
            result.notes.append(f"file summary failed for {path}: {type(err).__name__}")
            continue
        if answer.value is None:
            continue
        summary = answer.value.summary.strip()
        kinds = secrets_in(summary, scan.of(c))
        if kinds:
            result.notes.append(
                f"the file summary of {path} held a possible secret ({', '.join(kinds)}): not used"
            )
            continue
        c.shown = f"{diffs.headline(c)} ({counts}; summarized by the model): {summary}"


def _summary_notes(changes: list[diffs.FileChange]) -> list[str]:
    summarized = [diffs.quoted(c.path) for c in changes if c.summarized]
    if not summarized:
        return []
    shown = ", ".join(summarized[:5]) + (
        f" and {len(summarized) - 5} more" if len(summarized) > 5 else ""
    )
    return [f"{len(summarized)} file(s) summarized instead of pasted: {shown}"]


def _variables(
    changes: list[diffs.FileChange],
    listing: str,
    style: Style,
    examples: list[str],
    ctype: str,
    scope: str | None,
    large: bool,
) -> dict[str, str]:
    return {
        "style": style.describe(),
        "examples": _examples(examples),
        "files": listing,
        "diff": diffs.render(changes),
        "type_hint": ctype,
        "scope_hint": scope or "(none)",
        "body_hint": "Also write a short body."
        if large
        else "A body is optional for a change this small.",
        "retry_hint": "",  # asked again: RETRY_HINT
    }


def _examples(subjects: list[str]) -> str:
    return "\n".join(f"- {e}" for e in subjects) or "(none)"


def _listed_body(changes: list[diffs.FileChange], most: int = BODY_FILES) -> str:
    """A body naming the changed files, the ones past `most` counted in a last line."""
    shown = changes if len(changes) <= most else changes[: most - 1]
    lines = [f"- {diffs.headline(c)}" for c in shown]
    if len(shown) < len(changes):
        lines.append(f"- {diffs.more_line(changes[len(shown) :])}")
    return "\n".join(lines)


def fallback(changes: list[diffs.FileChange], ctype: str) -> CommitDraft:
    """A rule-made draft when no model answer validated: honest and plain."""
    first = changes[0]
    what = diffs.headline(first)
    if len(changes) > 1:
        what += f" and {len(changes) - 1} other file{'s' if len(changes) > 2 else ''}"
    return CommitDraft(type=ctype, scope=None, subject=what)
