"""Per-repository config (.github/smolbot.yml): validated, with gentle defaults."""

from __future__ import annotations

import codecs
from collections.abc import Hashable
from datetime import date
from enum import StrEnum
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

CONFIG_PATH = ".github/smolbot.yml"
# read where CONFIG_PATH is missing: the other extension YAML files take, once ignored silently (a
# maintainer's `dry_run: true` in it had no effect); CONFIG_PATH wins where both exist
CONFIG_PATH_YAML = ".github/smolbot.yaml"


class Kind(StrEnum):
    BUG = "bug"
    FEATURE = "feature"
    QUESTION = "question"
    DOCUMENTATION = "documentation"


# what PowerShell 5's `>` writes: UTF-16 with its byte-order mark
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
UTF16_HINT = "convert it first, e.g. `iconv -f utf-16 -t utf-8`"
LATIN1_HINT = "convert it first, e.g. `iconv -f latin1 -t utf-8`"
SAVE_AS_UTF8 = "save the file as UTF-8"


def utf8_text(data: bytes, what: str, fix: str | None = None) -> str:
    """A file's or a line's bytes as UTF-8 text (a byte-order mark allowed), or UTF-16 after its
    byte-order mark, or a ValueError that says where it is not and what to do (`fix`, else the
    iconv line to run): the CLI's input files and the repository's config file alike."""
    if data.startswith(UTF16_BOMS):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as err:
            raise ValueError(
                f"{what} starts as UTF-16 but is not UTF-16 throughout ({err.reason});"
                f" {fix or UTF16_HINT}"
            ) from None
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[bom:].decode("utf-8")  # utf-8-sig puts an error past its BOM at the wrong byte
    except UnicodeDecodeError as err:
        at = bom + err.start
        raise ValueError(
            f"{what} is not UTF-8 (byte 0x{data[at]:02x} at position {at}); {fix or LATIN1_HINT}"
        ) from None


def file_text(data: bytes) -> str:
    """A repository file's text as utf8_text reads it. Bytes it cannot read are kept as lone
    surrogates (PEP 383: undone losslessly) for read_yaml to refuse, saying where: decoded with
    replacement characters, a Latin-1 `exempt_labels: [sécurité]` was read as a valid file
    whose label matches nothing."""
    try:
        return utf8_text(data, "the file")
    except ValueError:
        return data.decode("utf-8", errors="surrogateescape")


def undecoded(text: str, path: str = CONFIG_PATH) -> str | None:
    """Why `text` (from file_text) holds bytes that are not text, or None when it is text."""
    try:
        text.encode("utf-8")
        return None
    except UnicodeEncodeError:
        pass
    try:
        utf8_text(text.encode("utf-8", errors="surrogateescape"), path, SAVE_AS_UTF8)
    except UnicodeEncodeError:  # a surrogate file_text did not make
        pass
    except ValueError as err:
        return str(err)
    return f"{path} is not UTF-8 text: {SAVE_AS_UTF8}"


def _not_a_bool(value: Any) -> Any:
    """YAML reads yes, no, on and off as booleans, and pydantic takes a boolean as a number (1
    or 0): `digest: pinned_issue: yes` rewrote issue #1 with the digest."""
    if isinstance(value, bool):
        raise ValueError(
            f"expected a number, not {str(value).lower()} (YAML reads yes, no, on and off as"
            " true or false)"
        )
    return value


def _is_number(annotation: Any) -> bool:
    """An int or a float setting, or one that may also be None."""
    if annotation in (int, float):
        return True
    return get_origin(annotation) in (Union, UnionType) and any(
        _is_number(a) for a in get_args(annotation)
    )


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_a_number(cls, value: Any, info: ValidationInfo) -> Any:
        """Every number setting of every section, those added later too, refuses a boolean."""
        field = cls.model_fields.get(info.field_name or "")
        return _not_a_bool(value) if field is not None and _is_number(field.annotation) else value

    @model_validator(mode="before")
    @classmethod
    def _empty_means_default(cls, data: Any) -> Any:
        """A setting left empty (`key:` with nothing after it, or only comments under it: YAML's
        null) is the setting's default, not an error that drops the whole file: a section its
        defaults, a list or a mapping its default (`[]` or `{}` empties one), a number its
        default. A value of the wrong type is still refused, with the setting named, and so is
        an unknown key left empty (`treshold:`): it is a typo all the same."""
        if not isinstance(data, dict):
            return data
        known = cls.model_fields
        return {k: v for k, v in data.items() if v is not None or k not in known}


