"""Issue templates (.github/ISSUE_TEMPLATE) and what a bug report must contain: parsed, pure."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from bot.core.config import Kind, RepoConfig, default_config
from bot.core.labels import kinds_named

TEMPLATE_DIR = ".github/ISSUE_TEMPLATE"
# The single template GitHub still offers a repository without the folder: in these folders, in
# the order it looks ("" is the root), named ISSUE_TEMPLATE, case aside, with or without an
# extension such as .md or .txt (GitHub's own example is `.github/issue_template.md`)
LEGACY_TEMPLATE_DIRS = (".github", "", "docs")
_LEGACY_NAME = re.compile(r"issue_template(?:\.(?:md|txt))?", re.I)
# a template that asks for a bug report says so in a word of its own: `bug`, not `debugging`
_BUG_WORDS = re.compile(r"\b(?:bugs?|defects?|crash(?:es)?)\b")
NO_RESPONSE = "_no response_"
# an unclosed comment hides the rest, as GitHub shows it (and a scan per `<!--` to the end of a
# 64 KB body for a `-->` that is not there took seconds)
_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.S)


@dataclass(frozen=True)
class Need:
    """One thing a bug report should contain; patterns recognise it in free text."""

    key: str
    label: str  # as the repository words it, shown in the comment
    patterns: tuple[str, ...] = ()


DEFAULT_NEEDS: tuple[Need, ...] = (
    Need("version", "the version you are using", (r"\bv?\d+\.\d+(?:\.\d+)?\b", r"\bversion\b")),
    Need(
        "steps",
        "steps to reproduce the problem",
        (r"\breproduc", r"\bsteps?\b", r"^\s*1[.)]\s+\S", r"\brepro\b"),
    ),
    Need(
        "expected",
        "what you expected to happen and what happened instead",
        (r"\bexpect", r"\binstead\b", r"\bactual(?:ly)?\b", r"\bshould\b"),
    ),
    Need(
        "logs",
        "the error message or logs",
        (r"```", r"traceback", r"\berror\b", r"\bexception\b", r"\blogs?\b", r"^\s{4}\S"),
    ),
)
_KEYWORDS = {
    "version": ("version", "release"),
    "steps": ("reproduc", "steps"),
    "expected": ("expected", "actual", "behavio"),
    "logs": ("log", "traceback", "error", "stack", "output"),
}


@dataclass(frozen=True)
class TemplateField:
    label: str
    required: bool
    default: str = ""


def is_legacy_template(path: str) -> bool:
    """Whether `path` is the single legacy issue template (`.github/issue_template.md`,
    `ISSUE_TEMPLATE`, `docs/Issue_Template.txt`): GitHub matches its name case aside."""
    folder, _, name = path.rpartition("/")
    return folder in LEGACY_TEMPLATE_DIRS and _LEGACY_NAME.fullmatch(name) is not None


def legacy_template(paths: Iterable[str], folder: str) -> str | None:
    """The legacy template among a folder's file paths, one chosen the same way each time when
    a case-sensitive tree holds several (`ISSUE_TEMPLATE.md` and `issue_template.txt`):
    Markdown first, then no extension, then .txt; then by path."""
    found = [p for p in paths if p.rpartition("/")[0] == folder and is_legacy_template(p)]
    order = {".md": 0, "": 1, ".txt": 2}
    return min(found, key=lambda p: (order[_extension(p)], p), default=None)


def _extension(path: str) -> str:
    name = path.rpartition("/")[2].lower()
    return name[name.rfind(".") :] if "." in name else ""


@dataclass(frozen=True)
class IssueTemplate:
    path: str
    name: str
    labels: tuple[str, ...]
    fields: tuple[TemplateField, ...]
    title: str = ""  # the title the template starts an issue with (`[Bug]: `)
    about: str = ""  # a Markdown template's `about`, an issue form's `description`

    @property
    def is_bug(self) -> bool:
        return self.asks_for_bugs(default_config())

    def asks_for_bugs(self, cfg: RepoConfig) -> bool:
        """Whether reporters write bug reports from this template: the legacy single template
        (the one every reporter fills in); else its labels, when they name a kind (as `cfg`
        reads labels); else a word of its own in its name, title, about or file name (`Bug
        report`, `bug_report.md`), never part of one (`Debugging help` is not a bug report)."""
        if is_legacy_template(self.path):
            return True
        kinds = kinds_named(self.labels, cfg)
        if kinds:
            return Kind.BUG in kinds
        stem = self.path.rpartition("/")[2].rpartition(".")[0] or self.path
        text = " ".join((self.name, self.title, self.about, stem))
        words = " ".join(re.sub(r"[\W_]+", " ", unicodedata.normalize("NFKC", text)).split())
        return _BUG_WORDS.search(words.casefold()) is not None


def parse_template(path: str, text: str) -> IssueTemplate | None:
    """Parse a Markdown template (front matter + headings) or a YAML issue form; None if neither,
    or if the file cannot be read as one: YAML that does not parse or builds a value it cannot
    hold (`date: 2024-02-30` raises ValueError), as the repository's config is read. One broken
    template must not stop the triage of every bug report in the repository."""
    try:
        if path.lower().endswith((".yml", ".yaml")):
            return _parse_form(path, yaml.safe_load(text))
        if path.lower().endswith(".md") or is_legacy_template(path):  # .txt: Markdown too
            return _parse_markdown(path, text)
    except (yaml.YAMLError, ValueError, TypeError, RecursionError):
        return None
    return None


def _labels(raw: Any) -> tuple[str, ...]:
    if isinstance(raw, str):
        return tuple(s.strip() for s in raw.split(",") if s.strip())
    if isinstance(raw, list):
        return tuple(str(s) for s in raw)
    return ()


def _mapping(raw: Any) -> dict[Any, Any]:
    """A form item's `attributes` or `validations`, {} when it is not a mapping (`[required]`):
    GitHub refuses such a form, and the bot reads what it can of it."""
    return raw if isinstance(raw, dict) else {}


def _parse_form(path: str, data: Any) -> IssueTemplate | None:
    if not isinstance(data, dict) or not isinstance(data.get("body"), list):
        return None
    fields = []
    for item in data["body"]:
        if not isinstance(item, dict) or item.get("type") in ("markdown", "checkboxes", None):
            continue
        attrs = _mapping(item.get("attributes"))
        label = str(attrs.get("label", "")).strip()
        if label:
            required = bool(_mapping(item.get("validations")).get("required", False))
            fields.append(TemplateField(label, required, str(attrs.get("value", "") or "")))
    name = str(data.get("name", path))
    return IssueTemplate(
        path, name, _labels(data.get("labels")), tuple(fields), *_words(data, "description")
    )


def _parse_markdown(path: str, text: str) -> IssueTemplate:
    meta: dict[str, Any] = {}
    if text.startswith("---"):
        _, _, rest = text.partition("---")
        front, _, text = rest.partition("\n---")
        loaded = yaml.safe_load(front)
        meta = loaded if isinstance(loaded, dict) else {}
    # A Markdown template cannot mark a section required: those naming what a bug report needs
    # (version, steps, expected, logs) are, unless they say optional; "Screenshots" or
    # "Additional context" are not asked for.
    fields = tuple(
        TemplateField(h, _default_key(h) is not None and "optional" not in h.lower(), body)
        for h, body in sections(text)
    )
    name = str(meta.get("name", path))
    return IssueTemplate(path, name, _labels(meta.get("labels")), fields, *_words(meta, "about"))


def _words(meta: dict[Any, Any], about: str) -> tuple[str, str]:
    """A template's title and its description (`about`, or an issue form's `description`)."""
    return str(meta.get("title") or ""), str(meta.get(about) or "")


def sections(body: str, known: frozenset[str] | None = None) -> list[tuple[str, str]]:
    """Headings (#, ###, **Bold:**) and the text under each, in order; HTML comments removed.
    With `known` (normalised headings): only those split the text, any other heading line is
    text of its section, as a report's `**On Windows:**` or `# install it` under "Steps to
    reproduce" is, not a heading that leaves the steps empty."""
    text = _COMMENT.sub("", body or "")
    found, pos = [], 0  # (start, end, heading) per heading line
    for line in text.splitlines(keepends=True):
        heading = _heading(line)
        if heading and (known is None or _norm(heading) in known):
            found.append((pos, pos + len(line), heading))
        pos += len(line)
    return [
        (heading, text[end : found[i + 1][0] if i + 1 < len(found) else len(text)].strip())
        for i, (_, end, heading) in enumerate(found)
    ]


def _heading(line: str) -> str | None:
    """A line's heading (`### Steps ###`, `**Steps:**`), or None. Read by hand: a regular
    expression with the spaces around the closing hashes took cubic time on a heading followed
    by a run of spaces (23 s for 3,000), in the worker that triages the issue."""
    stripped = line.strip()
    if len(line) - len(line.lstrip(" \t")) > 3 or not stripped:
        return None
    if stripped.startswith("#"):
        rest = stripped.lstrip("#")
        if len(stripped) - len(rest) > 6 or rest[:1] not in (" ", "\t"):
            return None
        return rest.strip().rstrip("#").strip() or None
    if stripped.startswith("**") and len(stripped) > 4:
        inner = stripped.removesuffix(":")
        if inner.endswith("**") and len(inner) > 4:
            return inner[2:-2].removesuffix(":").strip() or None
    return None


def split_sections(body: str, known: frozenset[str] | None = None) -> dict[str, str]:
    """Sections keyed by their normalised heading (only `known` ones split, when given)."""
    return {_norm(h): text for h, text in sections(body, known)}


def _norm(heading: str) -> str:
    """A heading compared loosely: case, punctuation and spacing aside; letters and digits of
    any script count (`再現手順` and `バージョン` are two headings, not both "")."""
    folded = unicodedata.normalize("NFKC", heading).casefold()
    return " ".join(re.sub(r"[^\w ]+|_", "", folded).split())


def bug_templates(
    templates: Iterable[IssueTemplate], cfg: RepoConfig | None = None
) -> list[IssueTemplate]:
    """The templates bug reports are written from (`cfg`: the repository's, for its label_map;
    the defaults when not given)."""
    read_as = default_config() if cfg is None else cfg
    return [t for t in templates if t.asks_for_bugs(read_as) and t.fields]


def pick_bug_template(
    templates: Iterable[IssueTemplate], body: str = "", cfg: RepoConfig | None = None
) -> IssueTemplate | None:
    """The bug template a report was written from: the only one, else the one whose field labels
    match most of the body's headings (an issue form renders each field as `### <label>`).
    Several and none (or more than one) matches best: None, so no template's fields are asked
    for from a report written from another."""
    bugs = bug_templates(templates, cfg)
    if len(bugs) <= 1:
        return bugs[0] if bugs else None
    headings = set(split_sections(body))
    scored = sorted(
        ((sum(_norm(f.label) in headings for f in t.fields), t) for t in bugs),
        key=lambda st: st[0],
        reverse=True,
    )
    best, runner_up = scored[0][0], scored[1][0]
    return scored[0][1] if best > 0 and best > runner_up else None


def needs_from_template(template: IssueTemplate) -> tuple[Need, ...]:
    """The template's required fields as Needs (patterns from the matching default need)."""
    needs = []
    for f in template.fields:
        if not f.required:
            continue
        key = _default_key(f.label)
        patterns = next((n.patterns for n in DEFAULT_NEEDS if n.key == key), ())
        needs.append(Need(key or _norm(f.label), f.label, patterns))
    return tuple(needs)


def _default_key(label: str) -> str | None:
    low = label.lower()
    return next((k for k, words in _KEYWORDS.items() if any(w in low for w in words)), None)


def missing_needs(
    title: str, body: str, needs: Iterable[Need], template: IssueTemplate | None = None
) -> tuple[Need, ...]:
    """The needs a report does not meet: an empty template section, or no sign in free text."""
    return report_gaps(title, body, needs, template)[0]


def report_gaps(
    title: str, body: str, needs: Iterable[Need], template: IssueTemplate | None = None
) -> tuple[tuple[Need, ...], tuple[Need, ...]]:
    """(missing, unread): the needs a report does not meet (an empty template section, or no
    sign in free text), and those it cannot be judged on: free text in another language than
    English shows no English sign of them (`steps`, `expected`), which is no sign they lack."""
    needs = tuple(needs)
    defaults = {_norm(f.label): f.default.strip() for f in template.fields} if template else {}
    # the headings a report is split on: its template's fields and the needs' own wording
    found = split_sections(body, frozenset(defaults) | {_norm(n.label) for n in needs})
    free = _COMMENT.sub("", f"{title}\n{body or ''}")
    english: bool | None = None  # read once, and only if a need is looked for in free text
    missing: list[Need] = []
    unread: list[Need] = []
    for need in needs:
        section = found.get(_norm(need.label))
        if section is not None:
            if _is_empty(section, defaults.get(_norm(need.label), "")):
                missing.append(need)
        elif not _mentions(free, need):
            english = reads_as_english(free) if english is None else english
            (missing if english else unread).append(need)
    return tuple(missing), tuple(unread)


# Short words nearly every sentence has, in English and in the languages other than English that
# issues are most often written in (German, Spanish, French, Portuguese, Italian, Dutch). Words
# that are also English or common in code are left out (`die`, `no`, `per`, `du`, `des`, `as`).
_ENGLISH_WORDS = frozenset(
    [
        "the",
        "and",
        "of",
        "to",
        "it",
        "this",
        "that",
        "with",
        "for",
        "not",
        "when",
        "you",
        "we",
        "my",
        "but",
        "have",
        "has",
        "does",
        "can",
        "are",
        "be",
        "should",
        "would",
        "could",
        "what",
        "which",
        "there",
        "been",
        "from",
        "they",
        "their",
        "will",
        "after",
        "before",
    ]
)
_OTHER_LANGUAGES = {
    "de": "und ich nicht der das ist ein eine einen mit wenn auf wird sich auch bei dem den oder "
    "aber wie noch nach habe kann",
    "es": "el la los las que una por para con cuando pero del como esta está también",
    "fr": "le les est une pour avec dans pas je sur mais qui cette quand être",
    "pt": "não uma com quando mas está são também",
    "it": "il che non della sono gli questo quando",
    "nl": "het een niet van ik dat met voor maar zijn wordt wanneer",
}
_OTHER_WORDS = frozenset(w for words in _OTHER_LANGUAGES.values() for w in words.split())
_CODE = re.compile(
    r"```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)|`[^`\n]*`|https?://\S+|^(?: {4}|\t)[^\n]*", re.S | re.M
)


def reads_as_english(text: str) -> bool:
    """Whether a report's prose (code, logs and links aside) may be English, as far as the
    words triage looks for go. Not: letters mostly of another script, or at least three of
    another language's common short words and more than twice the English ones. Terse reports
    (form fields, one-liners) with neither read as English, as before."""
    prose = _CODE.sub(" ", text or "")
    letters = [ch for ch in prose if ch.isalpha()]
    if sum(not ch.isascii() for ch in letters) > len(letters) * 0.3:
        return False  # Chinese, Japanese, Cyrillic, ... (a word there can be a whole sentence)
    words = [w.lower() for w in re.findall(r"[^\W\d_]+", prose)]
    other = sum(w in _OTHER_WORDS for w in words)
    return other < 3 or other <= 2 * sum(w in _ENGLISH_WORDS for w in words)


def _is_empty(section: str, default: str) -> bool:
    """No text, GitHub's "_No response_", or the template's own text left untouched: compared
    with line endings and runs of whitespace alike (the web form sends `\r\n`)."""
    text, default = _squash(section), _squash(default)
    return not text or text.lower() == NO_RESPONSE or (bool(default) and text == default)


def _squash(text: str) -> str:
    return " ".join(text.split())


def _mentions(text: str, need: Need) -> bool:
    if not need.patterns:  # a template field we know nothing about: its words must appear
        words = [w for w in need.key.split() if len(w) > 3]
        return bool(words) and all(w in text.lower() for w in words)
    return any(re.search(p, text, re.I | re.M) for p in need.patterns)
