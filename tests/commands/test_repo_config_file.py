""".github/smolbot.yml as the jobs read it, through the real store and the GitHub adapter over
HTTP against the fake GitHub: any file that cannot be used (a date no calendar has, a key given
twice, a number past any use, a YAML slip) keeps the last good config and is explained in one
issue of the bot's own, which is closed once the file is fixed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.core.config import ConfigError, parse_config
from bot.jobs.repo_config import CONFIG_ERROR_TITLE, load_repo_config
from bot.jobs.triage import handle_issue_event
from bot.ports import RateLimited, Unavailable
from bot.sandbox.fake_github.server import FakeGitHubServer
from tests.commands.conftest import CONFIG, REPO, error_issues, issue_payload, repo_writes
from tests.lifecycle import http_world as lc

GOOD = "triage:\n  enabled: false\n"


def _opened(state: Any, ctx: Any, delivery_id: str, title: str = "Crash on save") -> int:
    n: int = state.add_issue(REPO, title, "It crashes").number
    handle_issue_event(ctx, delivery_id, issue_payload(state, n))
    return n


def _load(state: Any, ctx: Any) -> Any:
    host = ctx.github.repo(1, REPO)
    return load_repo_config(ctx.store, host, REPO, bot_login=ctx.settings.bot_login)


# -- values PyYAML cannot build are an invalid file, not a crash ---------------------------------
@pytest.mark.parametrize(
    "text,said",
    [
        ("lifecycle:\n  start_date: 2026-02-30\n", "start_date: 2026-02-30"),
        ("exempt_labels: " + "[" * 2000 + "]" * 2000, "nested too deeply"),
        ("lifecycle:\n  days_until_ping: 1" + "0" * 5000 + "\n", "not a number smolbot can"),
    ],
    ids=["date-typo", "deep-nesting", "5000-digits"],
)
def test_a_value_yaml_cannot_build_is_a_config_error(text: str, said: str) -> None:
    with pytest.raises(ConfigError, match=said):
        parse_config(text)


def test_an_impossible_date_keeps_the_last_good_config_and_opens_one_issue(world: Any) -> None:
    state, ctx = world
    state.put_file(REPO, CONFIG, GOOD)
    _opened(state, ctx, "d1")  # the good file is read and kept
    # a maintainer adds a start date, with a typo: February has no 30th
    state.put_file(REPO, CONFIG, GOOD + "lifecycle:\n  start_date: 2026-02-30\n")
    for i in range(2):
        m = _opened(state, ctx, f"d{i + 2}", f"Add dark mode {i}")
        assert state.issue(REPO, m).labels == []  # the last good config (triage off) is kept
    (report,) = error_issues(state)
    assert "start_date: 2026-02-30" in report.body and "line 4" in report.body


def test_one_repository_s_date_typo_does_not_stop_the_sweep_of_the_others(
    fake_github: FakeGitHubServer, tmp_path: Path
) -> None:
    st, ctx = lc.world(fake_github, tmp_path)  # octo/api: ping after 7 days
    st.add_repo("octo/aaa", lc.INST)  # swept first (sorted), with a typo in its file
    st.put_file("octo/aaa", CONFIG, "lifecycle:\n  start_date: 2026-02-30\n")
    number = lc.asked(st, st.now() - 8 * lc.DAY)
    assert lc.sweep(ctx).status == "done"
    assert lc.bot_bodies(st, number), "octo/api's due ping was never sent"


def test_deeply_nested_yaml_is_an_invalid_file_not_a_crash(world: Any) -> None:
    state, ctx = world
    state.put_file(REPO, CONFIG, "exempt_labels: " + "[" * 2000 + "]" * 2000)
    _opened(state, ctx, "d1")
    (report,) = error_issues(state)
    assert "nested too deeply" in report.body


# -- the config-error issue is the bot's own -----------------------------------------------------
@pytest.mark.parametrize("recorded", [False, True])
def test_a_strangers_issue_with_the_marker_is_not_taken_for_the_config_error_issue(
    world: Any, recorded: bool
) -> None:
    state, ctx = world
    body = "Steps: click save, it crashes.\n<!-- smolbot:config-error -->"
    planted = state.add_issue(REPO, "Win a free prize at example.com", body, user="mallory")
    if recorded:  # as an earlier version, which took it for its own, recorded it
        row = {"repo": REPO, "error": "old", "error_issue": planted.number, "updated_at": 0}
        ctx.store.db.table("repo_configs").upsert(row, pk="repo")
    state.put_file(REPO, CONFIG, "triage:\n  enabled: nope\n")  # invalid
    _opened(state, ctx, "d1")
    assert state.issue(REPO, planted.number).body == body  # the stranger's text is untouched
    (report,) = error_issues(state)  # the bot opened its own issue about the file
    assert report.user == ctx.settings.bot_login and "enabled" in report.body


def test_the_bots_own_open_config_error_issue_is_rewritten_not_a_second_one_opened(
    world: Any,
) -> None:
    state, ctx = world
    state.put_file(REPO, CONFIG, "triage:\n  enabled: nope\n")
    _opened(state, ctx, "d1")
    ctx.store.db.execute("delete from repo_configs")  # a lost database: found by its marker
    ctx.store.db.conn.commit()
    state.put_file(REPO, CONFIG, "triage:\n  treshold: 0.7\n")
    _opened(state, ctx, "d2")
    (report,) = error_issues(state)
    assert "treshold" in report.body


# -- dry_run: true in a file that does not parse -------------------------------------------------
def test_a_yaml_slip_below_dry_run_true_writes_nothing(world: Any) -> None:
    state, ctx = world
    text = "dry_run: true\ntriage:\n  label_map: {bug: type: bug}   # unquoted colon: not YAML\n"
    state.put_file(REPO, CONFIG, text)
    _opened(state, ctx, "d1")
    assert repo_writes(state) == []
    rows = [(r["action"], r["outcome"]) for r in ctx.store.audit_rows(limit=100)]
    assert ("config", "dry-run") in rows and ("config_error_issue", "dry-run") in rows


@pytest.mark.parametrize(
    "text,dry_run",
    [
        ("dry_run: true\ntriage: [\n", True),
        ("dry_run: yes   # trying it out\nfoo: bar: baz\n", True),
        ("'dry_run': On\nfoo: bar: baz\n", True),
        ('"dry_run" : 1\nfoo: bar: baz\n', True),
        ("foo: bar: baz\ndry_run: TRUE\n", True),
        ("dry_run: false\ntriage: [\n", False),
        ("dry_run: [true\n", False),
        ("# dry_run: true\ntriage: [\n", False),
        ("triage:\n  dry_run: true\n  label_map: {bug: type: bug}\n", False),
        ("triage: [\ndry_run_later: true\n", False),
    ],
)
def test_a_top_level_dry_run_line_of_a_file_that_does_not_parse_keeps_dry_run(
    world: Any, text: str, dry_run: bool
) -> None:
    state, ctx = world
    state.put_file(REPO, CONFIG, text)
    assert _load(state, ctx).dry_run is dry_run


# -- a key given twice ---------------------------------------------------------------------------
TWICE = """\
dry_run: true   # added while testing the new label map
triage:
  label_map: {bug: bug}
