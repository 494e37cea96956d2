"""The demo simulator writes valid upstream files that the real ingestion path loads."""

from __future__ import annotations

import datetime as dt
import filecmp
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlalchemy import func, select

from dashboard.config import Settings
from dashboard.db import session_scope
from dashboard.demo import build_demo, write_demo
from dashboard.feeds.simulator import simulate_round
from dashboard.ingest import load_inbox
from dashboard.models import (
    IndicatorValue,
    Ping,
    QuarantinedRow,
    Station,
    StationBooking,
    StationFlow,
)

# A Tuesday, 09:20 in Shanghai: pings, flows, bookings, indicators, shops and site crews.
NOW = dt.datetime(2026, 11, 17, 9, 20, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(dt.UTC)


@pytest.fixture(scope="module")
def district():
    return build_demo(20200301)


@pytest.fixture
def world(sqlite_url, tmp_path, district) -> Settings:
    settings = Settings(database_url=sqlite_url, var_dir=tmp_path / "var")
    with session_scope(sqlite_url) as s:
        write_demo(district, session=s)
    return settings


def _load(settings):
    return load_inbox(settings.inbox, session_factory=lambda: session_scope(settings.database_url))


def test_sim001_a_round_loads_cleanly_through_the_ingestion_path(world):
    files = simulate_round(world, now=NOW)
    assert files >= 5
    assert (world.inbox / "pings").glob("*.csv.prj")
    reports = _load(world)
    assert reports and all(not r.already_loaded for r in reports)
    with session_scope(world.database_url) as s:
        quarantined = s.execute(
            select(QuarantinedRow.reason, func.count()).group_by(QuarantinedRow.reason)
        ).all()
        pings = s.scalar(select(func.count()).select_from(Ping))
        stations = s.scalar(select(func.count()).select_from(Station))
        flows = s.scalar(select(func.count()).select_from(StationFlow))
        bookings = s.scalar(select(func.count()).select_from(StationBooking))
        days = s.scalar(select(func.count(IndicatorValue.date.distinct())))
    assert quarantined == []
    assert pings == world.simulator_pings_per_round
    assert flows == stations * 24 * 28  # four weeks of hourly counts, back-filled
    assert bookings == 24  # the railway station's next 24 hours
    assert days == 14
    # Everything was moved out of the inbox once loaded.
    left = [p for p in world.inbox.glob("*/*.csv")]
    assert left == []


def test_sim002_next_round_writes_only_what_is_new(world):
    simulate_round(world, now=NOW)
    _load(world)
    later = NOW + dt.timedelta(seconds=world.simulator_interval_s)
    simulate_round(world, now=later)
    pending = sorted(p.parent.name for p in world.inbox.glob("*/*.csv"))
    # Same hour: no new flows, bookings or indicators; new pings (and maybe register updates).
    assert "pings" in pending
    assert not {"station_flows", "station_bookings", "indicators"} & set(pending)


def test_sim003_south_station_peaks_hold_about_forty_percent(world):
    simulate_round(world, now=NOW)
    _load(world)
    with session_scope(world.database_url) as s:
        code = s.scalar(select(Station.code).where(Station.kind == "railway"))
        rows = s.execute(
            select(StationFlow.hour_start, StationFlow.arrivals).where(
                StationFlow.station_code == code
            )
        ).all()
    flows = pd.DataFrame(rows, columns=["hour", "arrivals"])
    local = pd.to_datetime(flows["hour"], utc=True).dt.tz_convert("Asia/Shanghai")
    share = flows.loc[local.dt.hour.isin([9, 12]), "arrivals"].sum() / flows["arrivals"].sum()
    per_day = flows["arrivals"].sum() / 28
    assert 0.35 <= share <= 0.45
    assert 4500 <= per_day <= 5800


def test_sim004_same_moment_same_files(world, tmp_path):
    simulate_round(world, now=NOW)
    other = world.model_copy(update={"var_dir": tmp_path / "other"})
    simulate_round(other, now=NOW)
    names = sorted(p.relative_to(world.inbox) for p in world.inbox.rglob("*.csv"))
    assert names == sorted(p.relative_to(other.inbox) for p in other.inbox.rglob("*.csv"))
    for name in names:
        assert filecmp.cmp(world.inbox / name, other.inbox / name, shallow=False), name


def test_sim005_site_crews_arrive_in_the_morning_with_valid_ids(world):
    from dashboard.feeds.simulator import _read_world, write_site_checkins
    from dashboard.idcodes import is_valid_resident_id
    from dashboard.models import SiteWorker

    world = world.model_copy(update={"simulator_interval_s": 300})  # rounds 5 minutes apart
    with session_scope(world.database_url) as s:
        state = _read_world(s)
    tz = ZoneInfo("Asia/Shanghai")
    written = []
    for minute in range(0, 60, 5):  # several rounds of one morning hour
        at = NOW.replace(minute=minute)
        written += write_site_checkins(world, state, world.inbox, now=at, tz=tz)
    evening = NOW.astimezone(tz).replace(hour=19).astimezone(dt.UTC)
    assert write_site_checkins(world, state, world.inbox, now=evening, tz=tz) == []
    assert written, "no crew arrived all morning"
    rows = pd.concat([pd.read_csv(p, dtype=str) for p in written])
    assert rows["id_number"].map(is_valid_resident_id).all()
    _load(world)
    with session_scope(world.database_url) as s:
        assert s.scalar(select(func.count()).select_from(QuarantinedRow)) == 0
        today = NOW.astimezone(tz).date()
        arrived = s.scalar(
            select(func.count()).select_from(SiteWorker).where(SiteWorker.arrived_on == today)
        )
    assert arrived >= rows["id_number"].nunique()


def test_sim006_indicators_make_a_plausible_risk_map(world):
    """Mostly blue, a few yellow, a handful of reds clustered where the cases are, moving daily."""
    import numpy as np

    from dashboard import risk
    from dashboard.models import Area, AreaLevel

    simulate_round(world, now=NOW)
    _load(world)
    model = risk.load_model()
    tz = ZoneInfo("Asia/Shanghai")
    with session_scope(world.database_url) as s:
        where = dict(
            (code, (lon, lat))
            for code, lon, lat in s.execute(
                select(Area.code, Area.label_lon, Area.label_lat).where(
                    Area.level == AreaLevel.COMPOUND
                )
            )
        )
    reds_by_day, blue_share = [], []
    for k in range(13, 0, -1):  # the first day has no history to carry forward; skip it
        day = NOW.astimezone(tz).date() - dt.timedelta(days=k)
        with session_scope(world.database_url) as s:
            scores = risk.score_day(day, session=s, model=model)
        bands = scores.band.tolist()
        blue_share.append(bands.count("blue") / len(bands))
        assert bands.count("yellow") >= 3, f"{day}: only {bands.count('yellow')} yellow"
        reds_by_day.append({c for c, b in zip(scores.codes, bands, strict=True) if b == "red"})
    assert min(blue_share) >= 0.9
    assert max(len(r) for r in reds_by_day) <= 40  # a handful, not a sea of red
    assert sum(1 for r in reds_by_day if r) >= 5
    assert len({frozenset(r) for r in reds_by_day}) > 3  # the map moves from day to day
    # Clustered: most reds have another red within 1.5 km.
    reds = sorted(set().union(*reds_by_day))
    xy = np.array([where[c] for c in reds]) * [94_000, 110_540]  # metres, roughly, at 31°N
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    assert (d.min(axis=1) < 1500).mean() >= 0.8
