"""The GitHub adapter (PyGithub as an App) against the fake GitHub over real HTTP."""

from __future__ import annotations

import itertools
import os
import socket
import threading
import time
from pathlib import Path

import pytest

from bot.github import GitHubApp
from bot.github.errors import retry_after_s
from bot.ports import AppCredentialsError, GitHubHost, NotFound, RateLimited, RepoHost, Unavailable
from tests.fake_github import FakeGitHubServer
from tests.fake_github.plugin import generate_keypair, make_settings

INST = 7
REPO = "octo/demo"


@pytest.fixture
def gh(fake_github: FakeGitHubServer) -> FakeGitHubServer:
    st = fake_github.state
    st.add_repo(REPO, INST)
    st.add_repo("octo/second", INST)
    st.add_installation(8, ["octo/other"])
    st.add_issue(REPO, "Crash on start", "It crashes.", labels=["bug"])
    st.add_comment(REPO, 1, "me too", user="bob")
    return fake_github


@pytest.fixture
def app(gh: FakeGitHubServer, tmp_path: Path) -> GitHubApp:
    return GitHubApp(make_settings(gh, tmp_path))


@pytest.fixture
def repo(app: GitHubApp) -> RepoHost:
    return app.repo(INST, REPO)


def test_implements_the_ports(app: GitHubApp) -> None:
    host: GitHubHost = app
    repo: RepoHost = host.repo(INST, REPO)
    assert repo.issue(1).title == "Crash on start"


def test_token_minted_once_and_reused(gh: FakeGitHubServer, app: GitHubApp, repo: RepoHost) -> None:
    issue = repo.issue(1)
    assert (issue.author, issue.labels, issue.comments) == ("alice", ["bug"], 1)
    comments = repo.comments(1)
    assert [(c.author, c.author_type, c.body) for c in comments] == [("bob", "User", "me too")]
    assert repo.labels() == ["bug"]
    app.repo(INST, "octo/second").labels()
    assert gh.state.minted == 1 and app.tokens.minted == 1
    assert len(gh.state.requests("POST", "/access_tokens")) == 1


def test_token_refreshed_near_expiry(gh: FakeGitHubServer, tmp_path: Path) -> None:
    now = [1_000_000.0]
    app = GitHubApp(make_settings(gh, tmp_path, token_refresh_margin_s=300), clock=lambda: now[0])
    repo = app.repo(INST, REPO)
    expires = app.tokens.get(INST).expires_at
    now[0] = expires - 301  # still outside the margin
    repo.issue(1)
    assert gh.state.minted == 1
    now[0] = expires - 299  # inside the margin: mint a fresh one
    gh.state.advance(3600 - 299)  # the same hour passes on GitHub's side
    repo.issue(1)
    assert gh.state.minted == 2
    repo.issue(1)
    assert gh.state.minted == 2  # the fresh token is reused
    tokens = {e.installation for e in gh.state.requests("GET", "/issues/1")}
    assert tokens == {INST}
    app.close()
    assert repo.issue(1).number == 1 and gh.state.minted == 2  # a new pool, the same token


def test_token_cache_is_thread_safe(gh: FakeGitHubServer, app: GitHubApp) -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            app.repo(INST, REPO).issue(1)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and gh.state.minted == 1


def test_revoked_token_is_dropped_and_reminted(gh: FakeGitHubServer, repo: RepoHost) -> None:
    repo.issue(1)
    gh.state.revoke_tokens(INST)
    with pytest.raises(Unavailable):
        repo.issue(1)
    assert repo.issue(1).number == 1
    assert gh.state.minted == 2


def test_revoked_token_is_dropped_when_listing_the_installation_s_repositories(
    gh: FakeGitHubServer, app: GitHubApp
) -> None:
    """The sweep lists an installation's repositories first: a refused token there is a retry
    with a fresh one, not a GitHubError that parks the day's sweep."""
    assert REPO in app.installation_repos(INST)
    gh.state.revoke_tokens(INST)
    with pytest.raises(Unavailable):
        app.installation_repos(INST)
    assert REPO in app.installation_repos(INST)
    assert gh.state.minted == 2