MAX_LABEL_CHARS = 50  # GitHub's: "name is too long (maximum is 50 characters)"


def _label_name(value: str) -> str:
    """An empty label name, or one longer than GitHub allows, would be sent to GitHub (a 422 on
    every triage, the delivery parked) or match nothing."""
    if not value.strip():
        raise ValueError("a label name cannot be empty: write the label's name, or leave it out")
    if len(value) > MAX_LABEL_CHARS:
        raise ValueError(
            f"a label name is at most {MAX_LABEL_CHARS} characters on GitHub ({len(value)} here):"
            " shorten it"
        )
    return value


Label = Annotated[str, AfterValidator(_label_name)]
MAX_WEIGHT = 1_000_000.0  # far past any ranking; a larger one would only overflow its sums
Weight = Annotated[float, BeforeValidator(_not_a_bool), Field(ge=-MAX_WEIGHT, le=MAX_WEIGHT)]


class TriageConfig(Strict):
    enabled: bool = True
    label_map: dict[Kind, Label] = Field(default_factory=dict)  # kind -> repo label
    threshold: float | None = Field(default=None, ge=0, le=1)  # None: the installation default
    needs_triage_label: Label = "needs-triage"
    ask_for_missing_info: bool = True
    needs_info_label: Label = "needs-info"
    duplicates: bool = True
    # Measured on the Hadoop duplicate set: 0.45 shows 25 % of true duplicates in the top 3 with
    # 13 % false alarms (0.55: 16 % / 8 %). Advice only: closing needs a maintainer.
    duplicate_threshold: float = Field(default=0.45, ge=0, le=1)
    first_response: bool = False  # off by default

    @field_validator("label_map")
    @classmethod
    def _one_kind_per_label(cls, value: dict[Kind, str]) -> dict[Kind, str]:
        """Two kinds mapped to one label (as the bot compares labels: `Support` is `support`)
        would be accepted and then that label would name no kind: a maintainer's `support`
        would teach the classifier nothing, and nothing would say why."""
        from bot.core.labels import canon  # labels.py reads this module's Kind and RepoConfig

        seen: dict[str, Kind] = {}
        for kind, label in value.items():
            other = seen.setdefault(canon(label), kind)
            if other is kind:
                continue
            if value[other] == label:
                said = f"the label {label!r}"
            else:
                said = f"{value[other]!r} and {label!r}, one label as smolbot compares labels"
            raise ValueError(
                f"{other.value} and {kind.value} are both mapped to {said}: a label stands for"
                " one kind only (an issue labelled so would teach neither); map one of them to"
                " another label"
            )
        return value


# Upper bounds: a number past any use is refused with the field named, not kept until a date
# sum overflows (Python's dates end in 9999, about 2.9 million days from now) or a store's
# integer does. Generous: 9999 or 36500 days, written to mean "never", are kept.
MAX_DAYS = 1_000_000  # ping and close together stay well inside the calendar
MAX_COUNT = 1_000_000
MAX_ISSUE = 999_999_999  # as `/smolbot duplicate #N` reads it


class LifecycleConfig(Strict):
    enabled: bool = True
    days_until_ping: int = Field(default=14, ge=1, le=MAX_DAYS)
    days_until_close: int = Field(default=14, ge=1, le=MAX_DAYS)  # after the ping, unanswered
    close: bool = False  # closing is opt-in: only an explicit `lifecycle: close: true` closes
    exempt_labels: tuple[Label, ...] = ("pinned", "security", "help wanted", "good first issue")
    only_labels: tuple[Label, ...] = ()
    exempt_assigned: bool = True
    exempt_milestones: bool = True
    start_date: date | None = None
    max_operations_per_run: int = Field(default=30, ge=0, le=MAX_COUNT)


class SummaryConfig(Strict):
    enabled: bool = True
    auto_after_comments: int = Field(default=20, ge=2, le=MAX_COUNT)


