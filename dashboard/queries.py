"""Every read the web app and the JSON API make: small functions over the models.

Each function takes ``*, session`` and a ``scope`` (:class:`AreaScope`, the set of areas the
caller may see) and never commits: the caller owns the transaction. Today every caller passes
``AreaScope.whole_district()``; staff logins will pass a narrower scope, and the functions already
filter by it, so no panel can forget to. Aggregates only: nothing here returns a person's record.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import ColumnElement, and_, case, func, select, true
from sqlalchemy.orm import Session, aliased

from dashboard import crowd
from dashboard.crowd import Grid
from dashboard.models import (
    Area,
    AreaLevel,
    ConstructionSite,
    CrowdCount,
    Enterprise,
    ImportBatch,
    IndicatorValue,
    JobRun,
    Ping,
    QuarantinedRow,
    RiskScore,
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


# The grid's cells are read per window (about 900 rows for the district at 250 m) and shaped
# in Python; the rules (the grid, the levels, the small-count suppression) are dashboard.crowd's.


def crowd_cells_covering(grid: Grid, *, session: Session, scope: AreaScope) -> list[str]:
    """The grid's cells over the scope's area, in grid order (south to north, west to east):
    the heatmap's locations. The whole district is its outline (or its subdistricts' union
    when the outline is missing); a narrower scope is the union of its areas."""
    if scope.is_whole_district:
        outline = session.scalars(
            select(Area.geom).where(Area.level == AreaLevel.DISTRICT, Area.geom.is_not(None))
        ).all() or session.scalars(
            select(Area.geom).where(Area.level == AreaLevel.SUBDISTRICT, Area.geom.is_not(None))
        ).all()
        shape = shapely.union_all(outline) if outline else None
    else:
        shape = _scope_shape(scope, session=session)
    if shape is None or shape.is_empty:
        return []
    cells = grid.cells_covering(shape)
    ix, iy = grid.parse(cells)
    order = np.lexsort((ix, iy))
    return [cells[i] for i in order]


def _crowd_scope(grid: Grid, scope: AreaScope, *, session: Session) -> ColumnElement[bool]:
    """A WHERE clause keeping the crowd cells in scope (every cell for the whole district)."""
    if scope.is_whole_district:
        return true()
    return CrowdCount.cell_id.in_(crowd_cells_covering(grid, session=session, scope=scope))


def latest_crowd_window(
    *, session: Session, scope: AreaScope, now: dt.datetime, window_minutes: int
) -> dt.datetime | None:
    """The newest window that has ended by ``now`` and has cells (the one still running is
    left out: its pings are still arriving). Windows are the feed's, the same for every scope;
    the scope chooses the cells (:func:`crowd_window`)."""
    del scope  # see above
    return crowd.latest_window(session=session, now=now, window_minutes=window_minutes)


def crowd_windows(
    *, session: Session, scope: AreaScope, since: dt.datetime, until: dt.datetime
) -> list[dt.datetime]:
    """The windows with cells starting in ``[since, until]``, oldest first (the time slider)."""
    del scope  # windows are the feed's, as in latest_crowd_window
    return crowd.window_starts(session=session, since=since, until=until)


def crowd_window(
    window_start: dt.datetime, *, session: Session, scope: AreaScope, grid: Grid
) -> pd.DataFrame:
    """One window's cells in scope (:func:`dashboard.crowd.crowd_frame`: cell_id, count,
    observations, density_km2, level, visible). Suppressed cells are in the frame, marked
    ``visible == False``: whoever shows it must drop them (:func:`shown_levels` does)."""
    frame = crowd.crowd_frame(window_start, session=session)
    if not scope.is_whole_district:
        cells = set(crowd_cells_covering(grid, session=session, scope=scope))
        frame = frame[frame["cell_id"].isin(cells)]
    return frame.reset_index(drop=True)


def shown_levels(frame: pd.DataFrame) -> dict[str, str]:
    """{cell: level} of the cells that may be shown (the small-count rule applied)."""
    visible = frame[frame["visible"].astype(bool)]
    return dict(zip(visible["cell_id"], visible["level"], strict=True))


def shown_densities(frame: pd.DataFrame) -> dict[str, float]:
    """{cell: people per km²} of the cells that may be shown."""
    visible = frame[frame["visible"].astype(bool)]
    return dict(zip(visible["cell_id"], visible["density_km2"].astype(float), strict=True))


@dataclass(frozen=True)
class LevelTotal:
    """People counted in the shown cells of one level, and how many cells."""

    people: float
    cells: int


def crowd_level_totals(frame: pd.DataFrame) -> dict[str, LevelTotal]:
    """Per level (every level present, zero when none): people and cells, shown cells only."""
    visible = frame[frame["visible"].astype(bool)]
    totals = {level: LevelTotal(0.0, 0) for level in crowd.LEVELS}
    for level, group in visible.groupby("level", sort=False):
        totals[str(level)] = LevelTotal(float(group["count"].sum()), len(group))
    return totals


@dataclass(frozen=True)
class CrowdPoint:
    """One window of a cell's history; ``density_km2`` and ``level`` are None where the cell
    is not shown (no count, or too few observations)."""

    window_start: dt.datetime
    density_km2: float | None
    level: str | None


def crowd_cell_history(
    cell_id: str,
    *,
    session: Session,
    scope: AreaScope,
    grid: Grid,
    since: dt.datetime,
    until: dt.datetime,
) -> list[CrowdPoint]:
    """The cell's windows in ``[since, until]``, oldest first, with the small-count rule
    applied window by window (a hidden window gives no number). Empty outside the scope."""
    if not scope.is_whole_district and cell_id not in crowd_cells_covering(
        grid, session=session, scope=scope
    ):
        return []
    frame = crowd.cell_history(cell_id, session=session, since=since)
    frame = frame[frame["window_start"] <= until]
    return [
        CrowdPoint(when, float(density), str(level)) if shown else CrowdPoint(when, None, None)
        for when, density, level, shown in zip(
            frame["window_start"], frame["density_km2"], frame["level"], frame["visible"],
            strict=True,
        )
    ]


@dataclass(frozen=True)
class NamedPlace:
    """A place people know a spot by: a station, a housing compound or a committee."""

    kind: str  # metro | railway | compound | committee
    code: str
    name: str
    name_en: str | None
    lon: float
    lat: float

    def label(self, lang: str) -> str:
        return self.name_en if lang == "en" and self.name_en else self.name


def named_places(*, session: Session, scope: AreaScope) -> list[NamedPlace]:
    """Stations, and the compounds and committees with a label point, in scope."""
    places = []
    stations = session.execute(
        select(Station.code, Station.name, Station.name_en, Station.kind, Station.geom)
        .where(Station.geom.is_not(None))
        .order_by(Station.code)
    ).all()
    shape = None if scope.is_whole_district else _scope_shape(scope, session=session)
    for code, name, name_en, kind, geom in stations:
        if shape is not None and not shapely.contains(shape, geom):
            continue
        places.append(NamedPlace(kind, code, name, name_en, float(geom.x), float(geom.y)))
    areas = session.execute(
        select(Area.level, Area.code, Area.name, Area.label_lon, Area.label_lat)
        .where(
            Area.level.in_([AreaLevel.COMPOUND, AreaLevel.COMMITTEE]),
            Area.is_virtual.is_(False),
            Area.label_lon.is_not(None),
            Area.label_lat.is_not(None),
            scope.clause(Area.code),
        )
        .order_by(Area.code)
    ).all()
    places += [
        NamedPlace(str(level), code, name, None, float(lon), float(lat))
        for level, code, name, lon, lat in areas
    ]
    return places


# A station this close to a red area names it, even when a compound's label point is closer:
# people know a crowd by its station ("Xujiahui"), and crowds gather at stations.
STATION_NAMES_WITHIN_M = 500.0
STATION_KINDS = ("metro", "railway")


def _metres(lon0: float, lat0: float, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Distances in metres from one point (equirectangular: exact enough within a city)."""
    k = 6_371_000 * math.pi / 180
    dx = (lon - lon0) * k * math.cos(math.radians(lat0))
    dy = (lat - lat0) * k
    return np.hypot(dx, dy)


