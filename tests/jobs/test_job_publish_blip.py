"""A job handed to the model queue while the broker is away for a moment stays recorded for the
recovery sweep; the delivery that queued it goes on, it is not parked."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

from bot.coord import jobs
from bot.settings import load_settings


@jobs.register("blip_noop")
def blip_noop(rt, *, repo: str, number: int) -> None:  # type: ignore[no-untyped-def]
    return None


def test_a_broker_blip_while_a_delivery_queues_a_job_does_not_park_the_delivery(
    tmp_path: Path,
) -> None:
    """ctx.defer -> jobs.submitted records the run, then publishes it: a refused publish leaves
    the run `received` (the sweep publishes it within a minute) and the delivery finishes."""
    from kombu.exceptions import OperationalError

    from workers.celery_app import configure
    from workers.jobs import bind
    from workers.tasks import _wr, handle_delivery, run_job

    configure(load_settings(env="test", data_dir=tmp_path))
    bind()
    wr = _wr()
    store = wr.rt.store
    store.record_delivery("d", "issue_comment", "{}", repo="o/r", number=4)
    recorded: list[bool] = []

    def dispatch(delivery_id: str) -> None:  # a `/summarize` command, say
        recorded.append(
            jobs.submitted(store, "blip_noop", {"repo": "o/r", "number": 4}, delivery_id)[1]
        )

    refused = OperationalError("[Errno 111] Connection refused")
    with (
        mock.patch.object(wr.rt, "dispatch", side_effect=dispatch),
        mock.patch.object(run_job, "apply_async", side_effect=refused),
    ):
        outcome = handle_delivery.run("d")
    (job,) = jobs.waiting(store, "blip_noop")
    assert job["status"] == "received"  # recorded: the sweep will publish it
    assert recorded == [True]  # the caller learns the run was recorded by this call
    assert outcome == "done" and store.dead_letters() == [], store.delivery("d")["error"]
    assert store.delivery("d")["status"] == "done"
