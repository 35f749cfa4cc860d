"""The backfill's gone-check marks an issue deleted only on GitHub's 410 (Gone): the adapter tells
it from a 404, which can pass (an author hidden as spam, a permission briefly lost)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.github import GitHubApp
from bot.ports import Gone, NotFound
from tests.fake_github import FakeGitHubServer
from tests.fake_github.plugin import make_settings

REPO = "octo/demo"


def test_the_adapter_answers_gone_for_a_deleted_issue_and_not_for_a_missing_one(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    fake_github.state.add_repo(REPO, 7)
    n = fake_github.state.add_issue(REPO, "to be deleted").number
    fake_github.state.delete_issue(REPO, n)
    repo = GitHubApp(make_settings(fake_github, tmp_path)).repo(7, REPO)
    with pytest.raises(Gone, match="deleted"):  # 410
        repo.issue(n)
    with pytest.raises(NotFound) as missing:  # 404
        repo.issue(999)
    assert not isinstance(missing.value, Gone)
