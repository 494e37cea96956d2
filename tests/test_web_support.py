"""Shared by the web, API and query tests: a tiny district with known numbers, built with the
models, and a fixture that points the app's settings at a test database. (No tests here.)

The small district, codes shortened in the comments:

    district 310104 ─┬─ S1 310104001 ─┬─ C11 ─┬─ P111 (pop 100)
                     │                │       └─ P112 (pop 200)
                     │                └─ C12
                     └─ S2 310104002 ─┬─ C21 ─── P211 (pop 300)
                                      └─ CV (virtual committee, not counted)
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator

import pytest
from shapely import MultiPolygon, Point, box
from sqlalchemy.orm import Session

from dashboard import versions
from dashboard.config import PROJECT_ROOT, get_settings
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

NOW = dt.datetime(2026, 11, 21, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
TODAY = dt.date(2026, 11, 21)  # NOW's date in Shanghai

D, S1, S2 = "310104", "310104001", "310104002"
C11, C12, C21, CV = "310104001001", "310104001002", "310104002001", "310104002999"
P111, P112, P211 = "310104001001001", "310104001001002", "310104002001001"


def _mp(*bounds: float) -> MultiPolygon:
    return MultiPolygon([box(*bounds)])


def build_small_district(session: Session, *, now: dt.datetime = NOW) -> None:
    """Write the small district and one of everything the screen counts. Does not commit."""
    areas = [
        Area(
            code=D, level=AreaLevel.DISTRICT, name="徐汇区", geom=_mp(121.40, 31.14, 121.46, 31.22)
        ),
        Area(
            code=S1,
            level=AreaLevel.SUBDISTRICT,
            name="甲街道",
            parent_code=D,
            geom=_mp(121.40, 31.14, 121.43, 31.22),
            population=300,
            area_km2=26.0,
        ),
        Area(
            code=S2,
            level=AreaLevel.SUBDISTRICT,
            name="乙街道",
            parent_code=D,
            geom=_mp(121.43, 31.14, 121.46, 31.22),
            population=300,
            area_km2=26.0,
        ),
        Area(
            code=C11,
            level=AreaLevel.COMMITTEE,
            name="一居委",
            parent_code=S1,
            geom=_mp(121.40, 31.14, 121.43, 31.18),
            population=300,
        ),
        Area(
            code=C12,
            level=AreaLevel.COMMITTEE,
            name="二居委",
            parent_code=S1,
            geom=_mp(121.40, 31.18, 121.43, 31.22),
            population=0,
        ),
        Area(
            code=C21,
            level=AreaLevel.COMMITTEE,
            name="三居委",
            parent_code=S2,
            geom=_mp(121.43, 31.14, 121.46, 31.22),
            population=300,
        ),
        Area(
            code=CV, level=AreaLevel.COMMITTEE, name="园区虚拟社区", parent_code=S2, is_virtual=True
        ),
        Area(
            code=P111,
            level=AreaLevel.COMPOUND,
            name="甲小区",
            parent_code=C11,
            geom=_mp(121.41, 31.15, 121.412, 31.152),
            population=100,
        ),
        Area(
            code=P112,
            level=AreaLevel.COMPOUND,
            name="乙小区",
            parent_code=C11,
            geom=_mp(121.415, 31.15, 121.417, 31.152),
            population=200,
        ),
        Area(
            code=P211,
            level=AreaLevel.COMPOUND,
            name="丙小区",
            parent_code=C21,
            geom=_mp(121.44, 31.15, 121.442, 31.152),
            population=300,
        ),
    ]
    for area in areas:  # parents first: the foreign key is checked row by row on SQLite
        session.add(area)
        session.flush()
    session.add_all(
        [
            Enterprise(
                credit_code="91310104000000001X",
                name="甲公司",
                subdistrict_code=S1,
                state="reopened",
            ),
            Enterprise(
                credit_code="91310104000000002X",
                name="乙公司",
                subdistrict_code=S1,
                state="reopened",
            ),
            Enterprise(
                credit_code="91310104000000003X",
                name="丙公司",
                subdistrict_code=S1,
                state="approved",
            ),
            Enterprise(
                credit_code="91310104000000004X",
                name="丁公司",
                subdistrict_code=S2,
                state="registered",
            ),
            Shop(licence_id="L1", name="一号店", subdistrict_code=S1, is_open=True),
            Shop(licence_id="L2", name="二号店", subdistrict_code=S1, is_open=True),
            Shop(licence_id="L3", name="三号店", subdistrict_code=S1, is_open=False),
            Shop(licence_id="L4", name="四号店", subdistrict_code=S2, is_open=True),
            ConstructionSite(
                site_id="G1",
                name="一号工地",
                subdistrict_code=S1,
                headcount=50,
                new_arrivals_today=3,
            ),
            ConstructionSite(
                site_id="G2",
                name="二号工地",
                subdistrict_code=S2,
                headcount=20,
                new_arrivals_today=1,
            ),
            # Arrivals: three at G1 today and one yesterday, one at G2 today (local dates).
            *[
                SiteWorker(id_number=f"11010519900101{n:03d}X"[-18:], site_id=site,
                           name="测试", home_province="江苏", arrived_on=day)
                for n, (site, day) in enumerate(
                    [("G1", TODAY), ("G1", TODAY), ("G1", TODAY),
                     ("G1", TODAY - dt.timedelta(days=1)), ("G2", TODAY)]
                )
            ],
            Station(code="ST1", name="甲站", kind="metro", geom=Point(121.42, 31.20)),
            Station(code="ST2", name="乙站", kind="metro", geom=Point(121.45, 31.20)),
            Station(code="ST3", name="外站", kind="railway", geom=Point(121.50, 31.20)),
        ]
    )
    batch = ImportBatch(
        kind="pings",
        filename="pings-0955.csv",
        sha256="a" * 64,
        status="loaded",
        rows_read=12,
        rows_loaded=10,
        rows_quarantined=1,
        rows_duplicate=1,
        started_at=now - dt.timedelta(minutes=5),
        finished_at=now - dt.timedelta(minutes=5),
    )
    rejected = ImportBatch(
        kind="shops",
        filename="shops.xlsx",
        sha256="b" * 64,
        status="rejected",
        message="missing column licence_id",
        started_at=now - dt.timedelta(minutes=1),
    )
    session.add_all([batch, rejected])
    session.flush()
    session.add(
        QuarantinedRow(
            batch_id=batch.id,
            row_number=7,
            reason="bad_coordinate",
            detail="lat 91.2 out of range",
            raw={"id_number": "310***********1234", "lat": "91.2"},
        )
    )
    recent = [Point(121.41, 31.15)] * 5 + [Point(121.45, 31.15)] * 2
    for i, p in enumerate(recent):
        session.add(Ping(ts=now - dt.timedelta(minutes=i + 1), lon=p.x, lat=p.y, batch_id=batch.id))
    for i in range(3):
        session.add(
            Ping(
                ts=now - dt.timedelta(hours=1, minutes=i), lon=121.41, lat=31.15, batch_id=batch.id
            )
        )
    open_ = dict(source="hotline_12345", title="噪声投诉", status="open", created_at=now)
    session.add_all(
        [
            WorkOrder(area_code=C11, **open_),
            WorkOrder(area_code=C11, **open_),
            WorkOrder(area_code=P111, **open_),  # counts for its committee C11
            WorkOrder(area_code=P211, **open_),  # counts for C21
            WorkOrder(area_code=S1, **open_),  # open, but no committee's
            WorkOrder(area_code=C12, **{**open_, "status": "closed"}, closed_at=now),
            WorkOrder(area_code=C21, **{**open_, "status": "cancelled"}),
        ]
    )
    session.add_all(
        [
            JobRun(
                job_id="ingest_inbox",
                started_at=now - dt.timedelta(minutes=2),
                finished_at=now - dt.timedelta(minutes=2),
                status="ok",
                rows=10,
            ),
            JobRun(
                job_id="ingest_inbox",
                started_at=now - dt.timedelta(minutes=1),
                status="failed",
                error="inbox unreadable",
            ),
            JobRun(
                job_id="prune_history", started_at=now - dt.timedelta(hours=3), status="ok", rows=0
            ),
        ]
    )
    for name in ("areas", "enterprises", "shops", "sites", "work_orders"):
        versions.bump(name, session=session, at=now - dt.timedelta(minutes=10))
    versions.bump("pings", session=session, at=now - dt.timedelta(minutes=1))
    session.flush()


# Community risk on the small district: two scored days, values chosen so the scores are easy to
# check by hand with the model in force (data/risk_model.json: confirmed 20 %, cap 1; suspected
# 13 %, cap 2; close_contacts 12 %, cap 5; key_region_arrivals 8 %, cap 5 per 1,000; ...).
RISK_DAY = TODAY - dt.timedelta(days=1)  # what the nightly job scored this morning
RISK_PREV = RISK_DAY - dt.timedelta(days=1)
RISK_VALUES: dict[dt.date, dict[str, dict[str, float]]] = {
    RISK_DAY: {
        # 20 + 13 + 12 + 8 (1 per 100 residents, capped) + 7 (capped) + 4 × 2/5 = 61.6: red
        P111: {"confirmed": 1, "suspected": 2, "close_contacts": 5, "key_region_arrivals": 1,
               "fever_clinic_visits": 1, "hotline_reports": 2},
        # 20 + 12 + 6 (4 per 200 = 20 per 1,000, the cap) + 4 × 0.5 + 4 × 2/5 = 41.6: yellow;
        # its elderly share is not reported this day: the day before's 0.2 is carried forward
        P112: {"confirmed": 1, "close_contacts": 5, "home_observation": 4, "crowd_gathering": 2},
        # 13 × 1/2 + 5 (30 per 300 = 100 per 1,000) = 11.5, blue; screening never reported:
        # incomplete, at most 11.5 + 7 = 18.5
        P211: {"suspected": 1, "returnees_14d": 30},
    },
    RISK_PREV: {
        P111: {"confirmed": 1, "suspected": 2, "close_contacts": 5},  # 45: yellow
        P112: {"close_contacts": 5, "elderly_share": 0.2},  # 12 + 2 = 14: blue
        P211: {"suspected": 2, "returnees_14d": 30},  # 18: blue, incomplete
    },
}
# Every indicator not listed above is reported as 0, except these (day, compound, indicator):
RISK_NOT_REPORTED = {
    *((day, P211, "screening_unfinished") for day in RISK_VALUES),  # never: incomplete
    (RISK_DAY, P112, "elderly_share"),  # late once: carried forward
}


def write_small_risk(session: Session) -> None:
    """The indicator values of :data:`RISK_VALUES`, scored by the model in force for both days
    (which bumps the "risk" data version). Does not commit."""
    from sqlalchemy import insert

    from dashboard import risk
    from dashboard.indicators import INDICATOR_KEYS
    from dashboard.models import IndicatorValue

    model = risk.load_model()
    for day in sorted(RISK_VALUES):
        rows = [
            {"date": day, "compound_code": code, "indicator": key, "value": given.get(key, 0.0)}
            for code, given in RISK_VALUES[day].items()
            for key in INDICATOR_KEYS
            if (day, code, key) not in RISK_NOT_REPORTED
        ]
        session.execute(insert(IndicatorValue), rows)
        risk.score_day(day, session=session, model=model, carry_days=2, now=NOW)


def use_as_app_database(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """For an ``app_db`` fixture: ``db_url`` made the app's database (env + a fresh settings
    cache), with the small district written into it."""
    from dashboard.db import session_scope

    monkeypatch.setenv("DASHBOARD_DATABASE_URL", db_url)
    get_settings.cache_clear()
    with session_scope(db_url) as session:
        build_small_district(session)
    yield db_url
    get_settings.cache_clear()


def import_app():
    """``app.py`` lives at the project root, outside the installed packages."""
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    import app

    return app


def write_risk_days(
    session: Session,
    *,
    last_day: dt.date,
    days: int,
    seed: int = 7,
    missing_share: float = 0.01,
    silent_share: float = 0.01,
) -> None:
    """Indicator values for every compound on ``days`` days up to ``last_day``, scored with the
    model in force: mostly blue, some yellow, a few red, moving a little from day to day, with
    ``missing_share`` of the values not reported, and ``silent_share`` of the compounds sending
    no "screening_unfinished" in the last four days: their last scores are incomplete (the
    carry window is 2 days). Does not commit.

    Each compound has a "heat" h (about the share of every cap it reaches), so its score is
    near 100 × h: a Beta(1.2, 4) heat puts roughly 3 % of compounds in red and 12 % in yellow.
    """
    import numpy as np
    from sqlalchemy import insert, select

    from dashboard import risk
    from dashboard.models import IndicatorValue

    model = risk.load_model()
    rows = session.execute(
        select(Area.code, Area.population)
        .where(Area.level == AreaLevel.COMPOUND)
        .order_by(Area.code)
    ).all()
    codes = [code for code, _ in rows]
    pop = np.array([p or 0 for _, p in rows], dtype=float)
    rng = np.random.default_rng(seed)
    heat = rng.beta(1.2, 4.0, len(codes))
    silent = rng.random(len(codes)) < silent_share
    for n in range(days):
        day = last_day - dt.timedelta(days=days - 1 - n)
        h = np.clip(heat + rng.normal(0, 0.04, len(codes)), 0, 1)
        records = []
        for ind in model.indicators:
            share = np.clip(h * rng.gamma(8.0, 1 / 8.0, len(codes)), 0, 1.2)
            basis_value = share * ind.cap
            if ind.basis == "per_1000_residents":
                value = np.round(basis_value * pop / 1000)
            elif ind.basis == "count":
                value = np.round(basis_value)
            else:
                value = np.round(np.minimum(basis_value, 1.0), 3)
            reported = rng.random(len(codes)) >= missing_share
            if ind.key == "screening_unfinished" and n >= days - 4:
                reported &= ~silent
            records += [
                {"date": day, "compound_code": c, "indicator": ind.key, "value": float(v)}
                for c, v, ok in zip(codes, value, reported, strict=True)
                if ok
            ]
        session.execute(insert(IndicatorValue), records)
        risk.score_day(day, session=session, model=model, carry_days=2)


def write_crowd_window(
    session: Session,
    window_start: dt.datetime,
    cells: dict[str, tuple[float, int]],
    *,
    at: dt.datetime | None = None,
) -> None:
    """One aggregated crowd window as the ``aggregate_crowd`` job stores it: ``cells`` maps a
    cell id to (people, observations); the density is people over the cell's area. Replaces
    the window if it was there, and bumps the "crowd" data version. Does not commit."""
    from sqlalchemy import delete, insert

    from dashboard import crowd
    from dashboard.models import CrowdCount, CrowdWindow

    grid = crowd.grid_from_settings()
    session.execute(delete(CrowdCount).where(CrowdCount.window_start == window_start))
    session.execute(delete(CrowdWindow).where(CrowdWindow.window_start == window_start))
    if cells:
        session.execute(
            insert(CrowdCount),
            [
                {
                    "window_start": window_start,
                    "cell_id": cell,
                    "count": float(people),
                    "observations": int(observations),
                    "density_km2": float(people) / grid.cell_area_km2,
                }
                for cell, (people, observations) in cells.items()
            ],
        )
    session.add(
        CrowdWindow(
            window_start=window_start,
            computed_at=at or window_start,
            cells=len(cells),
            people=float(sum(p for p, _ in cells.values())),
            observations=int(sum(o for _, o in cells.values())),
        )
    )
    versions.bump("crowd", session=session, at=at or window_start)
    session.flush()


def write_crowd_day(
    session: Session, *, now: dt.datetime, hours: int = 24, seed: int = 11
) -> list[dt.datetime]:
    """Crowd windows over every cell covering the district for the ``hours`` before ``now``
    (the windows that have ended): a sparse background, some cells under the small-count rule,
    and crowds around the stations that swell by day and ebb at night; the first three
    stations (by code) are busy enough to be red at any hour, so every window has all four
    levels. Returns the window starts, oldest first. Does not commit.
    """
    import math

    import numpy as np
    from sqlalchemy import select

    from dashboard import crowd, queries

    settings = get_settings()
    grid = crowd.grid_from_settings(settings)
    minutes = settings.crowd_window_minutes
    cells = queries.crowd_cells_covering(
        grid, session=session, scope=queries.AreaScope.whole_district()
    )
    lon, lat = grid.centres(cells)
    stations = session.scalars(
        select(Station.geom).where(Station.geom.is_not(None)).order_by(Station.code)
    ).all()
    rng = np.random.default_rng(seed)
    background = rng.gamma(2.0, 2_500.0, len(cells))  # people per km²
    quiet = rng.random(len(cells)) < 0.06  # parks, rivers, rail yards: a handful of people
    peaks = rng.uniform(15_000, 110_000, len(stations))
    peaks[:3] = 200_000
    k_lon = 111_320 * math.cos(math.radians(31.17))
    heat = np.zeros((len(stations), len(cells)))
    for i, p in enumerate(stations):
        d2 = ((lon - p.x) * k_lon) ** 2 + ((lat - p.y) * 110_570) ** 2
        heat[i] = peaks[i] * np.exp(-d2 / (2 * 320.0**2))
    last = crowd.window_start_of(now, minutes) - dt.timedelta(minutes=minutes)
    starts = [last - dt.timedelta(minutes=minutes * n) for n in range(hours * 60 // minutes)][::-1]
    for start in starts:
        hour = (start + dt.timedelta(hours=8)).hour + start.minute / 60  # Shanghai
        day = max(0.0, math.sin(math.pi * (hour - 6) / 16)) if 6 <= hour <= 22 else 0.0
        density = background * (0.6 + 0.4 * day) + heat.sum(axis=0) * (0.35 + 0.65 * day)
        people = np.round(density * grid.cell_area_km2 * rng.uniform(0.9, 1.1, len(cells)))
        people[quiet] = rng.integers(0, 10, int(quiet.sum()))
        write_crowd_window(
            session,
            start,
            {c: (float(n), int(n)) for c, n in zip(cells, people, strict=True) if n > 0},
            at=start + dt.timedelta(minutes=minutes),
        )
    return starts
