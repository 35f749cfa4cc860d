"""What a backfill taught under one label map does not outlive a change of the map: an issue the
backfill run again finds teaching nothing loses the example the backfill taught from it (a person's
label and the large model's stay)."""

from __future__ import annotations

from bot.jobs.backfill import backfill_repo
from bot.llm.records import text_hash


def test_backfill_again_after_a_label_map_change_forgets_what_the_old_map_taught(ctx, host):  # type: ignore[no-untyped-def]
    for i in range(5):
        host.add(
            f"Platform support for arch {i}",
            "please add arm builds",
            state="closed",
            labels=["support"],
        )
    first = backfill_repo(ctx, host, host.repo)
    assert first.learned == 5  # `support` names question by default
    host.files[".github/smolbot.yml"] = "triage:\n  label_map:\n    question: 'type: question'\n"
    again = backfill_repo(ctx, host, host.repo)
    assert again.not_learned["no label names a kind"] == 5  # the backfill says they teach nothing
    taught = [e for e in ctx.models.records.examples() if e.text.startswith("Platform support")]
    assert taught == [], [(e.text.split(chr(10))[0], e.label, e.source) for e in taught]


def test_a_person_s_label_on_such_an_issue_stays(ctx, host):  # type: ignore[no-untyped-def]
    kept = host.add("Platform support for arm", "please add arm builds", state="closed")
    kept.labels.append("support")
    ctx.models.learn(host.repo, "Platform support for arm\n\nplease add arm builds", "feature")
    host.add("Platform support for riscv", "and riscv", state="closed", labels=["support"])
    backfill_repo(ctx, host, host.repo)
    host.files[".github/smolbot.yml"] = "triage:\n  label_map:\n    question: 'type: question'\n"
    again = backfill_repo(ctx, host, host.repo)
    assert again.forgotten == 1
    taught = [(e.label, e.source) for e in ctx.models.records.examples() if "Platform" in e.text]
    assert taught == [("feature", "human")]
    (row,) = [r for r in ctx.store.audit_rows(host.repo, limit=1) if r["action"] == "backfill"]
    assert "1 example taught by an earlier backfill forgotten" in row["reason"], row["reason"]


def test_an_unlabeled_twin_does_not_make_the_backfill_forget_a_labeled_issue(ctx, host):  # type: ignore[no-untyped-def]
    """Two closed issues with the same text (a duplicate filed twice, closed as such): the one
    labeled bug teaches; the unlabeled one teaches nothing, and forgets nothing this run taught."""
    title, body = "Save button does nothing on Firefox", "Clicking save has no effect"
    host.add(title, body, state="closed")  # #1: the duplicate, no label (listed last)
    host.add(title, body, state="closed", labels=["bug"])  # #2: labeled (listed first)
    result = backfill_repo(ctx, host, host.repo)
    assert result.learned == 1
    rows = list(
        ctx.models.records.db.table("llm_examples").rows_where(
            "scope = ? and text_hash = ?", [host.repo, text_hash(f"{title}\n\n{body}")]
        )
    )
    assert result.forgotten == 0 and len(rows) == 1, (result.forgotten, rows)
