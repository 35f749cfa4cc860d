"""`/smolbot summarize` end to end with the local model: the GitHub adapter over HTTP against the
fake GitHub, the real store and model. On an issue only strangers answered, the posted Current
state says nobody of the project has replied, and every cited comment says whose it is."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.core import summary as S
from bot.jobs.commands import handle_comment_event
from bot.jobs.context import JobContext
from bot.llm import get_model_layer
from bot.settings import load_settings
from tests.commands.conftest import REPO, bot_comments, comment_payload


@pytest.mark.model
@pytest.mark.slow
def test_a_summary_asked_for_on_a_thread_only_strangers_answered(world: Any) -> None:
    state, plain = world
    path = load_settings().effective_model_path  # the installed model, not the test's data dir
    if not path.is_file():
        pytest.fail(f"model file missing: run `smolbot models install` ({path})")
    settings = plain.settings.model_copy(
        update={"model_path": path, "model_context": 2048, "model_threads": 1}
    )
    ctx = JobContext(settings, plain.store, plain.github, get_model_layer(settings, plain.store))
    n = state.add_issue(REPO, "Crash on start", "The app crashes on start since 2.3.").number
    state.add_comment(REPO, n, "I tried a reinstall, still the same crash.", user="zed")
    state.add_comment(REPO, n, "Me too, any update on this?", user="yan")
    handle_comment_event(ctx, "c1", comment_payload(n, "/smolbot summarize", "maint", on=state))
    (body,) = bot_comments(state, n)
    current = body.split("**Current state**\n")[1].split("\n\n")[0]
    assert current == f"- {S.NOBODY_ANSWERED}", body
    issue = f"https://github.com/{REPO}/issues/{n}"
    writers = {f"{issue}#issuecomment-{c.id}": c.user for c in state.comments(REPO, n)}
    cited = re.findall(r"\]\((https://[^)]+)\)( by [a-z ]+)?", body)
    assert cited, body
    for url, role in cited:  # the issue itself, or a stranger's comment said to be one
        assert (url, role) == (issue, "") or (writers[url] in ("zed", "yan")), body
        assert url == issue or role == " by another user", body
    print(body)
