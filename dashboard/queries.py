"""Every read the web app and the JSON API make: small functions over the models.

Each function takes ``*, session`` and a ``scope`` (:class:`AreaScope`, the set of areas the
caller may see) and never commits: the caller owns the transaction. Today every caller passes
``AreaScope.whole_district()``; staff logins will pass a narrower scope, and the functions already
filter by it, so no panel can forget to. Aggregates only: nothing here returns a person's record.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import shapely
from sqlalchemy import ColumnElement, and_, case, func, select, true
from sqlalchemy.orm import Session

from dashboard.models import (
    Area,
    AreaLevel,
    ConstructionSite,
    Enterprise,
    ImportBatch,
    JobRun,
    Ping,
    QuarantinedRow,
    Shop,
    SiteWorker,
    Station,
    WorkOrder,
)

logger = logging.getLogger(__name__)

# Enterprise.state once its reopening is approved and it runs again.
ENTERPRISE_REOPENED = "reopened"
# Work-order statuses that no longer need anyone's attention.
WORK_ORDER_DONE = ("closed", "cancelled")


# --------------------------------------------------------------------------- scope


@dataclass(frozen=True)
class AreaScope:
    """The areas a caller may see: every code of the subtree(s) it is responsible for.

    ``codes is None`` means the whole district (the wall screen, leaders, operators).
    """

    codes: frozenset[str] | None = None

    @classmethod
    def whole_district(cls) -> AreaScope:
        return cls(None)

    @property
    def is_whole_district(self) -> bool:
        return self.codes is None

    def allows(self, code: str | None) -> bool:
        return self.codes is None or (code is not None and code in self.codes)

    def clause(self, column: Any) -> ColumnElement[bool]:
        """A WHERE clause keeping the rows whose area ``column`` is in scope."""
        if self.codes is None:
            return true()
        return column.in_(sorted(self.codes))


def scope_of(roots: Iterable[str], *, session: Session) -> AreaScope:
    """The scope of someone responsible for ``roots``: those areas and all areas beneath them."""
    seen: set[str] = set()
    frontier = set(roots)
    while frontier:
        seen |= frontier
        children = session.scalars(
            select(Area.code).where(Area.parent_code.in_(sorted(frontier)))
        ).all()
        frontier = set(children) - seen
    return AreaScope(frozenset(seen))


def _scope_shape(scope: AreaScope, *, session: Session) -> shapely.Geometry | None:
    """The union of the scope's polygons, for data located only by coordinates."""
    geoms = session.scalars(
        select(Area.geom).where(scope.clause(Area.code), Area.geom.is_not(None))
    ).all()
    return shapely.union_all(geoms) if geoms else None


def _count_in_scope(points: list[shapely.Point], scope: AreaScope, *, session: Session) -> int:
    """How many of ``points`` lie inside the scope's polygons (for data with coordinates only)."""
    shape = _scope_shape(scope, session=session)
    if shape is None or not points:
        return 0
    return int(shapely.contains(shape, points).sum())


# --------------------------------------------------------------------------- areas


@dataclass(frozen=True)
class AreaSummary:
    subdistricts: int
    committees: int
    compounds: int
    residents: int


def area_summary(*, session: Session, scope: AreaScope) -> AreaSummary:
    """How many areas of each level, and the residents (the committees partition the people)."""
    rows = session.execute(
        select(Area.level, func.count(), func.coalesce(func.sum(Area.population), 0))
        .where(scope.clause(Area.code), Area.is_virtual.is_(False))
        .group_by(Area.level)
    ).all()
    counts = {level: (n, int(pop)) for level, n, pop in rows}

    def n(level: AreaLevel) -> int:
        return counts.get(level, (0, 0))[0]

    # Population is summed at the finest level that carries it, so nothing is counted twice.
    residents = next(
        (
            counts[lv][1]
            for lv in (AreaLevel.COMPOUND, AreaLevel.COMMITTEE, AreaLevel.SUBDISTRICT)
            if counts.get(lv, (0, 0))[1]
        ),
        0,
    )
    return AreaSummary(
        subdistricts=n(AreaLevel.SUBDISTRICT),
        committees=n(AreaLevel.COMMITTEE),
        compounds=n(AreaLevel.COMPOUND),
        residents=residents,
    )


