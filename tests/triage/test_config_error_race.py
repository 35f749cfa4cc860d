"""The config-error issue is opened once, also when workers handling two issues of a repository
(each holding only its issue's lock) find the same broken .github/smolbot.yml at the same time;
a report GitHub fails is made by the next delivery. The real store and the GitHub adapter over
HTTP against the fake GitHub, whose issue listing answers late (a large repository's pages)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from bot.github import GitHubApp
from bot.jobs.repo_config import CONFIG_ERROR_TITLE, load_repo_config
from bot.ports import Unavailable
from bot.store import open_store
from tests.fake_github.plugin import make_settings

REPO = "octo/app"


def _error_issues(state: Any) -> list[int]:
    return [n for n, i in state.repos[REPO].issues.items() if i.title == CONFIG_ERROR_TITLE]


def test_workers_finding_the_same_broken_file_open_one_issue(
    fake_github: Any, tmp_path: Path
) -> None:
    state = fake_github.state
    state.add_installation(1, [REPO])
    state.put_file(REPO, ".github/smolbot.yml", "triage:\n  treshold: 0.7\n")  # unknown key
    state.slow(1.0, match="/issues?")  # both are listing open issues before either creates
    settings = make_settings(fake_github, tmp_path, thresholds={})
    open_store(settings.db_path).close()  # migrated once
    errors: list[BaseException] = []

    def worker() -> None:
        store = open_store(settings.db_path)
        try:
            host = GitHubApp(settings).repo(1, REPO)
            cfg = load_repo_config(store, host, REPO, bot_login="smolbot[bot]")
            assert not cfg.from_file  # the defaults: no good file seen yet
        except BaseException as err:
            errors.append(err)
        finally:
            store.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(_error_issues(state)) == 1


def test_a_report_github_failed_is_made_by_the_next_delivery(
    fake_github: Any, tmp_path: Path
) -> None:
    state = fake_github.state
    state.add_installation(1, [REPO])
    state.put_file(REPO, ".github/smolbot.yml", "triage:\n  treshold: 0.7\n")
    settings = make_settings(fake_github, tmp_path, thresholds={})
    store = open_store(settings.db_path)
    host = GitHubApp(settings).repo(1, REPO)
    state.fail_next(1, status=502, match="/issues?")  # the open issues listing
    with pytest.raises(Unavailable):
        load_repo_config(store, host, REPO, bot_login="smolbot[bot]")
    assert _error_issues(state) == []
    load_repo_config(store, host, REPO, bot_login="smolbot[bot]")
    load_repo_config(store, host, REPO, bot_login="smolbot[bot]")
    assert len(_error_issues(state)) == 1
