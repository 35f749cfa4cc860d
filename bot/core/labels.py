"""Which repository labels stand for which kind of issue: the one vocabulary triage and backfill share."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

from bot.core.config import Kind, RepoConfig

COMMON_LABELS: Mapping[Kind, tuple[str, ...]] = {
    # In order of preference when applying; the later names are synonyms seen on other trackers
    # (Jira's "Improvement", Rust's "C-bug"): they teach the classifier and are applied only where
    # a repository has no earlier one. Separators and case do not matter (canon).
    Kind.BUG: ("bug", "type: bug", "kind/bug", "bug report", "defect", "t: bug", "c-bug"),
    Kind.FEATURE: (
        "enhancement",
        "feature",
        "feature request",
        "type: feature",
        "kind/feature",
        "type: enhancement",
        "kind/enhancement",
        "new feature",
        "improvement",
        "type: feature request",
        "type: improvement",
        "t: feature",
        "t: enhancement",
        "c-feature-request",
        "c-enhancement",
    ),
    Kind.QUESTION: (
        "question",
        "support",
        "type: question",
        "kind/question",
        "kind/support",
        "type: support",
        "usage question",
        "t: question",
    ),
    Kind.DOCUMENTATION: (
        "documentation",
        "docs",
        "type: docs",
        "type: documentation",
        "kind/documentation",
        "kind/docs",
        "doc",
        "t: docs",
        "t: documentation",
    ),
}
STATUS_PREFIXES = ("status", "state", "s", "resolution")
NO_LABEL = "no label"
NO_KIND_LABEL = "no label names a kind"


# an emoji shortcode (`:bug:`, `:+1:`), or a character shown as an emoji (followed by U+FE0F)
# (a shortcode stands apart: `area:ui:web` holds none; a keycap's digit, `1️⃣`, is kept)
_EMOJI = re.compile(r"(?<!\S):[a-z0-9_+-]+:(?!\S)|[^\x00-\x7f]\ufe0f", re.IGNORECASE)


def same_label(a: str | None, b: str) -> bool:
    """Whether two label names are one label as GitHub matches them (case aside)."""
    return (a or "").casefold() == b.casefold()


def find_label(labels: Iterable[str], name: str) -> str | None:
    """The label among `labels` that is `name` as GitHub matches label names (case aside), in
    its own spelling; None when none is."""
    return next((lb for lb in labels if same_label(lb, name)), None)


def canon(label: str) -> str:
    """Compare labels loosely: case, separators and emoji-free spacing do not matter, nor emoji
    written as shortcodes (`:bug: bug`, what label kits create) or with the emoji variation
    selector (`ℹ️ question`: NFKC would read that ℹ as the letter i). Letters and digits of any
    script count (`バグ` is not `質問`; full-width `ＢＵＧ` is `bug`); a label with none (emoji
    only: `🐛`, `:bug:`) compares by its casefolded self."""
    folded = unicodedata.normalize("NFKC", _EMOJI.sub(" ", label)).casefold()
    words = " ".join(re.sub(r"[\W_]+", " ", folded).split())
    return words or " ".join(unicodedata.normalize("NFKC", label).casefold().split())


def spelled(name: str, repo_labels: Iterable[str]) -> str:
    """A status label (needs-triage, needs-info, duplicate) as the repository spells it: its
    label that is `name` (case aside), else one that compares the same loosely (canon:
    `needs triage`, `Needs Info`), else one with a status prefix (`status: duplicate`,
    `state/needs-info`), else `name` itself."""
    labels = list(repo_labels)
    found = existing_spelling(name, labels)
    if found is not None:
        return found
    prefixed = (f"{p} {canon(name)}" for p in STATUS_PREFIXES)
    return next((lb for p in prefixed for lb in labels if canon(lb) == p), name)


def names_for(kind: Kind, cfg: RepoConfig) -> tuple[str, ...]:
    """The label names that stand for a kind: the config's label_map entry alone, else the
    common names in order of preference less those the map gives another kind (`documentation:
    enhancement`: `enhancement` then stands for documentation only, as a label stands for one
    kind only; also naming features, it would name two kinds, so no kind at all)."""
    mapped = cfg.triage.label_map.get(kind)
    if mapped is not None:
        return (mapped,)
    taken = {canon(name) for name in cfg.triage.label_map.values()}
    return tuple(n for n in COMMON_LABELS[kind] if canon(n) not in taken)


def label_for_kind(kind: Kind, repo_labels: Iterable[str], cfg: RepoConfig) -> str | None:
    """The repository's label for a kind: the config's label_map first, then common names.
    A mapped name is applied as the repository spells it (`type: bug` is its `Type: Bug 🐛`,
    as the bot reads labels: GitHub would create the name as written beside it, a twin); None
    when the repository has no such label (deleted or renamed since the map was written:
    adding it would create it again, with GitHub's default colour; needs-triage instead)."""
    labels = list(repo_labels)
    names = names_for(kind, cfg)
    if kind in cfg.triage.label_map:
        return existing_spelling(names[0], labels)
    by_canon = {canon(lb): lb for lb in labels}
    return next((by_canon[canon(n)] for n in names if canon(n) in by_canon), None)


def existing_spelling(name: str, repo_labels: Iterable[str]) -> str | None:
    """The repository's label that is `name` as the bot reads labels: the one GitHub matches
    (case aside), else the first that compares the same loosely (canon); None when none is."""
    labels = list(repo_labels)
    want = canon(name)
    return find_label(labels, name) or next((lb for lb in labels if canon(lb) == want), None)


def is_untriaged(issue_labels: Iterable[str], cfg: RepoConfig) -> bool:
    """No label naming a kind yet (needs-triage does not count as triaged): any of a kind's
    names, not only the one the bot applies (`type: bug` beside `bug`)."""
    return not kinds_named(issue_labels, cfg)


def kind_for_labels(labels: Iterable[str], cfg: RepoConfig) -> Kind | None:
    """The one kind a set of labels stands for (None when none, or when they disagree)."""
    kinds = kinds_named(labels, cfg)
    return kinds[0] if len(kinds) == 1 else None


def kinds_named(labels: Iterable[str], cfg: RepoConfig) -> list[Kind]:
    """Every kind some label in `labels` stands for, in Kind order."""
    names = {canon(lb) for lb in labels}
    return [k for k in Kind if any(canon(n) in names for n in names_for(k, cfg))]


def not_learned_reason(labels: Sequence[str], cfg: RepoConfig) -> str | None:
    """Why a labeled example teaches nothing (None: it names exactly one kind)."""
    if not labels:
        return NO_LABEL
    kinds = kinds_named(labels, cfg)
    if not kinds:
        return NO_KIND_LABEL
    if len(kinds) > 1:
        return "its labels name several kinds (" + ", ".join(k.value for k in kinds) + ")"
    return None
