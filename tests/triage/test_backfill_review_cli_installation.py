"""`smolbot backfill o/r` when the store has the repository under an installation that no longer has
it (the App uninstalled and installed again, the repository taken off the installation, while no
webhook reached the bot): it asks GitHub as the App where the repository is installed now, records
that and goes on; when the App has it nowhere, it says so, naming the repository."""

from __future__ import annotations

from click.testing import CliRunner, Result

from bot.cli import cli
from bot.settings import get_settings
from tests.fake_github.plugin import point_cli_at
from tests.triage import test_e2e_http
from tests.triage.test_e2e_http import REPO, closed_labeled

world = test_e2e_http.world  # installed on REPO at GitHub as installation 1


def _backfill(ctx, monkeypatch, fake_github, repo: str) -> Result:  # type: ignore[no-untyped-def]
    point_cli_at(fake_github, ctx.settings.data_dir, monkeypatch)
    try:
        return CliRunner().invoke(cli, ["backfill", repo])
    finally:
        get_settings.cache_clear()


def test_a_removed_installation_is_replaced_by_github_s_answer(world, monkeypatch, fake_github):  # type: ignore[no-untyped-def]
    state, ctx = world
    closed_labeled(state, 5)
    ctx.store.upsert_installation(9, "octo")  # removed at GitHub since
    ctx.store.add_repositories(9, [{"full_name": REPO, "id": 7}])
    out = _backfill(ctx, monkeypatch, fake_github, REPO)
    assert out.exit_code == 0, out.output
    assert "installed on octo/app as installation 1, not 9 as the store had it" in out.output
    assert "5 read, 5 stored" in out.output
    assert ctx.store.installation_for_repo(REPO) == 1


def test_a_repository_the_app_lost_is_named(world, monkeypatch, fake_github):  # type: ignore[no-untyped-def]
    _, ctx = world
    ctx.store.upsert_installation(1, "octo")
    ctx.store.add_repositories(1, [{"full_name": "octo/gone", "id": 8}])  # not at GitHub now
    out = _backfill(ctx, monkeypatch, fake_github, "octo/gone")
    assert out.exit_code == 1, out.output
    assert out.output.endswith(
        "Error: octo/gone: the App has no access to it any more; install the App on it, or use"
        " --from FILE\n"
    )
