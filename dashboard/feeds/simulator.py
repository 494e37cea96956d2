"""The demo simulator: it plays the upstream departments of a district.

Each round it writes the files those departments would send (location pings from a carrier,
station gate counts and bookings from the railway, enterprise and shop updates, construction-site
check-ins, the committees' daily indicator returns) into the inbox, exactly as a real feed would
arrive; the ``ingest_inbox`` job then loads them through the same ingestion path as any file.

Deterministic: every value is drawn from a generator seeded by (demo seed, what, when), so the
same hour always gets the same counts, and writing a period twice writes the same file. Files
appear atomically (written under a dot-name, then renamed), with a ``.prj`` sidecar declaring
WGS84 where they carry coordinates.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.config import Settings
from dashboard.db import session_scope
from dashboard.demo import overview
from dashboard.demo.registers import (
    build_workers,
    checkin_share,
    shop_day_plan,
)
from dashboard.indicators import INDICATOR_KEYS
from dashboard.models import (
    Area,
    AreaLevel,
    ConstructionSite,
    DisinfectionTask,
    Enterprise,
    EpidemicCount,
    HomeObservation,
    ImportBatch,
    IndicatorValue,
    MaskSupply,
    OfficeReturnees,
    Shop,
    SiteWorker,
    Station,
    StationBooking,
    StationFlow,
)

logger = logging.getLogger(__name__)

WGS84_PRJ = "EPSG:4326\n"
HISTORY_DAYS = 28  # station flows back-filled on first run (the forecast needs four weeks)
INDICATOR_HISTORY_DAYS = 14

# Hourly shares of a day's arrivals at Shanghai South Railway Station: a morning peak 09-10 and a
# midday peak 12-13 which together hold about 40% of the day, as the station reported in 2020.
SOUTH_STATION_PROFILE = np.array(
    [0.2, 0.1, 0.1, 0.1, 0.2, 0.6, 1.5, 3.0, 5.0, 21.0, 7.0, 6.0,
     19.0, 6.0, 5.0, 4.5, 4.5, 4.0, 3.5, 3.0, 2.5, 1.8, 1.0, 0.5]
)
SOUTH_STATION_PROFILE = SOUTH_STATION_PROFILE / SOUTH_STATION_PROFILE.sum()
# Metro entries: commuter peaks 07-09 and 17-19.
METRO_PROFILE = np.array(
    [0.1, 0.0, 0.0, 0.0, 0.1, 1.0, 4.0, 11.0, 12.0, 7.0, 5.0, 4.5,
     4.5, 4.5, 4.5, 5.0, 6.0, 9.5, 9.0, 5.5, 3.5, 2.5, 1.5, 0.5]
)
METRO_PROFILE = METRO_PROFILE / METRO_PROFILE.sum()

HOTSPOTS = {  # lon, lat, daytime weight: Xujiahui and the South Station forecourt
    "xujiahui": (121.4365, 31.1950, 3.0),
    "south_station": (121.4299, 31.1545, 2.0),
}

# People present in the district over a day, as a share of its residents (1,113,078 at the 2020
# census): inbound commuters fill the offices on weekday working hours, shoppers Xujiahui in the
# evening and at weekends; at night it is the residents (less those away).
PRESENCE = np.array(
    [0.97, 0.97, 0.97, 0.97, 0.97, 0.97, 0.98, 1.02, 1.10, 1.15, 1.16, 1.16,
     1.16, 1.16, 1.16, 1.16, 1.15, 1.12, 1.08, 1.06, 1.04, 1.01, 0.99, 0.98]
)
WEEKEND_PRESENCE = 1.03  # at weekends the day's peak, shoppers rather than office workers


def people_present(local: dt.datetime, residents: float) -> float:
    """People in the district at a local time: what a 15-minute window's pings add up to."""
    share = PRESENCE[local.hour]
    if local.weekday() >= 5:
        share = min(share, WEEKEND_PRESENCE) if local.hour >= 7 else share
    return residents * share


def _rng(settings: Settings, *key: object) -> np.random.Generator:
    words = [settings.demo_seed] + [zlib.crc32(str(k).encode()) for k in key]
    return np.random.default_rng(words)


def _write(inbox: Path, kind: str, name: str, frame: pd.DataFrame, *, prj: bool = False) -> Path:
    folder = inbox / kind
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.csv"
    if prj:
        (folder / f"{name}.csv.prj").write_text(WGS84_PRJ, encoding="utf-8")
    tmp = folder / f".{name}.csv.part"
    frame.to_csv(tmp, index=False, encoding="utf-8")
    os.replace(tmp, target)
    return target


def _pending(inbox: Path, kind: str) -> set[str]:
    """Names of files of a kind already waiting in the inbox (written, not yet loaded)."""
    folder = inbox / kind
    return {p.stem for p in folder.glob("*.csv")} if folder.is_dir() else set()


@dataclass
class _World:
    """What the simulator needs to know about the district, read once per round."""

    stations: pd.DataFrame
    compounds: pd.DataFrame
    enterprises: pd.DataFrame
    shops: pd.DataFrame
    sites: pd.DataFrame
    outline: shapely.Geometry | None
    last_flow_hour: dt.datetime | None
    last_booking: dt.datetime | None
    indicator_dates: set[dt.date]
    # Issue 5: the key-region arrivals the simulator sent unchecked (site, id, when sent), and
    # the overview feeds' latest figures.
    unchecked: pd.DataFrame = field(default_factory=pd.DataFrame)
    subdistricts: pd.DataFrame = field(default_factory=pd.DataFrame)
    epidemic: pd.DataFrame = field(default_factory=pd.DataFrame)
    home_observation: pd.DataFrame = field(default_factory=pd.DataFrame)
    disinfection: pd.DataFrame = field(default_factory=pd.DataFrame)
    masks: pd.DataFrame = field(default_factory=pd.DataFrame)
    returnees: pd.DataFrame = field(default_factory=pd.DataFrame)


