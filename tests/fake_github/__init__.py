"""The fake GitHub lives in bot.sandbox.fake_github (the demo uses it); tests import it from here."""

from bot.sandbox.fake_github import *  # noqa: F403
from bot.sandbox.fake_github import __all__ as __all__
