"""Settings: what a malformed SMOLBOT_* variable says (one line naming it), and what is accepted."""

from __future__ import annotations

import os
from pathlib import Path
from typing import get_origin

import pytest

from bot.settings import JSON_EXAMPLES, Settings, SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No SMOLBOT_* variable or .env file of the machine running the tests reaches these."""
    for name in list(os.environ):
        if name.startswith("SMOLBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(
    "url",
    [
        "/var/lib/smolbot/smolbot.db",
        "relative.db",
        ":memory:",
        "sqlite:////var/lib/smolbot/smolbot.db",
        "postgresql://smolbot:pw@db:5432/smolbot",
        "postgres://smolbot@db/smolbot",
    ],
)
def test_database_url_forms_the_store_opens_are_accepted(url: str) -> None:
    assert load_settings(env="test", database_url=url).effective_database_url == url


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://u:S3CRET@h:5432/db",
        "mysql://u:S3CRET@h:5432/db",
        "sqlite://relative.db",
    ],
)
def test_other_database_urls_are_refused_without_showing_the_password(url: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(env="test", database_url=url)
    msg = str(err.value)
    assert msg.startswith("SMOLBOT_DATABASE_URL: expected")
    assert "sqlite:///PATH" in msg and "postgresql://" in msg
    assert "S3CRET" not in msg


@pytest.mark.parametrize(
    "url",
    [
        "sqla+sqlite:////var/lib/smolbot/broker.sqlite",
        "sqla+postgresql://smolbot:pw@db:5432/smolbot",
        "redis://redis:6379/0",
        "rediss://:pw@redis:6380/0",
        "amqp://smolbot:pw@rabbit:5672/smolbot",
        "memory://",
    ],
)
def test_broker_urls_kombu_knows_are_accepted(url: str) -> None:
    assert load_settings(env="test", broker_url=url).effective_broker_url == url


@pytest.mark.parametrize("blank", ["", "  "])
def test_a_blank_broker_url_means_the_embedded_broker(
    blank: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`SMOLBOT_BROKER_URL=` (an env file, compose's ${VAR:-}) was refused by every command."""
    monkeypatch.setenv("SMOLBOT_BROKER_URL", blank)
    s = load_settings(env="test", data_dir=tmp_path)
    assert s.broker_url is None
    assert s.effective_broker_url == f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("REDIS://redis:6379/0", "REDIS://redis:6379/0"),  # kombu lower-cases the scheme
        ("Amqp://u:p@rabbit:5672/v", "Amqp://u:p@rabbit:5672/v"),
        (" redis://redis:6379/0\n", "redis://redis:6379/0"),  # space around it, as pasted
    ],
)
def test_broker_urls_that_connected_before_the_check_are_still_accepted(
    url: str, kept: str
) -> None:
    assert load_settings(env="test", broker_url=url).effective_broker_url == kept


def test_a_transport_that_fails_to_load_otherwise_is_left_to_say_so_when_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """kombu's confluentkafka transport raises NameError without its library: the check let it
    out of load_settings, a traceback from every command (web, doctor)."""
    url = "confluentkafka://kafka:9092"
    assert load_settings(env="test", broker_url=url).effective_broker_url == url

    import kombu.transport

    def broken(name: str) -> None:
        raise RuntimeError(f"{name} broke on import")

    monkeypatch.setattr(kombu.transport, "resolve_transport", broken)
    url = "sometransport://h:1"
    assert load_settings(env="test", broker_url=url).effective_broker_url == url


@pytest.mark.parametrize(
    ("url", "suggested"),
    [
        ("sqlite:////var/lib/smolbot/broker.sqlite", "sqla+sqlite:///"),  # the store's form
        ("postgresql://u:S3CRET@db:5432/smolbot", "sqla+postgresql://"),  # the store's URL copied
        ("reddis://:S3CRET@redis:6379/0", "redis://"),
        ("redis:6379", "redis://"),
        ("SQLA+sqlite:////var/lib/smolbot/b.sqlite", "sqla+sqlite:///"),  # kombu: No such transport
    ],
)
def test_a_broker_url_kombu_has_no_transport_for_is_said_in_one_line(
    url: str, suggested: str
) -> None:
    """It used to end `smolbot worker` (and the web's first publish) in an 89-line traceback,
    KeyError 'No such transport'."""
    with pytest.raises(SettingsError) as err:
        load_settings(env="test", broker_url=url)
    msg = str(err.value)
    assert msg.startswith("SMOLBOT_BROKER_URL: expected") and "\n" not in msg
    assert suggested in msg
    assert "S3CRET" not in msg


@pytest.mark.parametrize(
    ("name", "text", "example"),
    [
        ("SMOLBOT_THRESHOLDS", "notjson", '{"triage": 0.6'),
        ("SMOLBOT_JOB_MODULES", "foo", '["'),
        ("SMOLBOT_WORKER_CONCURRENCY", "{fast: 4}", '{"fast": 4'),
        ("SMOLBOT_WORKER_CONCURRENCY", "4", '{"fast": 4'),  # JSON, but not an object
    ],
)
def test_a_json_setting_that_is_not_json_is_one_line_with_an_example(
    monkeypatch: pytest.MonkeyPatch, name: str, text: str, example: str
) -> None:
    monkeypatch.setenv(name, text)
    with pytest.raises(SettingsError) as err:
        load_settings(env="test")
    assert str(err.value).startswith(f"{name}: expected JSON, e.g. {example}")