def nearest_place(
    lon: float, lat: float, places: Sequence[NamedPlace]
) -> tuple[NamedPlace, float] | None:
    """The place that names a spot, and its distance in metres: the nearest station if one is
    within :data:`STATION_NAMES_WITHIN_M`, else the nearest place of any kind."""
    if not places:
        return None
    distance = _metres(
        lon, lat, np.array([p.lon for p in places]), np.array([p.lat for p in places])
    )
    is_station = np.array([p.kind in STATION_KINDS for p in places])
    if is_station.any():
        station = int(np.flatnonzero(is_station)[np.argmin(distance[is_station])])
        if distance[station] <= STATION_NAMES_WITHIN_M:
            return places[station], float(distance[station])
    best = int(np.argmin(distance))
    return places[best], float(distance[best])


@dataclass(frozen=True)
class RedArea:
    """Red cells touching one another (sides or corners): one crowd, named by its nearest
    place. ``lon``/``lat``: its centre, weighted by people."""

    cells: tuple[str, ...]
    people: float
    area_km2: float
    lon: float
    lat: float
    place: NamedPlace | None
    distance_m: float | None


def red_areas(
    frame: pd.DataFrame, grid: Grid, places: Sequence[NamedPlace], *, limit: int = 3
) -> list[RedArea]:
    """The largest groups of shown red cells (most cells first, then most people), each named
    by :func:`nearest_place`. Pure: the frame is one window's (:func:`crowd_window`)."""
    red = frame[frame["visible"].astype(bool) & (frame["level"] == crowd.LEVELS[-1])]
    if red.empty:
        return []
    cells = red["cell_id"].tolist()
    people = dict(zip(cells, red["count"].astype(float), strict=True))
    ix, iy = grid.parse(cells)
    at = {(int(x), int(y)): c for x, y, c in zip(ix, iy, cells, strict=True)}
    seen: set[tuple[int, int]] = set()
    groups: list[list[str]] = []
    for start in at:
        if start in seen:
            continue
        seen.add(start)
        stack, group = [start], []
        while stack:
            x, y = stack.pop()
            group.append(at[(x, y)])
            for dx in (-1, 0, 1):
                for dy in (-1, 0, 1):
                    n = (x + dx, y + dy)
                    if n in at and n not in seen:
                        seen.add(n)
                        stack.append(n)
        groups.append(sorted(group))
    groups.sort(key=lambda g: (-len(g), -sum(people[c] for c in g), g[0]))
    out = []
    for group in groups[:limit]:
        lon, lat = grid.centres(group)
        weight = np.array([people[c] for c in group])
        total = float(weight.sum())
        w = weight if total > 0 else np.ones(len(group))
        centre = float(np.average(lon, weights=w)), float(np.average(lat, weights=w))
        named = nearest_place(*centre, places)
        out.append(
            RedArea(
                cells=tuple(group),
                people=total,
                area_km2=len(group) * grid.cell_area_km2,
                lon=centre[0],
                lat=centre[1],
                place=named[0] if named else None,
                distance_m=named[1] if named else None,
            )
        )
    return out


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


