"""Coordination between workers through the shared database: issue locks, write pacing, job runs."""

from bot.coord.locks import Locks
from bot.coord.pacing import SharedPacer

__all__ = ["Locks", "SharedPacer"]
