"""The Current state of a summary is the author's or the team's newest words, not a stranger's
drive-by "me too, any update?"; entries are labeled author, maintainer or other."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.core import summary as S
from bot.core.lifecycle import Team
from bot.jobs.summarize import write_summary
from bot.settings import load_settings
from tests.lifecycle.fakes import BOT, FakeGitHub, FakeRepo, ScriptedModels, day
from tests.lifecycle.test_summary import NOW, thread_of

FIX = "The fix for the crash on start is merged and ships in 1.4 next week."
DRIVE_BY = "Me too, any update on this? It is blocking our release."


def thread_with_a_drive_by() -> FakeRepo:
    gh = FakeGitHub(lambda: NOW)
    repo = gh.add_repo("o/r")
    repo.add_issue(7, "alice", day(0), body="The app crashes on start. It worked in 1.2.")
    repo.say(7, "bob", "Which version of Python do you use?", day(1), "MEMBER")
    repo.say(7, "alice", "Python 3.12 on Linux.", day(2))
    repo.say(7, "dan", FIX, day(3), "CONTRIBUTOR")  # a private org member: the team says so
    repo.say(7, "zed", DRIVE_BY, day(4))
    repo.say(7, "yan", "+1", day(5))
    return repo


def test_a_stranger_s_drive_by_is_not_the_current_state(tmp_path: Path) -> None:
    w = write_summary(
        None,
        thread_of(thread_with_a_drive_by()),
        load_settings(data_dir=tmp_path, env="test"),
        team=frozenset({"dan", "bob"}),
    )
    assert w.body is not None
    state = w.body.split("**Current state**\n")[1].split("\n\n")[0]
    assert FIX in state and "any update" not in state, w.body


def test_the_team_s_words_are_the_state_without_a_team_lookup_too() -> None:
    """Without `team`, the comment's author_association marks the team (bob, a MEMBER)."""
    repo = thread_with_a_drive_by()
    items = S.entries(thread_of(repo), BOT)
    assert [e.role for e in items] == ["author", "maintainer", "author", "other", "other", "other"]
    state = S.extractive(items).state
    assert state == ["Python 3.12 on Linux. [2]"], state


def test_only_strangers_replied_none_of_their_words_are_the_state() -> None:
    """Where things stand is that nobody of the project has answered: `render` says so."""
    gh = FakeGitHub(lambda: NOW)
    repo = gh.add_repo("o/r")
    repo.add_issue(7, "alice", day(0), body="The app crashes on start.")
    repo.say(7, "zed", DRIVE_BY, day(1))
    items = S.entries(thread_of(repo), BOT)
    assert S.extractive(items).state == [] and S.unanswered(items)


def test_the_model_s_state_from_a_stranger_gives_way_to_the_team_s(tmp_path: Path) -> None:
    """The model (scripted: a small model did this) took the newest comment for the state."""
    repo = thread_with_a_drive_by()
    answer = {
        "problem": ["The app crashes on start. It worked in 1.2. [0]"],
        "tried": ["Python 3.12 on Linux. [2]"],
        "state": ["Me too, any update on this? [4]"],
    }
    models: Any = ScriptedModels(answer)
    settings = load_settings(data_dir=tmp_path, env="test")
    w = write_summary(models, thread_of(repo), settings, team=frozenset({"dan"}))
    assert w.body is not None and w.kind == "model", w.how
    state = w.body.split("**Current state**\n")[1].split("\n\n")[0]
    assert FIX in state and "any update" not in state, w.body
    kept = S.owned_state(
        S.ThreadSummary(state=["Python 3.12 on Linux. [2]"]), S.entries(thread_of(repo), BOT)
    )
    assert kept.state == ["Python 3.12 on Linux. [2]"]  # the author's words stand


def test_a_read_only_collaborator_is_labeled_other() -> None:
    """GitHub says COLLABORATOR for a read-only outside collaborator too: once the sweep found
    him without write (the Team's outsiders), his words are no maintainer's."""
    gh = FakeGitHub(lambda: NOW)
    repo = gh.add_repo("o/r")
    repo.add_issue(7, "alice", day(0), body="The app crashes on start.")
    repo.say(7, "rob", "It is fixed, closing soon.", day(1), "COLLABORATOR")
    repo.say(7, "mo", "Which version do you run?", day(2), "COLLABORATOR")
    looked_up = Team(["mo"], ["rob"])
    roles = {e.author: e.role for e in S.entries(thread_of(repo), BOT, team=looked_up)}
    assert roles == {"alice": S.AUTHOR, "rob": S.OTHER, "mo": S.MAINTAINER}
    unknown = {e.author: e.role for e in S.entries(thread_of(repo), BOT)}
    assert unknown["rob"] == S.MAINTAINER  # not looked up: the association is all there is