# --------------------------------------------------------------------------- community risk

# How far back the raw values behind a carried-forward indicator are looked for (the carry
# window is a few days; this only bounds the query).
RISK_VALUE_LOOKBACK_DAYS = 31
RISK_LEVELS = (AreaLevel.SUBDISTRICT, AreaLevel.COMMITTEE)


@dataclass(frozen=True)
class BandCounts:
    """Compounds per band on one day. Every scored compound is in exactly one band (its score
    counts only the indicators known); ``incomplete`` says how many of them lacked some."""

    red: int = 0
    yellow: int = 0
    blue: int = 0
    incomplete: int = 0

    @property
    def total(self) -> int:
        return self.red + self.yellow + self.blue

    def of(self, band: str) -> int:
        return int(getattr(self, band))

    @property
    def worst_band(self) -> str | None:
        """The worst band present: a red compound makes its area red, whatever the others."""
        return next((b for b in ("red", "yellow", "blue") if self.of(b)), None)


@dataclass(frozen=True)
class CompoundScore:
    code: str
    name: str
    committee_code: str | None
    committee_name: str | None
    subdistrict_code: str | None
    subdistrict_name: str | None
    score: float
    score_upper: float
    band: str
    rank: int
    complete: bool
    model_version: str


def _compound_tables() -> tuple[Any, Any, Any]:
    return aliased(Area, name="compound"), aliased(Area, name="committee"), aliased(
        Area, name="subdistrict"
    )


