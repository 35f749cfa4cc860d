"""Moved to bot.sandbox.fake_github.server."""

from bot.sandbox.fake_github.server import *  # noqa: F403
