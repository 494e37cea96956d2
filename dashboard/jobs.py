"""The jobs that keep the tables fresh: module-level functions with explicit ids.

Each job is a plain function ``(settings, now) -> rows`` that opens its own transactions, so it
can be called directly (tests, ``python -m dashboard jobs run NAME``) or by the scheduler. Every
run, whoever starts it, is recorded in ``job_runs`` by :func:`run_job` (start, end, status, rows,
error).

Interval jobs are anchored at a fixed instant, so their fire times are whole multiples of the
interval: the *slot* of a run is its fire time, and ``job_runs`` is unique on (job, slot).
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from dashboard.config import Settings, get_settings
from dashboard.db import get_engine, session_scope
from dashboard.models import JobRun, Ping, SchedulerLock, StationForecast, utcnow

logger = logging.getLogger(__name__)

ANCHOR = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


# --------------------------------------------------------------------------- the jobs


def ingest_inbox(settings: Settings, now: dt.datetime) -> int:
    """Load every file waiting in the inbox through the ingestion path; rows loaded."""
    from dashboard.ingest import load_inbox

    reports = load_inbox(
        settings.inbox, session_factory=lambda: session_scope(settings.database_url)
    )
    return sum(r.rows_loaded for r in reports if not r.already_loaded)


def simulate_feeds(settings: Settings, now: dt.datetime) -> int:
    """Demo mode: play the upstream departments, writing new files into the inbox."""
    from dashboard.feeds.simulator import simulate_round

    return simulate_round(settings, now=now)


def prune_history(settings: Settings, now: dt.datetime) -> int:
    """Drop job runs, raw pings, station forecast issues (after FORECAST_KEEP_DAYS) and processed
    inbox files past their keeping time.

    Returns rows and files deleted.
    """
    files = _prune_processed_files(settings, now)
    with session_scope(settings.database_url) as session:
        runs = session.execute(
            delete(JobRun).where(
                JobRun.started_at < now - dt.timedelta(days=settings.job_runs_keep_days)
            )
        ).rowcount
        pings = session.execute(
            delete(Ping).where(Ping.ts < now - dt.timedelta(hours=settings.pings_keep_hours))
        ).rowcount
        forecasts = session.execute(
            delete(StationForecast).where(
                StationForecast.issued_at < now - dt.timedelta(days=FORECAST_KEEP_DAYS)
            )
        ).rowcount
    return runs + pings + forecasts + files


def _prune_processed_files(settings: Settings, now: dt.datetime) -> int:
    cutoff = (now - dt.timedelta(days=settings.inbox_keep_days)).timestamp()
    removed = 0
    for folder in ("done", "rejected"):
        root = settings.inbox / folder
        if not root.is_dir():
            continue
        for path in root.rglob("*"):
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def aggregate_crowd(settings: Settings, now: dt.datetime) -> int:
    """Fold the pings and provider counts loaded since the last run into the crowd heatmap's
    windows, and drop windows past crowd_keep_days; cell rows written. One transaction, so
    the screen never reads a window half replaced."""
    from dashboard import crowd

    with session_scope(settings.database_url) as session:
        return crowd.refresh(session=session, settings=settings, now=now)


CATCH_UP_DAYS = 14  # how far back a late or corrected indicator file is still scored
RISK_CATCH_UP_INTERVAL_S = 300


def score_risk(settings: Settings, now: dt.datetime, *, catch_up_only: bool = False) -> int:
    """Score community risk: the previous local day (nightly), plus every day of the last two
    weeks whose indicators arrived or changed after it was scored. Compounds scored.

    The model is read from its file on every run; if it is invalid this raises before anything
    is scored, so the scores in place stay (the run is recorded failed, with the reason). Each
    day is scored in a transaction of its own: a failure on one day leaves the others done.
    """
    from dashboard import risk

    model = risk.load_model(settings.risk_model_path)
    yesterday = now.astimezone(ZoneInfo(settings.timezone)).date() - dt.timedelta(days=1)
    with session_scope(settings.database_url) as session:
        days = set(
            risk.dates_to_score(
                yesterday - dt.timedelta(days=CATCH_UP_DAYS - 1),
                yesterday,
                session=session,
                carry_days=settings.risk_carry_forward_days,
            )
        )
    if not catch_up_only:
        days.add(yesterday)
    scored, failed = 0, []
    for day in sorted(days):
        try:
            with session_scope(settings.database_url) as session:
                # computed_at is the clock now, not the job's start: it is compared with the
                # time indicator files were loaded, to find days scored before their data.
                scored += len(
                    risk.score_day(
                        day,
                        session=session,
                        model=model,
                        carry_days=settings.risk_carry_forward_days,
                    )
                )
        except risk.NoCompounds:
            logger.warning("risk: no compounds in the database; nothing to score")
            return 0
        except Exception as exc:
            logger.exception("risk: scoring %s failed", day)
            failed.append(f"{day}: {exc}")
    if failed:
        raise RuntimeError(f"risk scoring failed for {len(failed)} day(s): " + "; ".join(failed))
    return scored


def score_risk_catch_up(settings: Settings, now: dt.datetime) -> int:
    """Only the catch-up part of :func:`score_risk`, every few minutes, so a late file (or a
    fresh demo) shows on the risk map within minutes instead of after the next night."""
    return score_risk(settings, now, catch_up_only=True)


def snapshot_registers(settings: Settings, now: dt.datetime) -> int:
    """Write the registers' figures now as today's (district-local) ``register_counts`` rows,
    replacing today's earlier snapshot; rows written.

    A day's close is its last snapshot, taken within one interval (5 minutes) before
    midnight: registers hold only their current state, so a day that was missed cannot be
    recomputed later; the wall then shows no "change since yesterday" (it never compares
    with an older day as if it were yesterday).
    """
    from dashboard import register_counts, versions
    from dashboard.ingest.kinds import recount_sites, sites_to_recount

    tz = ZoneInfo(settings.timezone)
    today = now.astimezone(tz).date()
    with session_scope(settings.database_url) as session:
        # Sites' "arrivals today" and 14-day key-region counts move at midnight with no
        # check-in file to recount them: recount here. Which sites differ is asked first, so
        # that "sites" is bumped only when some will change, and before they are written (the
        # recounted sites carry that version; its row stays locked until the commit, and a
        # check-in load that commits meanwhile is re-checked by the UPDATE's own condition).
        stale = sites_to_recount(session, now=now, tz=tz)
        if stale:
            version = versions.bump("sites", session=session, at=now)
            recount_sites(session, stale, now=now, tz=tz, sync_version=version)
        return register_counts.snapshot_registers(session, today, now=now)


SNAPSHOT_INTERVAL_S = 300

FORECAST_MINUTE = 5  # hourly at :05 local: the hour just ended has been counted and loaded
FORECAST_KEEP_DAYS = 8  # issues kept: the wall compares past hours with what was forecast
FORECAST_STARTUP_DELAY_S = 60  # a start-up run waits for the first simulator and inbox rounds


@dataclass(frozen=True)
class StationForecastRun:
    written: dict[str, int]  # station -> rows written
    skipped: dict[str, str]  # station -> why it was not forecast


def forecast_stations_at(settings: Settings, now: dt.datetime) -> StationForecastRun:
    """Forecast the next 24 hours from the current hour for every station with history.

    ``issued_at`` is the run's slot (``now`` to the minute), so a rerun of the same slot
    replaces its rows instead of adding a second issue. Older issues are kept (pruned by
    ``prune_history`` after FORECAST_KEEP_DAYS). A station with too little history is skipped
    with a logged reason; one whose fit fails unexpectedly is logged and the job fails after
    writing the others.
    """
    from dashboard import forecast, station_data, versions
    from dashboard.models import Station

    tz = ZoneInfo(settings.timezone)
    issued = now.astimezone(dt.UTC).replace(second=0, microsecond=0)
    origin = issued.replace(minute=0)
    params = forecast.ModelParams.from_settings(settings)
    days = forecast.lookback_days(params)
    written: dict[str, int] = {}
    skipped: dict[str, str] = {}
    failed: list[str] = []
    with session_scope(settings.database_url) as session:
        codes = session.scalars(select(Station.code).order_by(Station.code)).all()
        for code in codes:
            actuals, bookings = station_data.load_history(session, code, until=origin, days=days)
            try:
                fc = forecast.fit_forecast(
                    actuals, origin=origin, bookings=bookings, tz=tz, params=params
                )
            except forecast.ForecastError as exc:
                skipped[code] = str(exc)
                logger.info("forecast_stations: %s skipped: %s", code, exc)
                continue
            except Exception as exc:
                logger.exception("forecast_stations: %s failed", code)
                failed.append(f"{code}: {exc}")
                continue
            for note in fc.notes:
                logger.info("forecast_stations: %s: %s", code, note)
            session.execute(
                delete(StationForecast).where(
                    StationForecast.station_code == code, StationForecast.issued_at == issued
                )
            )
            session.execute(
                insert(StationForecast),
                [
                    {
                        "station_code": code,
                        "issued_at": issued,
                        "hour_start": hour.to_pydatetime(),
                        "model": fc.model,
                        **{k: float(row[k]) for k in ("mean", "lo80", "hi80", "lo95", "hi95")},
                    }
                    for hour, row in fc.frame.iterrows()
                ],
            )
            written[code] = len(fc.frame)
        if written:
            versions.bump("forecasts", session=session, at=now)
    if failed:
        raise RuntimeError(f"forecast failed for {len(failed)} station(s): " + "; ".join(failed))
    return StationForecastRun(written, skipped)


def forecast_stations(settings: Settings, now: dt.datetime) -> int:
    """The hourly station forecast (see :func:`forecast_stations_at`); rows written."""
    run = forecast_stations_at(settings, now)
    if run.skipped:
        logger.info(
            "forecast_stations: %d station(s) forecast, %d skipped",
            len(run.written),
            len(run.skipped),
        )
    return sum(run.written.values())


def newest_forecast(settings: Settings) -> dt.datetime | None:
    with session_scope(settings.database_url) as session:
        return session.scalar(select(func.max(StationForecast.issued_at)))


class HourlyWithCatchUp(BaseTrigger):
    """Cron at ``minute`` past every hour, plus one run soon after start-up when the newest
    forecast is older than an hour (or there is none), so a restarted scheduler does not leave
    the wall without a forecast until the next :05."""

    def __init__(self, settings: Settings, minute: int) -> None:
        self.settings = settings
        self.cron = CronTrigger(minute=minute, timezone=settings.timezone)

    def get_next_fire_time(self, previous_fire_time, now):
        if previous_fire_time is None:
            try:
                newest = newest_forecast(self.settings)
            except Exception:  # the database is down: the hourly runs will catch up
                logger.exception("forecast_stations: could not read the newest forecast")
                newest = now
            if newest is None or newest < now - dt.timedelta(hours=1):
                return now + dt.timedelta(seconds=FORECAST_STARTUP_DELAY_S)
        return self.cron.get_next_fire_time(previous_fire_time, now)

    def __str__(self) -> str:
        return f"hourly at :{FORECAST_MINUTE:02d} and at start-up when stale"


def _risk_nightly(settings: Settings) -> BaseTrigger:
    hour, minute = settings.risk_score_hour_minute
    return CronTrigger(hour=hour, minute=minute, timezone=settings.timezone)


# --------------------------------------------------------------------------- the registry


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: Callable[[Settings, dt.datetime], int]
    trigger: Callable[[Settings], BaseTrigger]
    description: str
    enabled: Callable[[Settings], bool] = lambda s: True
    every_s: int | None = None  # for cron jobs that are not nightly: seconds between runs

    def expected_interval_s(self, settings: Settings) -> int:
        """Seconds between two runs: the interval, ``every_s``, or a day for nightly jobs."""
        if self.every_s is not None:
            return self.every_s
        trigger = self.trigger(settings)
        if isinstance(trigger, IntervalTrigger):
            return int(trigger.interval.total_seconds())
        return 86400

    def slot(self, settings: Settings, now: dt.datetime) -> dt.datetime:
        """The scheduled fire time a run starting at ``now`` belongs to."""
        trigger = self.trigger(settings)
        if isinstance(trigger, IntervalTrigger):
            step = trigger.interval.total_seconds()
            k = (now - ANCHOR).total_seconds() // step
            return ANCHOR + dt.timedelta(seconds=k * step)
        return now.replace(second=0, microsecond=0)


def _every(setting: str) -> Callable[[Settings], BaseTrigger]:
    def trigger(settings: Settings) -> BaseTrigger:
        return IntervalTrigger(seconds=getattr(settings, setting), start_date=ANCHOR)

    return trigger


JOBS: dict[str, JobSpec] = {
    spec.id: spec
    for spec in (
        JobSpec(
            "ingest_inbox",
            ingest_inbox,
            _every("ingest_interval_s"),
            "Load files waiting in the inbox (every ingest_interval_s).",
        ),
        JobSpec(
            "simulate_feeds",
            simulate_feeds,
            _every("simulator_interval_s"),
            "Demo mode: write simulated upstream files into the inbox.",
            enabled=lambda s: s.demo,
        ),
        JobSpec(
            "aggregate_crowd",
            aggregate_crowd,
            _every("crowd_interval_s"),
            "Fold new pings and provider counts into the crowd heatmap's windows "
            "(every crowd_interval_s).",
        ),
        JobSpec(
            "score_risk",
            score_risk,
            _risk_nightly,
            "Nightly at risk_score_time: score the previous day's community risk, and catch up.",
        ),
        JobSpec(
            "score_risk_catchup",
            score_risk_catch_up,
            lambda s: IntervalTrigger(seconds=RISK_CATCH_UP_INTERVAL_S, start_date=ANCHOR),
            "Every 5 minutes: score days whose indicators arrived or changed since scoring.",
        ),
        JobSpec(
            "snapshot_registers",
            snapshot_registers,
            lambda s: IntervalTrigger(seconds=SNAPSHOT_INTERVAL_S, start_date=ANCHOR),
            "Every 5 minutes: today's register figures (counts per state, headcounts, "
            "arrivals); the day's last snapshot is its close, for the change since yesterday.",
        ),
        JobSpec(
            "forecast_stations",
            forecast_stations,
            lambda s: HourlyWithCatchUp(s, FORECAST_MINUTE),
            "Hourly at :05 (and at start-up when the newest forecast is over an hour old): "
            "each station's next 24 hours with 80% / 95% intervals.",
            every_s=3600,
        ),
        JobSpec(
            "prune_history",
            prune_history,
            # Hourly: at a carrier's volume a day of raw pings is millions of rows.
            lambda s: CronTrigger(minute=30, timezone=s.timezone),
            "Hourly at :30: drop old raw pings, job runs and processed inbox files.",
        ),
    )
}


def enabled_jobs(settings: Settings) -> list[JobSpec]:
    return [spec for spec in JOBS.values() if spec.enabled(settings)]


# --------------------------------------------------------------------------- running and recording


def run_job(
    job_id: str,
    *,
    settings: Settings | None = None,
    scheduler_id: str | None = None,
    slot: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> RunResult | None:
    """Run one job and record it. Returns the finished run, or None if the slot was taken.

    With a ``scheduler_id``, the run is recorded only while that scheduler holds the lock and
    only if nobody has recorded the same (job, slot) yet.
    """
    settings = settings or get_settings()
    if job_id not in JOBS:
        raise KeyError(f"unknown job {job_id!r}; known jobs: {', '.join(JOBS)}")
    spec = JOBS[job_id]
    engine = get_engine(settings.database_url)
    now = now or utcnow()
    try:
        with engine.begin() as conn:
            if scheduler_id is not None:
                lock = conn.execute(
                    select(SchedulerLock.holder, SchedulerLock.expires_at).where(
                        SchedulerLock.name == "scheduler"
                    )
                ).first()
                if lock is None or lock.holder != scheduler_id or lock.expires_at <= now:
                    logger.warning("%s: %s does not hold the lock; not run", job_id, scheduler_id)
                    return None
            run_id = conn.execute(
                insert(JobRun)
                .values(job_id=job_id, scheduler_id=scheduler_id, slot=slot, started_at=now)
                .returning(JobRun.id)
            ).scalar_one()
    except IntegrityError:
        logger.info("%s: slot %s already run elsewhere; skipped", job_id, slot)
        return None

    status, rows, error = "ok", None, None
    try:
        rows = spec.func(settings, now)
    except Exception as exc:  # a job failure is recorded, never raised into the scheduler
        status = "failed"
        error = "".join(traceback.format_exception_only(exc)).strip()
        logger.exception("job %s failed", job_id)
        error += "\n" + "".join(traceback.format_exc(limit=-4))[-2000:]
    finished = utcnow()
    with engine.begin() as conn:
        conn.execute(
            update(JobRun)
            .where(JobRun.id == run_id)
            .values(status=status, rows=rows, error=error, finished_at=finished)
        )
    logger.info("job %s %s (rows=%s)", job_id, status, rows)
    return RunResult(run_id, job_id, scheduler_id, slot, now, finished, status, rows, error)


@dataclass(frozen=True)
class RunResult:
    id: int
    job_id: str
    scheduler_id: str | None
    slot: dt.datetime | None
    started_at: dt.datetime
    finished_at: dt.datetime
    status: str
    rows: int | None
    error: str | None


def scheduled_run(job_id: str, *, scheduler_id: str, settings: Settings) -> None:
    """What APScheduler calls: run the job for the slot it fired for."""
    now = utcnow()
    run_job(
        job_id,
        settings=settings,
        scheduler_id=scheduler_id,
        slot=JOBS[job_id].slot(settings, now),
        now=now,
    )