def _scored(day: dt.date, scope: AreaScope) -> Any:
    """The stored scores of ``day`` in scope, with each compound's committee and subdistrict."""
    compound, committee, subdistrict = _compound_tables()
    return (
        select(
            RiskScore.compound_code,
            compound.name,
            compound.parent_code,
            committee.name,
            committee.parent_code,
            subdistrict.name,
            RiskScore.score,
            RiskScore.score_upper,
            RiskScore.band,
            RiskScore.rank,
            RiskScore.complete,
            RiskScore.model_version,
        )
        .join(compound, compound.code == RiskScore.compound_code)
        .outerjoin(committee, committee.code == compound.parent_code)
        .outerjoin(subdistrict, subdistrict.code == committee.parent_code)
        .where(RiskScore.date == day, scope.clause(RiskScore.compound_code))
        .order_by(RiskScore.rank, RiskScore.compound_code)
    )


def risk_dates(*, session: Session, scope: AreaScope, limit: int = 400) -> list[dt.date]:
    """The most recent ``limit`` days with stored scores in scope, oldest first.

    For the whole district, read from the rank-1 rows (one per day, through the (date, rank)
    index) rather than a DISTINCT over every compound's score of every day; ranks are
    district-wide, so a narrower scope reads its own compounds' days.
    """
    stmt = select(RiskScore.date).where(scope.clause(RiskScore.compound_code))
    if scope.is_whole_district:
        stmt = stmt.where(RiskScore.rank == 1)
    stmt = (
        stmt.distinct()
        .order_by(RiskScore.date.desc())
        .limit(limit)
    )
    return sorted(session.scalars(stmt))


def latest_risk_date(*, session: Session, scope: AreaScope) -> dt.date | None:
    return session.scalar(
        select(func.max(RiskScore.date)).where(scope.clause(RiskScore.compound_code))
    )


def previous_risk_date(day: dt.date, *, session: Session, scope: AreaScope) -> dt.date | None:
    """The scored day before ``day`` (yesterday, unless a night was missed)."""
    return session.scalar(
        select(func.max(RiskScore.date)).where(
            RiskScore.date < day, scope.clause(RiskScore.compound_code)
        )
    )


def risk_scores_for(
    day: dt.date, *, session: Session, scope: AreaScope, limit: int | None = None
) -> list[CompoundScore]:
    """Every compound's score on ``day`` (in scope), by rank; the first ``limit`` if given."""
    stmt = _scored(day, scope)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [CompoundScore(*row) for row in session.execute(stmt)]


def top_compounds(
    day: dt.date, *, session: Session, scope: AreaScope, limit: int = 8
) -> list[CompoundScore]:
    """The highest-scoring compounds of ``day`` (rank is the district's)."""
    return risk_scores_for(day, session=session, scope=scope, limit=limit)


def risk_bands_by_compound(
    day: dt.date, *, session: Session, scope: AreaScope
) -> dict[str, tuple[str, bool]]:
    """{compound: (band, complete)} for ``day``: all the map needs, nothing more."""
    rows = session.execute(
        select(RiskScore.compound_code, RiskScore.band, RiskScore.complete).where(
            RiskScore.date == day, scope.clause(RiskScore.compound_code)
        )
    )
    return {code: (band, bool(complete)) for code, band, complete in rows}


def _counts(rows: Iterable[tuple[str, bool, int]]) -> BandCounts:
    n = {"red": 0, "yellow": 0, "blue": 0, "incomplete": 0}
    for band, complete, count in rows:
        n[band] += count
        if not complete:
            n["incomplete"] += count
    return BandCounts(**n)


def band_totals(day: dt.date, *, session: Session, scope: AreaScope) -> BandCounts:
    """The whole scope's band counts on ``day``."""
    rows = session.execute(
        select(RiskScore.band, RiskScore.complete, func.count())
        .where(RiskScore.date == day, scope.clause(RiskScore.compound_code))
        .group_by(RiskScore.band, RiskScore.complete)
    ).all()
    return _counts(rows)


def _level_column(level: AreaLevel, compound: Any, committee: Any) -> Any:
    if level == AreaLevel.COMMITTEE:
        return compound.parent_code
    if level == AreaLevel.SUBDISTRICT:
        return committee.parent_code
    raise ValueError(f"risk is counted by {', '.join(RISK_LEVELS)}, not by {level}")


