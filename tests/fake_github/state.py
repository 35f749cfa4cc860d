"""Moved to bot.sandbox.fake_github.state."""

from bot.sandbox.fake_github.state import *  # noqa: F403
