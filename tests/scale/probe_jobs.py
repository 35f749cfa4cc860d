"""A model-queue job for tests: needs the model file, then posts one marked comment (idempotent)."""

from __future__ import annotations

from bot.coord.jobs import register
from bot.core.actions import Comment
from bot.jobs.perform import Performer, Target
from bot.jobs.runtime import Runtime
from bot.llm.api import ModelUnavailable


@register("probe_comment")
def probe_comment(rt: Runtime, *, installation_id: int, repo: str, number: int, key: str) -> None:
    path = rt.settings.effective_model_path
    if not path.is_file():  # what the model layer raises on a worker without the file
        raise ModelUnavailable(f"{path} missing — run `smolbot models install`")
    if key.startswith("fail") and not (rt.settings.data_dir / f"allow-{key}").exists():
        raise ValueError(f"probe {key} fails until data_dir/allow-{key} exists")
    host = rt.github.repo(installation_id, repo)
    target = Target(repo, number, "probe", key, False, rt.settings.bot_login)
    Performer(host, rt.store, target).perform([Comment(f"probe {key}", f"probe:{key}", "test")])
