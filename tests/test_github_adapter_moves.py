"""A renamed repository and a transferred issue, as the GitHub adapter meets them: GitHub answers
the old address with a redirect to /repositories/<id>/... . The same repository (a rename) is
followed with the whole address; another repository's (a transfer) is Moved, read or write."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

import bot.sandbox.fake_github.server as fake_server
from bot.github import GitHubApp
from bot.ports import GitHubError, Moved
from bot.sandbox.fake_github.web import Resp
from tests.fake_github import FakeGitHubServer
from tests.fake_github.demo import INST, REPO, demo_repo
from tests.fake_github.plugin import make_settings


@pytest.fixture
def gh(fake_github: FakeGitHubServer) -> FakeGitHubServer:
    return demo_repo(fake_github)


def _renames_answer_301_to_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """GitHub has answered 301 (not 307) to writes at a renamed or transferred repository's old
    name (mislav/hub#2449: POST /repos/o/r/hooks -> 301 /repositories/<id>/hooks)."""
    real = fake_server._moved

    def moved(state: Any, req: Any) -> Resp | None:
        resp = real(state, req)
        if resp is not None and resp.status == 307:
            return Resp(301, resp.body, resp.headers)
        return resp

    monkeypatch.setattr(fake_server, "_moved", moved)


def _transferred(gh: FakeGitHubServer, source: str = REPO) -> None:
    """source#1 transferred to octo/other (the same installation sees both) as its #5."""
    st = gh.state
    st.add_repo("octo/other", INST)
    for n in range(4):
        st.add_issue("octo/other", f"Other {n}", "y")
    st.add_comment(source, 1, "Same here.")
    st.transfer_issue(source, 1, "octo/other")


# -- reads of a renamed repository keep their query ---------------------------------------------
def test_closed_issues_of_a_renamed_repo_are_closed_ones(
    gh: FakeGitHubServer, tmp_path: Path
) -> None:
    gh.state.add_issue(REPO, "Old and done", "x", state="closed", labels=["bug"])
    gh.state.rename_repo(REPO, "octo/renamed")
    repo = GitHubApp(make_settings(gh, tmp_path)).repo(INST, REPO)
    assert [(i.number, i.state) for i in repo.closed_issues()] == [(2, "closed")]
    assert [i.number for i in repo.closed_issues(labels=["bug"])] == [2]
    assert list(repo.closed_issues(labels=["ui"])) == []  # the labels filter kept too


def test_list_issues_since_of_a_renamed_repo_keeps_since(
    gh: FakeGitHubServer, tmp_path: Path
) -> None:
    st = gh.state
    old = st.now() - 10 * 86400
    st.add_issue(REPO, "Stale", "x", created_at=old, updated_at=old)
    st.rename_repo(REPO, "octo/renamed")
    repo = GitHubApp(make_settings(gh, tmp_path)).repo(INST, REPO)
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(st.now() - 86400))
    assert [i.number for i in repo.list_issues("all", since=since)] == [1]


def test_issue_pages_of_a_renamed_repo_read_every_page(
    gh: FakeGitHubServer, tmp_path: Path
) -> None:
    for n in range(150):
        gh.state.add_issue(REPO, f"Issue {n}", "x")
    gh.state.rename_repo(REPO, "octo/renamed")
    repo = GitHubApp(make_settings(gh, tmp_path)).repo(INST, REPO)
    assert [len(p) for p in repo.issue_pages("all")] == [100, 51]
    assert [len(p) for p in repo.issue_pages("all", first=2)] == [51]


def test_a_renamed_repo_s_issue_comments_and_timeline_are_still_read(
    gh: FakeGitHubServer, tmp_path: Path
) -> None:
    gh.state.add_comment(REPO, 1, "Same here.")
    gh.state.rename_repo(REPO, "octo/renamed")
    repo = GitHubApp(make_settings(gh, tmp_path)).repo(INST, REPO)
    assert repo.issue(1).title == "Crash on start"
    assert repo.issue(1).repo == REPO  # the name it was asked by, as before
    assert [c.body for c in repo.comments(1)] == ["Same here."]
    assert repo.issue_events(1) == GitHubApp(make_settings(gh, tmp_path)).repo(
        INST, "octo/renamed"
    ).issue_events(1)


# -- a transferred issue is not read as this repository's -----------------------------------
def test_reading_a_transferred_issue_is_not_another_repos_issue(
    gh: FakeGitHubServer, tmp_path: Path
) -> None:
    _transferred(gh)
    repo = GitHubApp(make_settings(gh, tmp_path)).repo(INST, REPO)
    with pytest.raises(Moved):
        repo.edit_issue(1, body="x")
    with pytest.raises(Moved, match="moved"):
        repo.issue(1)
    with pytest.raises(Moved):
        repo.comments(1)
    with pytest.raises(Moved):
        repo.issue_events(1)
    assert gh.state.issue("octo/other", 5).body == "It crashes."  # nothing written there


def test_a_transferred_issue_of_a_renamed_repo_is_moved(
    gh: FakeGitHubServer, tmp_path: Path
) -> None:
    """Two hops: the old name to the repository's id (followed), then the issue's 301 to
    another repository's (not followed)."""
    gh.state.rename_repo(REPO, "octo/renamed")
    _transferred(gh, "octo/renamed")
    repo = GitHubApp(make_settings(gh, tmp_path)).repo(INST, REPO)  # by its old name
    with pytest.raises(Moved):
        repo.issue(1)
    with pytest.raises(Moved):
        repo.add_labels(1, ["ui"])
    assert "ui" not in gh.state.issue("octo/other", 5).labels


