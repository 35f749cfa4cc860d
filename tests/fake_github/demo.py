"""The fake GitHub seeded as the GitHub adapter's tests start: one App installation with one
repository and one open issue in it."""

from __future__ import annotations

from bot.sandbox.fake_github.server import FakeGitHubServer

INST = 7
REPO = "octo/demo"


def demo_repo(fake_github: FakeGitHubServer) -> FakeGitHubServer:
    """The server, with REPO in installation INST and issue #1 ("Crash on start", `bug`)."""
    st = fake_github.state
    st.add_repo(REPO, INST)
    st.add_issue(REPO, "Crash on start", "It crashes.", labels=["bug"])
    return fake_github
