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
        # Let the first run at least 4 slots (a deadline: a busy machine starts it slowly).
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(_runs(db_url)) < 4:
            time.sleep(0.5)
        time.sleep(1)
        first.send_signal(stop_signal)
        first.wait(20)
        stopped_at = dt.datetime.now(dt.UTC)
        # A killed holder's lease (3 s) runs out, then the second takes over: wait for three of
        # its runs (a deadline, not a fixed sleep, so a busy machine does not fail the test).
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            first_holder = _runs(db_url)[0].scheduler_id
            if sum(r.scheduler_id != first_holder for r in _runs(db_url)) >= 3:
                break
            time.sleep(0.5)
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
    # A killed holder may die mid-run: the taker closes that run as failed, never left running.
    abandoned = [r for r in runs[:switch] if r.status != "ok"]
    if stop_signal == signal.SIGKILL:
        assert len(abandoned) <= 1 and all(r.status == "failed" for r in abandoned), abandoned
        assert all(r.status == "ok" for r in runs[switch:]), [r.status for r in runs]
    else:
        assert all(r.status == "ok" for r in runs), [r.status for r in runs]
    # The second said it was waiting on the first, rather than quietly doing nothing.
    second_log = (tmp_path / "second.log").read_text()
    assert "holds the lock until" in second_log and "waits" in second_log
    # Both held the lock for a while: at least 4 slots before, 3 after the stop.
    assert switch >= 4 and len(runs) - switch >= 3


def test_sched004_a_database_error_does_not_stop_the_scheduler(sqlite_url, tmp_path, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from dashboard import scheduler as sched
    from dashboard.config import Settings

    real = sched.try_acquire
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] in (2, 3):  # the database is away for two renewals
            raise OperationalError("renew", {}, Exception("server closed the connection"))
        return real(*args, **kwargs)

    monkeypatch.setattr(sched, "try_acquire", flaky)
    settings = Settings(database_url=sqlite_url, var_dir=tmp_path / "var", demo=False,
                        scheduler_lease_s=3, ingest_interval_s=1)
    s = sched.LockedScheduler(settings, holder="flaky")
    s.start()
    try:
        deadline = time.monotonic() + 15
        while calls["n"] < 5 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert calls["n"] >= 5, "the lease thread stopped renewing"
        assert s._thread.is_alive()
        assert s.running_jobs.is_set()
        assert holds_lease("flaky", engine=get_engine(sqlite_url))
    finally:
        s.stop()
    assert not holds_lease("flaky", engine=get_engine(sqlite_url))


def test_sched005_a_clean_stop_keeps_the_lease_until_running_jobs_end(
    sqlite_url, tmp_path, monkeypatch
):
    """Stopping waits for a running job; were the lease left to run out meanwhile (3 s here,
    the job takes 6 s), a standby would start the same jobs beside it."""
    import threading

    from apscheduler.triggers.interval import IntervalTrigger

    from dashboard import jobs as jobs_mod
    from dashboard import scheduler as sched
    from dashboard.config import Settings

    started, finished = threading.Event(), threading.Event()

    def slow(_settings, _now) -> int:
        started.set()
        time.sleep(6)
        finished.set()
        return 0

    spec = jobs_mod.JobSpec("slow", slow, lambda s: IntervalTrigger(seconds=1), "a slow job")
    monkeypatch.setattr(jobs_mod, "enabled_jobs", lambda settings: [spec])
    monkeypatch.setattr(jobs_mod, "scheduled_run", lambda job_id, **kw: slow(None, None))
    settings = Settings(database_url=sqlite_url, var_dir=tmp_path / "var", demo=False,
                        scheduler_lease_s=3)  # fmt: skip
    engine = get_engine(sqlite_url)
    s = sched.LockedScheduler(settings, holder="first")
    s.start()
    assert started.wait(15), "the slow job never started"
    stopper = threading.Thread(target=s.stop)
    stopper.start()
    taken_while_running = False
    while not finished.is_set():
        # A standby trying all the while: it must not get the lock before the job ends.
        if not finished.is_set() and sched.try_acquire("standby", engine=engine, lease_s=3):
            taken_while_running = not finished.is_set()
            break
        time.sleep(0.2)
    stopper.join(30)
    assert not taken_while_running, "a standby took the lock while the job still ran"
    assert finished.is_set()
    # Once stopped, the lock is free at once (released, not left to run out).
    assert sched.try_acquire("standby", engine=engine, lease_s=3)


def test_sched006_taking_the_lock_closes_runs_a_killed_scheduler_left_running(db_url, tmp_path):
    from dashboard import scheduler as sched
    from dashboard.config import Settings
    from dashboard.db import session_scope

    with session_scope(db_url) as s:
        s.add(JobRun(job_id="score_risk", scheduler_id="ghost", status="running"))
    settings = Settings(database_url=db_url, var_dir=tmp_path / "var", demo=False,
                        scheduler_lease_s=3, ingest_interval_s=60)  # fmt: skip
    s = sched.LockedScheduler(settings, holder="taker")
    s.start()
    try:
        deadline = time.monotonic() + 15
        while not s.running_jobs.is_set() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert s.running_jobs.is_set()
    finally:
        s.stop()
    with session_scope(db_url) as session:
        run = session.scalars(select(JobRun).where(JobRun.scheduler_id == "ghost")).one()
        assert run.status == "failed" and run.finished_at is not None
        assert "abandoned" in run.error and "taker" in run.error
