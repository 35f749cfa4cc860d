"""Digest assembly on the bundled sample, the weekly slot (due), rendering, and checked model lines."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.checks import check_text
from bot.core.config import DigestConfig, parse_config
from bot.core.digest import (
    GITHUB_BODY_MAX,
    AuditEntry,
    ModelCall,
    assemble,
    due,
    render_body,
    render_html,
    render_json,
    week_id,
)
from bot.core.markers import markers_in
from bot.core.ranking import Note, Thread, merged_weights
from bot.jobs.digest import build_digest, line_problems, parse_ts
from bot.llm.api import Answer, ModelRecord
from bot.samples import SAMPLE_REPO, load_sample
from bot.samples.host import SampleHost
from bot.store import Store

NOW = parse_ts(load_sample()["now"])


def sample_digest(store: Store, models: Any = None, top: int | None = None) -> Any:
    data = load_sample()
    cfg = parse_config(data["config"])
    if top is not None:
        cfg = cfg.model_copy(update={"digest": cfg.digest.model_copy(update={"top": top})})
    return build_digest(SampleHost(data), store, SAMPLE_REPO, cfg, NOW, models=models)


def test_sample_digest_ranks_security_and_the_regression_with_its_duplicates(store: Store) -> None:
    d = sample_digest(store)
    numbers = [i.number for i in d.top]
    assert numbers[:2] == [206, 222]  # the two security reports
    regression = next(i for i in d.top if i.number == 210)
    assert "2 duplicates" in regression.why and "regression" in regression.why
    assert len(d.top) == 8  # the sample's config asks for 8
    assert d.week == "2026-w48"
    assert all(i.line == i.title for i in d.top)  # no model: titles


def test_sample_counts_match_the_data(store: Store) -> None:
    data = load_sample()
    since = NOW - timedelta(days=7)
    issues = [i for i in data["issues"] if "pull_request" not in i]
    opened = sum(since <= parse_ts(i["created_at"]) < NOW for i in issues)
    closed = sum(
        i["closed_at"] is not None and since <= parse_ts(i["closed_at"]) < NOW for i in issues
    )
    d = sample_digest(store)
    assert (d.counts["opened"], d.counts["closed"]) == (opened, closed)
    assert d.counts["first_response_median_h"] is not None


def test_waiting_on_maintainers_lists_the_longest_first(store: Store) -> None:
    d = sample_digest(store)
    days = [i.waiting_days for i in d.waiting]
    assert days == sorted(days, reverse=True) and days[0] >= 14
    assert all(i.waiting_on == "maintainer" for i in d.waiting)
    assert 201 not in [i.number for i in d.waiting]  # needs-info: waiting on its author


def test_audit_rows_become_bot_activity_and_counts() -> None:
    """Rows as the lifecycle job writes them: a re-ping comment; a close with its own comment."""
    day = timedelta(days=1)
    closing = "no answer from the author for 7 days after the ping"
    rows = [
        AuditEntry(
            NOW - day,
            "comment",
            "done",
            "waiting on author: quiet for 15 days",
            "lifecycle.sweep",
            201,
        ),
        AuditEntry(NOW - day, "comment", "done", closing, "lifecycle.sweep", 200),
        AuditEntry(NOW - day, "close", "done", closing, "lifecycle.sweep", 200),
        AuditEntry(NOW - day, "comment", "dry-run", "quiet for 20 days", "lifecycle.sweep", 202),
        AuditEntry(NOW - 2 * day, "add_labels", "done", "triage", "triage", 224),
        AuditEntry(NOW - 30 * day, "close", "done", closing, "lifecycle.sweep", 1),  # too old
    ]
    calls = [
        ModelCall(NOW - timedelta(hours=5), "triage", escalated=True),
        ModelCall(NOW - timedelta(hours=4), "digest"),
    ]
    d = assemble("o/r", [], NOW - 7 * day, NOW, DigestConfig(), rows, calls)
    assert (d.counts["stale_closed"], d.counts["re_pinged"], d.counts["escalations"]) == (1, 1, 1)
    assert d.bot == {"add_labels done": 1, "close done": 1, "comment done": 2, "comment dry-run": 1}


def test_renderings_carry_the_week_marker_and_agree(store: Store) -> None:
    d = sample_digest(store)
    assert "digest:2026-w48" in markers_in(render_body(d))
    as_json = json.loads(render_json(d))
    assert as_json["marker"] == "digest:2026-w48"
    assert [i["number"] for i in as_json["top"]] == [i.number for i in d.top]
    page = render_html(d)
    assert "<script" not in page and "#206" in page


def test_titles_never_ping_anyone_from_the_digest() -> None:
    t = Thread(1, "@octo-org/everyone please look", "open", "ann", NOW - timedelta(days=1))
    body = render_body(assemble("o/r", [t], NOW - timedelta(days=7), NOW, DigestConfig()))
    assert "@octo-org" not in body and "@\u200bocto-org/everyone" in body


def test_a_body_past_github_s_limit_leaves_out_its_last_rows_and_says_so() -> None:
    """GitHub refuses a body over 65,536 characters (422): a digest of long titles failed every
    hour. Past the limit the last rows go, the marker stays, and the body says how many went."""
    threads = [
        Thread(n, f"{n} " + "x" * 250, "open", "ann", NOW - timedelta(days=1), comment_count=n)
        for n in range(1, 121)
    ]
    d = assemble("o/r", threads, NOW - timedelta(days=7), NOW, DigestConfig(top=100))
    rows = len(d.top) + len(d.waiting)
    whole = render_body(d)
    assert len(whole) > 20_000 and whole.count("x" * 250) == rows  # within 65,536: all of it
    body = render_body(d, limit=20_000)
    assert len(body) <= 20_000 and "digest:2026-w48" in markers_in(body)
    shown = body.count("x" * 250)
    assert 0 < shown < rows and f"_{rows - shown} more issues left out" in body
    assert len(render_body(d, limit=len(whole))) == len(whole)  # at the limit: nothing goes
    assert GITHUB_BODY_MAX == 65_536


def test_html_escapes_issue_text() -> None:
    t = Thread(1, "<script>alert(1)</script>", "open", "ann", NOW - timedelta(days=1))
    d = assemble("o/r", [t], NOW - timedelta(days=7), NOW, DigestConfig())
    assert "<script>" not in render_html(d) and "&lt;script&gt;" in render_html(d)


# --- the weekly slot -------------------------------------------------------------------------
BERLIN = DigestConfig(weekday=0, hour=9, timezone="Europe/Berlin")


@pytest.mark.parametrize(
    ("utc", "last", "expected"),
    [
        ("2026-11-22T23:30:00", None, False),  # Monday 00:30 in Berlin, before 09:00
        ("2026-11-23T07:59:00", None, False),  # 08:59 Berlin
        ("2026-11-23T08:00:00", None, True),  # 09:00 Berlin
        ("2026-11-25T12:00:00", None, True),  # missed Monday: still due on Wednesday
        ("2026-11-23T08:00:00", "2026-w48", False),  # already posted this week
        ("2026-11-30T08:00:00", "2026-w48", True),  # next week
    ],
)
def test_due(utc: str, last: str | None, expected: bool) -> None:
    now = datetime.fromisoformat(utc).replace(tzinfo=UTC)
    assert due(now, BERLIN, last) is expected


def test_not_due_when_disabled() -> None:
    assert not due(NOW, DigestConfig(enabled=False))


@given(
    st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
    )
)
@settings(max_examples=200, deadline=None)
def test_due_at_most_once_a_week(now: datetime) -> None:
    week = week_id(now, BERLIN.timezone)
    assert not due(now, BERLIN, week)  # posted this week: never again
    later = now + timedelta(hours=1)
    if due(now, BERLIN) and week_id(later, BERLIN.timezone) == week:
        assert due(later, BERLIN)  # once the slot passed, it stays passed all week


# --- assembly properties ---------------------------------------------------------------------
threads = st.lists(
    st.builds(
        Thread,
        number=st.integers(1, 500),
        title=st.text(min_size=1, max_size=20),
        state=st.sampled_from(["open", "closed"]),
        author=st.sampled_from(["ann", "bob"]),
        created_at=st.integers(0, 40 * 24).map(lambda h: NOW - timedelta(hours=h)),
        reactions=st.integers(0, 9),
        comments=st.lists(
            st.builds(
                Note,
                author=st.sampled_from(["ann", "mia"]),
                at=st.integers(0, 900).map(lambda h: NOW - timedelta(hours=h)),
                maintainer=st.booleans(),
            ),
            max_size=3,
        ).map(lambda cs: tuple(sorted(cs, key=lambda c: c.at))),
    ),
    max_size=40,
    unique_by=lambda t: t.number,
)


@given(threads, st.integers(1, 15))
@settings(max_examples=150, deadline=None)
def test_assembly_properties(ts: list[Thread], top: int) -> None:
    since = NOW - timedelta(days=7)
    d = assemble("o/r", ts, since, NOW, DigestConfig(top=top))
    open_numbers = {t.number for t in ts if t.state == "open"}
    assert len(d.top) == min(top, len(open_numbers))
    assert {i.number for i in d.top} <= open_numbers
    assert d.counts["opened"] == sum(since <= t.created_at < NOW for t in ts)
    assert all(i.waiting_on == "maintainer" for i in d.waiting)
    assert [i.waiting_days for i in d.waiting] == sorted(
        (i.waiting_days for i in d.waiting), reverse=True
    )
    assert json.loads(render_json(d))["week"] == d.week


# --- model lines: every one checked, falling back to the title -------------------------------
class ScriptedModels:
    """A scriptable stand-in for the model layer (unit tests only): answers from a list."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.calls: list[Mapping[str, Any]] = []

    def ask(self, task: str, prompt: str, variables: Mapping[str, Any], schema: Any) -> Answer[Any]:
        self.calls.append(variables)
        record = ModelRecord(task, "scripted", "scripted", "digest_line@1", 0.9, False, 1.0)
        return Answer(schema(line=self.lines[len(self.calls) - 1]), 0.9, record)