def test_a_renamed_repository_s_old_name_still_reads_and_writes(
    gh: FakeGitHubServer, repo: RepoHost
) -> None:
    """GitHub redirects a renamed (or transferred) repository's old name: 301 to a GET, 307 to
    a write. Every write lands on the repository; PyGithub took a 307 for success (lost)."""
    st = gh.state
    st.rename_repo(REPO, "octo/renamed")  # `repo` still says octo/demo, as a queued delivery does
    assert repo.issue(1).title == "Crash on start"
    repo.add_labels(1, ["kind/bug", "ui"])
    repo.remove_label(1, "bug")
    repo.remove_label(1, "kind/bug")  # a "/" in the name, sent as is, as GitHub takes it
    cid = repo.create_comment(1, "Thanks! Which version?")
    repo.edit_comment(cid, "Thanks! Which version and OS?")
    repo.create_label("needs-info")
    number = repo.create_issue("Weekly digest", "Top issues", ["digest"])
    repo.close(1, "not_planned")
    issue = st.issue("octo/renamed", 1)
    assert (issue.labels, issue.state) == (["ui"], "closed")
    assert [c.body for c in st.comments("octo/renamed", 1)][-1] == "Thanks! Which version and OS?"
    assert st.issue("octo/renamed", number).labels == ["digest"]
    assert "needs-info" in st.repos["octo/renamed"].labels
    moved = [e.status for e in st.requests() if e.method != "GET" and e.status == 307]
    assert len(moved) == 8  # each write was redirected once, then followed


def test_a_secondary_limit_without_a_time_asks_for_back_off(
    gh: FakeGitHubServer, repo: RepoHost
) -> None:
    gh.state.secondary_limit(1, retry_after=None, match="/comments")
    with pytest.raises(RateLimited) as err:
        repo.create_comment(1, "hi")
    assert err.value.backoff and [err.value.wait_s(n) for n in range(8)] == [
        60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 3600.0, 3600.0
    ]  # fmt: skip
    gh.state.secondary_limit(1, retry_after=30, match="/comments")
    with pytest.raises(RateLimited) as err:
        repo.create_comment(1, "hi")
    assert not err.value.backoff and err.value.wait_s(5) == 30.0  # GitHub's own time, as said


def test_write_round_trips(gh: FakeGitHubServer, repo: RepoHost) -> None:
    st = gh.state
    repo.add_labels(1, ["needs-info", "ui"])
    repo.remove_label(1, "bug")
    repo.remove_label(1, "bug")  # already gone: not an error
    cid = repo.create_comment(1, "Thanks! Which version?")
    repo.edit_comment(cid, "Thanks! Which version and OS?")
    repo.edit_issue(1, title="Crash on start (v2)")
    repo.close(1, "not_planned")
    issue = st.issue(REPO, 1)
    assert issue.labels == ["needs-info", "ui"]
    assert (issue.title, issue.state, issue.state_reason) == (
        "Crash on start (v2)",
        "closed",
        "not_planned",
    )
    bot_comment = st.comments(REPO, 1)[-1]
    assert (bot_comment.id, bot_comment.body, bot_comment.user_type) == (
        cid,
        "Thanks! Which version and OS?",
        "Bot",
    )
    number = repo.create_issue("Weekly digest", "body", ["digest"])
    assert st.issue(REPO, number).labels == ["digest"]
    repo.create_label("stale", "#cccccc", "No activity")
    repo.create_label("stale")  # exists: left as it is
    assert st.repos[REPO].labels["stale"].color == "cccccc"
    assert "stale" in repo.labels()
    assert [e.method for e in st.writes()].count("PATCH") == 3


def test_reads_of_one_issue_do_not_fetch_more(gh: FakeGitHubServer, repo: RepoHost) -> None:
    before = len(gh.state.log)
    repo.add_labels(1, ["ui"])
    repo.create_comment(1, "hi")
    calls = [(e.method, e.path) for e in gh.state.log[before:]]
    assert calls[-2:] == [
        ("POST", f"/repos/{REPO}/issues/1/labels"),
        ("POST", f"/repos/{REPO}/issues/1/comments"),
    ]  # lazy objects: no GET before a write


