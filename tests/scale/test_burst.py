"""A burst of signed deliveries over 3 workers on PostgreSQL, with faults: nothing lost, nothing twice.

SMOLBOT_SCALE_DELIVERIES sets the burst size (CI default 300 over 30 issues; the full run is 2000).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from bot.core.markers import markers_in
from bot.store import open_store
from tests.e2e.harness import broker_url
from tests.fake_github.plugin import make_settings
from tests.scale.cluster import REPO, Fleet, db_outage, restart_redis, writes_by_issue

pytestmark = [pytest.mark.broker, pytest.mark.slow]
N = int(os.environ.get("SMOLBOT_SCALE_DELIVERIES", "300"))
INTERVAL = 0.05  # shared write pacing per installation, kept by all workers together


def _settings(fake, tmp_path: Path, kind: str, pg_url: str):  # type: ignore[no-untyped-def]
    return make_settings(
        fake,
        tmp_path,
        broker_url=broker_url(kind, tmp_path),
        database_url=pg_url,
        recovery_after_s=15,
        retry_base_s=0.5,
        write_interval_s=INTERVAL,
        model_path=str(tmp_path / "no-model-here.gguf"),  # the cautious path: label, no model
        worker_concurrency={"fast": 1, "model": 1, "sweep": 1},
    )


def _purge(settings) -> None:  # type: ignore[no-untyped-def]
    from workers.celery_app import configure

    configure(settings).control.purge()


@pytest.mark.parametrize("kind", ["redis", "amqp"])
def test_burst_with_faults_has_one_effect_per_issue_and_loses_nothing(
    fake_github, tmp_path: Path, pg_url: str, kind: str
) -> None:  # type: ignore[no-untyped-def]
    issues = max(1, N // 10)
    # ~5 REST calls per delivery: a 2,000 burst on one installation needs the 12,500/h an
    # installation reaches with many repositories (at 5,000/h the bot rightly pauses for the reset)
    fake_github.state.quota_limit = 12_500
    fake_github.state.add_installation(1, [REPO])
    for n in range(1, issues + 1):
        fake_github.state.add_issue(REPO, f"Issue {n}", "It fails.")
    settings = _settings(fake_github, tmp_path, kind, pg_url)
    _purge(settings)
    fleet = Fleet(settings, fake_github, tmp_path / "logs").start()
    faults: list[str] = []
    try:
        t0 = time.monotonic()
        for k in range(N):
            if k == N // 5:
                fake_github.state.fail_for(3, 502)
                faults.append("github 502 for 3 s")
            if k == N // 3:
                fleet.workers[0].kill9()
                fleet.add_worker()
                faults.append("kill -9 worker 0, start a replacement")
            if k == N // 2:
                fake_github.state.secondary_limit(n=3, retry_after=2)
                faults.append("3 secondary-limit 403s")
            if k == 2 * N // 3 and kind == "redis":
                restart_redis()
                faults.append("redis restarted (queued messages lost)")
            action = "opened" if k < issues or k % 3 else "edited"
            status = fleet.send(f"burst-{k}", k % issues + 1, action)
            assert status in (200, 202), status
        sent_s = time.monotonic() - t0
        # the database goes away while the workers work through the backlog
        outage = threading.Thread(target=db_outage, args=(pg_url, 3.0))
        outage.start()
        time.sleep(0.5)
        assert fleet.send("burst-during-outage", 1, "edited") == 202  # kept in the spool
        outage.join()
        faults.append("database unreachable for 3 s")
        # the redelivery: recorded already (200) if the spool's replay came first
        assert fleet.send("burst-during-outage", 1, "edited") in (200, 202)
        fleet.wait_final(N + 1, timeout=max(240, N * 0.5))
        total_s = time.monotonic() - t0
        print(f"\n{N} deliveries over {issues} issues, {len(fleet.workers)} workers incl. replacement: "
              f"sent in {sent_s:.1f} s, all final after {total_s:.1f} s "
              f"({N / total_s:.1f} deliveries/s with faults: {'; '.join(faults)})")  # fmt: skip
        _assert_exactly_once(fleet, issues, N)
    finally:
        fleet.stop()
    assert len(faults) >= 4


def _assert_exactly_once(fleet: Fleet, issues: int, n: int) -> None:
    store = open_store(fleet.settings.effective_database_url)
    counts = store.delivery_counts()
    assert counts == {"done": n + 1}, counts  # nothing dead, nothing left in flight
    audited = {
        r["delivery_id"]
        for r in store.rows(
            "select distinct delivery_id from audit where delivery_id like 'burst-%'"
        )
    }
    sent = {f"burst-{k}" for k in range(n)} | {"burst-during-outage"}
    assert audited == sent  # the audit log accounts for every one
    writes = writes_by_issue(fleet.fake)
    for number in range(1, issues + 1):
        assert fleet.fake.state.issue(REPO, number).labels, f"#{number} never got its label"
        per = writes[(REPO, number)]
        assert per["POST labels"] == 1, (number, per)  # one label write, however many deliveries
        bot_markers = [
            m for c in fleet.fake.state.comments(REPO, number) for m in markers_in(c.body)
        ]  # one comment per marker: a second would be a duplicate effect
        assert len(bot_markers) == len(set(bot_markers)), (number, bot_markers)
    _assert_paced(fleet)


def _assert_paced(fleet: Fleet, interval: float = INTERVAL) -> list[float]:
    """Writes for the installation, by all workers together, kept one shared schedule.

    The fake logs a write when it answers, and answers jitter under load; so the check is on the
    whole span (n writes need at least (n - 1) intervals) and on the busiest 2 s window.
    """
    times = sorted(w.time for w in fleet.fake.state.writes() if w.installation == 1)
    assert len(times) >= 2
    assert times[-1] - times[0] >= 0.9 * (len(times) - 1) * interval
    busiest = max(sum(1 for t in times if a <= t < a + 2.0) for a in times)
    assert busiest <= 2.0 / interval + 2, busiest
    return times


def test_write_pacing_is_shared_by_worker_processes(
    fake_github, tmp_path: Path, pg_url: str
) -> None:  # type: ignore[no-untyped-def]
    """3 workers, 24 new issues, 0.3 s per write per installation: 24 writes take >= 6.9 s.

    With a pacer per process the three would write side by side, in about a third of that.
    """
    n, interval = 24, 0.3
    fake_github.state.add_installation(1, [REPO])
    for k in range(1, n + 1):
        fake_github.state.add_issue(REPO, f"Issue {k}", "It fails.")
    settings = _settings(fake_github, tmp_path, "redis", pg_url).model_copy(
        update={"write_interval_s": interval}
    )
    _purge(settings)
    fleet = Fleet(settings, fake_github, tmp_path / "logs").start(with_beat=False)
    try:
        for k in range(1, n + 1):
            assert fleet.send(f"pace-{k}", k) == 202
        fleet.wait_final(n, timeout=120)
    finally:
        fleet.stop()
    times = _assert_paced(fleet, interval)
    assert len(times) >= n