def _read_world(session: Session) -> _World:
    stations = pd.DataFrame(
        [(s.code, s.kind, s.geom.x, s.geom.y) for s in session.scalars(select(Station))],
        columns=["code", "kind", "lon", "lat"],
    )
    rows = session.execute(
        select(Area.code, Area.population, Area.label_lon, Area.label_lat).where(
            Area.level == AreaLevel.COMPOUND
        )
    ).all()
    compounds = pd.DataFrame(rows, columns=["code", "population", "lon", "lat"])
    ent = session.execute(
        select(
            Enterprise.credit_code,
            Enterprise.state,
            Enterprise.planned_headcount,
            Enterprise.returned_headcount,
            Enterprise.checkins_today,
            Enterprise.planned_reopen_date,
            Enterprise.updated_at,
            Enterprise.geom,
        ).order_by(Enterprise.credit_code)
    ).all()
    enterprises = pd.DataFrame(
        [
            (c, st, p or 0, r or 0, k or 0, d, u, g.x if g else None, g.y if g else None)
            for c, st, p, r, k, d, u, g in ent
        ],
        columns=["credit_code", "state", "planned", "returned", "checkins", "planned_day",
                 "updated_at", "lon", "lat"],
    )  # fmt: skip
    shops = pd.DataFrame(
        session.execute(
            select(Shop.licence_id, Shop.is_open, Shop.open_on, Shop.closed_down).order_by(
                Shop.licence_id
            )
        ).all(),
        columns=["licence_id", "is_open", "open_on", "closed_down"],
    )
    sites = pd.DataFrame(
        session.execute(
            select(ConstructionSite.site_id, ConstructionSite.state).order_by(
                ConstructionSite.site_id
            )
        ).all(),
        columns=["site_id", "state"],
    )
    dates = set(session.scalars(select(IndicatorValue.date).distinct()))
    outline = session.scalar(select(Area.geom).where(Area.level == AreaLevel.DISTRICT))
    return _World(
        stations,
        compounds,
        enterprises,
        shops,
        sites,
        outline,
        session.scalar(select(func.max(StationFlow.hour_start))),
        session.scalar(select(func.max(StationBooking.as_of))),
        dates,
        **_read_overview(session),
    )