def test_permission_roles(gh: FakeGitHubServer, repo: RepoHost) -> None:
    for login, role in [("ann", "admin"), ("max", "maintain"), ("tri", "triage")]:
        gh.state.set_permission(REPO, login, role)
    assert [repo.permission(u) for u in ("ann", "max", "tri", "nobody")] == [
        "admin",
        "maintain",
        "triage",
        "none",
    ]
    # an organisation's custom roles: GitHub names the custom role, and its base in `permission`
    gh.state.set_permission(REPO, "rel", "maintain", custom="release-manager")
    gh.state.set_permission(REPO, "lab", "triage", custom="labeller")
    assert [repo.permission(u) for u in ("rel", "lab")] == ["write", "read"]


def test_file_reads_use_etags(gh: FakeGitHubServer, repo: RepoHost) -> None:
    gh.state.put_file(REPO, ".github/smolbot.yml", "triage:\n  enabled: true\n")
    gh.state.put_file(REPO, ".github/ISSUE_TEMPLATE/bug.md", "## Steps\n")
    assert repo.file(".github/smolbot.yml") == "triage:\n  enabled: true\n"
    left = gh.state.quota(INST).remaining
    assert repo.file(".github/smolbot.yml") == "triage:\n  enabled: true\n"  # from a 304
    assert gh.state.quota(INST).remaining == left
    assert [e.status for e in gh.state.requests("GET", "/contents/.github/smolbot.yml")] == [
        200,
        304,
    ]
    gh.state.put_file(REPO, ".github/smolbot.yml", "triage:\n  enabled: false\n")
    assert repo.file(".github/smolbot.yml") == "triage:\n  enabled: false\n"
    assert repo.file("missing.yml") is None
    first = repo.file_if_changed(".github/ISSUE_TEMPLATE/bug.md", None)
    assert first.text == "## Steps\n" and first.etag
    assert repo.file_if_changed(".github/ISSUE_TEMPLATE/bug.md", first.etag).not_modified
    assert repo.list_dir(".github/ISSUE_TEMPLATE") == [".github/ISSUE_TEMPLATE/bug.md"]
    assert repo.list_dir("docs") == []


def test_pagination_over_many_issues(gh: FakeGitHubServer, repo: RepoHost) -> None:
    for i in range(149):
        gh.state.add_issue(
            REPO, f"issue {i}", is_pr=(i % 50 == 0), state="closed" if i % 2 else "open"
        )
    issues = list(repo.list_issues("all"))
    assert len(issues) == 150 and len({i.number for i in issues}) == 150
    assert [i.number for i in issues[:2]] == [150, 149]  # newest first
    assert sum(i.is_pull_request for i in issues) == 3
    assert len(gh.state.requests("GET", f"/repos/{REPO}/issues")) == 2  # per_page=100


def test_issue_fields_for_lifecycle(gh: FakeGitHubServer, repo: RepoHost) -> None:
    gh.state.set_permission(REPO, "maya", "write")
    n = gh.state.add_issue(
        REPO, "WIP", user="maya", is_pr=True, draft=True, assignees=["ann"]
    ).number
    gh.state.add_comment(REPO, n, "looks good", user="octo")
    issue = repo.issue(n)
    assert (issue.is_pull_request, issue.draft, issue.author_association) == (
        True,
        True,
        "COLLABORATOR",
    )
    assert issue.assignees == ["ann"]
    assert repo.comments(n)[0].author_association == "OWNER"


def test_closed_issues_for_backfill(gh: FakeGitHubServer, repo: RepoHost) -> None:
    st = gh.state
    st.add_issue(REPO, "a", labels=["bug"], state="closed")
    st.add_issue(REPO, "b", labels=["bug", "feature"], state="closed")
    st.add_issue(REPO, "c", labels=["feature"], state="closed", is_pr=True)
    st.add_issue(REPO, "d", labels=["question"], state="open")
    seen: list[int] = []
    got = list(repo.closed_issues(["bug", "feature", "question"], progress=seen.append))
    assert sorted(i.title for i in got) == ["a", "b"]
    assert seen == [1, 2]


def test_timeline_events(gh: FakeGitHubServer, repo: RepoHost) -> None:
    pr = gh.state.add_issue(REPO, "Fix crash", is_pr=True).number
    repo.add_labels(1, ["ui"])
    gh.state.add_event(REPO, 1, "cross-referenced", "dev", source_number=pr)
    events = repo.issue_events(1)
    assert [e.kind for e in events] == ["commented", "labeled", "cross-referenced"]
    assert (events[1].actor, events[1].actor_type, events[1].label) == ("smolbot[bot]", "Bot", "ui")
    assert (events[2].source_number, events[2].source_is_pull_request) == (pr, True)


