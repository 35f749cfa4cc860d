"""Settings: every knob smolbot reads, from SMOLBOT_* variables and an optional .env file."""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

DEFAULT_MODEL_FILE = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "xxx", "placeholder"}
# what a JSON-valued setting looks like, for the message when its text is not JSON
JSON_EXAMPLES = {
    "worker_concurrency": '{"fast": 4, "model": 1, "sweep": 1}',
    "job_modules": '["mypackage.jobs"]',
    "thresholds": '{"triage": 0.6, "summary": 0.5}',
}
MIN_DASHBOARD_TOKEN = 20  # characters, in production
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DATABASE_SCHEMES = ("sqlite:///", "postgresql://", "postgres://")  # what open_store opens
# broker transports checked without importing kombu (the others: kombu.transport.resolve_transport)
BROKER_TRANSPORTS = ("sqla", "redis", "rediss", "amqp", "amqps", "pyamqp", "memory", "filesystem")
# The confidence each model task must reach before its answer is acted on without escalating
# (the names the code asks the model layer by); SMOLBOT_THRESHOLDS overrides any of them.
DEFAULT_THRESHOLDS = {"triage": 0.6, "summary": 0.5, "comment": 0.5, "commit": 0.5, "digest": 0.5}
DEFAULT_THRESHOLD = 0.5  # a task asked by a name not above (tests and extensions)


