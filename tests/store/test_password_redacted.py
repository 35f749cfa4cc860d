"""`smolbot doctor` and the store's errors never print the database password.

_redact (bot/cli/service.py) split the URL at the first '?' before looking for the user info, so
a password pasted unescaped with a '?' in it (psycopg connects with it: password 'Pa55?word')
was printed whole on the ✓ store line. A password with a bad %-escape was echoed by psycopg's
own error, which doctor (and a traceback, a log) prints verbatim. Doctor output is what people
paste into issues."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from bot.cli.doctor import _store
from bot.cli.service import _redact
from bot.settings import load_settings
from bot.store import open_store


def _store_line(tmp_path: Path, url: str) -> str:
    settings = load_settings(env="test", data_dir=tmp_path, database_url=url)
    try:
        return _store(settings)[1]
    except Exception as err:  # doctor() prints f"{type(err).__name__}: {err}"
        return f"{type(err).__name__}: {err}"


def test_doctor_hides_a_password_with_a_question_mark(tmp_path: Path, pg_url: str) -> None:
    url = pg_url.replace("postgres@", "postgres:Pa55?word@")
    line = _store_line(tmp_path, url)
    assert "Pa55" not in line and "postgresql://***@127.0.0.1:5432/" in line, line


def test_doctor_hides_a_password_with_a_bad_percent_escape(tmp_path: Path, pg_url: str) -> None:
    url = pg_url.replace("postgres@", "postgres:Pa55%zzword@")
    line = _store_line(tmp_path, url)
    assert "Pa55" not in line and "percent-encoded" in line, line


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres:Pa55%zzword@127.0.0.1:5432/x",
        "postgresql://postgres@127.0.0.1:5432/x?password=Pa55%zzword",
        "postgresql://postgres:Pa55%41word@127.0.0.1:1/x",  # refused: no password in the text
    ],
)
def test_the_store_s_connection_error_does_not_quote_the_password(url: str) -> None:
    with pytest.raises(psycopg.Error) as caught:
        open_store(url)
    assert "Pa55" not in str(caught.value), caught.value


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql://u:Pa55?word@db:5432/bot?sslmode=require&password=Pa55",
            "postgresql://***@db:5432/bot?sslmode=require&password=***",
        ),
        ("postgresql://u:Pa55/w#rd@db/bot", "postgresql://***@db/bot"),
        ("amqp://u:Pa55?x@mq:5672//", "amqp://***@mq:5672//"),
        ("redis://:Pa55@@cache:6379/0", "redis://***@cache:6379/0"),
        ("sqlite:////srv/smolbot/smolbot.db", "sqlite:////srv/smolbot/smolbot.db"),
    ],
)
def test_a_printed_url_shows_no_password(url: str, shown: str) -> None:
    assert _redact(url) == shown
