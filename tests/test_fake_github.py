"""The fake GitHub behaves like GitHub where the adapter depends on it (raw HTTP, no PyGithub)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import jwt
import pytest

from tests.fake_github import FakeGitHubServer
from tests.fake_github.plugin import APP_ID, KeyPair, generate_keypair

INSTALLATION = 7
REPO = "octo/demo"


def app_jwt(pem: str, iss: Any = APP_ID, iat: int = -60, exp: int = 300) -> str:
    now = int(time.time())
    return jwt.encode({"iat": now + iat, "exp": now + exp, "iss": str(iss)}, pem, algorithm="RS256")


def mint(server: FakeGitHubServer, token: str, installation: int = INSTALLATION) -> httpx.Response:
    url = f"{server.url}/app/installations/{installation}/access_tokens"
    return httpx.post(url, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def gh(fake_github: FakeGitHubServer) -> FakeGitHubServer:
    fake_github.state.add_repo(REPO, INSTALLATION)
    fake_github.state.add_installation(8, ["octo/other"])
    return fake_github


@pytest.fixture
def client(gh: FakeGitHubServer) -> Iterator[httpx.Client]:
    assert gh.private_key_pem is not None
    token = mint(gh, app_jwt(gh.private_key_pem)).json()["token"]
    with httpx.Client(base_url=gh.url, headers={"Authorization": f"token {token}"}) as c:
        yield c


def test_app_jwt_accepted_and_token_lasts_an_hour(gh: FakeGitHubServer) -> None:
    assert gh.private_key_pem is not None
    r = mint(gh, app_jwt(gh.private_key_pem))
    assert r.status_code == 201
    body = r.json()
    assert body["token"].startswith("ghs_")
    expires = time.mktime(time.strptime(body["expires_at"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert 3590 < expires - time.time() <= 3600
    assert gh.state.minted == 1


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"iat": -700, "exp": -60}, "expired"),
        ({"exp": 1200}, "exp more than 10 minutes ahead"),
        ({"iat": 120}, "iat in the future"),
        ({"iss": 9999}, "wrong issuer"),
    ],
)
def test_bad_app_jwt_refused(gh: FakeGitHubServer, claims: dict[str, Any], why: str) -> None:
    assert gh.private_key_pem is not None
    r = mint(gh, app_jwt(gh.private_key_pem, **claims))
    assert r.status_code == 401, why
    assert gh.state.minted == 0


def test_jwt_signed_with_another_key_refused(gh: FakeGitHubServer, app_keypair: KeyPair) -> None:
    other = generate_keypair()
    assert other.private_pem != app_keypair.private_pem
    r = mint(gh, app_jwt(other.private_pem))
    assert r.status_code == 401
    assert "could not be decoded" in r.json()["message"]


def test_missing_or_bad_credentials(gh: FakeGitHubServer, client: httpx.Client) -> None:
    assert httpx.get(f"{gh.url}/repos/{REPO}").status_code == 401
    bad = httpx.get(f"{gh.url}/repos/{REPO}", headers={"Authorization": "token ghs_nope"})
    assert bad.status_code == 401 and bad.json()["message"] == "Bad credentials"
    assert client.get(f"/repos/{REPO}").status_code == 200
    assert client.get("/repos/octo/other").status_code == 404  # another installation's repo
    assert mint(gh, app_jwt(gh.private_key_pem or ""), installation=99).status_code == 404


def test_installation_token_expires_after_an_hour(
    gh: FakeGitHubServer, client: httpx.Client
) -> None:
    assert client.get(f"/repos/{REPO}").status_code == 200
    gh.state.advance(3601)
    assert client.get(f"/repos/{REPO}").status_code == 401


def test_issue_list_paginates_with_link_header(gh: FakeGitHubServer, client: httpx.Client) -> None:
    for i in range(75):
        gh.state.add_issue(REPO, f"issue {i}", is_pr=(i % 10 == 0))
    seen: list[int] = []
    url: str | None = f"/repos/{REPO}/issues?per_page=30"
    pages = 0
    while url:
        r = client.get(url)
        seen += [i["number"] for i in r.json()]
        pages += 1
        links = r.headers.get("link", "")
        if pages == 1:
            assert 'rel="next"' in links and 'rel="last"' in links and "page=3" in links
        nxt = [p.split(";")[0].strip("<> ") for p in links.split(",") if 'rel="next"' in p]
        url = nxt[0] if nxt else None
    assert pages == 3
    assert seen == list(range(75, 0, -1))  # newest first, no gaps, no repeats
    prs = client.get(f"/repos/{REPO}/issues?per_page=100").json()
    assert sum("pull_request" in i for i in prs) == 8


def test_issue_filters(gh: FakeGitHubServer, client: httpx.Client) -> None:
    old = time.time() - 86400 * 10
    gh.state.add_issue(REPO, "old bug", labels=["bug"], state="closed", created_at=old)
    gh.state.add_issue(REPO, "new bug", labels=["bug", "ui"])
    gh.state.add_issue(REPO, "question")

    def titles(query: str) -> list[str]:
        return [i["title"] for i in client.get(f"/repos/{REPO}/issues?{query}").json()]

    assert titles("") == ["question", "new bug"]
    assert titles("state=closed&labels=bug") == ["old bug"]
    assert titles("state=all&labels=bug,ui") == ["new bug"]
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600))
    assert titles(f"state=all&since={since}&direction=asc") == ["new bug", "question"]


def test_contents_etag_304_costs_no_quota(gh: FakeGitHubServer, client: httpx.Client) -> None:
    gh.state.put_file(REPO, ".github/smolbot.yml", "triage: true\n")
    r = client.get(f"/repos/{REPO}/contents/.github/smolbot.yml")
    assert r.status_code == 200 and r.json()["encoding"] == "base64"
    etag, left = r.headers["etag"], int(r.headers["x-ratelimit-remaining"])
    again = client.get(
        f"/repos/{REPO}/contents/.github/smolbot.yml", headers={"If-None-Match": etag}
    )
    assert again.status_code == 304 and again.content == b""
    assert int(again.headers["x-ratelimit-remaining"]) == left
    gh.state.put_file(REPO, ".github/smolbot.yml", "triage: false\n")
    changed = client.get(
        f"/repos/{REPO}/contents/.github/smolbot.yml", headers={"If-None-Match": etag}
    )
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert client.get(f"/repos/{REPO}/contents/missing.yml").status_code == 404


def test_rate_limit_headers_count_down(gh: FakeGitHubServer, client: httpx.Client) -> None:
    a = client.get(f"/repos/{REPO}").headers
    b = client.get(f"/repos/{REPO}").headers
    assert a["x-ratelimit-limit"] == "5000" and a["x-ratelimit-resource"] == "core"
    assert int(b["x-ratelimit-remaining"]) == int(a["x-ratelimit-remaining"]) - 1
    assert int(b["x-ratelimit-used"]) == 2


def test_fail_next_then_recover(gh: FakeGitHubServer, client: httpx.Client) -> None:
    gh.state.fail_next(2, status=502)
    codes = [client.get(f"/repos/{REPO}").status_code for _ in range(3)]
    assert codes == [502, 502, 200]


def test_fail_for_a_while(gh: FakeGitHubServer, client: httpx.Client) -> None:
    gh.state.fail_for(30, status=503)
    assert client.get(f"/repos/{REPO}").status_code == 503
    assert client.get(f"/repos/{REPO}").status_code == 503
    gh.state.advance(31)
    assert client.get(f"/repos/{REPO}").status_code == 200


def test_secondary_limit_has_retry_after(gh: FakeGitHubServer, client: httpx.Client) -> None:
    gh.state.secondary_limit(1, retry_after=42)
    r = client.post(f"/repos/{REPO}/issues", json={"title": "x"})
    assert r.status_code == 403 and r.headers["retry-after"] == "42"
    assert "secondary rate limit" in r.json()["message"]
    assert client.post(f"/repos/{REPO}/issues", json={"title": "x"}).status_code == 201
    assert len(gh.state.writes()) == 1


def test_primary_exhaustion_until_reset(gh: FakeGitHubServer, client: httpx.Client) -> None:
    gh.state.exhaust_primary(reset_in=120)
    r = client.get(f"/repos/{REPO}")
    assert r.status_code == 403 and r.headers["x-ratelimit-remaining"] == "0"
    assert int(r.headers["x-ratelimit-reset"]) - gh.state.now() == pytest.approx(120, abs=2)
    assert r.json()["message"].startswith("API rate limit exceeded")
    gh.state.advance(121)
    assert client.get(f"/repos/{REPO}").status_code == 200


def test_writes_change_state_and_timeline(gh: FakeGitHubServer, client: httpx.Client) -> None:
    n = gh.state.add_issue(REPO, "t").number
    assert client.post(f"/repos/{REPO}/issues/{n}/labels", json=["bug"]).status_code == 200
    assert (
        client.post(f"/repos/{REPO}/issues/{n}/labels", json={"labels": ["ui"]}).status_code == 200
    )
    assert client.delete(f"/repos/{REPO}/issues/{n}/labels/bug").status_code == 200
    assert client.delete(f"/repos/{REPO}/issues/{n}/labels/bug").status_code == 404
    c = client.post(f"/repos/{REPO}/issues/{n}/comments", json={"body": "hi"}).json()
    assert c["user"]["type"] == "Bot"
    client.patch(
        f"/repos/{REPO}/issues/{n}", json={"state": "closed", "state_reason": "not_planned"}
    )
    issue = gh.state.issue(REPO, n)
    assert issue.labels == ["ui"] and issue.state_reason == "not_planned" and issue.closed_at
    kinds = [e["event"] for e in client.get(f"/repos/{REPO}/issues/{n}/timeline").json()]
    assert kinds == ["labeled", "labeled", "unlabeled", "commented", "closed"]
    assert len(gh.state.writes()) == 5


def test_bodies_over_github_s_limit_are_refused(gh: FakeGitHubServer, client: httpx.Client) -> None:
    n = gh.state.add_issue(REPO, "t").number
    fits, over = "x" * 65_536, "x" * 65_537
    c = client.post(f"/repos/{REPO}/issues/{n}/comments", json={"body": fits})
    assert c.status_code == 201
    for r in (
        client.post(f"/repos/{REPO}/issues/{n}/comments", json={"body": over}),
        client.patch(f"/repos/{REPO}/issues/comments/{c.json()['id']}", json={"body": over}),
        client.post(f"/repos/{REPO}/issues", json={"title": "t", "body": over}),
        client.patch(f"/repos/{REPO}/issues/{n}", json={"body": over}),
    ):
        assert r.status_code == 422 and "too long" in r.json()["errors"][0]["message"]


def test_label_names_are_one_case_aside(gh: FakeGitHubServer, client: httpx.Client) -> None:
    assert client.post(f"/repos/{REPO}/labels", json={"name": "Needs-Info"}).status_code == 201
    again = client.post(f"/repos/{REPO}/labels", json={"name": "needs-info"})
    assert again.status_code == 422 and "already_exists" in again.text


def test_concurrent_requests(gh: FakeGitHubServer, client: httpx.Client) -> None:
    token = client.headers["Authorization"]

    def burst(_: int) -> list[int]:
        with httpx.Client(base_url=gh.url, headers={"Authorization": token}) as c:
            return [c.get(f"/repos/{REPO}").status_code for _ in range(10)]

    with ThreadPoolExecutor(8) as pool:
        codes = [code for codes in pool.map(burst, range(8)) for code in codes]
    assert codes == [200] * 80
    assert len(gh.state.requests("GET", f"/repos/{REPO}")) == 80


def test_requests_from_several_processes(gh: FakeGitHubServer, client: httpx.Client) -> None:
    token = client.headers["Authorization"]
    code = (
        "import httpx, sys\n"
        "with httpx.Client(headers={'Authorization': sys.argv[2]}) as c:\n"
        "    print(sum(c.get(sys.argv[1]).status_code == 200 for _ in range(25)))\n"
    )
    url = f"{gh.url}/repos/{REPO}/issues"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, url, token], stdout=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    outs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert outs == ["25"] * 3
    assert len(gh.state.requests("GET", f"/repos/{REPO}/issues")) == 75


def test_author_association_and_drafts(gh: FakeGitHubServer, client: httpx.Client) -> None:
    gh.state.set_permission(REPO, "maya", "maintain")
    gh.state.add_issue(REPO, "by owner", user="octo")
    gh.state.add_issue(REPO, "by maintainer", user="maya", is_pr=True, draft=True)
    gh.state.add_issue(REPO, "by stranger", user="zed")
    got = {i["title"]: i for i in client.get(f"/repos/{REPO}/issues").json()}
    assert got["by owner"]["author_association"] == "OWNER"
    assert got["by maintainer"]["author_association"] == "COLLABORATOR"
    assert got["by maintainer"]["draft"] is True
    assert got["by stranger"]["author_association"] == "NONE"
