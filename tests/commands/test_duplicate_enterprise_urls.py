"""`/smolbot duplicate URL` on GitHub Enterprise Server: the issue's URL is on the server's host
(the payload's `repository.html_url`), not github.com; it was refused as "duplicate needs an
issue". `www.github.com` is github.com."""

from __future__ import annotations

import pytest

from bot.core.commands import Command, parse_commands, web_host

REPO = "acme/widgets"
GHE = "ghe.corp.example"


def test_the_web_host_is_the_repository_s() -> None:
    assert web_host(f"https://{GHE}/{REPO}") == GHE
    assert web_host(f"https://{GHE.upper()}/{REPO}") == GHE
    assert web_host(f"https://{GHE}:8443/{REPO}") == f"{GHE}:8443"
    assert web_host(f"https://github.com/{REPO}") == "github.com"
    assert web_host(None) == web_host("") == "github.com"


@pytest.mark.parametrize(
    ("url", "web"),
    [
        (f"https://{GHE}/{REPO}/issues/12", GHE),
        (f"https://{GHE}/{REPO}/issues/12#issuecomment-5", GHE),
        (f"https://{GHE}:8443/{REPO}/issues/12", web_host(f"https://{GHE}:8443/{REPO}")),
        (f"https://www.github.com/{REPO}/issues/12", "github.com"),
        (f"https://github.com/{REPO}/issues/12", "github.com"),
    ],
)
def test_this_repository_s_issue_url_on_its_host_is_a_target(url: str, web: str) -> None:
    assert parse_commands(f"/smolbot duplicate {url}", REPO, web) == (
        [Command("duplicate", 12)],
        [],
    )


def test_another_repository_on_the_server_is_refused_as_another_repository() -> None:
    found, rejected = parse_commands(
        f"/smolbot duplicate https://{GHE}/acme/other/issues/12", REPO, GHE
    )
    assert found == [] and "acme/other is another repository" in rejected[0].why


def test_a_url_on_another_host_is_no_target() -> None:
    """A github.com URL on a server's installation (or another server's) names no issue here."""
    found, rejected = parse_commands(
        f"/smolbot duplicate https://github.com/{REPO}/issues/12", REPO, GHE
    )
    assert found == [] and rejected[0].why == "duplicate needs an issue: #N"
