"""`smolbot summarize --thread FILE`: half a character in the file, and a pull request's wait."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.lifecycle import summarize_cmd
from bot.core import summary as S
from bot.core.lifecycle import Thread
from bot.settings import get_settings
from tests.lifecycle.fakes import BOT, FakeGitHub, day
from tests.lifecycle.test_cli import COMMENTS, ISSUE


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMOLBOT_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()


def _run(tmp_path: Path, data: object, *args: str) -> object:
    path = tmp_path / "thread.json"
    path.write_text(json.dumps(data))  # ensure_ascii: a lone surrogate is written `\ud800`
    return CliRunner().invoke(summarize_cmd, ["--thread", str(path), "--no-model", *args])


@pytest.mark.parametrize("as_json", [False, True])
def test_half_a_character_in_the_file_is_summarized_as_u_fffd(
    tmp_path: Path, as_json: bool
) -> None:
    """A JSON `"\\ud800"` (a text an exporter cut inside an emoji) is valid JSON but no UTF-8:
    the command ended in a UnicodeEncodeError traceback from the thread's hash."""
    issue = {**ISSUE, "body": "The app crashes on start \ud83d. It worked in 1.2."}
    comment = {**COMMENTS[0], "body": "Which version do you use \udfff?"}
    out = _run(tmp_path, {"issue": issue, "comments": [comment]}, *(["--json"] if as_json else []))
    assert out.exit_code == 0 and out.exception is None, out.output  # type: ignore[attr-defined]
    said = out.stdout  # type: ignore[attr-defined]
    body = json.loads(said)["summary"] if as_json else said
    assert "The app crashes on start \ufffd." in body and "Which version do you use \ufffd?" in body
    assert "2 texts hold half of an emoji" in out.stderr  # type: ignore[attr-defined]


def test_an_entry_s_half_character_is_u_fffd_for_the_hash_and_the_comment() -> None:
    """The job reads threads from GitHub's JSON too: the hash, the prompt and the posted comment
    all need text UTF-8 can write."""
    gh = FakeGitHub(lambda: day(10))
    repo = gh.add_repo("o/r")
    repo.add_issue(7, "alice", day(0), body="It crashes \ud83d")
    repo.say(7, "bob", "Which version\udc00?", day(1), "MEMBER")
    thread = Thread(repo.issues[7], tuple(repo.comment_list[7]), ())
    items = S.entries(thread, BOT)
    assert [e.text.endswith(("\ufffd", "\ufffd?")) for e in items] == [True, True]
    assert len(S.content_hash(items)) == 16


def test_a_pull_request_s_wait_is_not_judged_in_json_either(tmp_path: Path) -> None:
    """The summary's own line says the wait of a pull request is not judged (its reviews and
    pushes are not read); the JSON beside it said it waited on the author."""
    pr = {**ISSUE, "pull_request": {"url": "https://api.github.com/repos/acme/app/pulls/12"}}
    out = _run(tmp_path, {"issue": pr, "comments": COMMENTS}, "--json")
    assert out.exit_code == 0, out.output  # type: ignore[attr-defined]
    got = json.loads(out.stdout)  # type: ignore[attr-defined]
    assert (got["waiting_on"], got["who"], got["since"]) == (None, [], None)
    assert got["reason"] == S.NOT_JUDGED and S.waiting_text(None) in got["summary"]
    issue = json.loads(_run(tmp_path, {"issue": ISSUE, "comments": COMMENTS}, "--json").stdout)  # type: ignore[attr-defined]
    assert issue["waiting_on"] == "author"  # an issue's is judged as before
