"""The scheduler's database lock: one scheduler runs jobs, a second waits, each slot runs once."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import select

from dashboard.config import PROJECT_ROOT
from dashboard.db import get_engine
from dashboard.models import JobRun
from dashboard.scheduler import holds_lease, lock_state, release, try_acquire

T0 = dt.datetime(2026, 11, 21, 1, 0, tzinfo=dt.UTC)


def test_sched001_lease_is_exclusive_until_it_expires(db_url):
    engine = get_engine(db_url)
    assert try_acquire("a", engine=engine, lease_s=30, now=T0)
    assert not try_acquire("b", engine=engine, lease_s=30, now=T0 + dt.timedelta(seconds=10))
    assert try_acquire("a", engine=engine, lease_s=30, now=T0 + dt.timedelta(seconds=20))  # renew
    # Renewed at +20 s, so still held at +40 s ...
    assert not try_acquire("b", engine=engine, lease_s=30, now=T0 + dt.timedelta(seconds=40))
    # ... and free once it ran out.
    assert try_acquire("b", engine=engine, lease_s=30, now=T0 + dt.timedelta(seconds=51))
    assert lock_state(engine=engine)[0] == "b"
    assert holds_lease("b", engine=engine, now=T0 + dt.timedelta(seconds=60))
    assert not holds_lease("a", engine=engine, now=T0 + dt.timedelta(seconds=60))


def test_sched002_release_frees_the_lock_for_the_next(db_url):
    engine = get_engine(db_url)
    assert try_acquire("a", engine=engine, lease_s=300, now=T0)
    release("b", engine=engine)  # not the holder: nothing happens
    assert not try_acquire("b", engine=engine, lease_s=300, now=T0)
    release("a", engine=engine)
    assert try_acquire("b", engine=engine, lease_s=300, now=T0)


def _start_scheduler(db_url: str, tmp_path, name: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DASHBOARD_DATABASE_URL": db_url,
        "DASHBOARD_DEMO": "false",
        "DASHBOARD_INGEST_INTERVAL_S": "1",
        "DASHBOARD_SCHEDULER_LEASE_S": "3",
        "DASHBOARD_VAR_DIR": str(tmp_path / "var"),
    }
    log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [sys.executable, "-m", "dashboard", "scheduler"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _runs(db_url: str) -> list[JobRun]:
    with get_engine(db_url).connect() as conn:
        return list(
            conn.execute(
                select(JobRun.scheduler_id, JobRun.slot, JobRun.status, JobRun.started_at)
                .where(JobRun.job_id == "ingest_inbox")
                .order_by(JobRun.started_at)
            )
        )


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGKILL])
def test_sched003_two_schedulers_each_slot_runs_once(db_url, tmp_path, stop_signal):
    first = _start_scheduler(db_url, tmp_path, "first")
    time.sleep(2.5)  # let the first take the lock before the second starts
    second = _start_scheduler(db_url, tmp_path, "second")
    try:
        time.sleep(5)
        first.send_signal(stop_signal)
        first.wait(20)
        stopped_at = dt.datetime.now(dt.UTC)
        time.sleep(6)  # a killed holder's lease (3 s) runs out, then the second takes over
    finally:
        for p in (first, second):
            if p.poll() is None:
                p.terminate()
                p.wait(20)

    runs = _runs(db_url)
    holders = [r.scheduler_id for r in runs]
    assert len(set(holders)) == 2, f"expected a takeover, got runs by {set(holders)}"
    # All runs of the first come before all runs of the second: they never ran side by side.
    switch = next(i for i, h in enumerate(holders) if h != holders[0])
    assert all(h == holders[0] for h in holders[:switch])
    assert all(h == holders[switch] for h in holders[switch:])
    assert runs[switch].started_at >= stopped_at - dt.timedelta(seconds=1.5)
    # Each one-second slot ran at most once, and the ok runs are the slots actually run.
    slots = [r.slot for r in runs]
    assert len(slots) == len(set(slots))
    assert all(r.status == "ok" for r in runs), [r.status for r in runs]
    # Both held the lock for a while: at least 4 slots before, 3 after the stop.
    assert switch >= 4 and len(runs) - switch >= 3
