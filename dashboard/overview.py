"""What the wall's registers panel and overview tiles show, computed from the registers and the
overview feeds. Pure reads: every function takes ``*, session`` and a ``scope``, and never
commits. Counts only: nothing here returns a person.

- :func:`register_figures`: each register's figures now and their change since yesterday's close
  (``register_counts`` of the day before, see :mod:`dashboard.register_counts`);
- :func:`labour_gap`, :func:`flagged_sites`: the enterprises' labour gap summed by trade, and
  the sites with key-region arrivals whose isolation certificate is not checked yet;
- :func:`epidemic`, :func:`home_observation`, :func:`disinfection`, :func:`masks`,
  :func:`rising_buildings`: the overview tiles;
- :func:`register_points`: the registers' points for the map, one code per point.

"Today" is the district-local day the caller passes (the wall: now, in ``Settings.timezone``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from dashboard import register_counts, states
from dashboard.models import (
    Area,
    ConstructionSite,
    DisinfectionTask,
    Enterprise,
    EpidemicCount,
    HomeObservation,
    MaskSupply,
    OfficeReturnees,
    Shop,
)
from dashboard.queries import AreaScope

logger = logging.getLogger(__name__)

REGISTERS = ("enterprises", "shops", "sites")
EPIDEMIC_LEVELS = ("country", "city", "district")
MASK_WINDOW_DAYS = 7
RISE_WINDOW_DAYS = 7


# --------------------------------------------------------------------------- register figures


@dataclass(frozen=True)
class Figure:
    """A register figure now and its change since yesterday's close (None: no close stored)."""

    value: float
    delta: float | None


@dataclass(frozen=True)
class RegisterFigures:
    """One register's figures (metric names of :mod:`dashboard.register_counts`)."""

    register: str
    figures: dict[str, Figure] = field(default_factory=dict)

    def of(self, metric: str) -> Figure:
        return self.figures.get(metric, Figure(0.0, None))

    def state(self, state: str) -> Figure:
        return self.of(f"state:{state}")


def _in_scope(metrics: register_counts.Metrics, scope: AreaScope) -> dict[tuple[str, str], float]:
    """(register, metric) -> value over the scope: the district's rows for the whole district,
    else the sum of the subdistricts in scope."""
    out: dict[tuple[str, str], float] = defaultdict(float)
    for (register, sub, metric), value in metrics.items():
        if scope.is_whole_district:
            if sub == register_counts.DISTRICT:
                out[(register, metric)] += value
        elif sub != register_counts.DISTRICT and scope.allows(sub):
            out[(register, metric)] += value
    return out


def register_figures(
    *, session: Session, scope: AreaScope, today: dt.date
) -> dict[str, RegisterFigures]:
    """Each register's figures now (live) and their change since the close of the day before
    ``today``. The change is None when nothing was stored for that day (a first day); a metric
    missing from a stored close counts as 0 (the register had none of it)."""
    now = _in_scope(register_counts.register_metrics(session, today), scope)
    stored = register_counts.day_close(session, today - dt.timedelta(days=1))
    before = _in_scope(stored, scope) if stored else None
    out = {register: RegisterFigures(register) for register in REGISTERS}
    for (register, metric), value in now.items():
        delta = None if before is None else value - before.get((register, metric), 0.0)
        out.setdefault(register, RegisterFigures(register)).figures[metric] = Figure(value, delta)
    if before is not None:
        for (register, metric), value in before.items():
            if (register, metric) not in now:
                out.setdefault(register, RegisterFigures(register)).figures[metric] = Figure(
                    0.0, -value
                )
    return out


def labour_gap(*, session: Session, scope: AreaScope, top: int = 4) -> list[tuple[str, int]]:
    """The enterprises' labour gap summed by trade, largest first (ties by trade), ``top`` trades.
    A trade's entry that is not a positive number is left out (the feed may send blanks)."""
    totals: dict[str, int] = defaultdict(int)
    gaps = session.scalars(
        select(Enterprise.labour_gap).where(
            Enterprise.labour_gap.is_not(None), scope.clause(Enterprise.subdistrict_code)
        )
    )
    for gap in gaps:
        if not isinstance(gap, dict):
            continue
        for trade, n in gap.items():
            if isinstance(n, bool) or not isinstance(n, int | float) or not math.isfinite(n):
                continue
            if n > 0:
                totals[str(trade)] += int(n)
    return sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:top]


@dataclass(frozen=True)
class FlaggedSite:
    """A site with key-region arrivals whose 14-day isolation certificate is not checked."""

    site_id: str
    name: str
    subdistrict: str | None
    unchecked: int


def flagged_sites(*, session: Session, scope: AreaScope, limit: int = 5) -> list[FlaggedSite]:
    """The flagged sites, most unchecked arrivals first (then by name)."""
    rows = session.execute(
        select(
            ConstructionSite.site_id,
            ConstructionSite.name,
            Area.name,
            ConstructionSite.unchecked_arrivals,
        )
        .outerjoin(Area, Area.code == ConstructionSite.subdistrict_code)
        .where(
            ConstructionSite.unchecked_arrivals > 0,
            scope.clause(ConstructionSite.subdistrict_code),
        )
        .order_by(ConstructionSite.unchecked_arrivals.desc(), ConstructionSite.name)
        .limit(limit)
    )
    return [FlaggedSite(sid, name, sub, int(n)) for sid, name, sub, n in rows]


