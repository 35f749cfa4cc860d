"""An `issues` delivery handled after the App lost its repository (queued behind a backlog, or
retried, across an installation_repositories.removed, installation.deleted or repository.deleted
event) does not register the repository again: it used to, so the dashboard listed it again and
the hourly digest tried it for ever. Through the webhook, the real store, the worker's task and
the GitHub adapter over HTTP against the fake GitHub."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.jobs.runtime import Runtime
from bot.ports import Unavailable
from tests.e2e.harness import deliver, issue_payload, web_client
from tests.fake_github.plugin import WEBHOOK_SECRET, make_settings

REPO, OTHER = "octo/app", "octo/zzz"


def _world(fake_github: Any, tmp_path: Path, known: list[str]) -> tuple[Runtime, TestClient]:
    from workers.tasks import _wr

    fake_github.state.add_installation(1, [REPO, OTHER])
    settings = make_settings(fake_github, tmp_path, task_max_retries=2, retry_base_s=0.01)
    client = web_client(settings)  # configures the worker's app with these settings too
    rt = _wr().rt
    rt.__dict__["models"] = None
    rt.store.upsert_installation(1, "octo")
    rt.store.add_repositories(1, [{"full_name": r, "id": 77} for r in known])
    return rt, client


def _work(delivery_id: str) -> None:
    """As a worker does: a run, and its retry when GitHub's first 404 asked for one (called
    directly, the task's retry raises)."""
    from workers.tasks import handle_delivery

    try:
        outcome = handle_delivery.run(delivery_id)
    except Unavailable:
        outcome = handle_delivery.run(delivery_id)
    assert outcome == "done"


def _lose(state: Any, client: TestClient, how: str) -> None:
    """GitHub takes REPO from the App and sends the event; the worker handles it."""
    inst = {"id": 1, "account": {"login": "octo"}}
    if how == "removed":
        state.installations[1].remove(REPO)
        event, payload = (
            "installation_repositories",
            {
                "action": "removed",
                "installation": inst,
                "repositories_added": [],
                "repositories_removed": [{"full_name": REPO, "id": 77}],
            },
        )
    elif how == "uninstalled":
        del state.installations[1]
        event, payload = "installation", {"action": "deleted", "installation": inst}
    else:
        state.installations[1].remove(REPO)
        event, payload = (
            "repository",
            {
                "action": "deleted",
                "installation": inst,
                "repository": {
                    "full_name": REPO,
                    "id": 77,
                    "name": "app",
                    "owner": {"login": "octo"},
                },
            },
        )
    assert deliver(client, WEBHOOK_SECRET, event, payload, "d-lost").status_code == 202
    _work("d-lost")


def _registered(rt: Runtime) -> list[str]:
    return [r["full_name"] for r in rt.store.repositories()]


@pytest.mark.parametrize("action", ["opened", "closed"])  # closed: no GitHub call at all
@pytest.mark.parametrize("how", ["removed", "uninstalled", "deleted"])
def test_a_delivery_sent_before_the_app_lost_the_repository_does_not_register_it_again(
    fake_github: Any, tmp_path: Path, how: str, action: str
) -> None:
    rt, client = _world(fake_github, tmp_path, known=[REPO, OTHER])
    n = fake_github.state.add_issue(REPO, "Crash", "It crashes.").number
    late = issue_payload(REPO, n, "Crash", "It crashes.", action=action)
    assert deliver(client, WEBHOOK_SECRET, "issues", late, "d-late").status_code == 202
    _lose(fake_github.state, client, how)
    assert REPO not in _registered(rt)

    _work("d-late")  # the delivery's turn comes after the removal

    assert _registered(rt) == ([] if how == "uninstalled" else [OTHER])


def test_a_repository_github_no_longer_shows_is_not_registered_though_its_removal_was_missed(
    fake_github: Any, tmp_path: Path
) -> None:
    """The removal's delivery never reached the bot (the webhook was down): GitHub's 404 on the
    handler's calls says it all the same."""
    rt, client = _world(fake_github, tmp_path, known=[OTHER])
    n = fake_github.state.add_issue(REPO, "Crash", "It crashes.").number
    fake_github.state.installations[1].remove(REPO)
    opened = issue_payload(REPO, n, "Crash", "It crashes.")
    assert deliver(client, WEBHOOK_SECRET, "issues", opened, "d-late").status_code == 202

    _work("d-late")

    assert _registered(rt) == [OTHER]


def test_a_delivery_registers_a_repository_whose_installation_event_was_missed(
    fake_github: Any, tmp_path: Path
) -> None:
    """The store never heard of REPO (the App was installed before the bot ran, say): its
    delivery registers it, though another repository was removed from the installation since."""
    rt, client = _world(fake_github, tmp_path, known=[OTHER])
    n = fake_github.state.add_issue(REPO, "Crash", "It crashes.").number
    closed = issue_payload(REPO, n, "Crash", "It crashes.", action="closed")
    assert deliver(client, WEBHOOK_SECRET, "issues", closed, "d-1").status_code == 202
    fake_github.state.installations[1].remove(OTHER)
    removed = {
        "action": "removed",
        "installation": {"id": 1, "account": {"login": "octo"}},
        "repositories_added": [],
        "repositories_removed": [{"full_name": OTHER, "id": 78}],
    }
    event = "installation_repositories"
    assert deliver(client, WEBHOOK_SECRET, event, removed, "d-rm").status_code == 202
    _work("d-rm")

    _work("d-1")

    assert _registered(rt) == [REPO]
