"""A long thread's model calls are capped: the model reads the first chunk and the newest, and
the summary says how many comments between it did not read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.core import summary as S
from bot.jobs.summarize import MAX_CHUNKS, budget_chars, write_summary
from bot.settings import load_settings
from tests.lifecycle.fakes import BOT, ScriptedModels
from tests.lifecycle.test_summary import thread_of
from tests.lifecycle.test_summary_long_threads import long_repo


@pytest.mark.parametrize(
    ("sizes", "most", "read", "unread"),
    [
        ([3, 2, 2], 6, [0, 1, 2], 0),  # within the cap: every chunk
        ([3, 2, 2, 4, 1, 5, 2, 2], 4, [0, 5, 6, 7], 9),  # the first, the newest three
        ([3, 2, 2], 1, [0], 4),  # a cap under two: the first chunk alone
        ([3, 2, 2], 0, [0], 4),
    ],
)
def test_the_first_chunk_and_the_newest_are_read(
    sizes: list[int], most: int, read: list[int], unread: int
) -> None:
    parts = [[f"c{i}"] * n for i, n in enumerate(sizes)]
    got, left = S.read_plan(parts, most)
    assert [int(p[0][1:]) for p in got] == read and left == unread


def test_a_400_comment_thread_makes_few_calls_and_says_what_it_did_not_read(
    tmp_path: Path,
) -> None:
    """Uncapped, a 400-comment thread made one call a chunk and more to merge them: 41 calls."""
    settings = load_settings(data_dir=tmp_path, env="test", model_context=1024)
    thread = thread_of(long_repo(400))
    items = S.entries(thread, BOT)
    parts = S.chunks(items, budget_chars(settings))
    assert len(parts) > 3 * MAX_CHUNKS
    newest = items[-1]
    claim = f"{' '.join(newest.text.split()[:9])} [{newest.n}]"
    answer = {"problem": ["The app crashes on start. It worked in 1.2. [0]"], "state": [claim]}
    models: Any = ScriptedModels(*[answer] * (2 * MAX_CHUNKS))
    w = write_summary(models, thread, settings)
    chunk_calls = [v for p, v in models.prompts if p == "summary_chunk"]
    assert len(chunk_calls) == MAX_CHUNKS and len(models.prompts) < 2 * MAX_CHUNKS
    assert chunk_calls[0]["thread"].startswith("[0] alice (author):")
    assert chunk_calls[-1]["thread"].endswith(newest.text)
    _, unread = S.read_plan(parts, MAX_CHUNKS)
    assert w.body is not None and w.kind == "model", w.how
    assert f"{unread} comments between the first chunk and the newest not read" in w.body