def test_referenced_events_name_the_commit_and_where_it_was_pushed(
    gh: FakeGitHubServer, repo: RepoHost
) -> None:
    gh.state.add_event(REPO, 1, "referenced", "dev", commit_id="1a2b3c4d5e6f7081")
    gh.state.add_event(REPO, 1, "referenced", "dev", commit_id="99ff", commit_repo="dev/fork")
    here, fork = repo.issue_events(1)[-2:]
    assert (here.kind, here.commit_id, here.source_repo) == ("referenced", "1a2b3c4d5e6f7081", REPO)
    assert (fork.commit_id, fork.source_repo, fork.source_number) == ("99ff", "dev/fork", None)


def test_installation_repositories(app: GitHubApp) -> None:
    assert app.installation_repos(INST) == ["octo/demo", "octo/second"]
    assert app.installations() == [INST, 8]


def test_server_error_is_unavailable_without_retrying(gh: FakeGitHubServer, repo: RepoHost) -> None:
    repo.issue(1)
    gh.state.fail_next(1, status=502)
    with pytest.raises(Unavailable):
        repo.issue(1)
    assert [e.status for e in gh.state.requests("GET", "/issues/1")] == [200, 502]  # no retry
    assert repo.issue(1).number == 1


def test_unreachable_is_unavailable(gh: FakeGitHubServer, tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = GitHubApp(make_settings(gh, tmp_path, github_api_url=f"http://127.0.0.1:{port}"))
    with pytest.raises(Unavailable):
        app.repo(INST, REPO).issue(1)


def test_secondary_limit_is_rate_limited_with_retry_after(
    gh: FakeGitHubServer, repo: RepoHost
) -> None:
    repo.issue(1)
    gh.state.secondary_limit(1, retry_after=42)
    with pytest.raises(RateLimited) as err:
        repo.create_comment(1, "hello")
    assert err.value.retry_after_s == 42
    assert len(gh.state.requests("POST", "/comments")) == 1  # PyGithub did not sleep and retry


def test_retry_after_as_an_http_date_is_waited_for_on_githubs_clock(
    gh: FakeGitHubServer, tmp_path: Path
) -> None:
    """HTTP lets Retry-After be a date (a proxy in front of GitHub Enterprise may send one): the
    wait runs to it by GitHub's Date header, and is not taken for 'no time said' (backoff)."""
    from email.utils import formatdate

    repo = GitHubApp(make_settings(gh, tmp_path), clock=gh.state.now).repo(INST, REPO)
    repo.issue(1)
    gh.state.secondary_limit(1, retry_after=formatdate(gh.state.now() + 300, usegmt=True))
    with pytest.raises(RateLimited) as err:
        repo.create_comment(1, "hello")
    assert err.value.retry_after_s == pytest.approx(300, abs=3) and not err.value.backoff
    headers = {
        "retry-after": "Thu, 01 Jan 1970 00:20:00 GMT",
        "date": "Thu, 01 Jan 1970 00:16:40 GMT",
    }
    assert retry_after_s(headers, now=lambda: 5000) == 200
    assert retry_after_s({"retry-after": "soon"}, attempt=2) == 240  # unreadable: back off


def test_content_submitted_too_quickly_is_a_rate_limit(
    gh: FakeGitHubServer, repo: RepoHost
) -> None:
    """GitHub's content-creation limit answers 422 "was submitted too quickly": retried after a
    back-off like a secondary limit, not a failure left to a person."""
    repo.issue(1)
    gh.state.too_quick(1, match="/comments")
    with pytest.raises(RateLimited, match="submitted too quickly") as err:
        repo.create_comment(1, "hello")
    assert err.value.backoff and err.value.retry_after_s == 60
    repo.create_comment(1, "hello")
    assert [e.status for e in gh.state.requests("POST", "/comments")] == [422, 201]


def test_primary_exhaustion_until_reset(gh: FakeGitHubServer, repo: RepoHost) -> None:
    repo.issue(1)
    gh.state.exhaust_primary(reset_in=600)
    with pytest.raises(RateLimited) as err:
        repo.issue(1)
    assert err.value.retry_after_s == pytest.approx(600, abs=3)
    with pytest.raises(RateLimited):
        repo.labels()
    gh.state.advance(601)
    assert repo.issue(1).number == 1


def test_reset_is_read_on_githubs_clock(gh: FakeGitHubServer, tmp_path: Path) -> None:
    """The reset is GitHub's time: waited for by its Date header, not this machine's clock
    (here GitHub's clock runs 5,000 s ahead, so reset minus the local time says 5,600 s)."""
    gh.state.advance(5000)
    repo = GitHubApp(make_settings(gh, tmp_path), clock=gh.state.now).repo(INST, REPO)
    repo.issue(1)
    gh.state.exhaust_primary(reset_in=600)
    with pytest.raises(RateLimited) as err:
        repo.issue(1)
    assert err.value.retry_after_s == pytest.approx(600, abs=3)
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1100"}
    date = {"date": "Thu, 01 Jan 1970 00:16:40 GMT"}  # 1,000 s
    assert retry_after_s({**headers, **date}, now=lambda: 1090) == 100
    assert retry_after_s({**headers, "date": "not a date"}, now=lambda: 1090) == 10


def test_backoff_rule_without_headers() -> None:
    assert retry_after_s({}) == 60
    assert retry_after_s({}, attempt=2) == 240
    assert (
        retry_after_s({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1100"}, now=lambda: 1000)
        == 100
    )


@pytest.mark.parametrize(
    ("status", "message", "limited"),
    [
        (403, "You have exceeded a secondary rate limit.", True),
        (403, "You have triggered an abuse detection mechanism.", True),  # older GHES
        (403, "Resource not accessible by integration", False),
        (429, "", True),
    ],
)
def test_which_refusals_are_rate_limits(status: int, message: str, limited: bool) -> None:
    from bot.github.errors import is_rate_limited

    assert is_rate_limited(status, {}, message) is limited


def test_not_found(gh: FakeGitHubServer, app: GitHubApp, repo: RepoHost) -> None:
    with pytest.raises(NotFound):
        repo.issue(999)
    with pytest.raises(NotFound):
        app.repo(INST, "octo/other").issue(1)  # installed elsewhere
    with pytest.raises(NotFound):
        app.repo(99, REPO).issue(1)  # no such installation
    n = gh.state.add_issue(REPO, "to be deleted").number
    gh.state.delete_issue(REPO, n)
    with pytest.raises(NotFound, match="deleted"):  # GitHub answers 410 Gone
        repo.issue(n)


def test_bad_private_key_names_the_setting(gh: FakeGitHubServer, tmp_path: Path) -> None:
    app = GitHubApp(
        make_settings(gh, tmp_path, private_key="-----BEGIN RSA PRIVATE KEY-----\nnope\n")
    )
    with pytest.raises(AppCredentialsError, match="SMOLBOT_PRIVATE_KEY"):
        app.repo(INST, REPO).issue(1)
    assert gh.state.log == []


def test_key_of_another_app_or_wrong_id_refused(gh: FakeGitHubServer, tmp_path: Path) -> None:
    other = GitHubApp(make_settings(gh, tmp_path, private_key=generate_keypair().private_pem))
    with pytest.raises(AppCredentialsError, match=r"SMOLBOT_APP_ID .*SMOLBOT_PRIVATE_KEY"):
        other.repo(INST, REPO).issue(1)
    wrong_id = GitHubApp(make_settings(gh, tmp_path, app_id=1))
    with pytest.raises(AppCredentialsError, match="SMOLBOT_APP_ID"):
        wrong_id.installations()
    with pytest.raises(AppCredentialsError, match="SMOLBOT_APP_ID is not set"):
        GitHubApp(make_settings(gh, tmp_path, app_id=None)).repo(INST, REPO).issue(1)


@pytest.mark.parametrize(("skew", "side"), [(400, "ahead of"), (-900, "behind")])
def test_a_clock_off_github_s_is_named_not_the_key(
    gh: FakeGitHubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, skew: int, side: str
) -> None:
    """A JWT refused for its times said to check the app id and the key: now GitHub's words
    and how far this machine's clock is from GitHub's (its Date header)."""
    import types

    import github.Auth

    import bot.github.errors

    real = time.time
    skewed = types.SimpleNamespace(time=lambda: real() + skew)
    monkeypatch.setattr(github.Auth, "time", skewed)  # the machine's clock, as PyGithub reads it
    monkeypatch.setattr(bot.github.errors, "time", skewed)
    with pytest.raises(AppCredentialsError) as err:
        GitHubApp(make_settings(gh, tmp_path)).repo(INST, REPO).issue(1)
    said = str(err.value)
    assert "('exp')" in said and "SMOLBOT_PRIVATE_KEY" not in said
    seconds = int(said.split("this machine's clock is ")[1].split(" s ")[0])
    assert abs(seconds - abs(skew)) <= 2 and f" s {side} GitHub's: set it right (NTP)" in said


def test_writes_are_paced_per_installation(gh: FakeGitHubServer, tmp_path: Path) -> None:
    app = GitHubApp(make_settings(gh, tmp_path, write_interval_s=0.15))
    repo = app.repo(INST, REPO)
    for body in ("one", "two", "three"):
        repo.create_comment(1, body)
    times = [e.time for e in gh.state.writes("/comments")]
    assert len(times) == 3
    assert all(b - a >= 0.15 for a, b in itertools.pairwise(times))


def test_pacing_waits_instead_of_hammering(gh: FakeGitHubServer, tmp_path: Path) -> None:
    waits: list[float] = []
    app = GitHubApp(make_settings(gh, tmp_path, write_interval_s=5), sleep=waits.append)
    repo = app.repo(INST, REPO)
    repo.add_labels(1, ["a"])
    repo.add_labels(1, ["b"])
    repo.issue(1)  # reads are not paced
    repo.add_labels(1, ["c"])
    assert len(waits) == 2 and all(0 < w <= 5 for w in waits)


def test_is_self(app: GitHubApp) -> None:
    assert app.is_self("smolbot[bot]", "Bot")
    assert not app.is_self("smolbot[bot]", "User")
    assert not app.is_self("alice", "User")


def test_issue_pages_past_githubs_page_number_limit_follow_its_cursor(
    gh: FakeGitHubServer, repo: RepoHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GitHub refuses ?page= past about 10,000 issues and pull requests (422, "use cursor based
    pagination"): a backfill of a large repository stopped there for good, every resume too.
    Scaled down: the fake refuses ?page= past 200 items, the adapter asks by number up to page
    2, then follows the Link header's next address (an `after=` cursor)."""
    import bot.github.repo as adapter

    monkeypatch.setattr(adapter, "PAGE_PARAM_LAST", 2)
    gh.state.page_param_cap = 200
    for n in range(449):  # 450 with the fixture's issue: pages 1-4 full, page 5 half
        gh.state.add_issue(REPO, f"Issue {n}")
    every = [issue.number for page in repo.issue_pages("all") for issue in page]
    assert len(every) == 450 and len(set(every)) == 450
    resumed = list(repo.issue_pages("all", first=4))  # past the cap: walked to from page 2
    assert [len(p) for p in resumed] == [100, 50]
    assert [i.number for p in resumed for i in p] == every[300:]
    refused = [r for r in gh.state.requests("GET", "/issues") if r.status == 422]
    assert refused == []  # never asked by a page number GitHub refuses


def _sockets() -> int:
    """The sockets this process holds (the fake GitHub's ends and the clients')."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:  # closed while listed (the listing's own descriptor)
            continue
    return count


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts descriptors in /proc")
def test_close_releases_the_installation_and_the_app_connections(
    gh: FakeGitHubServer, tmp_path: Path
) -> None:
    """A worker's shutdown (and every test's GitHubApp) leaves no connection open: the
    installation's pool and the App's own, which minted its token, are both closed."""
    before = _sockets()
    app = GitHubApp(make_settings(gh, tmp_path))
    app.repo(INST, REPO).issue(1)  # mints a token (the App's client), then reads (the install's)
    assert _sockets() > before
    app.close()
    deadline = time.monotonic() + 5  # the fake server's side closes once it reads the EOF
    while _sockets() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _sockets() == before