exempt_labels: [pinned]
dry_run: false
"""


@pytest.mark.parametrize(
    "text,said",
    [
        (TWICE, r"found the key 'dry_run' twice \(first on line 1\)\n  in .*, line 5"),
        ("triage:\n  label_map: {bug: a, bug: b}\n", r"key 'bug' twice"),
        ("lifecycle:\n  close: true\n  True: 1\n  true: 2\n", r"key True twice"),
    ],
    ids=["top-level", "nested", "spelled-twice"],
)
def test_a_key_given_twice_is_a_config_error_naming_it_and_its_line(text: str, said: str) -> None:
    with pytest.raises(ConfigError, match=said):
        parse_config(text)


def test_a_merge_key_may_override_what_it_merges() -> None:
    cfg = parse_config("triage: &on {enabled: true}\nlifecycle: {<<: *on, enabled: false}\n")
    assert cfg.triage.enabled and not cfg.lifecycle.enabled


def test_a_key_given_twice_keeps_dry_run_and_is_not_read_as_its_last_value(world: Any) -> None:
    state, ctx = world
    state.put_file(REPO, CONFIG, TWICE)
    n = _opened(state, ctx, "d1")
    assert repo_writes(state) == [] and state.issue(REPO, n).labels == []
    reasons = [r["reason"] for r in ctx.store.audit_rows(limit=100) if r["action"] == "config"]
    assert any("'dry_run' twice" in r for r in reasons), reasons


# -- numbers past any use ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text,said",
    [
        ("lifecycle:\n  days_until_ping: 9999999\n", "days_until_ping: Input should be less"),
        ("lifecycle:\n  days_until_close: 1000001\n", "days_until_close: Input should be less"),
        ("lifecycle:\n  max_operations_per_run: 100000000000000000000\n", "max_operations"),
        ("summaries:\n  auto_after_comments: 100000000000000000000\n", "auto_after_comments"),
        ("digest:\n  pinned_issue: 0\n", "pinned_issue: Input should be greater"),
        ("digest:\n  pinned_issue: 100000000000000000000\n", "pinned_issue: Input should be less"),
    ],
    ids=["ping", "close", "operations", "comments", "pinned-0", "pinned-huge"],
)
def test_a_number_past_any_use_is_a_config_error(text: str, said: str) -> None:
    with pytest.raises(ConfigError, match=said):
        parse_config(text)


@pytest.mark.parametrize("days", [3650, 9999, 36500, 1_000_000])
def test_days_written_to_mean_never_are_kept(days: int) -> None:
    cfg = parse_config(f"lifecycle:\n  days_until_ping: {days}\n  days_until_close: {days}\n")
    assert (cfg.lifecycle.days_until_ping, cfg.lifecycle.days_until_close) == (days, days)


def test_a_million_operations_or_comments_are_kept() -> None:
    text = "lifecycle:\n  max_operations_per_run: 1000000\nsummaries:\n  auto_after_comments: 1000000\n"
    cfg = parse_config(text)
    assert (cfg.lifecycle.max_operations_per_run, cfg.summaries.auto_after_comments) == (
        1_000_000,
        1_000_000,
    )


@pytest.mark.parametrize("days", [9999, 1_000_000])
def test_the_longest_ping_and_close_do_not_break_the_sweep(
    fake_github: FakeGitHubServer, tmp_path: Path, days: int
) -> None:
    text = f"lifecycle:\n  days_until_ping: 7\n  days_until_close: {days}\n  close: true\n"
    st, ctx = lc.world(fake_github, tmp_path, config=text)
    number = lc.asked(st, st.now() - 20 * lc.DAY)
    assert lc.sweep(ctx).status == "done"  # pinged: "closes in {days} days"
    st.advance(8 * lc.DAY)
    assert lc.sweep(ctx).status == "done"
    reports = [i for i in st.repos[lc.REPO].issues.values() if i.title == CONFIG_ERROR_TITLE]
    assert reports == [] and len(lc.bot_bodies(st, number)) == 1
    assert st.issue(lc.REPO, number).state == "open"


@pytest.mark.parametrize("days", [1_000_000, 9999999])
def test_a_huge_days_until_ping_does_not_break_the_sweep(
    fake_github: FakeGitHubServer, tmp_path: Path, days: int
) -> None:
    st, ctx = lc.world(fake_github, tmp_path, config=f"lifecycle:\n  days_until_ping: {days}\n")
    number = lc.asked(st, st.now() - 20 * lc.DAY)
    assert lc.sweep(ctx).status == "done"
    reports = [i for i in st.repos[lc.REPO].issues.values() if i.title == CONFIG_ERROR_TITLE]
    if days == 1_000_000:  # valid: the issue waits its million days
        assert reports == [] and lc.bot_bodies(st, number) == []
    else:  # invalid: said in one issue, the defaults (14 days) used meanwhile
        assert ["days_until_ping" in i.body for i in reports] == [True]
        assert lc.bot_bodies(st, number)


# -- empty label names, weights that are not numbers ---------------------------------------------
@pytest.mark.parametrize(
    "text,said",
    [
        ("triage:\n  needs_triage_label: ''\n", "needs_triage_label: Value error, a label name"),
        ("triage:\n  needs_info_label: '  '\n", "needs_info_label: Value error, a label name"),
        ("triage:\n  label_map: {bug: ''}\n", "label_map.bug: Value error, a label name"),
        ("digest:\n  label: ''\n", "digest.label: Value error, a label name"),
        ("lifecycle:\n  exempt_labels: [pinned, '']\n", "exempt_labels.1: Value error"),
        ("exempt_labels: ['']\n", "exempt_labels.0: Value error, a label name"),
        ("digest:\n  weights: {reactions: .nan}\n", "weights.reactions: Input should be a finite"),
        ("digest:\n  weights: {security: .inf}\n", "weights.security: Input should be a finite"),
        ("digest:\n  weights: {new: 1e308}\n", "weights.new: Input should be less than"),
        # GitHub refuses a label over 50 characters (422): every triage would be parked
        ("triage:\n  needs_info_label: " + "w" * 51 + "\n", "needs_info_label: .* at most 50"),
        ("triage:\n  label_map: {bug: '" + "b" * 60 + "'}\n", "label_map.bug: .* at most 50"),
    ],
    ids=[
        "needs-triage",
        "needs-info",
        "label-map",
        "digest",
        "lifecycle-exempt",
        "exempt",
        "nan",
        "inf",
        "1e308",
        "needs-info-51-chars",
        "label-map-60-chars",
    ],
)
def test_an_empty_label_name_or_a_weight_that_is_no_number_is_a_config_error(
    text: str, said: str
) -> None:
    with pytest.raises(ConfigError, match=said):
        parse_config(text)


def test_labels_and_weights_as_given_are_kept() -> None:
    text = "triage:\n  label_map: {bug: 'T: defect'}\ndigest:\n  weights: {reactions: -2.5}\n"
    cfg = parse_config(text)
    assert cfg.triage.label_map["bug"] == "T: defect" and cfg.digest.weights == {"reactions": -2.5}
    fifty = "n" * 50  # GitHub's longest
    assert parse_config(f"triage:\n  needs_info_label: {fifty}\n").triage.needs_info_label == fifty


# -- an error issue GitHub refuses ---------------------------------------------------------------
def test_a_file_with_very_many_errors_still_leaves_the_bot_working(world: Any) -> None:
    state, ctx = world
    many = "\n".join(f"setting_{i}: true" for i in range(2000))  # e.g. another tool's file
    state.put_file(REPO, CONFIG, GOOD)
    _opened(state, ctx, "d1")
    state.put_file(REPO, CONFIG, GOOD + many)
    m = _opened(state, ctx, "d2", "Crash on load")  # GitHub refused the issue's body (422)
    assert state.issue(REPO, m).labels == []  # last good config: triage off
    (report,) = error_issues(state)
    assert "setting_19: Extra inputs" in report.body and "setting_20:" not in report.body
    assert "and 1980 more" in report.body and len(report.body) < 5000


def test_an_error_as_long_as_a_whole_issue_is_cut_to_fit_one(world: Any) -> None:
    state, ctx = world
    weights = ", ".join(f"weight_number_{i}: 1" for i in range(5000))  # named in one message
    state.put_file(REPO, CONFIG, f"digest:\n  weights: {{{weights}}}\n")
    _opened(state, ctx, "d1")
    (report,) = error_issues(state)
    assert "unknown weight 'weight_number_0'" in report.body and "... (cut)" in report.body
    assert len(report.body) < 25_000


def _refuse_the_issue(state: Any, ctx: Any, refusal: str) -> None:
    """GitHub refuses the bot's issue about the file (armed just before its POST: the listing of
    open issues that comes first goes through)."""

    def arm(name: str, host: Any) -> None:
        create = host.create_issue

        def create_issue(*args: Any, **kw: Any) -> int:
            if refusal == "422":
                state.fail_next(1, status=422, match="/app/issues")
            else:
                state.secondary_limit(1, retry_after=60, match="/app/issues")
            return int(create(*args, **kw))

        host.create_issue = create_issue

    lc.patch_host(ctx, arm)


def test_an_error_issue_github_refuses_for_good_is_audited_and_the_last_good_config_used(
    world: Any,
) -> None:
    state, ctx = world
    state.put_file(REPO, CONFIG, GOOD)
    _opened(state, ctx, "d1")
    _refuse_the_issue(state, ctx, "422")
    state.put_file(REPO, CONFIG, GOOD + "treshold: 0.7\n")
    for i in range(2):  # not tried again for the same error: GitHub said no for good
        m = _opened(state, ctx, f"d{i + 2}", f"Crash {i}")
        assert state.issue(REPO, m).labels == []  # last good config: triage off
    assert error_issues(state) == []
    rows = [(r["action"], r["outcome"], r["reason"]) for r in ctx.store.audit_rows(limit=100)]
    (failed,) = [reason for action, outcome, reason in rows if outcome == "failed"]
    assert "422" in failed and "treshold" in failed


def test_an_error_issue_github_refuses_for_now_fails_the_job_and_is_made_by_the_next(
    world: Any,
) -> None:
    state, ctx = world
    state.put_file(REPO, CONFIG, "treshold: 0.7\n")
    n = state.add_issue(REPO, "Crash", "It crashes").number
    real_repo = ctx.github.repo
    _refuse_the_issue(state, ctx, "secondary")
    with pytest.raises(RateLimited):
        handle_issue_event(ctx, "d1", issue_payload(state, n))
    ctx.github.repo = real_repo
    handle_issue_event(ctx, "d2", issue_payload(state, n))
    assert len(error_issues(state)) == 1


# -- the file fixed ------------------------------------------------------------------------------
def test_fixing_the_file_closes_the_config_error_issue_with_a_note(world: Any) -> None:
    state, ctx = world
    state.put_file(REPO, CONFIG, "triage:\n  enabled: nope\n")
    _opened(state, ctx, "d1")
    (report,) = error_issues(state)
    assert report.state == "open"
    state.put_file(REPO, CONFIG, GOOD)  # fixed
    for i in range(2):  # closed once
        m = _opened(state, ctx, f"d{i + 2}", f"Crash on load {i}")
        assert state.issue(REPO, m).labels == []  # the fixed file is used: triage off
    (report,) = error_issues(state)
    assert (report.state, report.state_reason) == ("closed", "completed")
    (note,) = [c.body for c in state.comments(REPO, report.number)]
    assert "valid again" in note
    outcomes = [(r["action"], r["outcome"]) for r in ctx.store.audit_rows(REPO, report.number)]
    assert ("close", "done") in outcomes


def test_removing_the_file_closes_the_config_error_issue_too(world: Any) -> None:
    state, ctx = world
    state.put_file(REPO, CONFIG, "triage:\n  enabled: nope\n")
    _opened(state, ctx, "d1")
    del state.repos[REPO].files[CONFIG]
    _opened(state, ctx, "d2")
    (report,) = error_issues(state)
    assert report.state == "closed"
    (note,) = [c.body for c in state.comments(REPO, report.number)]
    assert "removed" in note and "defaults" in note


def test_a_fixed_file_in_dry_run_leaves_the_config_error_issue_open_and_says_so(
    world: Any,
) -> None:
    state, ctx = world
    state.put_file(REPO, CONFIG, "triage:\n  enabled: nope\n")
    _opened(state, ctx, "d1")
    state.put_file(REPO, CONFIG, "dry_run: true\n")
    _opened(state, ctx, "d2")
    (report,) = error_issues(state)
    assert report.state == "open" and state.comments(REPO, report.number) == []
    outcomes = [(r["action"], r["outcome"]) for r in ctx.store.audit_rows(REPO, report.number)]
    assert ("close", "dry-run") in outcomes


def test_an_error_issue_a_maintainer_closed_gets_no_note_when_the_file_is_fixed(
    world: Any,
) -> None:
    state, ctx = world
    state.put_file(REPO, CONFIG, "triage:\n  enabled: nope\n")
    _opened(state, ctx, "d1")
    (report,) = error_issues(state)
    report.state = "closed"
    state.put_file(REPO, CONFIG, GOOD)
    _opened(state, ctx, "d2")
    assert state.comments(REPO, report.number) == []


def test_an_error_issue_github_will_not_close_now_is_closed_by_the_next_delivery(
    world: Any,
) -> None:
    state, ctx = world
    state.put_file(REPO, CONFIG, "triage:\n  enabled: nope\n")
    _opened(state, ctx, "d1")
    (report,) = error_issues(state)
    state.put_file(REPO, CONFIG, GOOD)
    real_repo = ctx.github.repo

    def arm(name: str, host: Any) -> None:  # the note is posted, then GitHub fails the close
        close = host.close

        def failing_close(number: int, state_reason: str) -> None:
            state.fail_next(1, status=502, match=f"/issues/{number}")
            close(number, state_reason)

        host.close = failing_close

    lc.patch_host(ctx, arm)
    with pytest.raises(Unavailable):
        _opened(state, ctx, "d2")
    assert state.issue(REPO, report.number).state == "open"
    ctx.github.repo = real_repo
    _opened(state, ctx, "d3")
    assert state.issue(REPO, report.number).state == "closed"
    assert len(state.comments(REPO, report.number)) == 1  # the note, once