def test_a_json_setting_in_the_env_file_says_so(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SMOLBOT_THRESHOLDS={triage: 0.6}\n")
    with pytest.raises(SettingsError, match=r"^SMOLBOT_THRESHOLDS \(in \.env\): expected JSON"):
        load_settings(env="test")


def test_every_json_setting_has_an_example() -> None:
    complex_fields = {
        name
        for name, field in Settings.model_fields.items()
        if get_origin(field.annotation) in (dict, list)
    }
    assert complex_fields == set(JSON_EXAMPLES)


@pytest.mark.parametrize(("text", "level"), [("debug", "DEBUG"), ("Warning", "WARNING")])
def test_log_levels_are_read_in_any_case(text: str, level: str) -> None:
    assert load_settings(env="test", log_level=text).log_level == level


def test_an_unknown_log_level_is_refused_before_uvicorn_meets_it() -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(env="test", log_level="verbose")
    assert str(err.value) == (
        "SMOLBOT_LOG_LEVEL: expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL (any case)"
        " (got 'verbose')"
    )


@pytest.mark.parametrize("token", ["a", "dash-Yh5JkP2sQd9Vw3"])  # 1 and 19 characters
def test_production_refuses_a_short_dashboard_token(token: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(env="production", dashboard_token=token)
    msg = str(err.value)
    assert msg.startswith("SMOLBOT_DASHBOARD_TOKEN is shorter than 20 characters")
    assert "secrets.token_urlsafe(32)" in msg and "Yh5JkP2sQd9Vw3" not in msg


def test_a_long_dashboard_token_or_none_is_fine_in_production() -> None:
    assert load_settings(env="production", dashboard_token="dash-Yh5JkP2sQd9Vw3Lm4").dashboard_token
    assert load_settings(env="production").dashboard_token is None  # sign-in off


def test_short_dashboard_tokens_stay_usable_outside_production() -> None:
    assert load_settings(env="test", dashboard_token="a").dashboard_token is not None


def test_the_deploy_example_s_values_are_placeholders_in_production() -> None:
    """deploy/smolbot.env.example copied unchanged would give a publicly known dashboard token."""
    example = (Path(__file__).parents[1] / "deploy" / "smolbot.env.example").read_text()
    values = dict(
        line.split("=", 1) for line in example.splitlines() if line.startswith("SMOLBOT_")
    )
    for name in ("SMOLBOT_DASHBOARD_TOKEN", "SMOLBOT_WEBHOOK_SECRET"):
        with pytest.raises(SettingsError, match=f"{name} is a placeholder"):
            load_settings(env="production", **{name.removeprefix("SMOLBOT_").lower(): values[name]})


def test_production_keeps_writes_within_github_s_80_a_minute() -> None:
    with pytest.raises(SettingsError, match=r"SMOLBOT_WRITE_INTERVAL_S under 0\.75 s"):
        load_settings(env="production", write_interval_s=0.5)
    assert load_settings(env="production", write_interval_s=0.75).write_interval_s == 0.75
    assert load_settings(env="test", write_interval_s=0).write_interval_s == 0  # tests: no wait


def test_thresholds_name_what_they_change_and_the_others_keep_their_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`{"summary": 0.7}` took triage from 0.6 to 0.5 (the whole object replaced the defaults,
    and an unnamed task fell back to 0.5)."""
    from bot.settings import DEFAULT_THRESHOLDS

    monkeypatch.setenv("SMOLBOT_THRESHOLDS", '{"summary": 0.7}')
    s = load_settings(env="test")
    assert s.threshold("summary") == 0.7 and s.threshold("triage") == DEFAULT_THRESHOLDS["triage"]
    assert s.thresholds == {**DEFAULT_THRESHOLDS, "summary": 0.7}
    monkeypatch.delenv("SMOLBOT_THRESHOLDS")
    assert load_settings(env="test", thresholds={}).thresholds == DEFAULT_THRESHOLDS


def test_a_threshold_for_a_task_nothing_asks_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMOLBOT_THRESHOLDS", '{"triag": 0.9}')  # a typo: was ignored
    with pytest.raises(SettingsError, match=r"^SMOLBOT_THRESHOLDS: .*not 'triag'"):
        load_settings(env="test")


def test_the_apps_key_is_read_as_the_usual_ways_of_passing_it_give_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In quotes (`docker --env-file` keeps them), or on one line with `\\n` for each line break
    (a CI secret): the PEM is read. Key text that is not PEM (its first line lost) is refused
    without being echoed: it was taken for a path and printed whole in the error."""
    from tests.fake_github.plugin import generate_keypair

    pem = generate_keypair().private_pem.strip()
    for given in (f'"{pem}"', f"'{pem}'", pem.replace("\n", "\\n")):
        monkeypatch.setenv("SMOLBOT_PRIVATE_KEY", given)
        assert load_settings(env="test").private_key_pem() == pem + "\n"
    body = pem.split("\n", 1)[1]  # the key without its -----BEGIN line
    for given in (body, body.replace("\n", "")):
        monkeypatch.setenv("SMOLBOT_PRIVATE_KEY", given)
        with pytest.raises(SettingsError) as err:
            load_settings(env="test").private_key_pem()
        assert "must start with -----BEGIN" in str(err.value)
        assert body.splitlines()[1] not in str(err.value)


def test_a_home_directory_in_a_path_setting_is_expanded(monkeypatch: pytest.MonkeyPatch) -> None:
    """No shell reads a .env file or a systemd EnvironmentFile: `~` reached the code as it is."""
    monkeypatch.setenv("SMOLBOT_DATA_DIR", "~/sbdata")
    monkeypatch.setenv("SMOLBOT_MODEL_PATH", "~/models/m.gguf")
    s = load_settings(env="test")
    assert s.data_dir == Path.home() / "sbdata"
    assert s.model_path == Path.home() / "models" / "m.gguf"
