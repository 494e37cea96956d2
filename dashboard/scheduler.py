"""The scheduler: APScheduler 3.x running the jobs of :mod:`dashboard.jobs`, under a database lock.

Only one scheduler may run jobs against a database at a time. The lock is a lease row in
``scheduler_lock``: the holder renews it every ``lease/3`` seconds; any other scheduler started by
mistake waits (logging who holds it) and takes over only after the holder stops renewing. Each run
is also recorded under a unique (job, slot) key, so even two schedulers that both believed they
held the lease could not run the same slot twice.

A lease (rather than PostgreSQL's advisory locks) works the same on SQLite and PostgreSQL and
survives a holder that dies without cleaning up: its lease simply runs out.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import socket
import threading
import uuid

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from dashboard import jobs
from dashboard.config import Settings, get_settings
from dashboard.db import get_engine
from dashboard.models import JobRun, SchedulerLock, utcnow

logger = logging.getLogger(__name__)

LOCK_NAME = "scheduler"


def new_holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


# --------------------------------------------------------------------------- the lease


def try_acquire(
    holder: str, *, engine: Engine, lease_s: int, now: dt.datetime | None = None
) -> bool:
    """Take or renew the lease if it is free, expired or already ours. Atomic on both back ends."""
    now = now or utcnow()
    expires = now + dt.timedelta(seconds=lease_s)
    with engine.begin() as conn:
        taken = conn.execute(
            update(SchedulerLock)
            .where(SchedulerLock.name == LOCK_NAME)
            .where(
                (SchedulerLock.holder.is_(None))
                | (SchedulerLock.holder == holder)
                | (SchedulerLock.expires_at < now)
            )
            .values(
                holder=holder,
                expires_at=expires,
                acquired_at=now,
            )
        ).rowcount
        if taken:
            return True
        exists = conn.execute(
            select(SchedulerLock.name).where(SchedulerLock.name == LOCK_NAME)
        ).first()
        if exists:
            return False
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(SchedulerLock).values(
                    name=LOCK_NAME, holder=holder, acquired_at=now, expires_at=expires
                )
            )
        return True
    except IntegrityError:  # another scheduler inserted it first
        return False


def release(holder: str, *, engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(SchedulerLock)
            .where(SchedulerLock.name == LOCK_NAME, SchedulerLock.holder == holder)
            .values(holder=None, expires_at=None)
        )


def lock_state(*, engine: Engine) -> tuple[str | None, dt.datetime | None]:
    with engine.connect() as conn:
        row = conn.execute(
            select(SchedulerLock.holder, SchedulerLock.expires_at).where(
                SchedulerLock.name == LOCK_NAME
            )
        ).first()
    return (row.holder, row.expires_at) if row else (None, None)


def holds_lease(holder: str, *, engine: Engine, now: dt.datetime | None = None) -> bool:
    current, expires = lock_state(engine=engine)
    return current == holder and expires is not None and expires > (now or utcnow())


# --------------------------------------------------------------------------- the scheduler


class LockedScheduler:
    """An APScheduler BackgroundScheduler that runs jobs only while it holds the lease.

    ``start()`` returns at once; a background thread waits for the lease, then starts the jobs,
    renews the lease, and stops the jobs if the lease is ever lost (then waits again).
    """

    def __init__(self, settings: Settings | None = None, *, holder: str | None = None):
        self.settings = settings or get_settings()
        self.holder = holder or new_holder_id()
        self.engine = get_engine(self.settings.database_url)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._aps: BackgroundScheduler | None = None
        self.running_jobs = threading.Event()  # set while this instance holds the lease

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="scheduler-lease", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)

    def run_forever(self) -> None:
        """For ``python -m dashboard scheduler``: block until interrupted or terminated.

        SIGTERM stops it cleanly, releasing the lock so a standby takes over at once.
        """
        signal.signal(signal.SIGTERM, lambda *_: self._stop.set())
        self.start()
        try:
            while not self._stop.wait(1):
                pass
        except KeyboardInterrupt:
            logger.info("interrupted; stopping the scheduler")
        finally:
            self.stop()

    # -- internals

    def _loop(self) -> None:
        lease = self.settings.scheduler_lease_s
        renew_every = max(1.0, lease / 3)
        waiting_logged = False
        lease_until: dt.datetime | None = None  # our lease's end, as of the last renewal
        try:
            while not self._stop.is_set():
                try:
                    held = try_acquire(self.holder, engine=self.engine, lease_s=lease)
                except SQLAlchemyError as exc:
                    # The database is unreachable or busy: keep the jobs while our lease is
                    # surely still ours, then stop them; either way, keep trying.
                    logger.error("scheduler %s could not renew its lock: %s", self.holder, exc)
                    if self._aps is not None and (lease_until is None or utcnow() >= lease_until):
                        logger.error("scheduler %s: lease ran out; stopping its jobs", self.holder)
                        self._stop_jobs()
                    self._stop.wait(renew_every)
                    continue
                if held:
                    lease_until = utcnow() + dt.timedelta(seconds=lease)
                    if self._aps is None:
                        logger.info("scheduler %s holds the lock; starting jobs", self.holder)
                        self._close_abandoned_runs()
                        self._start_jobs()
                    waiting_logged = False
                elif self._aps is not None:
                    logger.error("scheduler %s lost the lock; stopping its jobs", self.holder)
                    self._stop_jobs()
                elif not waiting_logged:
                    other, until = lock_state(engine=self.engine)
                    logger.warning(
                        "another scheduler (%s) holds the lock until %s; %s waits and will take "
                        "over if it stops renewing",
                        other,
                        until,
                        self.holder,
                    )
                    waiting_logged = True
                self._stop.wait(renew_every)
        finally:
            # Jobs still running finish first, under a lease we keep renewing: were it to run
            # out meanwhile, a standby would start the same jobs beside them.
            self._stop_jobs(renew_lease_s=lease if lease_until is not None else None)
            try:
                release(self.holder, engine=self.engine)
            except SQLAlchemyError:
                logger.exception("could not release the lock; it runs out in %s s", lease)
            logger.info("scheduler %s stopped", self.holder)

    def _close_abandoned_runs(self) -> None:
        """Runs another scheduler left "running" (it was killed mid-run) are marked failed,
        so /ops and the health report do not show them running forever. Only the lock's
        holder runs jobs, so at the moment we take the lock no other run is really going."""
        try:
            with self.engine.begin() as conn:
                closed = conn.execute(
                    update(JobRun)
                    .where(JobRun.status == "running", JobRun.scheduler_id != self.holder)
                    .values(
                        status="failed",
                        finished_at=utcnow(),
                        error="abandoned: its scheduler stopped while it ran "
                        f"(closed by {self.holder} on taking the lock)",
                    )
                ).rowcount
        except SQLAlchemyError:
            logger.exception("could not close abandoned job runs")
            return
        if closed:
            logger.warning("closed %s job run(s) abandoned by a stopped scheduler", closed)

    def _start_jobs(self) -> None:
        aps = BackgroundScheduler(timezone=self.settings.timezone)
        aps.add_listener(self._on_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED)
        for spec in jobs.enabled_jobs(self.settings):
            aps.add_job(
                jobs.scheduled_run,
                trigger=spec.trigger(self.settings),
                args=[spec.id],
                kwargs={"scheduler_id": self.holder, "settings": self.settings},
                id=spec.id,
                name=spec.id,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=self.settings.scheduler_misfire_grace_s,
                replace_existing=True,
            )
        aps.start()
        self._aps = aps
        self.running_jobs.set()

    def _stop_jobs(self, *, renew_lease_s: int | None = None) -> None:
        """Stop the jobs, waiting for running ones. ``renew_lease_s``: keep renewing our lease
        (of that length) while they finish, as a clean shutdown must; None when the lease is
        already lost or unreachable."""
        aps = self._aps
        if aps is not None:
            if renew_lease_s is None:
                aps.shutdown(wait=True)
            else:
                stopper = threading.Thread(target=aps.shutdown, kwargs={"wait": True})
                stopper.start()
                while stopper.is_alive():
                    stopper.join(max(1.0, renew_lease_s / 3))
                    if not stopper.is_alive():
                        break
                    try:
                        try_acquire(self.holder, engine=self.engine, lease_s=renew_lease_s)
                    except SQLAlchemyError as exc:
                        logger.error("could not renew the lock while jobs finish: %s", exc)
            self._aps = None
        self.running_jobs.clear()

    @staticmethod
    def _on_event(event) -> None:
        if event.code == EVENT_JOB_MISSED:
            logger.warning("job %s missed its run at %s", event.job_id, event.scheduled_run_time)
        else:
            logger.error("job %s raised outside its run record: %s", event.job_id, event.exception)