# The digest's ranking weights (bot/core/ranking.py); `digest.weights` overrides them by name.
DEFAULT_WEIGHTS: dict[str, float] = {
    "security": 100.0,  # per issue labeled security: these come first
    "regression": 50.0,  # per issue labeled regression: then these
    "reactions": 1.0,  # per reaction on the issue
    "duplicates": 4.0,  # per issue closed as its duplicate
    "comments": 0.5,  # per comment in the window
    "participants": 1.0,  # per distinct person in the thread (author, commenters, dupes' authors)
    "new": 3.0,  # opened in the window
    "waiting_days": 0.5,  # per day waiting on a maintainer (capped at MAX_WAIT_DAYS)
}


class DigestConfig(Strict):
    enabled: bool = True
    weekday: int = Field(default=0, ge=0, le=6)  # Monday
    hour: int = Field(default=8, ge=0, le=23)
    timezone: str = "UTC"
    top: int = Field(default=10, ge=1, le=100)
    label: Label = "digest"
    pinned_issue: int | None = Field(default=None, ge=1, le=MAX_ISSUE)
    weights: dict[str, Weight] = Field(default_factory=dict)

    @field_validator("weights")
    @classmethod
    def _known_weights(cls, value: dict[str, float]) -> dict[str, float]:
        """A misspelt weight is a config error, as any unknown key is: ignored, it would leave
        the ranking as it was with nothing said."""
        unknown = sorted(set(value) - set(DEFAULT_WEIGHTS))
        if unknown:
            raise ValueError(
                f"unknown weight {', '.join(map(repr, unknown))}: the weights are"
                f" {', '.join(DEFAULT_WEIGHTS)}"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        """An unknown zone is a config error (said in the config-error issue), not a digest
        that fails every hour."""
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}: use an IANA name such as UTC or Europe/Berlin"
            ) from None
        return value


class RepoConfig(Strict):
    """The whole file. A repository with no file runs in dry-run for destructive features."""

    dry_run: bool = False
    exempt_labels: tuple[Label, ...] = ()
    triage: TriageConfig = TriageConfig()
    lifecycle: LifecycleConfig = LifecycleConfig()
    summaries: SummaryConfig = SummaryConfig()
    digest: DigestConfig = DigestConfig()
    from_file: bool = Field(default=False, exclude=True)


class ConfigError(ValueError):
    """The config file is invalid; str() explains where and how, for the issue the bot opens."""


def default_config() -> RepoConfig:
    """No file: everything that only advises is on; closing is dry-run until the repo opts in."""
    return RepoConfig()


# Anchors, aliases and merge keys (`<<: *defaults`) are read, within budgets far past any
# smolbot.yml: PyYAML before 6.0.4 copied the keys of nested merges again at every level (488
# bytes of `<<: [*a, *a, ...]` seven levels deep took 11 s and 275 MB, nine ran out of memory),
# and anything that walks what PyYAML built would meet a plain alias bomb the same way.
MAX_ALIASES = 100  # `*name` uses in one file
MAX_MERGED_KEYS = 1_000  # keys that merge keys bring in, counted as if each merge were copied


