"""Triage policy: which labels a new issue gets and whether to ask for missing information."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.core.actions import Action, AddLabels, Comment, NoOp, RemoveLabel
from bot.core.checks import check_text
from bot.core.config import Kind, RepoConfig
from bot.core.templates import Need

ASK_MARKER = "triage:needs-info"
KIND_VALUES = tuple(k.value for k in Kind)
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
NO_LABEL = "no label"
NO_KIND_LABEL = "no label names a kind"
ASK_INTRO = (
    "Thanks for the report! To help the maintainers look into it, could you add the following "
    "to the description?"
)
ASK_OUTRO = "You can edit the issue above. (I am a bot; a maintainer will follow up.)"


@dataclass(frozen=True)
class Verdict:
    """The classifier's answer reduced to what policy needs."""

    label: str | None
    confidence: float
    status: str  # ok | escalated | not_escalated | no_answer


@dataclass(frozen=True)
class IssueSnapshot:
    repo: str
    number: int
    title: str
    body: str
    author: str
    labels: tuple[str, ...] = ()
    state: str = "open"


def canon(label: str) -> str:
    """Compare labels loosely: case, separators and emoji-free spacing do not matter."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", label.lower()).split())


def label_for_kind(kind: Kind, repo_labels: Iterable[str], cfg: RepoConfig) -> str | None:
    """The repository's label for a kind: the config's label_map first, then common names."""
    if kind in cfg.triage.label_map:
        return cfg.triage.label_map[kind]
    by_canon = {canon(lb): lb for lb in repo_labels}
    for name in COMMON_LABELS[kind]:
        if canon(name) in by_canon:
            return by_canon[canon(name)]
    return None


def kind_labels(repo_labels: Iterable[str], cfg: RepoConfig) -> set[str]:
    labels = list(repo_labels)
    found = (label_for_kind(k, labels, cfg) for k in Kind)
    return {lb for lb in found if lb}


def is_untriaged(issue_labels: Iterable[str], repo_labels: Iterable[str], cfg: RepoConfig) -> bool:
    """No kind label yet (needs-triage does not count as triaged)."""
    kinds = {canon(lb) for lb in kind_labels(repo_labels, cfg)}
    return not any(canon(lb) in kinds for lb in issue_labels)


def threshold_for(cfg: RepoConfig, default: float) -> float:
    return cfg.triage.threshold if cfg.triage.threshold is not None else default


def decide_kind(verdict: Verdict, threshold: float) -> tuple[Kind | None, str]:
    """A kind only from a validated, confident (or escalated) answer in the allowlist."""
    if verdict.label not in KIND_VALUES:
        return None, f"no usable answer (status {verdict.status})"
    if verdict.status == "escalated":
        return Kind(verdict.label), "large model answered"
    if verdict.status != "ok":
        return None, (
            f"unsure (best guess {verdict.label} at {verdict.confidence:.2f}, not acted on)"
            " and no large model answered"
        )
    if verdict.confidence < threshold:
        return None, (
            f"best guess {verdict.label} at {verdict.confidence:.2f},"
            f" below threshold {threshold:.2f}"
        )
    return Kind(verdict.label), f"confidence {verdict.confidence:.2f} >= {threshold:.2f}"


def label_actions(
    kind: Kind | None,
    why: str,
    issue: IssueSnapshot,
    repo_labels: list[str],
    cfg: RepoConfig,
    *,
    replace: bool = False,
) -> list[Action]:
    """The kind's label, or needs-triage when unsure; needs-triage removed once a kind is set."""
    unsure = cfg.triage.needs_triage_label
    if kind is None:
        return [AddLabels((unsure,), f"cautious path: {why}")]
    label = label_for_kind(kind, repo_labels, cfg)
    if label is None:
        return [
            NoOp(f"kind {kind.value} ({why}) but the repository has no label for it", "add_labels"),
            AddLabels((unsure,), f"no repository label for kind {kind.value}"),
        ]
    actions: list[Action] = [AddLabels((label,), f"kind {kind.value}: {why}")]
    others = kind_labels(repo_labels, cfg) - {label}
    if replace:  # a maintainer asked to retriage: the new kind replaces the old one
        actions += [
            RemoveLabel(lb, f"retriaged as {kind.value}") for lb in issue.labels if lb in others
        ]
    if unsure in issue.labels:
        actions.append(RemoveLabel(unsure, f"triaged as {kind.value}"))
    return actions


def exempt_reason(issue: IssueSnapshot, cfg: RepoConfig) -> str | None:
    if not cfg.triage.enabled:
        return "triage is switched off in .github/smolbot.yml"
    if issue.state != "open":
        return "issue is not open"
    hit = {canon(lb) for lb in cfg.exempt_labels} & {canon(lb) for lb in issue.labels}
    return f"issue has exempt label(s) {sorted(hit)}" if hit else None


def ask_body(missing: Iterable[Need]) -> str:
    items = "\n".join(f"- {n.label}" for n in missing)
    return f"{ASK_INTRO}\n\n{items}\n\n{ASK_OUTRO}"


