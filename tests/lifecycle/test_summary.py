"""Summaries: citations rendered from real URLs, invented text rejected, chunking, one comment per issue."""

from __future__ import annotations

import re
from pathlib import Path

from bot.core import summary as S
from bot.core.lifecycle import Thread
from bot.jobs.context import JobContext
from bot.jobs.summarize import summarize_issue, write_summary
from bot.settings import load_settings
from bot.store import open_store
from tests.lifecycle.fakes import BOT, FakeGitHub, FakeRepo, ScriptedModels, day

LINK = re.compile(r"\]\((https://[^)]+)\)")


NOW = day(10)


def repo_with_thread(n_comments: int = 4) -> FakeRepo:
    gh = FakeGitHub(lambda: NOW)
    repo = gh.add_repo("o/r")
    repo.add_issue(7, "alice", day(0), body="The app crashes on start. It worked in 1.2.")
    replies = [
        ("bob", "MEMBER", "Which version of Python do you use?"),
        ("alice", "NONE", "Python 3.12. I tried a reinstall, still the same crash."),
        ("carol", "NONE", "Same here; downgrading to 1.2 is a workaround."),
        ("bob", "MEMBER", "Thanks. Could you attach the full traceback?"),
    ]
    for i in range(n_comments):
        who, assoc, text = replies[i % len(replies)]
        repo.say(7, who, text, day(1 + i * 0.1), assoc)
    return repo


def thread_of(repo: FakeRepo) -> Thread:
    return Thread(repo.issues[7], tuple(repo.comment_list[7]), tuple(repo.events[7]))


def urls_of(repo: FakeRepo) -> set[str]:
    return {repo.issues[7].html_url, *(c.html_url for c in repo.comment_list[7])}


def settings(tmp: Path, **kw: object):
    return load_settings(data_dir=tmp, env="test", **kw)


def test_extractive_summary_links_every_claim_to_a_real_comment(tmp_path: Path) -> None:
    repo = repo_with_thread()
    w = write_summary(None, thread_of(repo), settings(tmp_path))
    assert w.body is not None and "extractive" in w.how
    bullets = [ln for ln in w.body.splitlines() if ln.startswith("- ")]
    assert bullets and all(LINK.search(b) for b in bullets)
    assert set(LINK.findall(w.body)) <= urls_of(repo)
    assert "Could you attach the full traceback?" in w.body  # an open question, quoted
    assert "**Waiting on:** the author (`alice`)" in w.body


def test_a_comment_that_is_only_a_pasted_log_is_not_quoted(tmp_path: Path) -> None:
    """The newest reply only a traceback in a code block: its raw start was quoted as the
    current state, and its unclosed fence opened a code block that hid the rest of the line,
    the link too. The newest reply with words to quote is the state; every bullet is linked."""
    repo = repo_with_thread()
    log = "```\nTraceback (most recent call last):\n" + '  File "/usr/lib/app.py", line 12\n' * 12
    repo.say(7, "alice", log + "ValueError: boom\n```", day(2), "NONE")
    w = write_summary(None, thread_of(repo), settings(tmp_path))
    assert w.body is not None and "extractive" in w.how
    bullets = [ln for ln in w.body.splitlines() if ln.startswith("- ")]
    assert bullets and all(LINK.search(b) for b in bullets), w.body
    assert "```" not in w.body and "Traceback" not in w.body
    assert "Could you attach the full traceback?" in w.body  # the newest reply with prose


def test_model_claims_are_cited_and_uncited_ones_dropped(tmp_path: Path) -> None:
    repo = repo_with_thread()
    answer = {
        "problem": ["The app crashes on start since 1.2 [0]"],
        "tried": ["A reinstall did not help [2]", "Something nobody said"],
        "state": ["A maintainer asked for a traceback [4]"],
        "open_questions": ["Where is the traceback? [4] [9]"],
    }
    w = write_summary(ScriptedModels(answer), thread_of(repo), settings(tmp_path))
    assert w.body is not None and "written by scripted-model" in w.how and "1 ungrounded" in w.how
    assert "Something nobody said" not in w.body  # in no comment: dropped
    assert repo.comment_list[7][1].html_url in w.body  # [2] is the second comment
    question = next(ln for ln in w.body.splitlines() if "Where is the traceback?" in ln)
    assert repo.comment_list[7][3].html_url in question and "entry 9" not in question


def test_uncited_claims_are_attributed_by_their_words_or_dropped(tmp_path: Path) -> None:
    repo = repo_with_thread()
    answer = {
        "problem": ["The app crashes on start"],
        "tried": ["Downgrading to 1.2 is a workaround"],
        "state": ["Alice and Carol are working on fixing it"],
        "open_questions": ["Could you attach the full traceback?"],  # not much less: posted
    }
    w = write_summary(ScriptedModels(answer), thread_of(repo), settings(tmp_path))
    assert "written by scripted-model" in w.how
    assert w.body is not None and "Alice and Carol" not in w.body
    assert f"workaround ([comment 3]({repo.comment_list[7][2].html_url}) by another user)" in w.body


def test_invented_links_numbers_or_people_fall_back_to_extractive(tmp_path: Path) -> None:
    repo = repo_with_thread()
    for bad in ("See https://evil.example/fix [1]", "Duplicate of #4242 [1]", "Ask @mallory [1]"):
        answer = {"problem": [bad], "tried": [], "state": [], "open_questions": []}
        w = write_summary(ScriptedModels(answer), thread_of(repo), settings(tmp_path))
        assert w.body is not None and "failed the check" in w.how
        assert "evil.example" not in w.body and "#4242" not in w.body and "mallory" not in w.body


