"""A backfill that teaches fewer than RETRAIN_EVERY (20) new examples is in the worker's classifier
at its job's end: a small repository added to an installation is learned from at once."""

from __future__ import annotations

from bot.jobs.backfill import backfill_repo
from bot.jobs.scheduled import warm_classifier


def test_a_small_backfill_is_in_the_classifier_after_its_job(ctx, host):  # type: ignore[no-untyped-def]
    before = ctx.models.classifier().size  # the worker's classifier, trained (55 examples)
    for i in range(12):
        host.add(
            f"Crash number {i} when saving",
            "it crashes with a traceback",
            state="closed",
            labels=["bug"],
        )
    result = backfill_repo(ctx, host, host.repo)
    assert result.learned == 12
    warm_classifier(ctx, taught=result.learned > 0)  # what the backfill job does at its end
    assert ctx.models.classifier().size == before + 12