def test_invented_numbers_links_and_people_fall_back_to_the_title(store: Store) -> None:
    lines = [
        "Cookie lacks the Secure flag behind a TLS proxy; a fix is assigned.",
        "Same as #999, see the advisory.",
        "Details at https://evil.example/x",
        "Ask @someone-else about it.",
    ]
    d = sample_digest(store, ScriptedModels(lines), top=4)
    assert d.top[0].line == lines[0]
    assert [i.line for i in d.top[1:]] == [i.title for i in d.top[1:]]


def test_issue_text_reaches_the_model_as_variables_not_instructions(store: Store) -> None:
    models = ScriptedModels(["ok line one", "ok line two"])
    sample_digest(store, models, top=2)
    assert models.calls[0]["title"].startswith("Session cookie")
    assert set(models.calls[0]) == {"title", "body"}


def test_a_line_may_not_claim_a_fix_nobody_mentioned() -> None:
    t = Thread(7, "Crash on save", "open", "ann", NOW, url="https://github.com/o/r/issues/7")
    assert list(line_problems("Saving crashes the app.", t, "It crashes when I save.")) == []
    assert list(line_problems("Crash on save, now fixed.", t, "It crashes.")) == [
        "claims 'fixed', which nobody in the thread said"
    ]
    assert (
        list(line_problems("Crash on save; the reporter says it is fixed.", t, "fixed in 1.2?"))
        == []
    )
    # the first response's claims too (one list, bot.core.checks.CLAIMS): a close, a duplicate,
    # a date nobody in the thread spoke of
    assert list(line_problems("Crash on save; a duplicate, closing today.", t, "It crashes.")) == [
        "claims 'duplicate', which nobody in the thread said",
        "claims 'closing', which nobody in the thread said",
        "claims 'today', which nobody in the thread said",
    ]
    assert list(line_problems("x" * 200, t, ""))[-1].startswith("too long")
    assert list(line_problems("crash on `save`.", t, "")) == ["only repeats the title"]
    cut = "In 2.4.0 it fails with `Error: Got unexpected extra arguments (13 1"
    said = "Since 2.4.0: Got unexpected extra arguments (13 1)"  # no number of the line invented
    assert list(line_problems(cut, t, said)) == ["cut off: unbalanced brackets or backticks"]


