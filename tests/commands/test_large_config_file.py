"""A .github/smolbot.yml over 1 MB: GitHub's contents API sends such a file with an empty
`content` and `encoding: "none"` (only the raw media type carries it). Read as it was, that was an
empty file: all defaults, replacing the last good config, dry-run dropped."""

from __future__ import annotations

from typing import Any

from bot.sandbox.fake_github.files import JSON_CONTENT_MAX
from tests.commands.conftest import CONFIG, REPO, error_issues
from tests.commands.test_repo_config_file import _load

PADDING = "# " + "x" * 78 + "\n"


def test_a_config_file_too_large_for_the_json_api_is_read_whole(world: Any) -> None:
    state, ctx = world
    text = "dry_run: true\n" + PADDING * (JSON_CONTENT_MAX // len(PADDING) + 10)
    assert len(text.encode()) > JSON_CONTENT_MAX
    state.put_file(REPO, CONFIG, text)
    cfg = _load(state, ctx)
    assert cfg.dry_run is True  # read whole, through the raw media type
    assert error_issues(state) == []


def test_the_large_file_s_etag_still_saves_the_second_read(world: Any) -> None:
    state, ctx = world
    state.put_file(REPO, CONFIG, "dry_run: true\n" + PADDING * (JSON_CONTENT_MAX // 80 + 10))
    assert _load(state, ctx).dry_run is True
    assert _load(state, ctx).dry_run is True  # answered 304: the cached text