def band_counts(
    day: dt.date, *, session: Session, scope: AreaScope, level: AreaLevel
) -> dict[str, BandCounts]:
    """Band counts per subdistrict or committee on ``day`` (areas with a scored compound)."""
    compound, committee, _ = _compound_tables()
    group = _level_column(level, compound, committee)
    rows = session.execute(
        select(group, RiskScore.band, RiskScore.complete, func.count())
        .join(compound, compound.code == RiskScore.compound_code)
        .outerjoin(committee, committee.code == compound.parent_code)
        .where(RiskScore.date == day, scope.clause(RiskScore.compound_code))
        .group_by(group, RiskScore.band, RiskScore.complete)
    ).all()
    per_area: dict[str, list[tuple[str, bool, int]]] = {}
    for code, band, complete, count in rows:
        if code is not None:
            per_area.setdefault(code, []).append((band, complete, count))
    return {code: _counts(area_rows) for code, area_rows in per_area.items()}


@dataclass(frozen=True)
class AreaRisk:
    """A subdistrict's or committee's day: its band counts and its worst compound. Its band is
    the worst band of its compounds (never an average, which would hide a red compound)."""

    code: str
    name: str
    level: AreaLevel
    counts: BandCounts
    worst: CompoundScore | None

    @property
    def band(self) -> str | None:
        return self.counts.worst_band


def area_risk(
    day: dt.date, *, session: Session, scope: AreaScope, level: AreaLevel
) -> list[AreaRisk]:
    """Every area of ``level`` in scope (by code), with its band counts and worst compound on
    ``day``; areas without a scored compound have zero counts and no worst compound."""
    compound, committee, _ = _compound_tables()
    group = _level_column(level, compound, committee).label("area")
    ranked = (
        select(
            group,
            RiskScore.compound_code,
            func.row_number()
            .over(
                partition_by=group,
                order_by=(RiskScore.score.desc(), RiskScore.compound_code),
            )
            .label("n"),
        )
        .join(compound, compound.code == RiskScore.compound_code)
        .outerjoin(committee, committee.code == compound.parent_code)
        .where(RiskScore.date == day, scope.clause(RiskScore.compound_code))
        .subquery()
    )
    worst_codes = {
        code: area
        for area, code in session.execute(
            select(ranked.c.area, ranked.c.compound_code).where(ranked.c.n == 1)
        )
    }
    worst: dict[str, CompoundScore] = {}
    if worst_codes:
        stmt = _scored(day, scope).where(RiskScore.compound_code.in_(sorted(worst_codes)))
        for row in session.execute(stmt):
            item = CompoundScore(*row)
            worst[worst_codes[item.code]] = item
    counts = band_counts(day, session=session, scope=scope, level=level)
    # Virtual committees (an industrial park's) hold no compounds: nothing to show.
    listed = session.execute(
        select(Area.code, Area.name)
        .where(Area.level == level, Area.is_virtual.is_(False), scope.clause(Area.code))
        .order_by(Area.code)
    )
    return [
        AreaRisk(code, name, level, counts.get(code, BandCounts()), worst.get(code))
        for code, name in listed
    ]


@dataclass(frozen=True)
class BandChange:
    """The band counts of a day and of the scored day before it."""

    day: dt.date
    counts: BandCounts
    previous_day: dt.date | None
    previous: BandCounts | None

    def delta(self, band: str) -> int | None:
        if self.previous is None:
            return None
        return self.counts.of(band) - self.previous.of(band)


def band_change(day: dt.date, *, session: Session, scope: AreaScope) -> BandChange:
    """``day``'s band counts next to those of the previous scored day."""
    counts = band_totals(day, session=session, scope=scope)
    before = previous_risk_date(day, session=session, scope=scope)
    previous = None if before is None else band_totals(before, session=session, scope=scope)
    return BandChange(day, counts, before, previous)


@dataclass(frozen=True)
class HistoryPoint:
    date: dt.date
    score: float
    score_upper: float
    band: str
    rank: int
    complete: bool


def compound_history(
    code: str, *, session: Session, scope: AreaScope, until: dt.date, days: int = 30
) -> list[HistoryPoint]:
    """The compound's scores over the ``days`` days ending on ``until``, oldest first."""
    if not scope.allows(code):
        return []
    stmt = (
        select(
            RiskScore.date,
            RiskScore.score,
            RiskScore.score_upper,
            RiskScore.band,
            RiskScore.rank,
            RiskScore.complete,
        )
        .where(
            RiskScore.compound_code == code,
            RiskScore.date > until - dt.timedelta(days=days),
            RiskScore.date <= until,
        )
        .order_by(RiskScore.date)
    )
    return [HistoryPoint(*row) for row in session.execute(stmt)]


