"""What a repository's history teaches: Conventional Commits or its own style, known scopes and types."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePosixPath

CC_TYPES = (
    "feat",
    "fix",
    "docs",
    "style",
    "refactor",
    "perf",
    "test",
    "build",
    "ci",
    "chore",
    "revert",
)
CC_SUBJECT = re.compile(
    r"^(?P<type>[a-z]+)(?:\((?P<scope>[^()\n]+)\))?(?P<bang>!)?: (?P<desc>\S.*)$"
)
RECENT = 30  # the newest subjects decide whether the repository uses Conventional Commits now
TRAILING_REF = re.compile(r"\s*\(#\d+\)$")


@dataclass
class Style:
    """How this repository writes subjects, learned from `git log`."""

    conventional: bool = True
    types: Counter[str] = field(default_factory=Counter)
    scopes: Counter[str] = field(default_factory=Counter)
    scope_paths: dict[str, Counter[str]] = field(default_factory=dict)  # path part -> scopes
    capitalized: bool = False
    period: bool = False
    median_len: int = 50
    examples: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.conventional:
            known = ", ".join(s for s, _ in self.scopes.most_common(12)) or "none yet"
            case = "Capitalized" if self.capitalized else "lowercase"
            return (
                f"Conventional Commits: `type(scope): description`, {case} description, "
                f"imperative, no final period. Scopes used in this repository: {known}."
            )
        case = "Capitalized" if self.capitalized else "lowercase"
        end = "ending with a period" if self.period else "no final period"
        return f"Plain subjects (not Conventional Commits): {case}, imperative, {end}, about {self.median_len} characters."


def learn(history: list[tuple[str, list[str]]]) -> Style:
    """Learn the style from (message, files) pairs, newest first."""
    # one filtered list: a commit with an empty message must not shift subjects against files
    pairs = [(msg.strip().splitlines()[0].strip(), files) for msg, files in history if msg.strip()]
    subjects = [s for s, _ in pairs]
    style = Style()
    if not subjects:
        return style
    cc = [(CC_SUBJECT.match(s), files) for s, files in pairs]
    hits = [(m, f) for m, f in cc if m and m.group("type") in CC_TYPES]
    recent = [m for m, _ in cc[:RECENT] if m and m.group("type") in CC_TYPES]
    style.conventional = len(recent) >= max(
        1, min(len(subjects), RECENT) // 2
    )  # today's habit counts
    for m, files in hits:
        style.types[m.group("type")] += 1
        scope = m.group("scope")
        if scope:
            style.scopes[scope] += 1
            for part in _parts(files):
                style.scope_paths.setdefault(part, Counter())[scope] += 1
    descs = [TRAILING_REF.sub("", s) for s in subjects]
    # the description's first letter: a Conventional Commits subject starts with its type,
    # always lowercase (`feat: Add X` is capitalized, as Angular's and many others' are)
    firsts = [m.group("desc") for m, _ in hits] if style.conventional else descs
    style.capitalized = sum(d[:1].isupper() for d in firsts) > len(firsts) / 2
    style.period = sum(d.endswith(".") for d in descs) > len(descs) / 2
    style.median_len = sorted(len(d) for d in descs)[len(descs) // 2]
    style.examples = subjects[:5]
    return style


def _parts(files: list[str]) -> set[str]:
    """Path components and file stems, the words scopes are usually named after."""
    parts: set[str] = set()
    for f in files:
        p = PurePosixPath(f)
        parts.update(x.lower() for x in p.parts[:-1])
        parts.add(p.stem.lower())
    return parts


def path_type(files: list[str], statuses: dict[str, str]) -> str | None:
    """A type the paths alone make clear (tests only, docs only, CI only, build files only)."""
    if not files:
        return None
    kinds = {_kind(f) for f in files}
    if len(kinds) == 1:
        only = kinds.pop()
        if only != "code":
            return only
    code = [f for f in files if _kind(f) == "code"]
    if code and all(statuses.get(f) == "A" for f in code):  # new code, with its docs or tests
        return "feat"
    return None


def _kind(path: str) -> str:
    p = PurePosixPath(path)
    low = path.lower()
    if low.startswith((".github/workflows/", ".gitlab-ci", ".circleci/")) or p.name in {
        ".travis.yml", "azure-pipelines.yml", "Jenkinsfile", ".pre-commit-config.yaml"
    }:  # fmt: skip
        return "ci"
    if (
        p.parts[0] in {"tests", "test", "testing"}
        or p.name.startswith("test_")
        or p.stem.endswith(("_test", ".test", ".spec"))
    ):
        return "test"
    if p.suffix in {".md", ".rst", ".txt", ".adoc"} or p.parts[0] in {"docs", "doc"}:
        return "docs"
    if (
        p.name
        in {
            "pyproject.toml",
            "setup.py",
            "setup.cfg",
            "requirements.txt",
            "package.json",
            "Makefile",
            "Dockerfile",
            "Cargo.toml",
            "go.mod",
        }
        or p.name.endswith(".lock")
        or p.name.startswith("requirements")
    ):
        return "build"
    return "code"


def infer_scope(files: list[str], style: Style) -> str | None:
    """The scope this repository used most for these paths; else a shared directory name."""
    votes: Counter[str] = Counter()
    for part in _parts(files):
        votes.update(style.scope_paths.get(part, Counter()))
    if votes:  # ties go to the scope used most recently (not to set order, which varies by run)
        recency = {scope: i for i, scope in enumerate(style.scopes)}  # learned newest first
        return clean_scope(min(votes, key=lambda s: (-votes[s], recency.get(s, len(recency)))))
    if style.scopes or not files:
        return None
    dirs = {PurePosixPath(f).parts[:-1] for f in files}
    common = [d for d in dirs if d]
    if len(dirs) == 1 and common:
        parts = [x for x in common[0] if x not in {"src", "lib", "pkg", "app"}]
        return clean_scope(parts[-1]) if parts else None
    return None


def clean_scope(scope: str | None) -> str | None:
    """A scope as a subject can carry it: lowercase, no spaces, quotes or parentheses."""
    if not scope:
        return None
    s = re.sub(r"[^a-z0-9_./-]+", "-", scope.strip().lower()).strip("-")
    return s or None


def infer_type(
    files: list[str],
    statuses: dict[str, str],
    style: Style,
    new_symbols: bool = False,
    history_vote: str | None = None,
) -> str:
    """The deterministic type: paths first, new definitions mean feat, then what similar past commits used."""
    by_path = path_type(files, statuses)
    if by_path in ("test", "docs", "ci"):
        return by_path
    if new_symbols and by_path in (None, "feat"):
        return "feat"
    return (
        by_path
        or history_vote
        or ("fix" if style.types["fix"] >= style.types["refactor"] else "refactor")
    )
