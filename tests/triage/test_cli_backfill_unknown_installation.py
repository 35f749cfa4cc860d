"""`smolbot backfill o/r` through the API when the store never heard of the App's installation on
the repository (the installation.created delivery never reached the bot): it asks GitHub as the App,
records the installation and the repository, and goes on; a repository the App is not installed on
is still refused."""

from __future__ import annotations

from click.testing import CliRunner

from bot.cli import cli
from bot.settings import get_settings
from tests.fake_github.plugin import point_cli_at
from tests.triage import test_e2e_http
from tests.triage.test_e2e_http import REPO, closed_labeled

world = test_e2e_http.world  # installed on REPO at GitHub (installation 1); no webhook came


def _backfill(ctx, monkeypatch, fake_github, repo):  # type: ignore[no-untyped-def]
    point_cli_at(fake_github, ctx.settings.data_dir, monkeypatch)
    try:
        return CliRunner().invoke(cli, ["backfill", repo])
    finally:
        get_settings.cache_clear()


def test_the_cli_backfill_finds_the_app_s_installation_through_github(  # type: ignore[no-untyped-def]
    world, monkeypatch, fake_github
):
    state, ctx = world
    closed_labeled(state, 30)
    assert ctx.store.installation_for_repo(REPO) is None
    out = _backfill(ctx, monkeypatch, fake_github, REPO)
    assert out.exit_code == 0, out.output
    assert "30 read, 30 stored" in out.output
    assert "installation webhook never arrived" in out.output
    assert ctx.store.installation_for_repo(REPO) == 1  # recorded: the workers know it too
    (row,) = [r for r in ctx.store.repositories(1) if r["full_name"] == REPO]
    assert row["id"] == state.repos[REPO].id


def test_the_cli_backfill_refuses_a_repository_the_app_is_not_installed_on(  # type: ignore[no-untyped-def]
    world, monkeypatch, fake_github
):
    _, ctx = world
    out = _backfill(ctx, monkeypatch, fake_github, "octo/elsewhere")
    assert out.exit_code == 2, out.output
    assert "not a known installation repository; use --from FILE or install the App" in out.output
    assert ctx.store.installations() == []