def default_data_dir() -> Path:
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "smolbot"


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable and what it expects."""


class Settings(BaseSettings):
    """All configuration. Built by get_settings(), never at import time."""

    model_config = SettingsConfigDict(
        env_prefix="SMOLBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(default_factory=default_data_dir)
    log_level: str = "INFO"  # upper case once validated: what logging, Celery and uvicorn share

    # GitHub App
    app_id: int | None = None
    private_key: SecretStr | None = None  # PEM text, or a path to a PEM file
    webhook_secret: SecretStr | None = None
    # while the App's webhook secret is rotated: the old one, also accepted until it is unset
    webhook_secret_previous: SecretStr | None = None
    github_api_url: str = "https://api.github.com"
    bot_login: str = "smolbot[bot]"
    token_refresh_margin_s: int = Field(default=300, ge=0, le=3000)
    github_timeout_s: float = Field(default=15.0, gt=0)
    write_interval_s: float = Field(default=1.0, ge=0)  # secondary limits: writes >= 1 s apart

    # queue and store
    broker_url: str | None = None  # default: SQLAlchemy transport on SQLite in data_dir
    database_url: str | None = None  # default: SQLite file in data_dir
    max_body_bytes: int = Field(default=25 * 1024 * 1024, gt=0)
    # the webhook's local spool (data_dir/spool): deliveries that came while the store could not
    # take them, recorded once it can; past this size such deliveries are answered 503
    spool_max_bytes: int = Field(default=512 * 1024 * 1024, ge=0)
    recovery_after_s: int = Field(default=600, gt=0)  # re-enqueue deliveries stuck this long
    task_max_retries: int = Field(default=8, ge=0)
    sweep_hour_utc: int = Field(default=6, ge=0, le=23)  # the daily lifecycle sweep
    # finished deliveries' payloads and cached model answers older than this are dropped daily
    retention_days: int = Field(default=30, ge=1)
    retry_base_s: float = Field(default=10.0, gt=0)  # first backoff after a GitHub 5xx
    # a queued backfill lists this many pages of 100 issues a job, then queues the rest; measured
    # with 1,500 real issues (bench/backfill.py --real), an issue opened meanwhile under `serve`
    # waited 16 s at 5 pages (28 s at 10, 10 s at 3) for 1.04x the backfill's time (1.02x, 1.05x)
    backfill_pages_per_part: int = Field(default=5, ge=1)
    # worker processes per queue: `smolbot worker -Q model` runs worker_concurrency["model"]
    worker_concurrency: dict[str, int] = Field(
        default_factory=lambda: {"fast": 2, "model": 1, "sweep": 1}
    )
    job_modules: list[str] = Field(default_factory=list)  # extra modules registering model jobs

    # web
    host: str = "127.0.0.1"
    # addresses (or networks) of the proxies in front of web whose X-Forwarded-For names the
    # client: the dashboard's sign-in throttle is per client, not per proxy
    trusted_proxies: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    dashboard_token: SecretStr | None = None

    # local model
    model_path: Path | None = None  # default: data_dir/models/DEFAULT_MODEL_FILE
    model_backend: Literal["gpt4all", "llama"] = "gpt4all"
    model_threads: int = Field(default=2, ge=1, le=256)
    model_context: int = Field(default=4096, ge=512)
    # triage's second local stage (bot/llm/reader.py): the local model reads the issues the first
    # stage is unsure of (~1 s each) before anything escalates; needs the llama extra
    triage_reader: bool = False

    # large model (escalation)
    large_provider: Literal["none", "openai", "anthropic"] = "none"
    large_model: str = ""
    large_base_url: str | None = None
    large_api_key: SecretStr | None = None
    large_timeout_s: float = Field(default=60.0, gt=0)
    large_max_retries: int = Field(default=2, ge=0, le=10)
    large_daily_budget: int = Field(default=200, ge=0)
    large_for_commits: bool = False

    # per-task confidence thresholds below which a task escalates; SMOLBOT_THRESHOLDS names the
    # ones it changes, the others keep these
    thresholds: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))

    @field_validator("github_api_url", "large_base_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if not v.startswith(("http://", "https://")):
            raise ValueError("an http:// or https:// URL")
        return v.rstrip("/")

    @field_validator("data_dir", "model_path")
    @classmethod
    def _home(cls, v: Path | None) -> Path | None:
        # `~/smolbot` in a .env file, a systemd EnvironmentFile or compose: no shell expands it
        # there, and a directory named `~` was made under the working directory
        return v.expanduser() if v is not None else v

    @field_validator("webhook_secret", "webhook_secret_previous", "private_key", "dashboard_token")
    @classmethod
    def _blank_is_unset(cls, v: SecretStr | None) -> SecretStr | None:
        # `SMOLBOT_WEBHOOK_SECRET=` in an env file: not set (an empty secret passed every check
        # that asked `is None`, and the webhook then took unsigned deliveries)
        return v if v is None or v.get_secret_value().strip() else None

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, v: str) -> str:
        """Each entry an address or a network (uvicorn takes any text and trusts nothing for a
        typo, said nowhere), or `*` for any."""
        import ipaddress

        for entry in (e.strip() for e in v.split(",")):
            if entry == "*":
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"addresses or networks, comma-separated (e.g. 10.0.0.0/8,127.0.0.1), or *;"
                    f" not {entry!r}"
                ) from None
        return v

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, v: str) -> str:
        if v.strip().upper() not in LOG_LEVELS:
            raise ValueError(f"one of {', '.join(LOG_LEVELS)} (any case)")
        return v.strip().upper()

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, v: str | None) -> str | None:
        # anything else with a scheme was taken for a relative SQLite path (a directory named
        # after the URL, password included, and a store nobody else reads)
        if v is None or "://" not in v or v.startswith(DATABASE_SCHEMES):
            return v
        scheme = v.split("://", 1)[0]
        raise ValueError(
            f"a file path, sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DB, not a {scheme}:// URL"
        )

    @field_validator("broker_url")
    @classmethod
    def _broker_url(cls, v: str | None) -> str | None:
        # a scheme kombu has no transport for (the store's sqlite:// or postgresql:// copied)
        # ended `smolbot worker`, and the web's first publish, in KeyError 'No such transport'
        if v is None or not v.strip():  # blank (an env file's NAME=, compose's ${VAR:-}): default
            return None
        v = v.strip()
        scheme = v.split("://", 1)[0] if "://" in v else ""
        # kombu takes a transport+ prefix as it is spelled, and a plain scheme lower-cased
        transport = scheme.split("+", 1)[0] if "+" in scheme else scheme.lower()
        if transport and _broker_transport_known(transport):
            return v
        store_form = scheme.lower() in ("sqlite", "postgresql", "postgres")  # the store's form
        raise ValueError(
            "a broker URL: sqla+sqlite:///PATH, sqla+postgresql://USER:PASSWORD@HOST:PORT/DB,"
            " redis://HOST:6379/0 or amqp://USER:PASSWORD@HOST:5672/VHOST, not "
            + (f"a {scheme}:// URL" if scheme else "text without a scheme://")
            + ("; the broker's form of a store URL has sqla+ in front" if store_form else "")
        )

    @field_validator("worker_concurrency")
    @classmethod
    def _concurrency(cls, v: dict[str, int]) -> dict[str, int]:
        for queue, n in v.items():
            if queue not in ("fast", "model", "sweep") or not 1 <= n <= 64:
                raise ValueError(
                    'a JSON object of queue (fast, model, sweep) to 1..64, e.g. {"fast": 4}'
                )
        return v

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, v: dict[str, float]) -> dict[str, float]:
        """Over the defaults: `{"summary": 0.7}` leaves triage at 0.6 (it took all the others
        to 0.5); a task name nothing asks (a typo) is refused, not ignored."""
        unknown = sorted(set(v) - set(DEFAULT_THRESHOLDS))
        if unknown:
            raise ValueError(
                f"task names among {', '.join(DEFAULT_THRESHOLDS)}, not"
                f" {', '.join(map(repr, unknown))}"
            )
        for task, t in v.items():
            if not 0.0 <= t <= 1.0:
                raise ValueError(f"a number between 0 and 1 for {task!r}")
        return {**DEFAULT_THRESHOLDS, **v}

    @model_validator(mode="after")
    def _no_placeholder_secrets(self) -> Settings:
        if self.env == "production":
            for name in (
                "webhook_secret",
                "webhook_secret_previous",
                "private_key",
                "dashboard_token",
            ):
                value = getattr(self, name)
                said = value.get_secret_value().lower() if value is not None else ""
                if said in PLACEHOLDER_SECRETS or said.startswith("replace-with"):  # deploy/'s
                    raise ValueError(f"SMOLBOT_{name.upper()} is a placeholder; set a real secret")
            if self.write_interval_s < 0.75:  # 60 / 80: GitHub takes 80 creations a minute
                raise ValueError(
                    "SMOLBOT_WRITE_INTERVAL_S under 0.75 s breaks GitHub's 80 content-creating"
                    " requests a minute; keep the default 1"
                )
            token = self.dashboard_token
            if token is not None and len(token.get_secret_value()) < MIN_DASHBOARD_TOKEN:
                raise ValueError(
                    f"SMOLBOT_DASHBOARD_TOKEN is shorter than {MIN_DASHBOARD_TOKEN} characters,"
                    " too easy to guess on a public dashboard; make one with"
                    ' `python -c "import secrets; print(secrets.token_urlsafe(32))"`'
                )
        return self

    @model_validator(mode="after")
    def _large_model_named(self) -> Settings:
        # a provider without a model was ignored: escalation off, and nothing said so
        if self.large_provider != "none" and not self.large_model.strip():
            raise ValueError(
                f"SMOLBOT_LARGE_MODEL is not set: SMOLBOT_LARGE_PROVIDER={self.large_provider}"
                " needs the name of the model to call, as the provider or server knows it"
                " (or set SMOLBOT_LARGE_PROVIDER=none)"
            )
        return self

    # derived values -------------------------------------------------------------------
    @property
    def db_path(self) -> Path:
        return self.data_dir / "smolbot.db"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.db_path}"

    @property
    def effective_broker_url(self) -> str:
        return self.broker_url or f"sqla+sqlite:///{self.data_dir / 'broker.sqlite'}"

    @property
    def effective_model_path(self) -> Path:
        return self.model_path or self.data_dir / "models" / DEFAULT_MODEL_FILE

    def threshold(self, task: str) -> float:
        return self.thresholds.get(task, DEFAULT_THRESHOLD)

    def to_env(self) -> dict[str, str]:
        """These settings as SMOLBOT_* variables, to hand to a child process."""
        env: dict[str, str] = {}
        for name, value in self.model_dump(exclude_none=True).items():
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            env[f"SMOLBOT_{name.upper()}"] = (
                json.dumps(value) if isinstance(value, dict | list) else str(value)
            )
        return env

    def private_key_pem(self) -> str | None:
        """The App's private key as PEM text, read from the file when the setting is a path."""
        if self.private_key is None:
            return None
        raw = self.private_key.get_secret_value().strip()
        if len(raw) > 1 and raw[0] == raw[-1] and raw[0] in "'\"":
            raw = raw[1:-1].strip()  # quotes kept by `docker --env-file` or a systemd file
        if raw.startswith("-----BEGIN") and "\n" not in raw and "\\n" in raw:
            raw = raw.replace("\\n", "\n")  # one line, `\n` for each line break (a CI secret)
        if raw.startswith("-----BEGIN"):
            return raw + "\n"
        if "\n" in raw or "-----" in raw or len(raw) > 1024:
            # key text, not a path: never echoed (it may be the key without its first line)
            raise SettingsError(
                "SMOLBOT_PRIVATE_KEY: this looks like key text but is not PEM: it must start"
                " with -----BEGIN (the whole .pem file GitHub generated), or be that file's path"
            )
        path = Path(raw).expanduser()
        if not path.is_file():
            raise SettingsError(
                f"SMOLBOT_PRIVATE_KEY: expected PEM text or the path of a PEM file; {path} does not exist"
            )
        return path.read_text()


