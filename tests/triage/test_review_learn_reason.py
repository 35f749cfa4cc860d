"""Without a model layer a kind label teaches nothing: the audit says so, not that the label is
no kind label (it said `label 'bug' is not a kind label` for `bug`)."""

from __future__ import annotations

from pathlib import Path

from bot.jobs.context import JobContext
from bot.jobs.triage import handle_issue_event
from bot.settings import load_settings
from bot.store import open_store
from tests.triage.conftest import NOW, OneRepoGitHub, issue_payload
from tests.triage.fakes import FakeRepoHost


def _reasons(tmp_path: Path, label: str) -> list[tuple[str, str, str]]:
    host = FakeRepoHost(repo="octo/app", permissions={"maint": "maintain"})
    n = host.add("App crashes on start", "Traceback ...", labels=[label]).number
    s = load_settings(data_dir=tmp_path / "d", env="test")
    store = open_store(s.db_path)
    ctx = JobContext(s, store, OneRepoGitHub(host), None, lambda: NOW)  # type: ignore[arg-type]
    for delivery, action in (("d1", "labeled"), ("d2", "unlabeled")):
        p = issue_payload(host, n, action=action, sender="maint")
        p["label"] = {"name": label}
        handle_issue_event(ctx, delivery, p)
    rows = store.audit_rows("octo/app", n)
    return [
        (r["action"], r["outcome"], r["reason"])
        for r in rows
        if r["action"] in ("learn", "unlearn")
    ]


def test_a_kind_label_without_a_model_layer_says_there_is_none(tmp_path: Path) -> None:
    assert _reasons(tmp_path, "bug") == [
        ("learn", "skipped", "no model layer: not learned (label 'bug')"),
        ("unlearn", "skipped", "no model layer: not unlearned (label 'bug')"),
    ]


def test_a_label_that_is_no_kind_still_says_so(tmp_path: Path) -> None:
    assert _reasons(tmp_path, "help wanted") == [
        ("learn", "skipped", "label 'help wanted' is not a kind label"),
        ("unlearn", "skipped", "label 'help wanted' is not a kind label"),
    ]