def info_actions(
    kind: Kind | None, missing: tuple[Need, ...], issue: IssueSnapshot, cfg: RepoConfig
) -> list[Action]:
    """Ask once for what a bug report lacks; drop needs-info once nothing is missing."""
    label = cfg.triage.needs_info_label
    if not cfg.triage.ask_for_missing_info:
        return [NoOp("asking for missing information is switched off", "comment")]
    if kind is not Kind.BUG:
        return [NoOp("not asking for information: not a bug report", "comment")]
    if not missing:
        if label in issue.labels:
            return [RemoveLabel(label, "the report now has what was asked for")]
        return [NoOp("bug report has the information the repository asks for", "comment")]
    keys = ", ".join(n.key for n in missing)
    return [
        Comment(ask_body(missing), ASK_MARKER, f"bug report lacks: {keys}"),
        AddLabels((label,), f"waiting for: {keys}"),
    ]


FIRST_RESPONSE_MARKER = "triage:first-response"
FIRST_RESPONSE_FOOTER = "(I am a bot; a maintainer will follow up.)"


def first_response_actions(
    text: str | None,
    *,
    issue: IssueSnapshot,
    related: Iterable[int],
    people: Iterable[str],
    enabled: bool,
    max_chars: int = 1200,
) -> list[Action]:
    """Post the model's acknowledgement only if it passes check_text; otherwise say why not."""
    if not enabled:
        return [NoOp("first-response comments are off for this repository", "comment")]
    if not text:
        return [NoOp("the model gave no first response", "comment")]
    result = check_text(
        text,
        allowed_urls=(),
        allowed_numbers=(issue.number, *related),
        allowed_people=(issue.author, *people),
        max_chars=max_chars,
    )
    if not result.ok:
        return [
            NoOp(
                "first response failed the check: " + "; ".join(result.problems),
                "comment",
                detail={"text": text[:2000]},
            )
        ]
    body = f"{text.strip()}\n\n{FIRST_RESPONSE_FOOTER}"
    return [Comment(body, FIRST_RESPONSE_MARKER, "first response (model-written, checked)")]


def kind_for_labels(labels: Iterable[str], cfg: RepoConfig) -> Kind | None:
    """The one kind a set of labels stands for (None when none, or when they disagree)."""
    kinds = kinds_named(labels, cfg)
    return kinds[0] if len(kinds) == 1 else None


def kinds_named(labels: Iterable[str], cfg: RepoConfig) -> list[Kind]:
    """Every kind some label in `labels` stands for, in Kind order."""
    names = {canon(lb) for lb in labels}
    found = []
    for kind in Kind:
        mapped = cfg.triage.label_map.get(kind)
        known = (mapped,) if mapped is not None else COMMON_LABELS[kind]
        if any(canon(k) in names for k in known):
            found.append(kind)
    return found


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


# Text addressed to the bot rather than describing the issue. Defence in depth only: what keeps
# triage safe is structural (allowlisted labels, fixed comment texts, no model-driven close,
# checked model text); this keeps injected sentences from nudging the classifier or the checks.
_INJECTION = re.compile(
    r"|".join(
        (
            r"\b(ignore|disregard|forget|override|bypass)\b.{0,40}\b(instruction|prompt|rule|guideline|polic)",
            r"\b(system|developer)\s+(prompt|message|instruction)",
            r"\byou\s+are\s+(now|no\s+longer)\b|\bact\s+as\b|\bnew\s+instructions?\b",
            r"\b(ai|bot|assistant|model|llm|smolbot|triage)\b.{0,30}\b(must|should|shall|will)\b.{0,15}\b(label|close|delete|mention|reveal|print|say|post)",
            r"\b(close|delete|lock)\s+(all|every|the\s+other)\b.{0,20}\b(issue|pr|pull)",
            r"\b(label|tag|classify)\s+(this|it|the\s+issue)\b",
            r"\b(reveal|print|show|output|leak|send|post)\b.{0,40}\b(token|secret|api[\s_-]?key|password|credential|env)",
            r"@(everyone|here|channel|all)\b",
            r"\b(ignoriere|vergiss)\b.{0,40}\b(anweisung|regel)",
            r"\b(ignor(e|ez|a|ar)|olvida|oublie)\b.{0,40}\b(instruc|consign|regla|règle)",
            r"忽略|无视|指令|システム|指示を無視|игнорируй|инструкци",
        )
    ),
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"(?<=[.!?;:])\s+|(?<=[。！？])|\n+|\s+[-–—|]+\s+")
_BRACKETED = re.compile(r"\[[^\]\n]*\]|\([^)\n]*\)|\{[^}\n]*\}")
_FENCED = re.compile(r"(```|~~~).*?(\1|$)", re.S)
_HTML_COMMENT = re.compile(r"<!--.*?(-->|$)", re.S)


def quarantine(text: str) -> str:
    """Drop hidden HTML comments, and code blocks and sentences that give the bot orders."""
    text = _HTML_COMMENT.sub(" ", text or "")
    for pattern in (_FENCED, _BRACKETED):
        text = pattern.sub(lambda m: "" if _INJECTION.search(m.group(0)) else m.group(0), text)
    kept = []
    for line in text.split("\n"):
        if not _INJECTION.search(line):
            kept.append(line)  # untouched: most lines never change
            continue
        parts = [p for p in _SENTENCE.split(line) if p and not _INJECTION.search(p)]
        kept.append(" ".join(p.strip() for p in parts))
    return "\n".join(kept).strip()
