"""A "Duplicate of #N" line counts when a maintainer or the bot wrote it, and a maintainer is who
can write as the sweep found them: GitHub says COLLABORATOR for a read-only outside collaborator
too, so his line is a passer-by's once the store's roles know him."""

from __future__ import annotations

from bot.core.duplicates import marked_duplicate_of
from bot.jobs.lifecycle import known_team, save_roles
from bot.ports import CommentData
from bot.store import Store

BOT = "smolbot[bot]"


def _said(n: int, author: str, body: str, association: str) -> CommentData:
    return CommentData(
        n, author, body, f"2026-11-0{n}T10:00:00Z", "User", author_association=association
    )


def test_a_read_only_collaborator_s_duplicate_line_is_not_a_maintainer_s(store: Store) -> None:
    comments = [
        _said(1, "mona", "Duplicate of #12", "OWNER"),
        _said(2, "rob", "Duplicate of #40", "COLLABORATOR"),
    ]
    assert marked_duplicate_of(comments, BOT) == 40  # nobody looked up: the association says
    save_roles(store, "o/r", {"rob": False})  # the sweep found him without write
    assert marked_duplicate_of(comments, BOT, known_team(store, "o/r")) == 12
    wes = [*comments, _said(3, "wes", "Duplicate of #41", "CONTRIBUTOR")]
    save_roles(store, "o/r", {"wes": True})  # a private org member who can write
    assert marked_duplicate_of(wes, BOT, known_team(store, "o/r")) == 41