# --------------------------------------------------------------------------- overview tiles


@dataclass(frozen=True)
class Cases:
    day: dt.date
    new: int
    current: int


def epidemic(*, session: Session, today: dt.date) -> dict[str, Cases | None]:
    """Each level's newest published figures on or before ``today`` (country, city, district;
    None for a level never published). Published figures: not filtered by scope."""
    newest = (
        select(EpidemicCount.level, func.max(EpidemicCount.date).label("day"))
        .where(EpidemicCount.date <= today)
        .group_by(EpidemicCount.level)
        .subquery()
    )
    rows = session.execute(
        select(
            EpidemicCount.level,
            EpidemicCount.date,
            EpidemicCount.new_cases,
            EpidemicCount.current_cases,
        ).join(
            newest,
            and_(EpidemicCount.level == newest.c.level, EpidemicCount.date == newest.c.day),
        )
    )
    found = {level: Cases(day, int(new), int(cur)) for level, day, new, cur in rows}
    return {level: found.get(level) for level in EPIDEMIC_LEVELS}


@dataclass(frozen=True)
class DayTotal:
    """A count on the newest day reported (on or before today), and its change since the day
    before that one (None when that day has no report)."""

    day: dt.date
    value: int
    delta: int | None


def home_observation(*, session: Session, scope: AreaScope, today: dt.date) -> DayTotal | None:
    """People under home observation, summed over the committees in scope, on the newest day
    reported; None when nothing was ever reported."""
    day = session.scalar(
        select(func.max(HomeObservation.date)).where(
            HomeObservation.date <= today, scope.clause(HomeObservation.committee_code)
        )
    )
    if day is None:
        return None
    before = day - dt.timedelta(days=1)
    rows = dict(
        session.execute(
            select(HomeObservation.date, func.sum(HomeObservation.people))
            .where(
                HomeObservation.date.in_([day, before]),
                scope.clause(HomeObservation.committee_code),
            )
            .group_by(HomeObservation.date)
        ).all()
    )
    value = int(rows.get(day) or 0)
    prev = rows.get(before)
    return DayTotal(day, value, None if prev is None else value - int(prev))


@dataclass(frozen=True)
class Disinfection:
    """Key places due for disinfection ``today`` and how many of them are done; ``overdue``:
    places due on an earlier day and still not done."""

    day: dt.date
    due: int
    done: int
    overdue: int


def disinfection(*, session: Session, scope: AreaScope, today: dt.date) -> Disinfection:
    in_scope = scope.clause(DisinfectionTask.subdistrict_code)
    not_done = DisinfectionTask.done_at.is_(None)
    due, done, overdue = session.execute(
        select(
            func.count().filter(DisinfectionTask.due_on == today),
            func.count().filter(DisinfectionTask.due_on == today, ~not_done),
            func.count().filter(DisinfectionTask.due_on < today, not_done),
        ).where(in_scope)
    ).one()
    return Disinfection(today, int(due or 0), int(done or 0), int(overdue or 0))


@dataclass(frozen=True)
class Masks:
    """Masks reserved and delivered ``today``, and over the ``days`` days to today."""

    day: dt.date
    reserved: int
    delivered: int
    reserved_7d: int
    delivered_7d: int
    days: int = MASK_WINDOW_DAYS


def masks(*, session: Session, scope: AreaScope, today: dt.date) -> Masks:
    since = today - dt.timedelta(days=MASK_WINDOW_DAYS - 1)
    is_today = MaskSupply.date == today
    row = session.execute(
        select(
            func.sum(case((is_today, MaskSupply.reserved), else_=0)),
            func.sum(case((is_today, MaskSupply.delivered), else_=0)),
            func.sum(MaskSupply.reserved),
            func.sum(MaskSupply.delivered),
        ).where(
            MaskSupply.date >= since,
            MaskSupply.date <= today,
            scope.clause(MaskSupply.subdistrict_code),
        )
    ).one()
    r, d, r7, d7 = (int(v or 0) for v in row)
    return Masks(today, r, d, r7, d7)


@dataclass(frozen=True)
class BuildingRise:
    """An office building's returnees: the newest count in the window, and how much it rose
    since the oldest count in the window (``first_day`` to ``last_day``)."""

    building_id: str
    name: str
    subdistrict: str | None
    returnees: int
    increase: int
    first_day: dt.date
    last_day: dt.date


