"""GitHub adapter: the only package that imports PyGithub (`github`)."""

from bot.github.app import GitHubApp
from bot.github.errors import retry_after_s, translate_exception
from bot.github.repo import GitHubRepo

__all__ = ["GitHubApp", "GitHubRepo", "retry_after_s", "translate_exception"]