@dataclass(frozen=True)
class IndicatorDetail:
    """One indicator of one compound's score, with the model version that scored it."""

    key: str
    name_zh: str
    name_en: str
    weight: float
    basis: str
    cap: float
    value: float | None  # the raw value used (None: missing)
    value_date: dt.date | None  # the day it was reported (earlier than the score's if carried)
    basis_value: float | None  # per 1,000 residents for such indicators, else the value
    sub_score: float | None  # 0..100, as stored
    contribution: float | None  # weight × sub-score: points of the 0..100 score
    carried: bool
    missing: bool

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh


@dataclass(frozen=True)
class CompoundDetail:
    score: CompoundScore
    population: int | None
    previous_day: dt.date | None
    previous_rank: int | None
    indicators: list[IndicatorDetail]

    @property
    def rank_change(self) -> int | None:
        """Places moved up since the previous scored day (positive: now riskier)."""
        if self.previous_rank is None:
            return None
        return self.previous_rank - self.score.rank


def compound_options(*, session: Session, scope: AreaScope) -> list[tuple[str, str, str]]:
    """(code, name, subdistrict name) of every compound in scope, by code: the search list."""
    compound, committee, subdistrict = _compound_tables()
    stmt = (
        select(compound.code, compound.name, subdistrict.name)
        .outerjoin(committee, committee.code == compound.parent_code)
        .outerjoin(subdistrict, subdistrict.code == committee.parent_code)
        .where(compound.level == AreaLevel.COMPOUND, scope.clause(compound.code))
        .order_by(compound.code)
    )
    return [(code, name, sub or "") for code, name, sub in session.execute(stmt)]


def compound_detail(
    code: str, day: dt.date, *, session: Session, scope: AreaScope
) -> CompoundDetail | None:
    """Why a compound scored what it did on ``day``: every indicator's raw value, basis value,
    sub-score and contribution, explained with the model version that produced the score (from
    ``risk_models``), and its rank then and on the previous scored day. None if not scored."""
    from dashboard.risk import stored_model  # the model's rules live there, in one place

    if not scope.allows(code):
        return None
    row = session.execute(_scored(day, scope).where(RiskScore.compound_code == code)).first()
    if row is None:
        return None
    score = CompoundScore(*row)
    stored = session.execute(
        select(RiskScore.subscores, RiskScore.missing, RiskScore.carried).where(
            RiskScore.date == day, RiskScore.compound_code == code
        )
    ).one()
    model = stored_model(score.model_version, session=session)
    if model is None:  # the foreign key makes this impossible; say so rather than guess
        raise LookupError(f"risk model version {score.model_version!r} is not stored")
    population = session.scalar(select(Area.population).where(Area.code == code))
    previous_day = previous_risk_date(day, session=session, scope=scope)
    previous_rank = (
        None
        if previous_day is None
        else session.scalar(
            select(RiskScore.rank).where(
                RiskScore.date == previous_day, RiskScore.compound_code == code
            )
        )
    )
    # The latest value of each indicator on or before the day (later rows overwrite earlier).
    reported: dict[str, tuple[float, dt.date]] = {}
    for key, value, when in session.execute(
        select(IndicatorValue.indicator, IndicatorValue.value, IndicatorValue.date)
        .where(
            IndicatorValue.compound_code == code,
            IndicatorValue.date <= day,
            IndicatorValue.date > day - dt.timedelta(days=RISK_VALUE_LOOKBACK_DAYS),
        )
        .order_by(IndicatorValue.date)
    ):
        reported[key] = (value, when)
    subscores, missing, carried = stored.subscores or {}, set(stored.missing), set(stored.carried)
    details = []
    for ind in model.indicators:
        is_missing = ind.key in missing or subscores.get(ind.key) is None
        value, when = (None, None) if is_missing else reported.get(ind.key, (None, None))
        basis_value = value
        if value is not None and ind.basis == "per_1000_residents":
            basis_value = value / population * 1000 if population else None
        sub = None if is_missing else float(subscores[ind.key])
        details.append(
            IndicatorDetail(
                key=ind.key,
                name_zh=ind.name_zh,
                name_en=ind.name_en,
                weight=ind.weight,
                basis=ind.basis,
                cap=ind.cap,
                value=value,
                value_date=when,
                basis_value=basis_value,
                sub_score=sub,
                contribution=None if sub is None else ind.weight * sub,
                carried=ind.key in carried,
                missing=is_missing,
            )
        )
    return CompoundDetail(score, population, previous_day, previous_rank, details)
