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


def test_a_backfill_over_http_marks_an_issue_transferred_elsewhere(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    """GitHub answers 301 to another repository for a transferred issue, which the adapter
    raises as Moved (a NotFound): it was counted as a 404 (unchecked) and stayed open, a likely
    duplicate forever, taking one of the run's checks every time."""
    from bot.jobs.backfill import backfill_repo
    from bot.jobs.context import JobContext
    from bot.store import open_store

    st = fake_github.state
    st.add_repo(REPO, 7)
    st.add_repo("octo/other", 7)
    settings = make_settings(fake_github, tmp_path)
    ctx = JobContext(settings, open_store(settings.db_path), github=GitHubApp(settings))
    moved = st.add_issue(REPO, "Editor crashes on save", "TypeError").number
    st.add_issue(REPO, "Docs typo", "in the readme")
    ctx.store.upsert_issue(REPO, {"number": moved, "title": "Editor crashes on save"})
    st.transfer_issue(REPO, moved, "octo/other")  # while no webhook reached the bot
    result = backfill_repo(ctx, ctx.github.repo(7, REPO), REPO)  # type: ignore[union-attr]
    assert (result.gone, result.unchecked) == (1, 0)
    assert (ctx.store.issue(REPO, moved) or {})["state"] == "transferred"


def test_a_backfill_over_http_lists_past_githubs_page_number_limit(
    fake_github: FakeGitHubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scaled down (the fake refuses ?page= past 200 items, the adapter asks by number up to
    page 2): the listing goes on by GitHub's cursor and the backfill stores every issue, in
    parts of two pages, each resuming past the limit."""
    import bot.github.repo as adapter
    from bot.jobs.backfill import backfill_repo
    from bot.jobs.context import JobContext
    from bot.store import open_store

    monkeypatch.setattr(adapter, "PAGE_PARAM_LAST", 2)
    st = fake_github.state
    st.page_param_cap = 200
    st.add_repo(REPO, 7)
    for n in range(430):
        st.add_issue(REPO, f"Issue {n}", "body", state="closed" if n % 2 else "open")
    settings = make_settings(fake_github, tmp_path)
    ctx = JobContext(settings, open_store(settings.db_path), github=GitHubApp(settings))
    host = ctx.github.repo(7, REPO)  # type: ignore[union-attr]
    from bot.jobs.backfill import Part

    result = backfill_repo(ctx, host, REPO, max_pages=2)
    at = Part().after(result)
    while result.next_page is not None:
        result = backfill_repo(ctx, host, REPO, max_pages=2, part=at)
        at = at.after(result)
    assert len(ctx.store.issues(REPO)) == 430
    assert not [r for r in st.requests("GET", "/issues") if r.status == 422]
