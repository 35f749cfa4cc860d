"""Rotating the webhook secret without refusing deliveries, and POST /webhook/.

SMOLBOT_WEBHOOK_SECRET held one secret: between changing it in the App's settings and restarting
the web with the new one (or the other way round), every delivery was answered 401, and GitHub
does not resend a failed delivery by itself. SMOLBOT_WEBHOOK_SECRET_PREVIOUS holds the old one
while the rotation runs. And `POST /webhook/` (a URL pasted with a slash) was answered 307 with
an empty body, which GitHub does not follow.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bot.settings import Settings, load_settings
from bot.store import Store
from bot.webhook.app import create_app
from bot.webhook.signature import sign
from tests.conftest import SECRET
from tests.webhook.test_app import OPENED, Recorder, post

NEW = "the-new-secret, with a comma in it"


def _signed(client: TestClient, secret: str, delivery: str, path: str = "/webhook") -> int:
    headers = {
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": delivery,
        "Content-Type": "application/json",
        "X-Hub-Signature-256": sign(secret.encode(), OPENED),
    }
    r = client.post(path, content=OPENED, headers=headers, follow_redirects=False)
    return r.status_code


def test_both_secrets_sign_a_delivery_while_a_rotation_runs(
    settings: Settings, store: Store
) -> None:
    rotating = settings.model_copy(
        update={
            "webhook_secret": load_settings(webhook_secret=NEW).webhook_secret,
            "webhook_secret_previous": settings.webhook_secret,
        }
    )
    queue = Recorder()
    with TestClient(create_app(rotating, store, queue)) as client:
        assert _signed(client, SECRET, "old") == 202  # GitHub still has the old secret
        assert _signed(client, NEW, "new") == 202  # or the new one already
        assert _signed(client, "something else", "other") == 401
        assert _signed(client, "the-new-secret", "part") == 401  # a comma is no separator
    assert queue.sent == ["old", "new"]
    assert store.delivery("other") is None and store.delivery("part") is None


def test_without_a_previous_secret_only_the_secret_signs(settings: Settings, store: Store) -> None:
    with TestClient(create_app(settings, store, Recorder())) as client:
        assert _signed(client, SECRET, "ok") == 202
        assert _signed(client, NEW, "other") == 401


def test_a_previous_secret_alone_is_no_secret(settings: Settings, store: Store) -> None:
    """The webhook refuses every delivery while SMOLBOT_WEBHOOK_SECRET is unset, as before."""
    only_old = settings.model_copy(
        update={"webhook_secret": None, "webhook_secret_previous": settings.webhook_secret}
    )
    with TestClient(create_app(only_old, store, Recorder())) as client:
        r = post(client, "issues", OPENED)
    assert r.status_code == 503 and "SMOLBOT_WEBHOOK_SECRET" in r.json()["detail"]


def test_the_previous_secret_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMOLBOT_WEBHOOK_SECRET", NEW)
    monkeypatch.setenv("SMOLBOT_WEBHOOK_SECRET_PREVIOUS", "old,one")
    s = load_settings(env="test")
    assert s.webhook_secret is not None and s.webhook_secret.get_secret_value() == NEW
    previous = s.webhook_secret_previous
    assert previous is not None and previous.get_secret_value() == "old,one"
    assert "old,one" not in repr(s)  # a secret: never shown
    monkeypatch.setenv("SMOLBOT_WEBHOOK_SECRET_PREVIOUS", "  ")  # blank: unset, as the others
    assert load_settings(env="test").webhook_secret_previous is None


def test_a_placeholder_previous_secret_is_refused_in_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.settings import SettingsError

    with pytest.raises(SettingsError, match="SMOLBOT_WEBHOOK_SECRET_PREVIOUS is a placeholder"):
        load_settings(
            env="production",
            webhook_secret=NEW,
            webhook_secret_previous="replace-with-the-secret-you-gave-github",
        )


def test_a_delivery_posted_to_webhook_with_a_slash_is_taken(
    settings: Settings, store: Store
) -> None:
    queue = Recorder()
    with TestClient(create_app(settings, store, queue)) as client:
        assert _signed(client, SECRET, "slash", path="/webhook/") == 202
        assert _signed(client, "wrong", "slash-wrong", path="/webhook/") == 401
    assert queue.sent == ["slash"] and store.delivery("slash") is not None
