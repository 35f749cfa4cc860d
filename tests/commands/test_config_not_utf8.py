"""A .github/smolbot.yml that is not UTF-8 is a config error saying where, not a valid file read
with replacement characters: a Latin-1 `exempt_labels: [sécurité]` was accepted with a label
that matches nothing. UTF-8 with a byte-order mark, and UTF-16 after one, still read."""

from __future__ import annotations

import codecs
from typing import Any

import pytest

from bot.core.config import ConfigError, file_text, parse_config
from bot.jobs.repo_config import load_templates, preview_repo_config
from tests.commands.conftest import CONFIG, REPO, error_issues
from tests.commands.test_repo_config_file import _load

LATIN1 = "exempt_labels: [sécurité]\n".encode("latin-1")  # é at byte 17
SAID = "is not UTF-8 (byte 0xe9 at position 17); save the file as UTF-8"


def test_a_latin1_file_keeps_the_last_good_config_and_opens_one_issue(world: Any) -> None:
    state, ctx = world
    state.put_file(REPO, CONFIG, "exempt_labels: [pinned]\n")
    assert _load(state, ctx).exempt_labels == ("pinned",)
    state.put_file(REPO, CONFIG, LATIN1)
    assert _load(state, ctx).exempt_labels == ("pinned",)  # the last good one
    assert _load(state, ctx).exempt_labels == ("pinned",)  # read again: no second issue
    (report,) = error_issues(state)
    assert f"{CONFIG} {SAID}" in report.body
    cfg, note = preview_repo_config(ctx.store, ctx.github.repo(1, REPO), REPO)
    assert cfg.exempt_labels == ("pinned",) and note is not None and SAID in note


def test_the_file_fixed_is_read_again(world: Any) -> None:
    state, ctx = world
    state.put_file(REPO, CONFIG, LATIN1)
    assert not _load(state, ctx).from_file
    state.put_file(REPO, CONFIG, "exempt_labels: [sécurité]\n")
    assert _load(state, ctx).exempt_labels == ("sécurité",)
    assert [i.state for i in error_issues(state)] == ["closed"]


@pytest.mark.parametrize(
    "data",
    [
        codecs.BOM_UTF8 + "exempt_labels: [sécurité]\n".encode(),
        "exempt_labels: [sécurité]\n".encode("utf-16"),  # with its byte-order mark
    ],
    ids=["utf-8 with a BOM", "utf-16"],
)
def test_what_editors_save_as_unicode_still_reads(world: Any, data: bytes) -> None:
    state, ctx = world
    state.put_file(REPO, CONFIG, data)
    assert _load(state, ctx).exempt_labels == ("sécurité",)
    assert error_issues(state) == []


def test_a_bad_byte_after_a_bom_is_the_one_named() -> None:
    with pytest.raises(ConfigError, match=r"byte 0xe9 at position 20\)"):  # 3 + 17
        parse_config(file_text(codecs.BOM_UTF8 + LATIN1))


def test_a_latin1_template_still_reads(world: Any) -> None:
    """Unlike the config, a template read in part still helps: it is read as before."""
    state, ctx = world
    body = "---\nname: Bug report\n---\n## Étapes\n\n## Version\n"
    state.put_file(REPO, ".github/ISSUE_TEMPLATE/bug.md", body.encode("latin-1"))
    (template,) = load_templates(ctx.store, ctx.github.repo(1, REPO), REPO)
    assert template.name == "Bug report" and len(template.fields) == 2
