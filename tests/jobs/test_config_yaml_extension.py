"""`.github/smolbot.yaml` is read where `.github/smolbot.yml` is missing: it was ignored
silently, so a maintainer's `dry_run: true` in it had no effect and the bot wrote to GitHub.
The `.yml` wins where both exist (the `.yaml` ignored, audited), and the requests a config read
costs are as before where a `.yml` exists; no file at all costs a 404 a read, and one for the
`.yaml` every ten minutes (GitHub gives a missing file no ETag). Over HTTP against the fake
GitHub, the real adapter and each real store."""

from __future__ import annotations

from typing import Any

import pytest

from bot.jobs import repo_config
from bot.jobs.repo_config import load_repo_config, preview_repo_config
from tests.jobs.test_config_nul_etag import BOT, CONFIG, REPO, statuses, world

__all__ = ["world"]  # the fixture, used below

YAML = ".github/smolbot.yaml"


def test_a_yaml_file_is_read_where_there_is_no_yml(world: Any) -> None:
    state, store, host = world
    state.put_file(REPO, YAML, "dry_run: true\ntriage:\n  enabled: false\n")

    for _ in range(2):
        cfg = load_repo_config(store, host, REPO, bot_login=BOT)
        assert cfg.from_file and cfg.dry_run and not cfg.triage.enabled

    assert (statuses(state), statuses(state, YAML)) == ([404, 404], [200, 304])
    assert preview_repo_config(store, host, REPO) == (cfg, None)


def test_the_yml_wins_where_both_exist_and_the_yaml_is_said_ignored(world: Any) -> None:
    state, store, host = world
    state.put_file(REPO, CONFIG, "triage:\n  enabled: false\n")
    state.put_file(REPO, YAML, "dry_run: true\n")

    for _ in range(3):
        cfg = load_repo_config(store, host, REPO, bot_login=BOT)
        assert cfg.from_file and not cfg.dry_run and not cfg.triage.enabled

    # the .yaml is looked for once per change of the .yml, not at its 304s
    assert (statuses(state), statuses(state, YAML)) == ([200, 304, 304], [200])
    (why,) = [r["reason"] for r in store.audit_rows(limit=50) if r["outcome"] == "ignored"]
    assert why == f"{YAML} is ignored: {CONFIG} is read where both exist"


def test_a_yml_alone_costs_what_it_did(world: Any) -> None:
    state, store, host = world
    state.put_file(REPO, CONFIG, "triage:\n  enabled: false\n")

    for _ in range(3):
        load_repo_config(store, host, REPO, bot_login=BOT)

    assert (statuses(state), statuses(state, YAML)) == ([200, 304, 304], [404])


def test_no_file_costs_a_404_a_read_and_the_yaml_is_asked_for_every_ten_minutes(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 404 counts against the installation's quota (a 304 does not) and has no ETag to ask
    with: the `.yaml` found missing is not asked for at every job, but a `.yaml` added later is
    still read once YAML_RECHECK_S has passed."""
    state, store, host = world
    for _ in range(3):
        assert not load_repo_config(store, host, REPO, bot_login=BOT).from_file
    assert (statuses(state), statuses(state, YAML)) == ([404, 404, 404], [404])

    state.put_file(REPO, YAML, "dry_run: true\n")
    assert not load_repo_config(store, host, REPO, bot_login=BOT).from_file  # not asked yet
    monkeypatch.setattr(repo_config, "YAML_RECHECK_S", 0)
    assert load_repo_config(store, host, REPO, bot_login=BOT).dry_run
    assert statuses(state, YAML) == [404, 200]


def test_an_invalid_yaml_file_is_reported_by_its_name_and_its_removal_closes_it(
    world: Any,
) -> None:
    state, store, host = world
    state.put_file(REPO, YAML, "triage:\n  treshold: 0.7\n")

    assert not load_repo_config(store, host, REPO, bot_login=BOT).from_file

    (issue,) = state.repos[REPO].issues.values()
    assert issue.title == f"smolbot: {YAML} is invalid"
    assert f"smolbot could not use `{YAML}`" in issue.body
    assert f"{YAML} has invalid settings: triage.treshold" in issue.body
    del state.repos[REPO].files[YAML]
    assert not load_repo_config(store, host, REPO, bot_login=BOT).from_file
    assert state.issue(REPO, issue.number).state == "closed"