def _frame(session: Session, query, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(session.execute(query).all(), columns=columns)


def _read_overview(session: Session) -> dict[str, pd.DataFrame]:
    """The issue-5 feeds' state: unchecked simulated arrivals, and each overview table's
    recent rows (a fortnight at most: the simulator continues their trends)."""
    unchecked = _frame(
        session,
        select(
            SiteWorker.site_id,
            SiteWorker.id_number,
            SiteWorker.name,
            SiteWorker.home_province,
            SiteWorker.arrived_on,
            ImportBatch.filename,
        )
        .join(ImportBatch, ImportBatch.id == SiteWorker.batch_id)
        .where(SiteWorker.from_key_region.is_(True), SiteWorker.certificate_checked.is_(None))
        .order_by(SiteWorker.id_number),
        ["site_id", "id_number", "name", "home_province", "arrived_on", "filename"],
    )
    subdistricts = _frame(
        session,
        select(Area.code, Area.population)
        .where(Area.level == AreaLevel.SUBDISTRICT)
        .order_by(Area.code),
        ["code", "population"],
    )
    since = session.scalar(select(func.max(EpidemicCount.date)))
    epidemic = _frame(
        session,
        select(EpidemicCount.date, EpidemicCount.level, EpidemicCount.new_cases,
               EpidemicCount.current_cases)
        .where(EpidemicCount.date >= (since or dt.date.min) - dt.timedelta(days=7))
        .order_by(EpidemicCount.level, EpidemicCount.date),
        ["date", "level", "new_cases", "current_cases"],
    )  # fmt: skip
    last_obs = session.scalar(select(func.max(HomeObservation.date)))
    home = _frame(
        session,
        select(HomeObservation.date, HomeObservation.committee_code, HomeObservation.people)
        .where(HomeObservation.date == last_obs)
        .order_by(HomeObservation.committee_code),
        ["date", "committee_code", "people"],
    )
    last_task = session.scalar(select(func.max(DisinfectionTask.due_on)))
    tasks = _frame(
        session,
        select(
            DisinfectionTask.place_id,
            DisinfectionTask.due_on,
            DisinfectionTask.place_name,
            DisinfectionTask.place_kind,
            DisinfectionTask.subdistrict_code,
            DisinfectionTask.done_at,
        )
        .where(DisinfectionTask.due_on >= (last_task or dt.date.min) - dt.timedelta(days=2))
        .order_by(DisinfectionTask.place_id, DisinfectionTask.due_on),
        ["place_id", "due_on", "place_name", "place_kind", "subdistrict_code", "done_at"],
    )
    last_mask = session.scalar(select(func.max(MaskSupply.date)))
    masks = _frame(
        session,
        select(MaskSupply.date, MaskSupply.subdistrict_code, MaskSupply.reserved,
               MaskSupply.delivered)
        .where(MaskSupply.date >= (last_mask or dt.date.min) - dt.timedelta(days=1))
        .order_by(MaskSupply.subdistrict_code, MaskSupply.date),
        ["date", "subdistrict_code", "reserved", "delivered"],
    )  # fmt: skip
    last_ret = session.scalar(select(func.max(OfficeReturnees.date)))
    rows = session.execute(
        select(
            OfficeReturnees.date,
            OfficeReturnees.building_id,
            OfficeReturnees.building_name,
            OfficeReturnees.subdistrict_code,
            OfficeReturnees.returnees,
            OfficeReturnees.geom,
        )
        .where(OfficeReturnees.date >= (last_ret or dt.date.min) - dt.timedelta(days=15))
        .order_by(OfficeReturnees.building_id, OfficeReturnees.date)
    ).all()
    returnees = pd.DataFrame(
        [(d, b, n, c, r, g.x if g else None, g.y if g else None) for d, b, n, c, r, g in rows],
        columns=["date", "building_id", "building_name", "subdistrict_code", "returnees",
                 "lon", "lat"],
    )  # fmt: skip
    return {
        "unchecked": unchecked,
        "subdistricts": subdistricts,
        "epidemic": epidemic,
        "home_observation": home,
        "disinfection": tasks,
        "masks": masks,
        "returnees": returnees,
    }


# --------------------------------------------------------------------------- the round


def simulate_round(settings: Settings, *, now: dt.datetime) -> int:
    """Write one round of upstream files into the inbox; returns the number of files written."""
    with session_scope(settings.database_url) as session:
        world = _read_world(session)
    if world.compounds.empty:
        logger.info("no district in the database yet; nothing to simulate")
        return 0
    tz = ZoneInfo(settings.timezone)
    inbox = settings.inbox
    written = [
        *write_pings(settings, world, inbox, now=now, tz=tz),
        *write_station_flows(settings, world, inbox, now=now, tz=tz),
        *write_station_bookings(settings, world, inbox, now=now, tz=tz),
        *write_indicators(settings, world, inbox, now=now, tz=tz),
        *write_enterprise_updates(settings, world, inbox, now=now, tz=tz),
        *write_shop_updates(settings, world, inbox, now=now, tz=tz),
        *write_site_updates(settings, world, inbox, now=now, tz=tz),
        *write_site_checkins(settings, world, inbox, now=now, tz=tz),
        *write_epidemic(settings, world, inbox, now=now, tz=tz),
        *write_home_observation(settings, world, inbox, now=now, tz=tz),
        *write_disinfection(settings, world, inbox, now=now, tz=tz),
        *write_masks(settings, world, inbox, now=now, tz=tz),
        *write_returnees(settings, world, inbox, now=now, tz=tz),
    ]
    logger.info("simulator wrote %d files", len(written))
    return len(written)


def _stamp(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def write_pings(settings, world, inbox, *, now, tz) -> list[Path]:
    """Location pings of the last interval, following the daily rhythm of the district.

    The pings are a sample: each carries a ``weight``, the people it stands for, so that one
    crowd window's pings add up to the people present (about 1.1 million at night, 1.3 million
    on a weekday afternoon), whatever the sample size.
    """
    n = settings.simulator_pings_per_round
    rng = _rng(settings, "pings", _stamp(now))
    local = now.astimezone(tz)
    hour = local.hour + local.minute / 60
    weekday = local.weekday() < 5
    # Shares of the people present, by where they are: at home, at work, passing through a
    # station, at Xujiahui's malls or the South Station forecourt. At 10:00 on a weekday about
    # a third are at work and a tenth at the hotspots; at 03:00 nearly all are at home.
    night = 1.0 if (hour < 6.5 or hour >= 21) else 0.55
    office = (0.45 if 9 <= hour < 18 else 0.03) * (1.0 if weekday else 0.25)
    commute = 0.06 if (7 <= hour < 9.5 or 17 <= hour < 19.5) else 0.01
    daytime = 0.10 if 10 <= hour < 21 else 0.01

    # lon, lat, share of the group's people at each point, and the spread (degrees, ~1 sigma):
    # a compound's residents stay within ~100 m of its centre, a mall crowd spreads over blocks.
    groups: list[tuple[np.ndarray, np.ndarray, float, np.ndarray, float]] = []
    pop = world.compounds["population"].fillna(0).to_numpy(float)
    groups.append((world.compounds["lon"].to_numpy(float), world.compounds["lat"].to_numpy(float),
                   night, pop / max(pop.sum(), 1), 0.0010))
    ent = world.enterprises.dropna(subset=["lon", "lat"])
    if not ent.empty:
        groups.append((ent["lon"].to_numpy(float), ent["lat"].to_numpy(float), office,
                       np.full(len(ent), 1 / len(ent)), 0.0010))
    st = world.stations
    groups.append((st["lon"].to_numpy(float), st["lat"].to_numpy(float), commute,
                   np.full(len(st), 1 / len(st)), 0.0008))
    hs = np.array([(lon, lat) for lon, lat, _ in HOTSPOTS.values()])
    hw = np.array([w for *_, w in HOTSPOTS.values()])
    groups.append((hs[:, 0], hs[:, 1], daytime, hw / hw.sum(), 0.0025))

    totals = np.array([g[2] for g in groups])
    # Draw a few more than needed: the carrier's feed is already cut to the district's outline.
    per_group = rng.multinomial(int(n * 1.25) + 10, totals / totals.sum())
    lons, lats = [], []
    for (glon, glat, _, p, spread), k in zip(groups, per_group, strict=True):
        idx = rng.choice(len(glon), size=k, p=p)
        lons.append(glon[idx] + rng.normal(0, spread * 1.17, k))  # 1.17: a degree of lat is
        lats.append(glat[idx] + rng.normal(0, spread, k))  # 1.17 times one of lon here
    # Rounded as written, before the outline check: a point rounded across the outline
    # would be set aside as outside the district.
    lon, lat = np.round(np.concatenate(lons), 6), np.round(np.concatenate(lats), 6)
    if world.outline is not None:
        inside = shapely.contains_xy(world.outline, lon, lat)
        lon, lat = lon[inside], lat[inside]
    keep = rng.permutation(len(lon))[:n]
    lon, lat = lon[keep], lat[keep]
    seconds = rng.uniform(0, settings.simulator_interval_s, len(lon))
    ts = [now - dt.timedelta(seconds=float(s)) for s in seconds]
    rounds_per_window = settings.crowd_window_minutes * 60 / settings.simulator_interval_s
    residents = float(world.compounds["population"].fillna(0).sum())
    weight = people_present(local, residents) / (n * rounds_per_window)
    frame = pd.DataFrame(
        {
            "timestamp": [t.astimezone(dt.UTC).isoformat(timespec="seconds") for t in ts],
            "lon": np.round(lon, 6),
            "lat": np.round(lat, 6),
            "weight": round(weight, 2),
        }
    )
    return [_write(inbox, "pings", f"pings_{_stamp(now)}", frame, prj=True)]


# China's calendar (dashboard/holidays.py). Metro entries are commuters: a holiday is quieter
# than a weekend, an adjusted working day (调休上班) is a workday. Railway arrivals rise around a
# holiday: on its eve and first day, most on its last day (the return rush), a little the day
# after; its middle days run slightly above normal.
METRO_OFF_FACTOR = 0.55  # weekend
METRO_HOLIDAY_FACTOR = 0.45
RAIL_BUSY_WEEKDAYS = (4, 6)  # Friday and Sunday: weekend trips
RAIL_BUSY_FACTOR = 1.15
RAIL_HOLIDAY_FACTORS = {"eve": 1.3, "first": 1.4, "middle": 1.1, "last": 1.6, "after": 1.2}


def rail_holiday_phase(day: dt.date) -> str | None:
    """Where ``day`` stands in a holiday run: eve, first, middle, last, after; None if none."""
    from dashboard.holidays import DayType, day_type

    one = dt.timedelta(days=1)
    here = day_type(day) == DayType.HOLIDAY
    before, after = day_type(day - one) == DayType.HOLIDAY, day_type(day + one) == DayType.HOLIDAY
    if here:
        if not before:
            return "first"
        return "last" if not after else "middle"
    if after:
        return "eve"
    return "after" if before else None


def station_day_factor(kind: str, day: dt.date) -> float:
    """A station's daily total relative to an ordinary workday, from the official calendar."""
    from dashboard.holidays import DayType, day_type

    kind_of_day = day_type(day)
    if kind == "railway":
        phase = rail_holiday_phase(day)
        if phase is not None:
            return RAIL_HOLIDAY_FACTORS[phase]
        ordinary = kind_of_day != DayType.ADJUSTED_WORKDAY
        return RAIL_BUSY_FACTOR if ordinary and day.weekday() in RAIL_BUSY_WEEKDAYS else 1.0
    if kind_of_day == DayType.HOLIDAY:
        return METRO_HOLIDAY_FACTOR
    return METRO_OFF_FACTOR if kind_of_day == DayType.WEEKEND else 1.0


def expected_arrivals_mean(code: str, kind: str, hour_start: dt.datetime, tz) -> float:
    """The mean arrivals at a station in one hour: a daily total by the calendar, shaped by the
    hourly profile (Shanghai South: about 5,000 on an ordinary workday)."""
    local = hour_start.astimezone(tz)
    factor = station_day_factor(kind, local.date())
    if kind == "railway":
        return 5000 * factor * SOUTH_STATION_PROFILE[local.hour]
    base = 8000 + zlib.crc32(code.encode()) % 30000
    return base * factor * METRO_PROFILE[local.hour]


def _expected_arrivals(settings, code: str, kind: str, hour_start: dt.datetime, tz) -> int:
    """Arrivals at a station in one hour: the calendar's mean with Poisson noise.

    Seeded by (station, hour), so an hour always gets the same count whenever it is written.
    """
    rng = _rng(settings, "flow", code, _stamp(hour_start))
    mean = expected_arrivals_mean(code, kind, hour_start, tz)
    return int(rng.poisson(max(mean, 0.0)))


def write_station_flows(settings, world, inbox, *, now, tz) -> list[Path]:
    """Gate counts for every completed hour not yet delivered (four weeks on the first run)."""
    if world.stations.empty:
        return []
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    start = world.last_flow_hour + dt.timedelta(hours=1) if world.last_flow_hour else (
        this_hour - dt.timedelta(days=HISTORY_DAYS)
    )
    hours = pd.date_range(start, this_hour - dt.timedelta(hours=1), freq="h", tz=dt.UTC)
    pending = _pending(inbox, "station_flows")
    out = []
    # One file per local day, as the railway's daily export would be.
    by_day: dict[str, list[dict]] = {}
    for h in hours:
        h = h.to_pydatetime()
        day = h.astimezone(tz).strftime("%Y%m%d")
        for code, kind in zip(world.stations["code"], world.stations["kind"], strict=True):
            by_day.setdefault(day, []).append(
                {
                    "station_code": code,
                    "hour_start": h.astimezone(tz).isoformat(timespec="minutes"),
                    "arrivals": _expected_arrivals(settings, code, kind, h, tz),
                }
            )
    for day, rows in by_day.items():
        last = rows[-1]["hour_start"][11:13]
        name = f"station_flows_{day}_until{last}"
        if name in pending:
            continue
        out.append(_write(inbox, "station_flows", name, pd.DataFrame(rows)))
    return out


BOOKING_AHEAD_H = 24
BOOKING_SHARE_NEAR = 0.95  # share of the hour's arrivals booked one hour ahead
BOOKING_SHARE_STEP = 0.015  # less booked per hour further ahead: 0.605 a full day ahead
BOOKING_NOISE = 0.06  # lognormal sigma of the share: groups, cancellations, late sales


def booking_snapshot(settings, code: str, as_of: dt.datetime, tz) -> list[dict]:
    """The ticketing system's bookings at ``as_of`` for each of the next 24 hours.

    The share booked ramps toward the hour's actual arrivals as the hour approaches, with noise;
    seeded by (station, as_of), so a snapshot is the same whenever it is written.
    """
    rng = _rng(settings, "booking", code, _stamp(as_of))
    rows = []
    for k in range(1, BOOKING_AHEAD_H + 1):
        hour = as_of + dt.timedelta(hours=k)
        actual = _expected_arrivals(settings, code, "railway", hour, tz)
        share = (BOOKING_SHARE_NEAR - BOOKING_SHARE_STEP * (k - 1)) * rng.lognormal(
            0.0, BOOKING_NOISE
        )
        rows.append(
            {
                "station_code": code,
                "as_of": as_of.astimezone(tz).isoformat(timespec="minutes"),
                "hour_start": hour.astimezone(tz).isoformat(timespec="minutes"),
                "booked": int(rng.binomial(actual, min(share, 1.0))) if actual else 0,
            }
        )
    return rows


def write_station_bookings(settings, world, inbox, *, now, tz) -> list[Path]:
    """Once an hour, the railway ticketing system's bookings for each of the next 24 hours.

    Snapshots missed since the last one (four weeks of them on the first run, so the forecast
    can learn how bookings turn into arrivals) are back-filled, one file per local day.
    """
    as_of = now.replace(minute=0, second=0, microsecond=0)
    if world.last_booking is not None and world.last_booking >= as_of:
        return []
    railway = world.stations[world.stations["kind"] == "railway"]
    if railway.empty:
        return []
    first = as_of - dt.timedelta(days=HISTORY_DAYS)
    if world.last_booking is not None:
        first = max(first, world.last_booking + dt.timedelta(hours=1))
    snapshots = pd.date_range(first, as_of, freq="h", tz=dt.UTC)
    pending = _pending(inbox, "station_bookings")
    out = []
    if len(snapshots) > 1:  # back-fill: every snapshot before this hour's, by local day
        by_day: dict[str, list[dict]] = {}
        for t in snapshots[:-1]:
            t = t.to_pydatetime()
            day = t.astimezone(tz).strftime("%Y%m%d")
            for code in railway["code"]:
                by_day.setdefault(day, []).extend(booking_snapshot(settings, code, t, tz))
        for day, rows in by_day.items():
            name = f"station_bookings_{day}_until{rows[-1]['as_of'][11:13]}"
            if name not in pending:
                out.append(_write(inbox, "station_bookings", name, pd.DataFrame(rows)))
    name = f"station_bookings_{_stamp(as_of)}"
    if name not in pending:
        rows = [r for code in railway["code"] for r in booking_snapshot(settings, code, as_of, tz)]
        out.append(_write(inbox, "station_bookings", name, pd.DataFrame(rows)))
    return out


OUTBREAKS = 3  # clusters of cases in the demo district
OUTBREAK_SIGMA_M = 600.0  # how far a cluster's influence reaches (Gaussian, metres)
OUTBREAK_PERIOD_DAYS = 20  # a cluster flares and fades over about three weeks


def outbreak_intensity(settings, lon: np.ndarray, lat: np.ndarray, day: dt.date) -> np.ndarray:
    """0 (quiet) .. 1 (the heart of a cluster) for each point on a day.

    A few clusters sit around seeded committees; each flares and fades on its own phase, so the
    risk map has a handful of reds among some yellows, clustered where the cases are, and moves
    from day to day.
    """
    rng = _rng(settings, "outbreaks")
    centres = rng.choice(len(lon), size=min(OUTBREAKS, len(lon)), replace=False)
    phases = rng.uniform(0, 2 * np.pi, len(centres))
    daily = _rng(settings, "outbreak-day", day.isoformat())
    x = np.zeros(len(lon))
    for centre, phase in zip(centres, phases, strict=True):
        amplitude = 0.55 + 0.3 * np.sin(phase + 2 * np.pi * day.toordinal() / OUTBREAK_PERIOD_DAYS)
        amplitude = float(np.clip(amplitude + daily.normal(0, 0.08), 0, 1))
        dx = (lon - lon[centre]) * np.cos(np.radians(lat[centre])) * 111_320
        dy = (lat - lat[centre]) * 110_540
        x = np.maximum(x, amplitude * np.exp(-(dx**2 + dy**2) / (2 * OUTBREAK_SIGMA_M**2)))
    return x


def write_indicators(settings, world, inbox, *, now, tz) -> list[Path]:
    """Each committee's daily return of the 13 indicators per compound, up to yesterday."""
    today = now.astimezone(tz).date()
    days = [today - dt.timedelta(days=k) for k in range(INDICATOR_HISTORY_DAYS, 0, -1)]
    pending = _pending(inbox, "indicators")
    out = []
    comp = world.compounds
    n = len(comp)
    k = comp["population"].fillna(0).to_numpy(float) / 1000.0  # thousands of residents
    lon, lat = comp["lon"].to_numpy(float), comp["lat"].to_numpy(float)
    # A compound's elderly share is a property of the compound, not of the day.
    elderly = _rng(settings, "elderly").beta(6, 14, n)
    for day in days:
        name = f"indicators_{day:%Y%m%d}"
        if day in world.indicator_dates or name in pending:
            continue
        rng = _rng(settings, "indicators", day.isoformat())
        x = outbreak_intensity(settings, lon, lat, day)
        values = {
            "confirmed": rng.poisson(0.003 + 1.2 * x**2),
            "suspected": rng.poisson(0.01 + 2.0 * x),
            "close_contacts": rng.poisson(0.05 + 6.0 * x),
            "key_region_arrivals": rng.poisson(k * (0.15 + 4.0 * x)),
            "home_observation": rng.poisson(k * (0.8 + 15.0 * x)),
            "central_quarantine": rng.poisson(0.03 + 3.0 * x),
            "fever_clinic_visits": rng.poisson(k * (0.12 + 1.5 * x)),
            "hotline_reports": rng.poisson(0.3 + 3.0 * x),
            "returnees_14d": rng.poisson(k * 8.0),
            "screening_unfinished": np.round(
                np.clip(rng.beta(1.2, 12.0, n) + 0.25 * x, 0, 1), 3
            ),
            "disinfection_overdue": rng.poisson(0.2 + 2.0 * x),
            "elderly_share": np.round(np.clip(elderly + rng.normal(0, 0.003, n), 0, 1), 3),
            "crowd_gathering": rng.poisson(0.4 + 3.0 * x),
        }
        frame = pd.DataFrame({"date": day.isoformat(), "compound_code": comp["code"]})
        # Each week one committee stops returning its figures for five days, so the risk map
        # shows carried-forward and then incomplete scores.
        week = _rng(settings, "late-committee", day.toordinal() // 7)
        late = comp["code"].str[:12].to_numpy() == week.choice(np.unique(comp["code"].str[:12]))
        silent = late & (day.toordinal() % 7 >= 2)
        for key in INDICATOR_KEYS:
            column = pd.Series(values[key], dtype="object")
            # About 1% of cells are not returned on time: blank, never zero.
            column[(rng.random(n) < 0.01) | silent] = ""
            frame[key] = column.to_numpy()
        out.append(_write(inbox, "indicators", name, frame))
    return out


# --------------------------------------------------------------------------- registers (issue 5)

# Transitions per day, as a share of the enterprises in the state they leave, and where to.
ENTERPRISE_DAILY = (
    ("not_registered", "registered", 0.08),
    ("registered", "approved", 0.10),
    ("approved", "reopened", 0.08),
    ("reopened", "suspended", 0.002),
    ("suspended", "reopened", 0.08),
)
SITE_DAILY = (("approved", "reopened", 0.06), ("suspended", "reopened", 0.04))
MAX_ROWS_PER_ROUND = 400  # check-in refreshes per file: a day's reset spreads over rounds
CREWS_PER_MORNING = 40  # crews arriving at sites between 06:00 and 11:00
KEY_ARRIVALS_PER_MORNING = 1.5  # of which from a key region (a crew of one, unchecked)
CERTIFICATE_CHECK_MINUTES = (60, 120)  # a key-region arrival is checked this long after
SHOP_CLOSINGS_PER_DAY = 1.0
DISINFECTION_MISSED = 0.02  # tasks not done on their day (overdue tomorrow)


def _wave(h: float) -> float:
    """Office-day rhythm of approvals and reopenings: a morning wave 09-11, a smaller one 14-16."""
    return float(np.interp(h, [0, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 24],
                           [0, 0, 1.2, 1.6, 1.0, 0.3, 0.4, 1.1, 1.0, 0.6, 0, 0]))  # fmt: skip


_WAVE_AREA = float(np.trapezoid([_wave(h) for h in np.arange(0, 24, 0.05)], dx=0.05))


def _per_round(settings, daily: float, shape: float) -> float:
    """Expected events in one round for ``daily`` events a day spread by ``shape`` (0..)."""
    return daily * shape / _WAVE_AREA * settings.simulator_interval_s / 3600


def _hash_u(settings, what: str, day: dt.date, ids) -> np.ndarray:
    """A [0, 1) draw per id and day that does not depend on the other ids."""
    prefix = f"{settings.demo_seed}:{what}:{day.isoformat()}:".encode()
    return np.array([zlib.crc32(prefix + str(i).encode()) for i in ids], dtype=float) / 2**32


def _local_day(t, tz) -> dt.date | None:
    if t is None or pd.isna(t):
        return None
    return pd.Timestamp(t).tz_convert(tz).date() if pd.Timestamp(t).tzinfo else t.date()


def _object_frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    """Rows to a frame whose absent cells are blank in the CSV (never "12.0" for an int)."""
    return pd.DataFrame(rows, columns=columns, dtype=object)


def write_enterprise_updates(settings, world, inbox, *, now, tz) -> list[Path]:
    """Enterprises move along the reopening path in waves (09-11 and 14-16); reopened ones
    get staff back and their staff check in through the morning; a new day resets check-ins.

    Every change is one step allowed by :mod:`dashboard.states`; a file holds at most one row
    per enterprise.
    """
    ent = world.enterprises
    if ent.empty:
        return []
    local = now.astimezone(tz)
    today = local.date()
    h = local.hour + local.minute / 60
    rng = _rng(settings, "enterprises", _stamp(now))
    rows: dict[str, dict] = {}
    share = checkin_share(local)
    # Each enterprise's share of staff who check in, the same every day.
    diligence = 0.85 + 0.15 * _hash_u(settings, "diligence", dt.date.min, ent["credit_code"])
    for old, new, daily in ENTERPRISE_DAILY:
        pool = ent[ent["state"] == old]
        if pool.empty:
            continue
        # Registration is online (any time of day); approvals and reopenings follow the wave.
        shape = 1.0 / 24 * _WAVE_AREA if old == "not_registered" else _wave(h)
        k = min(len(pool), int(rng.poisson(_per_round(settings, daily * len(pool), shape))))
        if k == 0:
            continue
        weights = np.ones(len(pool))
        if old == "approved":  # those past their planned day reopen first
            late = pool["planned_day"].map(lambda d: d is not None and d <= today).to_numpy(bool)
            weights[late] = 4.0
        pick = pool.iloc[rng.choice(len(pool), k, replace=False, p=weights / weights.sum())]
        for r in pick.itertuples():
            row: dict = {"credit_code": r.credit_code, "state": new}
            if new == "registered":
                planned = r.planned or int(np.clip(rng.lognormal(np.log(20), 1.0), 2, 3000))
                row.update(
                    planned_reopen_date=(today + dt.timedelta(days=int(rng.integers(1, 15)))),
                    planned_headcount=planned,
                    returned_headcount=0,
                    pending_approvals=int(planned * rng.uniform(0.3, 1.0)),
                )
            elif new == "approved":
                row["pending_approvals"] = int(r.planned * rng.uniform(0.1, 0.6))
            elif new == "reopened" and old == "approved":
                returned = int(round(r.planned * rng.uniform(0.3, 0.6)))
                row.update(
                    returned_headcount=returned,
                    capacity_pct=round(100 * returned / max(r.planned, 1), 1),
                    checkins_today=int(returned * share),
                    pending_approvals=int((r.planned - returned) * rng.uniform(0.0, 0.3)),
                )
                if rng.random() < 0.3 and r.planned > returned:
                    trades = rng.choice(["电工", "焊工", "普工", "厨师", "快递员", "保洁", "保安",
                                         "司机"], size=2, replace=False)  # fmt: skip
                    row["labour_gap"] = ";".join(f"{t}:{int(rng.integers(1, 4))}" for t in trades)
            elif new == "suspended":
                row.update(capacity_pct=0.0, checkins_today=0)
            rows[r.credit_code] = row
    # Staff come back to reopened enterprises in the morning.
    back = ent[(ent["state"] == "reopened") & (ent["returned"] < ent["planned"])]
    if not back.empty and 7 <= h < 12:
        k = min(len(back), int(rng.poisson(_per_round(settings, 0.25 * len(back), 1.0))))
        for i in rng.choice(len(back), k, replace=False):
            r = back.iloc[i]
            if r.credit_code in rows:
                continue
            returned = int(min(r.planned, r.returned + rng.integers(1, 4)))
            rows[r.credit_code] = {
                "credit_code": r.credit_code,
                "state": "reopened",
                "returned_headcount": returned,
                "capacity_pct": round(100 * returned / max(r.planned, 1), 1),
                "checkins_today": int(returned * share),
            }
    # Today's health check-ins: from zero at midnight, climbing through the morning.
    at_work = ent["state"] == "reopened"
    target = np.floor(ent["returned"].to_numpy(float) * diligence * share).astype(int)
    stale = ent["updated_at"].map(lambda t: _local_day(t, tz) != today).to_numpy(bool)
    behind = at_work.to_numpy() & ((ent["checkins"].to_numpy() < target) | (
        stale & (ent["checkins"].to_numpy() != target)))  # fmt: skip
    todo = [i for i in np.flatnonzero(behind) if ent["credit_code"].iat[i] not in rows]
    if len(todo) > MAX_ROWS_PER_ROUND:
        todo = sorted(rng.choice(todo, MAX_ROWS_PER_ROUND, replace=False))
    for i in todo:
        code = ent["credit_code"].iat[i]
        rows[code] = {"credit_code": code, "checkins_today": int(target[i])}
    if not rows:
        return []
    columns = ["credit_code", "state", "planned_reopen_date", "planned_headcount",
               "returned_headcount", "capacity_pct", "pending_approvals", "checkins_today",
               "labour_gap"]  # fmt: skip
    frame = _object_frame(list(rows.values()), columns)
    return [_write(inbox, "enterprises", f"enterprises_{_stamp(now)}", frame)]


def write_shop_updates(settings, world, inbox, *, now, tz) -> list[Path]:
    """Shops report their day between 07:00 and 10:00 (a few later), each at its own minute
    (:func:`dashboard.demo.registers.shop_day_plan`, the demo builder's plan too): open for
    most, closed for some; now and then one closes down for good."""
    shops = world.shops
    if shops.empty:
        return []
    local = now.astimezone(tz)
    today = local.date()
    plan = shop_day_plan(settings.demo_seed, today, shops["licence_id"])
    reported = shops["open_on"].map(lambda d: d == today).to_numpy(bool)
    down = shops["closed_down"].fillna(False).to_numpy(bool)
    due = (plan["minute"].to_numpy() <= local.hour * 60 + local.minute) & ~reported & ~down
    frame = pd.DataFrame(
        {
            "licence_id": shops["licence_id"].to_numpy()[due],
            "date": today.isoformat(),
            "is_open": np.where(plan["is_open"].to_numpy()[due], "true", "false"),
            "closed_down": "",
        }
    )
    rng = _rng(settings, "shops", _stamp(now))
    if rng.random() < _per_round(settings, SHOP_CLOSINGS_PER_DAY, _wave(local.hour)):
        alive = shops["licence_id"].to_numpy()[~down]
        gone = alive[rng.integers(len(alive))]
        frame = frame[frame["licence_id"] != gone]
        extra = {"licence_id": gone, "date": today.isoformat(), "is_open": "false",
                 "closed_down": "true"}  # fmt: skip
        frame = pd.concat([frame, pd.DataFrame([extra])], ignore_index=True)
    if frame.empty:
        return []
    return [_write(inbox, "shops", f"shops_{_stamp(now)}", frame)]


def write_site_updates(settings, world, inbox, *, now, tz) -> list[Path]:
    """Sites approved to resume go back to work in the office day's waves; a suspended one
    now and then resumes."""
    sites = world.sites
    if sites.empty:
        return []
    local = now.astimezone(tz)
    rng = _rng(settings, "site-states", _stamp(now))
    rows = []
    for old, new, daily in SITE_DAILY:
        pool = sites[sites["state"] == old]
        lam = _per_round(settings, daily * len(pool), _wave(local.hour + local.minute / 60))
        k = min(len(pool), int(rng.poisson(lam))) if len(pool) else 0
        for i in rng.choice(len(pool), k, replace=False) if k else []:
            rows.append({"site_id": pool["site_id"].iat[i], "state": new})
    if not rows:
        return []
    return [_write(inbox, "sites", f"sites_{_stamp(now)}", pd.DataFrame(rows))]


_CHECKIN_STAMP = re.compile(r"site_checkins_(\d{8}T\d{6}Z)")


def write_site_checkins(settings, world, inbox, *, now, tz) -> list[Path]:
    """In the morning, crews arrive at sites; now and then one from a key region, sent with the
    isolation certificate not yet checked, and checked (a new row, certificate true) an hour or
    two after the file that brought it."""
    local = now.astimezone(tz)
    rng = _rng(settings, "sites", _stamp(now))
    rows = []
    if 6 <= local.hour < 11 and not world.sites.empty:
        per_round = CREWS_PER_MORNING * settings.simulator_interval_s / (5 * 3600)
        n_crews = int(rng.poisson(per_round))
        key = rng.random() < KEY_ARRIVALS_PER_MORNING * settings.simulator_interval_s / (5 * 3600)
        if n_crews or key:
            sites = list(rng.choice(world.sites["site_id"].to_numpy(), size=n_crews + key))
            sizes = np.array([*rng.integers(1, 6, size=n_crews), *([1] if key else [])])
            # The same worker generator as the demo district, everyone arriving today.
            crew = build_workers(sites, sizes, local.date(), rng, key_recent=int(key),
                                 key_unchecked=int(key))  # fmt: skip
            crew["arrived_on"] = local.date().isoformat()
            crew["from_key_region"] = np.where(crew["from_key_region"], "true", "false")
            crew["certificate_checked"] = ""
            rows.append(crew)
    # Certificates of earlier key-region arrivals, checked an hour or two after they came.
    sent = world.unchecked
    if not sent.empty:
        lo, hi = CERTIFICATE_CHECK_MINUTES
        delay = lo + (hi - lo) * _hash_u(settings, "check", dt.date(2020, 1, 1), sent["id_number"])
        when = [
            dt.datetime.strptime(m.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
            if (m := _CHECKIN_STAMP.search(f)) else None
            for f in sent["filename"]
        ]  # fmt: skip
        due = [w is not None and now >= w + dt.timedelta(minutes=float(d))
               for w, d in zip(when, delay, strict=True)]  # fmt: skip
        checked = sent[np.array(due, dtype=bool)]
        if not checked.empty:
            rows.append(
                pd.DataFrame(
                    {
                        "site_id": checked["site_id"],
                        "id_number": checked["id_number"],
                        "name": checked["name"],
                        "home_province": checked["home_province"],
                        "arrived_on": checked["arrived_on"].map(lambda d: d.isoformat()),
                        "from_key_region": "true",
                        "certificate_checked": "true",
                    }
                )
            )
    if not rows:
        return []
    columns = ["site_id", "id_number", "name", "home_province", "arrived_on",
               "from_key_region", "certificate_checked"]  # fmt: skip
    frame = pd.concat([r[columns] for r in rows], ignore_index=True)
    return [_write(inbox, "site_checkins", f"site_checkins_{_stamp(now)}", frame)]


# --------------------------------------------------------------------------- overview (issue 5)


def write_epidemic(settings, world, inbox, *, now, tz) -> list[Path]:
    """Once a day, from 08:00, the figures published for today, continuing the last ones."""
    local = now.astimezone(tz)
    today = local.date()
    ep = world.epidemic
    if local.hour < 8 or ep.empty or ep["date"].max() >= today:
        return []
    name = f"epidemic_{today:%Y%m%d}"
    if name in _pending(inbox, "epidemic"):
        return []
    rng = _rng(settings, "epidemic", today.isoformat())
    rows = []
    for level, _, decline, _, discharge in overview.EPIDEMIC:
        hist = ep[ep["level"] == level]
        if hist.empty:
            continue
        mean = float(hist["new_cases"].tail(7).mean()) * decline
        new, current = overview.epidemic_step(
            int(hist["current_cases"].iat[-1]), mean, discharge, rng
        )
        rows.append({"date": today.isoformat(), "level": level, "new_cases": new,
                     "current_cases": current})  # fmt: skip
    return [_write(inbox, "epidemic", name, pd.DataFrame(rows))] if rows else []


def write_home_observation(settings, world, inbox, *, now, tz) -> list[Path]:
    """Once a day, from 08:00, each committee's people under home observation: most of
    yesterday's stay (their 14 days are not over), a few new arrivals join."""
    local = now.astimezone(tz)
    today = local.date()
    obs = world.home_observation
    if local.hour < 8 or obs.empty or obs["date"].max() >= today:
        return []
    name = f"home_observation_{today:%Y%m%d}"
    if name in _pending(inbox, "home_observation"):
        return []
    rng = _rng(settings, "home_observation", today.isoformat())
    prev = obs["people"].to_numpy(int)
    inflow = rng.poisson(max(prev.sum(), 1) * 0.02 / len(prev), len(prev))
    people = rng.binomial(prev, overview.HOME_OBSERVATION_DECLINE - 0.02) + inflow
    frame = pd.DataFrame(
        {"date": today.isoformat(), "committee_code": obs["committee_code"], "people": people}
    )
    return [_write(inbox, "home_observation", name, frame)]


def write_disinfection(settings, world, inbox, *, now, tz) -> list[Path]:
    """The day's tasks as soon as the day starts, then each ticked off at its own time between
    07:00 and 18:00; a few are missed (overdue from tomorrow)."""
    tasks = world.disinfection
    if tasks.empty:
        return []
    local = now.astimezone(tz)
    today = local.date()
    places = tasks.drop_duplicates("place_id", keep="last")
    todays = tasks[tasks["due_on"] == today]
    rows = []
    missing = places[~places["place_id"].isin(todays["place_id"])]
    for p in missing.itertuples(index=False):
        if overview.disinfection_due(p.place_id, p.place_kind, today):
            rows.append({"place_id": p.place_id, "due_on": today.isoformat(),
                         "place_name": p.place_name, "place_kind": p.place_kind,
                         "subdistrict_code": p.subdistrict_code, "done_at": ""})  # fmt: skip
    open_ = todays[todays["done_at"].isna()]
    if not open_.empty:
        u = _hash_u(settings, "disinfection", today, open_["place_id"])
        missed = _hash_u(settings, "disinfection-missed", today, open_["place_id"])
        minute = (7 * 60 + u * 11 * 60).astype(int)
        done = (minute <= local.hour * 60 + local.minute) & (missed >= DISINFECTION_MISSED)
        for p, m in zip(open_[done].itertuples(index=False), minute[done], strict=True):
            at = dt.datetime.combine(today, dt.time(), tzinfo=tz) + dt.timedelta(minutes=int(m))
            rows.append({"place_id": p.place_id, "due_on": today.isoformat(),
                         "place_name": p.place_name, "place_kind": p.place_kind,
                         "subdistrict_code": p.subdistrict_code,
                         "done_at": at.isoformat(timespec="minutes")})  # fmt: skip
    if not rows:
        return []
    return [_write(inbox, "disinfection", f"disinfection_{_stamp(now)}", pd.DataFrame(rows))]


def write_masks(settings, world, inbox, *, now, tz) -> list[Path]:
    """Today's reservations climb 08:00-20:00; yesterday's are delivered 09:00-18:00. Written
    when the hour's figures differ from what is stored."""
    masks, subs = world.masks, world.subdistricts
    if masks.empty or subs.empty:
        return []
    local = now.astimezone(tz)
    today = local.date()
    yesterday = today - dt.timedelta(days=1)
    h = local.hour  # hourly steps: a file at most once an hour
    booked = float(np.interp(h, [8, 20], [0, 1]))
    handed = float(np.interp(h, [9, 18], [0, 1]))
    rng = _rng(settings, "masks", today.isoformat())
    full = rng.poisson(np.maximum(subs["population"].fillna(0).to_numpy(float), 2000)
                       * overview.MASKS_PER_RESIDENT)  # fmt: skip
    prev = masks[masks["date"] == yesterday].set_index("subdistrict_code")["reserved"]
    stored = masks[masks["date"] == today].set_index("subdistrict_code")
    rows = []
    for code, total in zip(subs["code"], full, strict=True):
        reserved = int(total * booked)
        delivered = int(round(float(prev.get(code, 0)) * 0.98 * handed))
        if code in stored.index and (
            int(stored.at[code, "reserved"]), int(stored.at[code, "delivered"])
        ) == (reserved, delivered):
            continue
        rows.append({"date": today.isoformat(), "subdistrict_code": code,
                     "reserved": reserved, "delivered": delivered})  # fmt: skip
    if not rows:
        return []
    name = f"masks_{today:%Y%m%d}_{h:02d}"
    if name in _pending(inbox, "masks"):
        return []
    return [_write(inbox, "masks", name, pd.DataFrame(rows))]


def write_returnees(settings, world, inbox, *, now, tz) -> list[Path]:
    """Each building's returnees today climb as people badge in (08:00-10:30), towards the
    count a week ago grown at the building's own pace over the week before."""
    ret = world.returnees
    if ret.empty:
        return []
    local = now.astimezone(tz)
    today = local.date()
    slot = local.replace(minute=local.minute // 10 * 10, second=0, microsecond=0)
    share = overview.returnee_morning_share(slot)
    if share <= 0:
        return []
    rng = _rng(settings, "returnees", today.isoformat())
    rows = []
    for bid, hist in ret.groupby("building_id", sort=True):
        by_day = hist.set_index("date")["returnees"]
        week = by_day.get(today - dt.timedelta(days=7))
        before = by_day.get(today - dt.timedelta(days=14))
        last = hist[hist["date"] < today].tail(1)
        if last.empty:
            continue
        base = float(week if week is not None else last["returnees"].iat[0])
        growth = 1.03
        if week is not None and before:
            growth = float(np.clip((week / before) ** (1 / 7), 1.0, 1.25))
        full = base * growth**7 * rng.uniform(0.97, 1.03)
        count = int(full * share)
        if by_day.get(today) == count:
            continue
        b = last.iloc[0]
        rows.append({"date": today.isoformat(), "building_id": bid,
                     "building_name": b["building_name"],
                     "subdistrict_code": b["subdistrict_code"], "lon": b["lon"],
                     "lat": b["lat"], "returnees": count})  # fmt: skip
    if not rows:
        return []
    name = f"returnees_{_stamp(slot)}"
    if name in _pending(inbox, "returnees"):
        return []
    return [_write(inbox, "returnees", name, pd.DataFrame(rows), prj=True)]
