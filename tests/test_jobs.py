"""Jobs called directly: each run is recorded, failures recorded not raised, slots unique."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from dashboard import jobs
from dashboard.config import PROJECT_ROOT, Settings
from dashboard.db import session_scope
from dashboard.models import ImportBatch, JobRun, Ping
from dashboard.scheduler import try_acquire

NOW = dt.datetime(2026, 11, 21, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def settings(db_url, tmp_path) -> Settings:
    return Settings(database_url=db_url, var_dir=tmp_path / "var", demo=False, pings_keep_hours=48)


def _batch(session) -> int:
    b = ImportBatch(kind="pings", filename="x.csv", sha256="0" * 64, status="loaded")
    session.add(b)
    session.flush()
    return b.id


def test_jobs001_prune_deletes_only_what_is_past_its_keeping_time(settings):
    with session_scope(settings.database_url) as s:
        batch = _batch(s)
        for hours in (1, 47, 49, 100):
            s.add(Ping(ts=NOW - dt.timedelta(hours=hours), lon=121.4, lat=31.2, batch_id=batch))
        s.add(JobRun(job_id="x", started_at=NOW - dt.timedelta(days=31), status="ok"))
        s.add(JobRun(job_id="x", started_at=NOW - dt.timedelta(days=29), status="ok"))
    run = jobs.run_job("prune_history", settings=settings, now=NOW)
    assert run.status == "ok"
    assert run.rows == 3  # pings at 49 h and 100 h (keep 48 h), the 31-day-old run
    with session_scope(settings.database_url) as s:
        assert s.scalar(select(func.count()).select_from(Ping)) == 2
        recorded = s.scalars(select(JobRun).where(JobRun.job_id == "prune_history")).one()
        assert recorded.status == "ok" and recorded.rows == 3
        assert recorded.finished_at is not None and recorded.finished_at >= recorded.started_at


def test_jobs001b_prune_removes_processed_files_past_their_keeping_time(settings):
    done = settings.inbox / "done" / "site_checkins"
    rejected = settings.inbox / "rejected" / "pings"
    waiting = settings.inbox / "site_checkins"
    for folder in (done, rejected, waiting):
        folder.mkdir(parents=True)
    old, recent = NOW - dt.timedelta(days=8), NOW - dt.timedelta(days=6)
    files = {
        done / "old.csv": old, done / "recent.csv": recent,
        rejected / "old.csv": old, rejected / "old.csv.reason.txt": old,
        waiting / "old-but-not-loaded.csv": old,
    }
    for path, when in files.items():
        path.write_text("x")
        os.utime(path, (when.timestamp(), when.timestamp()))
    run = jobs.run_job("prune_history", settings=settings, now=NOW)
    assert run.status == "ok" and run.rows == 3
    left = sorted(p.name for p in settings.inbox.rglob("*.*"))
    # A file still waiting is never deleted, however old: it has not been loaded yet.
    assert left == ["old-but-not-loaded.csv", "recent.csv"]


def test_jobs002_a_failing_job_is_recorded_not_raised(settings, monkeypatch):
    def explode(settings, now):
        raise RuntimeError("upstream folder unreadable")

    monkeypatch.setitem(
        jobs.JOBS, "explode", jobs.JobSpec("explode", explode, jobs._every("ingest_interval_s"), "")
    )
    run = jobs.run_job("explode", settings=settings, now=NOW)
    assert run.status == "failed"
    assert "upstream folder unreadable" in run.error
    with session_scope(settings.database_url) as s:
        recorded = s.scalars(select(JobRun).where(JobRun.job_id == "explode")).one()
        assert recorded.status == "failed" and "RuntimeError" in recorded.error


def test_jobs003_scheduled_run_needs_the_lock_and_a_free_slot(settings):
    from dashboard.db import get_engine

    engine = get_engine(settings.database_url)
    slot = jobs.JOBS["prune_history"].slot(settings, NOW)
    # Not holding the lock: nothing runs, nothing is recorded.
    assert jobs.run_job("prune_history", settings=settings, scheduler_id="s1", slot=slot) is None
    assert try_acquire("s1", engine=engine, lease_s=60)
    first = jobs.run_job("prune_history", settings=settings, scheduler_id="s1", slot=slot)
    again = jobs.run_job("prune_history", settings=settings, scheduler_id="s1", slot=slot)
    assert first is not None and first.status == "ok"
    assert again is None
    with session_scope(settings.database_url) as s:
        assert s.scalar(select(func.count()).select_from(JobRun)) == 1


@pytest.mark.parametrize(
    ("job_id", "at", "expected"),
    [
        ("ingest_inbox", "2026-11-21T02:00:14.9+00:00", "2026-11-21T02:00:00+00:00"),
        ("ingest_inbox", "2026-11-21T02:00:15+00:00", "2026-11-21T02:00:15+00:00"),
        ("prune_history", "2026-11-20T19:30:05+00:00", "2026-11-20T19:30:00+00:00"),
        ("prune_history", "2026-11-20T20:30:59+00:00", "2026-11-20T20:30:00+00:00"),
    ],
)
def test_jobs004_slot_is_the_fire_time(settings, job_id, at, expected):
    got = jobs.JOBS[job_id].slot(settings, dt.datetime.fromisoformat(at))
    assert got == dt.datetime.fromisoformat(expected)


def _cli(*args, db_url, tmp_path):
    env = {**os.environ, "DASHBOARD_DATABASE_URL": db_url, "DASHBOARD_DEMO": "false",
           "DASHBOARD_VAR_DIR": str(tmp_path / "var")}
    return subprocess.run([sys.executable, "-m", "dashboard", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_jobs005_cli_runs_and_lists_jobs(sqlite_url, tmp_path):
    listed = _cli("jobs", "list", db_url=sqlite_url, tmp_path=tmp_path)
    assert listed.returncode == 0
    assert "ingest_inbox" in listed.stdout and "prune_history" in listed.stdout
    ran = _cli("jobs", "run", "prune_history", db_url=sqlite_url, tmp_path=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "prune_history: ok" in ran.stdout
    unknown = _cli("jobs", "run", "no_such_job", db_url=sqlite_url, tmp_path=tmp_path)
    assert unknown.returncode == 2 and "known jobs" in unknown.stdout
