"""Moved to bot.sandbox.fake_github.model."""

from bot.sandbox.fake_github.model import *  # noqa: F403