def _broker_transport_known(name: str) -> bool:
    if name in BROKER_TRANSPORTS:
        return True
    from kombu.transport import resolve_transport

    try:
        resolve_transport(name)
    except KeyError:  # "No such transport"
        return False
    except Exception:  # a transport kombu has that fails to load here (its library missing: an
        return True  # ImportError, or confluentkafka's NameError): kombu says so when it is used
    return True


def _explain(err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        field = ".".join(str(p) for p in e["loc"]) or "settings"
        name = f"SMOLBOT_{field.upper()}" if e["loc"] else "settings"
        got = e.get("input")
        shown = (
            ""
            if isinstance(got, dict)
            or field in {"private_key", "database_url", "broker_url"}
            or field.startswith("webhook_secret")
            else f" (got {got!r})"
        )
        msg = e["msg"].removeprefix("Value error, ")
        if not e["loc"]:  # a rule across settings: its message names the variables
            lines.append(msg)
            continue
        if e["type"] in ("dict_type", "list_type") and field in JSON_EXAMPLES:
            msg = f"JSON, e.g. {JSON_EXAMPLES[field]}"  # valid JSON, but a number or a string
        lines.append(
            f"{name}: expected {msg}{shown}" if "expected" not in msg else f"{name}: {msg}"
        )
    return "; ".join(lines)


def _explain_source(err: SourceError) -> str:
    """pydantic-settings' own error: a dict or list setting whose text is not JSON."""
    found = re.search(r'field "(\w+)"', str(err))
    if found is None:
        return str(err)
    field = found.group(1)
    where = " (in .env)" if "DotEnv" in str(err) else ""
    example = JSON_EXAMPLES.get(field)
    return f"SMOLBOT_{field.upper()}{where}: expected JSON" + (
        f", e.g. {example}" if example else ""
    )


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment (and overrides); raise SettingsError in one line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as err:
        raise SettingsError(_explain(err)) from None
    except SourceError as err:
        raise SettingsError(_explain_source(err)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
