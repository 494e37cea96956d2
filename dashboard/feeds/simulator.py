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
import zlib
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.config import Settings
from dashboard.db import session_scope
from dashboard.demo.registers import build_workers
from dashboard.indicators import INDICATOR_KEYS
from dashboard.models import (
    Area,
    AreaLevel,
    ConstructionSite,
    Enterprise,
    IndicatorValue,
    Shop,
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
            Enterprise.geom,
        )
    ).all()
    enterprises = pd.DataFrame(
        [(c, st, p or 0, r or 0, g.x if g else None, g.y if g else None) for c, st, p, r, g in ent],
        columns=["credit_code", "state", "planned", "returned", "lon", "lat"],
    )
    shops = pd.DataFrame(
        session.execute(select(Shop.licence_id, Shop.is_open)).all(),
        columns=["licence_id", "is_open"],
    )
    sites = pd.DataFrame(
        session.execute(select(ConstructionSite.site_id)).all(), columns=["site_id"]
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
    )


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
        *write_site_checkins(settings, world, inbox, now=now, tz=tz),
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
    lon, lat = np.concatenate(lons), np.concatenate(lats)
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


def _expected_arrivals(settings, code: str, kind: str, hour_start: dt.datetime, tz) -> int:
    """Arrivals at a station in one hour: a daily total shaped by the hourly profile, with noise.

    Seeded by (station, hour), so an hour always gets the same count whenever it is written.
    """
    local = hour_start.astimezone(tz)
    rng = _rng(settings, "flow", code, _stamp(hour_start))
    weekend = local.weekday() >= 5
    if kind == "railway":
        daily = 5000 * (1.15 if local.weekday() in (4, 6) else 1.0)
        mean = daily * SOUTH_STATION_PROFILE[local.hour]
    else:
        base = 8000 + zlib.crc32(code.encode()) % 30000
        daily = base * (0.55 if weekend else 1.0)
        mean = daily * METRO_PROFILE[local.hour]
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


def write_station_bookings(settings, world, inbox, *, now, tz) -> list[Path]:
    """Once an hour, the railway ticketing system's bookings for each of the next 24 hours."""
    as_of = now.replace(minute=0, second=0, microsecond=0)
    if world.last_booking is not None and world.last_booking >= as_of:
        return []
    name = f"station_bookings_{_stamp(as_of)}"
    if name in _pending(inbox, "station_bookings"):
        return []
    rows = []
    railway = world.stations[world.stations["kind"] == "railway"]
    for code in railway["code"]:
        rng = _rng(settings, "booking", code, _stamp(as_of))
        for k in range(1, 25):
            hour = as_of + dt.timedelta(hours=k)
            expected = _expected_arrivals(settings, code, "railway", hour, tz)
            # Most travellers hold a ticket in advance; the share booked grows as the hour nears.
            share = 0.92 - 0.012 * k
            rows.append(
                {
                    "station_code": code,
                    "as_of": as_of.astimezone(tz).isoformat(timespec="minutes"),
                    "hour_start": hour.astimezone(tz).isoformat(timespec="minutes"),
                    "booked": int(rng.binomial(expected, share)) if expected else 0,
                }
            )
    if not rows:
        return []
    return [_write(inbox, "station_bookings", name, pd.DataFrame(rows))]


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


def write_enterprise_updates(settings, world, inbox, *, now, tz) -> list[Path]:
    """During working hours, a few enterprises move one step along the reopening path."""
    local = now.astimezone(tz)
    if not 8 <= local.hour < 20 or world.enterprises.empty:
        return []
    rng = _rng(settings, "enterprises", _stamp(now))
    nxt = {"not_registered": "registered", "registered": "approved", "approved": "reopened"}
    ent = world.enterprises
    movable = ent[ent["state"].isin(nxt)]
    rows = []
    if not movable.empty:
        pick = movable.sample(n=min(len(movable), int(rng.integers(1, 6))), random_state=rng)
        for r in pick.itertuples():
            new_state = nxt[r.state]
            returned = r.planned if new_state == "reopened" else r.returned
            if new_state == "reopened":
                returned = int(round(r.planned * rng.uniform(0.5, 0.8)))
            rows.append({"credit_code": r.credit_code, "state": new_state,
                         "returned_headcount": returned})
    reopened = ent[(ent["state"] == "reopened") & (ent["returned"] < ent["planned"])]
    if not reopened.empty:
        pick = reopened.sample(n=min(len(reopened), 5), random_state=rng)
        for r in pick.itertuples():
            returned = min(r.planned, r.returned + int(rng.integers(1, 4)))
            rows.append({"credit_code": r.credit_code, "state": "reopened",
                         "returned_headcount": returned})
    if not rows:
        return []
    frame = pd.DataFrame(rows).drop_duplicates("credit_code", keep="last")
    return [_write(inbox, "enterprises", f"enterprises_{_stamp(now)}", frame)]


def write_shop_updates(settings, world, inbox, *, now, tz) -> list[Path]:
    """Shops open through the morning and close in the evening."""
    if world.shops.empty:
        return []
    local = now.astimezone(tz)
    h = local.hour + local.minute / 60
    target_open = float(np.interp(h, [0, 7, 10, 20, 22, 24], [0.05, 0.1, 0.85, 0.85, 0.15, 0.05]))
    rng = _rng(settings, "shops", _stamp(now))
    shops = world.shops
    open_now = shops["is_open"].astype(bool)
    gap = target_open - open_now.mean()
    if abs(gap) < 0.01:
        return []
    pool = shops[~open_now] if gap > 0 else shops[open_now]
    k = min(len(pool), max(1, int(abs(gap) * len(shops) * 0.25)))
    if k == 0:
        return []
    pick = pool.sample(n=k, random_state=rng)
    frame = pd.DataFrame({"licence_id": pick["licence_id"], "is_open": gap > 0})
    return [_write(inbox, "shops", f"shops_{_stamp(now)}", frame)]


def write_site_checkins(settings, world, inbox, *, now, tz) -> list[Path]:
    """In the morning, crews arrive at sites; a few come from a key region."""
    local = now.astimezone(tz)
    if not 6 <= local.hour < 11 or world.sites.empty:
        return []
    rng = _rng(settings, "sites", _stamp(now))
    if rng.random() > 0.4:
        return []
    sites = rng.choice(world.sites["site_id"].to_numpy(), size=int(rng.integers(1, 3)))
    sizes = rng.integers(1, 4, size=len(sites))
    # The same worker generator as the demo district, everyone arriving today.
    crew = build_workers(list(sites), sizes, local.date(), rng)
    crew["arrived_on"] = local.date().isoformat()
    recent = rng.random(len(crew)) < 0.5  # half the key-region arrivals are checked at once
    crew["certificate_checked"] = [
        bool(r) if key else "" for r, key in zip(recent, crew["from_key_region"], strict=True)
    ]
    rows = crew[["site_id", "id_number", "name", "home_province", "arrived_on",
                 "from_key_region", "certificate_checked"]]
    return [_write(inbox, "site_checkins", f"site_checkins_{_stamp(now)}", rows)]
