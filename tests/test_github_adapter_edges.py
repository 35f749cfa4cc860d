"""The GitHub adapter's edges against the fake GitHub: answers that are not JSON, a 301 to a
write, long listings and tokens, clocks off GitHub's, and what a 422 says."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

import bot.sandbox.fake_github.server as fake_server
from bot.github import GitHubApp
from bot.ports import Unavailable
from bot.sandbox.fake_github.web import Resp
from tests.fake_github import FakeGitHubServer
from tests.fake_github.demo import INST, REPO, demo_repo
from tests.fake_github.plugin import make_settings

UNICORN = b"<!DOCTYPE html><html><body>Unicorn! This page is taking too long to load.</body></html>"


@pytest.fixture
def gh(fake_github: FakeGitHubServer) -> FakeGitHubServer:
    return demo_repo(fake_github)


def _html(monkeypatch: pytest.MonkeyPatch, method: str, match: str, status: int) -> None:
    """Answer matching requests with an HTML page (GitHub's edge does so for some 5xx)."""
    real = fake_server.dispatch

    def dispatch(state: Any, req: Any) -> Resp:
        if req.method == method and match in req.path:
            return Resp(status, UNICORN, {"content-type": "text/html; charset=utf-8"})
        return real(state, req)

    monkeypatch.setattr(fake_server, "dispatch", dispatch)


# -- answers that are not JSON ------------------------------------------------------------------
def test_an_html_502_on_a_write_is_unavailable(
    gh: FakeGitHubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = GitHubApp(make_settings(gh, tmp_path)).repo(INST, REPO)
    _html(monkeypatch, "POST", "/comments", 502)
    with pytest.raises(Unavailable):
        repo.create_comment(1, "hi")


def test_an_html_503_on_a_config_read_is_unavailable(
    gh: FakeGitHubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gh.state.put_file(REPO, ".github/smolbot.yml", "triage: {}\n")
    repo = GitHubApp(make_settings(gh, tmp_path)).repo(INST, REPO)
    _html(monkeypatch, "GET", "/contents/", 503)
    with pytest.raises(Unavailable):
        repo.file(".github/smolbot.yml")


def test_a_non_json_200_is_unavailable_not_a_missing_file(
    gh: FakeGitHubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gh.state.put_file(REPO, ".github/smolbot.yml", "triage: {}\n")
    repo = GitHubApp(make_settings(gh, tmp_path)).repo(INST, REPO)
    _html(monkeypatch, "GET", "/contents/", 200)
    with pytest.raises(Unavailable, match="non-JSON"):
        repo.file(".github/smolbot.yml")
    _html(monkeypatch, "POST", "/comments", 201)
    with pytest.raises(Unavailable, match="non-JSON"):
        repo.create_comment(1, "hi")


# -- a transferred issue -------------------------------------------------------------------------
def test_a_write_to_a_transferred_issue_is_not_found(gh: FakeGitHubServer, tmp_path: Path) -> None:
    """GitHub answers 301 to PATCH /issues/N of an issue transferred to another repository."""
    from bot.ports import Moved, NotFound

    gh.state.add_repo("octo/elsewhere", 8)  # another installation's: not this one's to follow
    gh.state.transfer_issue(REPO, 1, "octo/elsewhere")
    repo = GitHubApp(make_settings(gh, tmp_path)).repo(INST, REPO)
    with pytest.raises(Moved, match="moved") as err:
        repo.edit_issue(1, body="new")
    assert isinstance(err.value, NotFound)
    with pytest.raises(NotFound):
        repo.close(1, "completed")
    assert gh.state.issue("octo/elsewhere", 1).body == "It crashes."  # nothing was written


# -- the bot's login, spelled as GitHub spells it ------------------------------------------------
def test_a_bot_login_differing_only_in_case_is_refused() -> None:
    """Every job compares a comment's author with SMOLBOT_BOT_LOGIN exactly: Smolbot[bot] would
    never find the bot's own comments (smolbot[bot]) and would ask again."""
    from bot.github.app import bot_login_problem
    from bot.settings import load_settings

    problem = bot_login_problem(load_settings(env="test", bot_login="Smolbot[bot]"), "smolbot[bot]")
    assert problem is not None
    assert "SMOLBOT_BOT_LOGIN=smolbot[bot]" in problem and "case" in problem, problem
    assert bot_login_problem(load_settings(env="test"), "smolbot[bot]") is None


def test_doctor_says_the_bot_login_s_case_is_wrong(gh: FakeGitHubServer, tmp_path: Path) -> None:
    from bot.cli.doctor import _github

    ok, detail = _github(make_settings(gh, tmp_path, bot_login="Smolbot[bot]"))
    assert not ok and "SMOLBOT_BOT_LOGIN=smolbot[bot]" in detail, detail
    ok, detail = _github(make_settings(gh, tmp_path, bot_login="smolbot[bot]"))
    assert ok, detail


# -- long listings outlive their token ------------------------------------------------------------
def _a_long_repo(gh: FakeGitHubServer, tmp_path: Path) -> tuple[Any, list[float]]:
    for i in range(150):
        gh.state.add_issue(REPO, f"issue {i}")
    now = [time.time()]
    app = GitHubApp(make_settings(gh, tmp_path, token_refresh_margin_s=300), clock=lambda: now[0])
    return app.repo(INST, REPO), now


def _an_hour_later(gh: FakeGitHubServer, now: list[float]) -> None:
    gh.state.advance(3601)  # the first page's issues took an hour (both clocks agree)
    now[0] += 3601


def test_issue_pages_asks_each_page_on_the_token_current_then(
    gh: FakeGitHubServer, tmp_path: Path
) -> None:
    repo, now = _a_long_repo(gh, tmp_path)
    pages = repo.issue_pages("all")
    assert len(next(pages)) == 100
    _an_hour_later(gh, now)
    assert len(next(pages)) == 51  # not Unavailable: the first token had expired
    assert gh.state.minted == 2


def test_list_issues_asks_each_page_on_the_token_current_then(
    gh: FakeGitHubServer, tmp_path: Path
) -> None:
    repo, now = _a_long_repo(gh, tmp_path)
    listing = repo.list_issues("all")
    first = [next(listing) for _ in range(100)]
    _an_hour_later(gh, now)
    rest = list(listing)
    assert len({i.number for i in first + rest}) == 151 and gh.state.minted == 2
    assert len(gh.state.requests("GET", f"/repos/{REPO}/issues")) == 2  # the Link's next page


# -- clocks off GitHub's ------------------------------------------------------------------------
def test_a_token_is_refreshed_in_time_with_the_local_clock_behind(
    gh: FakeGitHubServer, tmp_path: Path
) -> None:
    """This machine's clock 400 s behind GitHub's: the token's expires_at (GitHub's clock) is
    read as a lifetime from the answer's Date, so the 300 s margin holds on this clock too."""
    gh.state.advance(400)
    now = [time.time()]
    app = GitHubApp(make_settings(gh, tmp_path, token_refresh_margin_s=300), clock=lambda: now[0])
    repo = app.repo(INST, REPO)
    repo.issue(1)
    gh.state.advance(3600)  # the token's hour is over on GitHub...
    now[0] += 3600  # ...and by the local clock, read as GitHub's, 400 s were left
    assert repo.issue(1).number == 1
    assert gh.state.minted == 2


@pytest.mark.parametrize("skew", [90, 250, -250])
def test_a_clock_minutes_off_still_signs_accepted_jwts(
    gh: FakeGitHubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, skew: int
) -> None:
    """GitHub refuses an App JWT whose exp is over 10 minutes ahead of its clock, or whose iat
    is ahead of it: iat 60 s back and exp 540 s on refused every App call from a clock 61 s fast."""
    import types

    import github.Auth

    real = time.time
    monkeypatch.setattr(github.Auth, "time", types.SimpleNamespace(time=lambda: real() + skew))
    assert GitHubApp(make_settings(gh, tmp_path)).repo(INST, REPO).issue(1).number == 1


# -- what a 422 says ------------------------------------------------------------------------------
def test_a_422_says_which_field_was_refused(gh: FakeGitHubServer, tmp_path: Path) -> None:
    """GitHub's 422 is {"message": "Validation Failed", "errors": [...]}: the reason is in
    errors, as a message or as a field and a code."""
    from bot.github.errors import translate_exception
    from bot.ports import GitHubError

    repo = GitHubApp(make_settings(gh, tmp_path)).repo(INST, REPO)
    with pytest.raises(GitHubError) as err:
        repo.create_comment(1, "x" * 70_000)
    assert "Validation Failed" in str(err.value) and "body is too long" in str(err.value)
    from github import GithubException

    data = {
        "message": "Validation Failed",
        "errors": [{"resource": "Label", "code": "already_exists", "field": "name"}, "odd"],
    }
    said = str(translate_exception(GithubException(422, data, {})))
    assert said == "GitHub answered 422: Validation Failed (Label name: already_exists; odd)", said


# -- list_issues(since=...) ---------------------------------------------------------------------
def test_since_with_a_utc_offset_is_not_shifted(gh: FakeGitHubServer, tmp_path: Path) -> None:
    """`since` is ISO text; one with +02:00 was sent as the same wall time in UTC (two hours late)."""
    from datetime import UTC, datetime, timedelta, timezone

    repo = GitHubApp(make_settings(gh, tmp_path)).repo(INST, REPO)
    minute_ago = datetime.now(UTC) - timedelta(minutes=1)
    for zone in (timezone(timedelta(hours=2)), timezone(timedelta(hours=-5))):
        since = minute_ago.astimezone(zone).isoformat()
        assert [i.number for i in repo.list_issues("all", since=since)] == [1], since
    assert list(repo.list_issues("all", since=(minute_ago + timedelta(hours=1)).isoformat())) == []


# -- create_label ---------------------------------------------------------------------------------
def test_create_label_passes_over_only_a_label_that_exists(
    gh: FakeGitHubServer, tmp_path: Path
) -> None:
    """Idempotent for a name taken (case aside, as GitHub), not for every 422: a refused colour
    was taken for "already exists" and the label never made."""
    from bot.ports import GitHubError

    repo = GitHubApp(make_settings(gh, tmp_path)).repo(INST, REPO)
    repo.create_label("Bug", "#d73a4a")  # "bug" exists
    assert "Bug" not in gh.state.repos[REPO].labels
    with pytest.raises(GitHubError, match="color"):
        repo.create_label("stale", "not-a-colour")
    assert "stale" not in gh.state.repos[REPO].labels