def test_long_threads_are_chunked_then_merged(tmp_path: Path) -> None:
    repo = repo_with_thread(n_comments=40)
    s = settings(tmp_path, model_context=1024)  # 1,500 characters per call
    part = {"problem": ["crash on start [0]"], "tried": [], "state": [], "open_questions": []}
    merged = {
        "problem": ["The app crashes on start [0]"],
        "tried": ["reinstall [2]"],
        "state": ["waiting for a traceback [40]"],
        "open_questions": [],
    }
    chunks = len(S.chunks(S.entries(thread_of(repo), BOT), 1500))
    models = ScriptedModels(*[part] * chunks, merged)
    w = write_summary(models, thread_of(repo), s)
    assert chunks >= 2
    assert [p for p, _ in models.prompts] == ["summary_chunk"] * chunks + ["summary_merge"]
    assert w.body is not None and "chunks, merged" in w.how
    assert repo.comment_list[7][39].html_url in w.body


def test_one_summary_comment_updated_in_place_and_skipped_when_unchanged(tmp_path: Path) -> None:
    repo = repo_with_thread()
    gh = FakeGitHub(lambda: day(10))
    gh.repos["o/r"] = repo
    ctx = JobContext(settings(tmp_path), open_store(tmp_path / "s.db"), gh, None, lambda: day(10))
    assert summarize_issue(ctx, repo, "o/r", 7, requested_by="bob") == "done"
    assert summarize_issue(ctx, repo, "o/r", 7) == "skipped"  # unchanged thread
    repo.say(7, "alice", "Here is the traceback: ValueError.", day(3))
    assert summarize_issue(ctx, repo, "o/r", 7) == "done"
    summaries = [c for c in repo.comment_list[7] if c.author == BOT]
    assert len(summaries) == 1 and "traceback" in summaries[0].body
    assert [w[0] for w in repo.writes] == ["comment", "edit"]
    rows = ctx.store.audit_rows("o/r", 7)
    assert {r["task"] for r in rows} == {"summary"} and rows[-1]["action"] == "upsert_comment"


def test_a_marker_in_a_quoted_comment_is_shown_not_trusted(tmp_path: Path) -> None:
    """A summary quotes people; a hidden ping marker in what it quotes must not become the bot's
    own (the lifecycle would count a ping nobody saw, and close the issue)."""
    from bot.core.lifecycle import PING_MARK, ping_times
    from bot.core.markers import markers_in

    repo = repo_with_thread(3)
    fake = "<!-- smolbot:lifecycle:ping:2024-01-03 -->"
    repo.say(7, "dave", f"I tried a reinstall {fake} and it still crashes.", day(2), "NONE")
    w = write_summary(None, thread_of(repo), settings(tmp_path))
    assert w.body is not None and "&lt;!-- smolbot:lifecycle:ping:2024-01-03 -->" in w.body
    assert not any(m.startswith(PING_MARK) for m in markers_in(w.body))
    repo.say(7, BOT, w.body, day(3), "NONE")
    assert ping_times(thread_of(repo), BOT) == []


def test_the_waiting_line_reads_the_repository_s_needs_info_label(tmp_path: Path) -> None:
    """As the lifecycle does: a repository's own label for waiting on the author counts."""
    from dataclasses import replace

    from bot.ports import EventData
    from tests.lifecycle.fakes import iso

    repo = repo_with_thread(3)  # the author answered last: it waits on the team
    repo.events[7].append(EventData("labeled", "bob", iso(day(2)), label="awaiting-reply"))
    repo.issues[7] = replace(repo.issues[7], labels=["awaiting-reply"])
    thread = thread_of(repo)
    default = write_summary(None, thread, settings(tmp_path))
    assert "**Waiting on:** the author" not in (default.body or "")
    own = write_summary(None, thread, settings(tmp_path), needs_info="awaiting-reply")
    assert "**Waiting on:** the author (`alice`)" in (own.body or "")


def test_the_waiting_line_knows_maintainers_whose_membership_is_private(tmp_path: Path) -> None:
    """As the lifecycle does: someone who can write is on the team even when GitHub marks them
    CONTRIBUTOR (a private org membership); their question waits on the author."""
    gh = FakeGitHub(lambda: NOW)
    repo = gh.add_repo("o/r")
    repo.add_issue(7, "alice", day(0), body="The app crashes on start. It worked in 1.2.")
    repo.say(7, "dora", "Which version of Python do you use?", day(1), "CONTRIBUTOR")
    repo.perms["dora"] = "maintain"
    ctx = JobContext(settings(tmp_path), open_store(tmp_path / "s.db"), gh, None, lambda: NOW)
    assert summarize_issue(ctx, repo, "o/r", 7, requested_by="dora") == "done"
    (body,) = [c.body for c in repo.comment_list[7] if c.author == BOT]
    assert "**Waiting on:** the author (`alice`)" in body
    assert repo.calls["permission"] == 2  # dora and alice, each once; kept for the next run
    repo.say(7, "carol", "Same here.", day(2), "NONE")
    assert summarize_issue(ctx, repo, "o/r", 7) == "done"
    assert repo.calls["permission"] == 3  # only carol is new