@dataclass(frozen=True)
class AreaShape:
    code: str
    name: str
    level: AreaLevel
    parent_code: str | None
    population: int | None
    area_km2: float | None
    geom: shapely.Geometry | None


def areas(
    *,
    session: Session,
    scope: AreaScope,
    level: AreaLevel,
    parent: str | None = None,
    with_geometry: bool = True,
) -> list[AreaShape]:
    """The areas of one level (optionally the children of ``parent``), ordered by code."""
    columns = [Area.code, Area.name, Area.level, Area.parent_code, Area.population, Area.area_km2]
    stmt = select(*columns, Area.geom) if with_geometry else select(*columns)
    stmt = stmt.where(Area.level == level, scope.clause(Area.code)).order_by(Area.code)
    if parent is not None:
        stmt = stmt.where(Area.parent_code == parent)
    rows = session.execute(stmt).all()
    return [AreaShape(*row) if with_geometry else AreaShape(*row, None) for row in rows]


# --------------------------------------------------------------------------- registers


@dataclass(frozen=True)
class Progress:
    """``done`` of ``total`` (enterprises reopened, shops open)."""

    done: int
    total: int


def enterprise_progress(*, session: Session, scope: AreaScope) -> Progress:
    done, total = session.execute(
        select(
            func.count().filter(Enterprise.state == ENTERPRISE_REOPENED),
            func.count(),
        ).where(scope.clause(Enterprise.subdistrict_code))
    ).one()
    return Progress(done or 0, total or 0)


def shop_progress(*, session: Session, scope: AreaScope) -> Progress:
    done, total = session.execute(
        select(func.count().filter(Shop.is_open.is_(True)), func.count()).where(
            scope.clause(Shop.subdistrict_code)
        )
    ).one()
    return Progress(done or 0, total or 0)


@dataclass(frozen=True)
class SiteSummary:
    sites: int
    workers_on_site: int
    new_arrivals_today: int


def site_summary(*, session: Session, scope: AreaScope, today: dt.date) -> SiteSummary:
    """Sites, workers on them, and workers who arrived on ``today`` (the district's local date).

    Arrivals are counted from the workers' arrival dates, not from a stored per-site counter, so
    "today" rolls over at midnight even when no check-in file arrives.
    """
    sites, workers = session.execute(
        select(func.count(), func.coalesce(func.sum(ConstructionSite.headcount), 0)).where(
            scope.clause(ConstructionSite.subdistrict_code)
        )
    ).one()
    arrivals = session.scalar(
        select(func.count())
        .select_from(SiteWorker)
        .join(ConstructionSite, ConstructionSite.site_id == SiteWorker.site_id)
        .where(SiteWorker.arrived_on == today, scope.clause(ConstructionSite.subdistrict_code))
    )
    return SiteSummary(int(sites), int(workers), int(arrivals or 0))


def station_count(*, session: Session, scope: AreaScope) -> int:
    if scope.is_whole_district:
        return session.scalar(select(func.count()).select_from(Station)) or 0
    points = session.scalars(select(Station.geom).where(Station.geom.is_not(None))).all()
    return _count_in_scope(list(points), scope, session=session)


# --------------------------------------------------------------------------- crowd


def recent_ping_count(
    *, session: Session, scope: AreaScope, now: dt.datetime, window: dt.timedelta
) -> int:
    """Pings received in ``(now - window, now]``, inside the scope."""
    recent = (Ping.ts > now - window, Ping.ts <= now)
    if scope.is_whole_district:
        return session.scalar(select(func.count()).where(*recent)) or 0
    rows = session.execute(select(Ping.lon, Ping.lat).where(*recent)).all()
    return _count_in_scope([shapely.Point(x, y) for x, y in rows], scope, session=session)


# --------------------------------------------------------------------------- dispatch


def _open_work_order() -> ColumnElement[bool]:
    return and_(WorkOrder.status.not_in(WORK_ORDER_DONE), WorkOrder.closed_at.is_(None))


def open_work_order_count(*, session: Session, scope: AreaScope) -> int:
    return (
        session.scalar(
            select(func.count()).where(_open_work_order(), scope.clause(WorkOrder.area_code))
        )
        or 0
    )