# -- a write answered 301 by a renamed repository is written --------------------------------
def test_a_renamed_repo_answering_301_to_a_write_is_still_written(
    gh: FakeGitHubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gh.state.rename_repo(REPO, "octo/renamed")
    _renames_answer_301_to_writes(monkeypatch)
    repo = GitHubApp(make_settings(gh, tmp_path)).repo(INST, REPO)
    assert repo.issue(1).title == "Crash on start"
    repo.add_labels(1, ["ui"])
    repo.edit_issue(1, title="Crash at start")
    number = repo.create_issue("Digest", "x", labels=["digest"])
    issue = gh.state.issue("octo/renamed", 1)
    assert ("ui" in issue.labels, issue.title) == (True, "Crash at start")
    assert gh.state.issue("octo/renamed", number).labels == ["digest"]
    # the repository's id is asked once for this GitHubRepo, not once per write
    asked = [e for e in gh.state.requests() if e.method == "GET" and e.path == f"/repos/{REPO}"]
    assert len(asked) == 1


def test_a_renamed_repo_answering_301_to_create_label_is_not_a_moved_issue(
    gh: FakeGitHubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gh.state.rename_repo(REPO, "octo/renamed")
    _renames_answer_301_to_writes(monkeypatch)
    repo = GitHubApp(make_settings(gh, tmp_path)).repo(INST, REPO)
    repo.create_label("needs-info")
    assert "needs-info" in gh.state.repos["octo/renamed"].labels


def test_a_301_to_another_host_is_not_followed(
    gh: FakeGitHubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The token goes only to GitHub's own host: a redirect elsewhere is an error."""

    def elsewhere(state: Any, req: Any) -> Resp | None:
        if req.path.startswith("/repos/"):
            where = "http://evil.example/repositories/1/issues"
            return Resp(301, {"message": "Moved Permanently"}, {"location": where})
        return None

    monkeypatch.setattr(fake_server, "_moved", elsewhere)
    repo = GitHubApp(make_settings(gh, tmp_path)).repo(INST, REPO)
    with pytest.raises(GitHubError, match=r"evil\.example"):
        list(repo.list_issues())


# -- installation tokens and this machine's clock -----------------------------------------------
def test_a_fast_clock_does_not_mint_a_token_per_call(gh: FakeGitHubServer, tmp_path: Path) -> None:
    skew = 3400.0  # this machine 57 min ahead of GitHub (the Date header says so)
    app = GitHubApp(
        make_settings(gh, tmp_path, token_refresh_margin_s=300), clock=lambda: time.time() + skew
    )
    repo = app.repo(INST, REPO)
    for _ in range(3):
        repo.issue(1)
    assert gh.state.minted == 1


def test_a_stale_date_still_refreshes_by_expires_at(
    gh: FakeGitHubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Date half an hour old (a proxy's cached answer) makes the lifetime half an hour too
    long: while expires_at is still outside the margin on this clock, the earlier one is kept."""
    import bot.github.app as app_module

    monkeypatch.setattr(app_module, "their_now", lambda headers: time.time() - 1800)
    app = GitHubApp(make_settings(gh, tmp_path, token_refresh_margin_s=300))
    app.repo(INST, REPO).issue(1)
    assert app.tokens.get(INST).expires_at <= time.time() + 3600 + 5


def test_a_task_s_reads_and_writes_share_one_connection(
    gh: FakeGitHubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The requests that follow no redirect reuse one connection per thread, as PyGithub's own do:
    a new one per request cost a TCP and TLS handshake each."""
    import threading

    import bot.github.repo as repo_mod

    made: list[object] = []
    real = repo_mod._HttpWrites.__init__

    def counting(self: Any, *args: Any, **kwargs: Any) -> None:
        made.append(self)
        real(self, *args, **kwargs)

    monkeypatch.setattr(repo_mod._HttpWrites, "__init__", counting)
    monkeypatch.setattr(repo_mod, "_HELD", threading.local())
    host = GitHubApp(make_settings(gh, tmp_path)).repo(INST, REPO)
    host.issue(1)
    host.comments(1)
    host.issue(1)
    assert len(made) == 1
    other = threading.Thread(target=lambda: host.issue(1))  # another thread: its own
    other.start()
    other.join(timeout=30)
    assert len(made) == 2


def test_a_redirect_to_a_path_or_to_the_host_spelled_otherwise_is_followed(
    gh: FakeGitHubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reverse proxy in front of GitHub Enterprise may answer with a path alone (PyGithub put
    the /api/v3 prefix before it a second time), or name the host in another case or with its
    default port (refused as another host: every read of a renamed repository failed)."""
    from bot.github.repo import _origin

    real = fake_server._moved

    def as_a_path(state: Any, req: Any) -> Resp | None:
        resp = real(state, req)
        if resp is not None and "location" in resp.headers and req.path.endswith("/issues"):
            where = resp.headers["location"]
            resp.headers["location"] = where[where.index("/", len("http://")) :]
        return resp

    monkeypatch.setattr(fake_server, "_moved", as_a_path)
    gh.state.add_issue(REPO, "Old and done", "x", state="closed", labels=["bug"])
    gh.state.rename_repo(REPO, "octo/renamed")
    repo = GitHubApp(make_settings(gh, tmp_path)).repo(INST, REPO)
    assert [(i.number, i.state) for i in repo.closed_issues(labels=["bug"])] == [(2, "closed")]
    same = _origin("https://ghe.corp.com/api/v3")
    assert _origin("https://GHE.corp.com:443/api/v3/repositories/1") == same
    assert _origin("http://ghe.corp.com/api/v3") != same
    assert _origin("https://ghe.corp.com:8443/api/v3") != same
