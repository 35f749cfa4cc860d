"""broker_status (doctor's broker line, /healthz's broker check) reaches the broker's database."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.cli.doctor import _broker
from bot.cli.service import _within, broker_status
from bot.settings import load_settings


def test_the_embedded_default_is_ok_and_quick(tmp_path: Path) -> None:
    settings = load_settings(env="test", data_dir=tmp_path)
    assert broker_status(settings) == (True, "ok")
    started = time.monotonic()
    assert broker_status(settings) == (True, "ok")
    assert time.monotonic() - started < 0.5  # /healthz asks it every time


@pytest.mark.parametrize(
    ("where", "error"),
    [
        ("file-in-the-way/broker.sqlite", "FileExistsError"),
        ("a-directory", "OperationalError"),
        ("postgres", "OperationalError: (psycopg.OperationalError) connection failed"),
    ],
)
def test_a_sqla_broker_whose_database_is_unusable_is_not_ok(
    tmp_path: Path, where: str, error: str
) -> None:
    (tmp_path / "file-in-the-way").write_text("")
    (tmp_path / "a-directory").mkdir()
    url = (
        "sqla+postgresql://smolbot:pw@127.0.0.1:1/smolbot"  # nothing listens on port 1
        if where == "postgres"
        else f"sqla+sqlite:///{tmp_path / where}"
    )
    settings = load_settings(env="test", data_dir=tmp_path / "data", broker_url=url)
    ok, detail = broker_status(settings)
    assert not ok and detail.startswith(error), detail
    assert "\n" not in detail
    ok, line = _broker(settings)
    assert not ok and "fix SMOLBOT_BROKER_URL" in line and "pw@" not in line


def test_a_database_that_never_answers_is_given_up_on() -> None:
    started = time.monotonic()
    with pytest.raises(TimeoutError, match=r"did not answer in 0\.2 s"):
        _within(0.2, lambda: time.sleep(5))
    assert time.monotonic() - started < 2


def test_a_probe_error_is_raised_as_it_was() -> None:
    def refuse() -> None:
        raise ConnectionRefusedError("no")

    with pytest.raises(ConnectionRefusedError):
        _within(1, refuse)


@pytest.mark.parametrize(
    "url",
    ["redis://:Xk9/Qp2zz@127.0.0.1:6379/0", "amqp://guest:Xk9/Qp2zz@127.0.0.1:5672//"],
)
def test_a_password_with_a_slash_is_not_quoted_by_the_broker_s_error(
    tmp_path: Path, url: str
) -> None:
    """An unencoded `/` in the password: kombu took the piece before it for the port and said
    "Port could not be cast to integer value as 'Xk9'", in doctor and in the open /healthz."""
    ok, detail = broker_status(load_settings(env="test", data_dir=tmp_path, broker_url=url))
    assert not ok and "Xk9" not in detail and "Qp2zz" not in detail, detail
    assert "***" in detail