def open_work_orders_by_committee(*, session: Session, scope: AreaScope) -> dict[str, int]:
    """Open work orders per residential committee (an order on a compound counts for its
    committee; orders filed on a subdistrict or the district belong to no committee)."""
    committee = case(
        (Area.level == AreaLevel.COMMITTEE, Area.code),
        (Area.level == AreaLevel.COMPOUND, Area.parent_code),
        else_=None,
    ).label("committee")
    rows = session.execute(
        select(committee, func.count())
        .select_from(WorkOrder)
        .join(Area, Area.code == WorkOrder.area_code)
        .where(_open_work_order(), scope.clause(WorkOrder.area_code))
        .group_by(committee)
    ).all()
    return {code: n for code, n in rows if code is not None}


# --------------------------------------------------------------------------- operations


@dataclass(frozen=True)
class BatchRow:
    id: int
    kind: str
    filename: str
    status: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    rows_duplicate: int
    message: str | None
    started_at: dt.datetime
    finished_at: dt.datetime | None


def recent_import_batches(*, session: Session, scope: AreaScope, limit: int = 50) -> list[BatchRow]:
    """The newest import batches. Operations data spans every area: whole-district scope only."""
    if not scope.is_whole_district:
        return []
    stmt = (
        select(
            ImportBatch.id,
            ImportBatch.kind,
            ImportBatch.filename,
            ImportBatch.status,
            ImportBatch.rows_read,
            ImportBatch.rows_loaded,
            ImportBatch.rows_quarantined,
            ImportBatch.rows_duplicate,
            ImportBatch.message,
            ImportBatch.started_at,
            ImportBatch.finished_at,
        )
        .order_by(ImportBatch.started_at.desc(), ImportBatch.id.desc())
        .limit(limit)
    )
    return [BatchRow(*row) for row in session.execute(stmt)]


@dataclass(frozen=True)
class QuarantineRow:
    """A quarantined row without its raw content (which may hold masked personal data)."""

    batch_id: int
    kind: str
    filename: str
    row_number: int
    reason: str
    detail: str


def recent_quarantined_rows(
    *, session: Session, scope: AreaScope, limit: int = 100
) -> list[QuarantineRow]:
    if not scope.is_whole_district:
        return []
    stmt = (
        select(
            QuarantinedRow.batch_id,
            ImportBatch.kind,
            ImportBatch.filename,
            QuarantinedRow.row_number,
            QuarantinedRow.reason,
            QuarantinedRow.detail,
        )
        .join(ImportBatch, ImportBatch.id == QuarantinedRow.batch_id)
        .order_by(QuarantinedRow.id.desc())
        .limit(limit)
    )
    return [QuarantineRow(*row) for row in session.execute(stmt)]


@dataclass(frozen=True)
class JobRunRow:
    id: int
    job_id: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    status: str
    rows: int | None
    error: str | None


def _job_run_columns() -> tuple[Any, ...]:
    return (
        JobRun.id,
        JobRun.job_id,
        JobRun.started_at,
        JobRun.finished_at,
        JobRun.status,
        JobRun.rows,
        JobRun.error,
    )


def recent_job_runs(*, session: Session, scope: AreaScope, limit: int = 50) -> list[JobRunRow]:
    if not scope.is_whole_district:
        return []
    stmt = (
        select(*_job_run_columns())
        .order_by(JobRun.started_at.desc(), JobRun.id.desc())
        .limit(limit)
    )
    return [JobRunRow(*row) for row in session.execute(stmt)]


def last_job_runs(*, session: Session, scope: AreaScope) -> dict[str, JobRunRow]:
    """The latest run of every job that ever ran, by job id."""
    if not scope.is_whole_district:
        return {}
    ranked = select(
        *_job_run_columns(),
        func.row_number()
        .over(partition_by=JobRun.job_id, order_by=(JobRun.started_at.desc(), JobRun.id.desc()))
        .label("rn"),
    ).subquery()
    stmt = select(*(ranked.c[c.key] for c in _job_run_columns())).where(ranked.c.rn == 1)
    return {row.job_id: JobRunRow(*row) for row in session.execute(stmt)}