def rising_buildings(
    *, session: Session, scope: AreaScope, today: dt.date, top: int = 5
) -> list[BuildingRise]:
    """The office buildings whose returnees rose most over the last 7 days.

    The rise is the newest count minus the oldest count reported in the window from 7 days
    before ``today`` to ``today`` (not a slope): a building that missed a day, or the day 7 days
    ago, is measured from its first report in the window. A building with a single report in
    the window, or no rise, is not listed. Ties: the larger count first, then the name.
    """
    since = today - dt.timedelta(days=RISE_WINDOW_DAYS)
    rows = session.execute(
        select(
            OfficeReturnees.building_id,
            OfficeReturnees.date,
            OfficeReturnees.returnees,
            OfficeReturnees.building_name,
            OfficeReturnees.subdistrict_code,
        )
        .where(
            OfficeReturnees.date >= since,
            OfficeReturnees.date <= today,
            scope.clause(OfficeReturnees.subdistrict_code),
        )
        .order_by(OfficeReturnees.building_id, OfficeReturnees.date)
    ).all()
    names = _subdistrict_names({sub for *_, sub in rows}, session=session)
    series: dict[str, list] = defaultdict(list)
    for row in rows:
        series[row[0]].append(row)
    out = []
    for building, points in series.items():
        if len(points) < 2:
            continue
        first, last = points[0], points[-1]
        increase = int(last[2]) - int(first[2])
        if increase <= 0:
            continue
        out.append(
            BuildingRise(
                building, last[3], names.get(last[4]), int(last[2]), increase, first[1], last[1]
            )
        )
    out.sort(key=lambda b: (-b.increase, -b.returnees, b.name))
    return out[:top]


def _subdistrict_names(codes: Iterable[str | None], *, session: Session) -> dict[str, str]:
    wanted = sorted(c for c in codes if c)
    if not wanted:
        return {}
    return dict(session.execute(select(Area.code, Area.name).where(Area.code.in_(wanted))).all())


# --------------------------------------------------------------------------- map points

#: The points' colour codes, one per state (see dashboard.figures.REGISTER_POINT_COLORS).
POINT_CODES: dict[str, int] = {
    states.NOT_REGISTERED: 0,
    states.SHOP_UNREPORTED: 0,
    states.REGISTERED: 1,
    states.APPROVED: 2,
    states.REOPENED: 3,
    states.SHOP_OPEN: 3,
    states.SUSPENDED: 4,
    states.SHOP_CLOSED: 4,
    states.SHOP_CLOSED_DOWN: 4,
    "flagged": 5,  # a site with unchecked key-region arrivals
}


@dataclass(frozen=True)
class Points:
    """One register's points: ids, positions and colour codes, in one stable order (by id)."""

    ids: tuple[str, ...]
    lon: tuple[float, ...]
    lat: tuple[float, ...]
    codes: tuple[int, ...]

    @property
    def where_key(self) -> str:
        """Changes when a point is added, removed or moved (then the map needs new positions);
        the same while only states change (then only the codes go). A digest, not ``hash()``:
        it must be the same in every web process."""
        text = json.dumps([self.ids, self.lon, self.lat], separators=(",", ":"))
        return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def _points(rows: Iterable[tuple], code_of) -> Points:
    ids, lon, lat, codes = [], [], [], []
    for rid, geom, *rest in rows:
        if geom is None:
            continue
        ids.append(rid)
        lon.append(round(float(geom.x), 5))
        lat.append(round(float(geom.y), 5))
        codes.append(code_of(*rest))
    return Points(tuple(ids), tuple(lon), tuple(lat), tuple(codes))


def register_points(register: str, *, session: Session, scope: AreaScope, today: dt.date) -> Points:
    """The points of ``register`` (enterprises by reopening state, sites by state or flagged,
    shops open / closed / unreported today). Records without a point are left out."""
    if register == "enterprises":
        rows = session.execute(
            select(Enterprise.credit_code, Enterprise.geom, Enterprise.state)
            .where(scope.clause(Enterprise.subdistrict_code))
            .order_by(Enterprise.credit_code)
        )
        return _points(rows, lambda state: POINT_CODES.get(state, 0))
    if register == "sites":
        rows = session.execute(
            select(
                ConstructionSite.site_id,
                ConstructionSite.geom,
                ConstructionSite.state,
                ConstructionSite.unchecked_arrivals,
            )
            .where(scope.clause(ConstructionSite.subdistrict_code))
            .order_by(ConstructionSite.site_id)
        )
        return _points(
            rows, lambda state, unchecked: POINT_CODES["flagged" if unchecked else state]
        )
    if register == "shops":
        rows = session.execute(
            select(Shop.licence_id, Shop.geom, Shop.closed_down, Shop.is_open, Shop.open_on)
            .where(scope.clause(Shop.subdistrict_code))
            .order_by(Shop.licence_id)
        )
        return _points(
            rows, lambda down, is_open, on: POINT_CODES[shop_state(down, is_open, on, today)]
        )
    raise ValueError(f"unknown register {register!r}; known: {', '.join(REGISTERS)}")


def shop_state(
    closed_down: bool | None, is_open: bool | None, open_on: dt.date | None, today: dt.date
) -> str:
    """A shop's state today: the rule of ``register_counts`` (a report of another day is none)."""
    if closed_down:
        return states.SHOP_CLOSED_DOWN
    if open_on != today or is_open is None:
        return states.SHOP_UNREPORTED
    return states.SHOP_OPEN if is_open else states.SHOP_CLOSED
