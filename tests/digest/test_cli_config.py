"""`smolbot digest o/r` previews what the weekly job posts: with an invalid .github/smolbot.yml
both use the last valid version the store kept, and the preview says so without writing
anything (the issue about the invalid file is the bot's to open)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.core.config import CONFIG_PATH
from bot.github import GitHubApp
from bot.jobs.context import JobContext
from bot.jobs.digest import repo_config, run_due_digests
from bot.jobs.repo_config import load_repo_config
from bot.settings import Settings, get_settings
from bot.store import Store, open_store
from tests.fake_github import FakeGitHubServer
from tests.fake_github.plugin import make_settings, point_cli_at

INST, REPO = 7, "octo/app"
DAY = 86400.0
GOOD = "digest:\n  weekday: 0\n  hour: 0\n  top: 3\n"  # due all week
BAD = "digest:\n  weekday: 0\n  hour: 0\n  top: three\n"
MONDAY = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)  # 30 minutes past the slot


@pytest.fixture
def world(
    fake_github: FakeGitHubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Settings, Store]]:
    st = fake_github.state
    st.advance(MONDAY.timestamp() - st.now())  # the job's week ends at its slot, just past
    st.add_repo(REPO, INST)
    st.put_file(REPO, CONFIG_PATH, GOOD)
    for n in range(6):
        st.add_issue(REPO, f"Issue {n}", "It breaks.", created_at=st.now() - (n + 1) * DAY)
    settings = make_settings(fake_github, tmp_path)
    store = open_store(settings.db_path)
    store.upsert_installation(INST, "octo")
    store.add_repositories(INST, [{"full_name": REPO, "id": 1}])
    for name in ("SMOLBOT_DATABASE_URL", "SMOLBOT_DASHBOARD_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env of the checkout's
    point_cli_at(fake_github, tmp_path, monkeypatch)
    yield settings, store
    get_settings.cache_clear()


def test_an_invalid_file_previews_the_last_valid_config_as_the_weekly_job_posts_it(
    world: tuple[Settings, Store], fake_github: FakeGitHubServer
) -> None:
    settings, store = world
    st = fake_github.state
    host = GitHubApp(settings).repo(INST, REPO)
    assert load_repo_config(store, host, REPO, bot_login=settings.bot_login).digest.top == 3
    st.put_file(REPO, CONFIG_PATH, BAD)  # a delivery has read the good one; now it breaks
    before = list(store.db.table("repo_configs").rows)
    writes = len([r for r in st.requests() if r.method != "GET" and r.path.startswith("/repos")])

    out = CliRunner().invoke(cli, ["digest", REPO, "--no-model", "--format", "json"])
    assert out.exit_code == 0, out.output
    top = [i["number"] for i in json.loads(out.stdout)["top"]]
    assert len(top) == 3
    assert f"{CONFIG_PATH} is invalid" in out.stderr and "last valid version" in out.stderr
    assert "using defaults" not in out.stderr
    assert list(store.db.table("repo_configs").rows) == before  # read only: no error recorded
    assert writes == len(  # nothing written on GitHub: no issue about the invalid file
        [r for r in st.requests() if r.method != "GET" and r.path.startswith("/repos")]
    )
    assert repo_config(host, store, REPO).digest.top == 3

    def clock() -> datetime:
        return datetime.fromtimestamp(st.now(), UTC)

    ctx = JobContext(settings, store, github=GitHubApp(settings), now=clock)
    (run,) = run_due_digests(ctx)  # the job: same config, so the same top issues
    assert [i.number for i in run.digest.top] == top


def test_without_a_valid_version_read_before_the_preview_says_it_uses_the_defaults(
    world: tuple[Settings, Store], fake_github: FakeGitHubServer
) -> None:
    fake_github.state.put_file(REPO, CONFIG_PATH, BAD)
    out = CliRunner().invoke(cli, ["digest", REPO, "--no-model", "--format", "json"])
    assert out.exit_code == 0, out.output
    assert len(json.loads(out.stdout)["top"]) == 6  # the default top 10, of 6 issues
    assert "using the defaults" in out.stderr and "never read a valid version" in out.stderr


def test_without_a_store_the_digest_reads_a_yaml_where_there_is_no_yml(
    world: tuple[Settings, Store], fake_github: FakeGitHubServer
) -> None:
    settings, _ = world
    st = fake_github.state
    del st.repos[REPO].files[CONFIG_PATH]
    st.put_file(REPO, ".github/smolbot.yaml", GOOD)
    assert repo_config(GitHubApp(settings).repo(INST, REPO)).digest.top == 3
