"""Jobs that run on the model queue: summaries, the daily lifecycle sweep, the weekly digests,
repository backfills and their hourly resume, and starting an encoder tune when enough new labeled
examples arrived."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.coord.jobs import register

if TYPE_CHECKING:
    from bot.jobs.context import JobContext
    from bot.jobs.runtime import Runtime


@register("summarize")
def summarize_job(
    rt: Runtime,
    *,
    installation_id: int,
    repo: str,
    number: int,
    requested_by: str | None = None,
    delivery_id: str | None = None,
) -> None:
    from bot.jobs.summarize import summarize_issue

    host = rt.github.repo(installation_id, repo)
    summarize_issue(
        rt.context(), host, repo, number, delivery_id=delivery_id, requested_by=requested_by
    )


def _sweep_lock(kw: dict[str, Any]) -> str:
    from bot.jobs.lifecycle import sweep_lock_key  # `smolbot sweep` takes the same one

    return sweep_lock_key(int(kw["installation_id"]))


@register("lifecycle_sweep", lock=_sweep_lock)
def lifecycle_sweep_job(rt: Runtime, *, installation_id: int, run_id: str) -> None:
    """One installation's daily sweep; resumable by run_id (a retry continues where it stopped).
    The job's runner holds the installation's sweep lock (_sweep_lock) while it runs."""
    from bot.jobs.lifecycle import sweep_installation

    sweep_installation(rt.context(), installation_id, run_id=run_id, hold_lock=False)


@register("weekly_digests", lock=lambda kw: "digests")
def weekly_digests_job(rt: Runtime, *, slot: str) -> None:
    """Post the digest of every repository whose weekly slot has passed (idempotent per week)."""
    from bot.jobs.digest import run_due_digests

    run_due_digests(rt.context())


@register("backfill")
def backfill_job(
    rt: Runtime,
    *,
    installation_id: int,
    repo: str,
    delivery_id: str | None = None,
    part: int = 1,
    stored: int = 0,
    learned: int = 0,
) -> None:
    """One repository of an installation event: its issues into the store, its labeled ones
    learned, SMOLBOT_BACKFILL_PAGES_PER_PART pages a job: each part queues the next, so the
    queue's other jobs run in between. A rate limit or a 5xx retries the job, which resumes at its
    page."""
    from bot.jobs.backfill import Part, backfill_installed, queue_next_part

    ctx, at = rt.context(), Part(part, stored, learned)
    result = backfill_installed(ctx, installation_id, repo, delivery_id, queued=True, part=at)
    if result is None:
        return
    if result.next_page is not None:
        queue_next_part(ctx, installation_id, result, delivery_id, at)
    elif ctx.defer is not None:  # new labeled examples: tune the encoder if now due
        ctx.defer("tune_encoder", {"reason": f"backfill of {repo}"}, delivery_id)
    warm_classifier(ctx, taught=result.learned > 0 or result.forgotten > 0)


def warm_classifier(ctx: JobContext, *, taught: bool) -> None:
    """Retrain here, on the model queue, once a backfill taught something: the first triage after
    it would otherwise retrain inline, on the fast queue, and encode every new example (after 300
    issues, 16.9 s against 1.2 s with their embeddings cached on disk, where this leaves them).
    Here, not in a thread beside the job: the job's end says the classifier is ready. Forced: a
    small repository's dozen examples would otherwise wait for RETRAIN_EVERY more from elsewhere
    (the models whose examples did not change are kept, so the retrain fits only what did)."""
    if taught and ctx.models is not None:
        ctx.models.classifier(force=True)


@register("resume_backfills", lock=lambda kw: "resume-backfills")
def resume_backfills_job(rt: Runtime, *, slot: str) -> None:
    """Hourly: resume the API backfills that stopped within a day, each at its page (audited)."""
    import logging

    from bot.jobs.backfill import resume_unfinished

    ctx = rt.context()
    done = resume_unfinished(ctx)
    warm_classifier(ctx, taught=bool(done.finished or done.continuing))
    if done.finished or done.stopped or done.left or done.continuing:
        logging.getLogger(__name__).info(
            "backfill resumes (%s): finished %s, continuing %s, stopped again %s, left %s",
            slot,
            done.finished,
            done.continuing,
            done.stopped,
            done.left,
        )


@register("tune_encoder", lock=lambda kw: "tune-encoder")
def tune_encoder_job(rt: Runtime, *, reason: str, force: bool = False) -> None:
    """Start tuning the triage encoder in the background if due (bot/llm/tune.py), and reading
    the examples for the triage reader when it is on (bot/llm/reader.py); audited."""
    starts = [("tune_encoder", rt.models.start_tune)]
    if rt.settings.triage_reader:  # the reader reads the same examples (bot/llm/reader.py)
        starts.append(("triage_reader", rt.models.start_reader))
    for action, start in starts:
        started, why = start(force=force)
        outcome = "started" if started else "skipped"
        detail = {"asked_by": reason, "force": force}
        rt.store.audit(action, outcome, why, task="triage", detail=detail)