class _Loader(yaml.SafeLoader):
    """YAML as the config reads it: a key given twice (PyYAML keeps the last value, so a
    `dry_run: false` further down would silently undo a `dry_run: true`) or a value PyYAML
    cannot build (a date no calendar has, a number too long to convert) is an error that shows
    its line, and so is a file past the alias or merge budgets (MAX_ALIASES, MAX_MERGED_KEYS),
    whatever the installed PyYAML does with it."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._merged = 0
        self._sizes: dict[int, int] = {}  # id of a mapping node: its keys, merges expanded

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                problem = (
                    f"found more than {MAX_ALIASES} aliases (*name): smolbot.yml needs few if"
                    " any; write the settings out"
                )
                raise yaml.composer.ComposerError(None, None, problem, mark)
        return super().compose_node(parent, index)

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        """Counts the keys each merge brings in, nested merges expanded as PyYAML before 6.0.4
        copied them (whatever the installed one does), before PyYAML merges anything: the first
        merge past MAX_MERGED_KEYS in the file is an error, not minutes of work."""
        if id(node) not in self._sizes:
            size = 0
            for key_node, value_node in node.value:
                if key_node.tag != "tag:yaml.org,2002:merge":
                    size += 1
                    continue
                subs = (
                    value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                )
                for sub in subs:
                    if not isinstance(sub, yaml.MappingNode):
                        continue  # PyYAML says what it expected there
                    self.flatten_mapping(sub)
                    size += self._sizes[id(sub)]
                    self._merged += self._sizes[id(sub)]
                    if self._merged > MAX_MERGED_KEYS:
                        problem = (
                            f"found merge keys (<<) that bring in more than {MAX_MERGED_KEYS:,}"
                            " keys (nested merges count each time they are merged): write the"
                            " settings out instead"
                        )
                        raise yaml.constructor.ConstructorError(
                            "while merging a mapping", node.start_mark, problem, key_node.start_mark
                        )
            self._sizes[id(node)] = size
        super().flatten_mapping(node)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *x`: its keys may be overridden
                continue
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, Hashable) and key in first:
                problem = f"found the key {key!r} twice (first on line {first[key]})"
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping", node.start_mark, problem, key_node.start_mark
                )
            if isinstance(key, Hashable):
                first[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _shows_line(tag: str, what: str) -> None:
    build = _Loader.yaml_constructors[tag]

    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        try:
            return build(loader, node)
        except ValueError as err:
            problem = f"{str(node.value)[:40]!r} is not {what} ({str(err).split(';')[0]})"
            raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark) from None

    _Loader.add_constructor(tag, construct)


def _refuse_set(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    """A `!!set` has no order of its own (Python's is per process): the same file would give
    each worker its own error positions and config hash."""
    problem = "found a set (!!set), whose order is not kept: write a list instead"
    raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark)


_Loader.add_constructor("tag:yaml.org,2002:set", _refuse_set)
_shows_line("tag:yaml.org,2002:timestamp", "a date")
_shows_line("tag:yaml.org,2002:int", "a number smolbot can read")


MAX_FILE_BYTES = 256 * 1024  # PyYAML takes seconds a file past this; smolbot's settings fit in 2 KB


def read_yaml(text: str, path: str = CONFIG_PATH) -> Any:
    """The file's YAML, or ConfigError saying why it cannot be read (naming the file, `path`):
    any value PyYAML cannot build (a date typo, a number too long to convert, nesting past
    Python's stack, aliases or merges past their budgets) too, a file too large to read at
    every job (another tool's data, a generated file), and one that is not UTF-8 (file_text)."""
    size = len(text.encode("utf-8", errors="replace"))
    if size > MAX_FILE_BYTES:
        raise ConfigError(
            f"{path} is {size:,} bytes; smolbot reads at most {MAX_FILE_BYTES // 1024} KB:"
            " keep only smolbot's settings in it"
        )
    not_text = undecoded(text, path)
    if not_text is not None:
        raise ConfigError(not_text)
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as err:
        raise ConfigError(f"{path} is not valid YAML: {err}") from None
    except RecursionError:
        raise ConfigError(
            f"{path} is nested too deeply to read: use at most a few levels of lists and mappings"
        ) from None
    except ValueError as err:
        raise ConfigError(f"{path} could not be read: {err}") from None


MAX_LISTED = 20  # invalid settings named in the error; the count of the others follows


def parse_config(text: str, path: str = CONFIG_PATH) -> RepoConfig:
    return config_from(read_yaml(text, path), path)


def config_from(raw: Any, path: str = CONFIG_PATH) -> RepoConfig:
    """The config from the file's YAML (read_yaml), or ConfigError naming the invalid settings.
    Only an empty file (or one of comments only: YAML's null) means the defaults: `[]`, `false`,
    `0` or `''` is not a mapping of settings either."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must be a mapping of settings, not {type(raw).__name__}")
    try:
        cfg = RepoConfig.model_validate(raw)
    except ValidationError as err:
        errors = err.errors()
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:MAX_LISTED]
        )
        if len(errors) > MAX_LISTED:  # another tool's file: thousands of unknown keys
            problems += f"; and {len(errors) - MAX_LISTED} more"
        raise ConfigError(f"{path} has invalid settings: {problems}") from None
    return cfg.model_copy(update={"from_file": True})