@pytest.mark.model
def test_real_model_writes_checked_lines(store: Store, settings: Any) -> None:
    from pathlib import Path

    from bot.llm import get_model_layer
    from bot.settings import load_settings

    real = Path.home() / ".local/share/smolbot/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
    if not real.is_file():
        pytest.fail(f"the default model is missing at {real}: run `smolbot models install`")
    s = load_settings(data_dir=settings.data_dir, model_path=real, env="test")
    d = sample_digest(store, get_model_layer(s, store), top=2)
    rows = list(store.rows("select * from model_calls where task = 'digest'"))
    assert len(rows) >= 2  # the model was asked for each top issue
    for item in d.top:
        issue_people = {"nina-v", "devon-k", "mona-lisa", "anon-researcher"}
        assert check_text(
            item.line,
            allowed_numbers={item.number},
            allowed_urls={item.url},
            allowed_people=issue_people,
        ).ok
        assert 3 <= len(item.line) <= 240


@pytest.mark.parametrize("zone", ["GMT+2", "Mars/Olympus", "../../etc/passwd"])
def test_an_unknown_time_zone_is_a_config_error_that_says_what_to_use(zone: str) -> None:
    from bot.core.config import ConfigError

    with pytest.raises(ConfigError, match="use an IANA name such as UTC or Europe/Berlin"):
        parse_config(f"digest:\n  timezone: {zone!r}\n")
    assert parse_config("digest:\n  timezone: America/Los_Angeles\n").digest.timezone


def test_a_misspelt_ranking_weight_is_a_config_error_naming_the_weights() -> None:
    from bot.core.config import DEFAULT_WEIGHTS, ConfigError

    with pytest.raises(ConfigError, match=r"unknown weight 'reactons'.*reactions"):
        parse_config("digest:\n  weights:\n    reactons: 5\n")
    weights = parse_config("digest:\n  weights:\n    reactions: 5\n").digest.weights
    assert merged_weights(weights) == {**DEFAULT_WEIGHTS, "reactions": 5.0}
