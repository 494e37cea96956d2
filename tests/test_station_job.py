"""Station flow data and the hourly forecast job, on SQLite and PostgreSQL.

The stations are hand-made: a flow that repeats one known day profile (so the forecast's mean is
that profile, checkable by hand), gaps, a station too short to forecast, and booking snapshots
at known leads.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from dashboard import jobs, versions
from dashboard.config import Settings
from dashboard.db import session_scope
from dashboard.models import Station, StationBooking, StationFlow, StationForecast
from dashboard.station_data import load_history

SH = ZoneInfo("Asia/Shanghai")
H = dt.timedelta(hours=1)
# Friday 20 November 2026, 10:05 in Shanghai; the 21 days before hold no holiday or adjusted
# working day (National Day ended 8 October).
NOW = dt.datetime(2026, 11, 20, 10, 5, tzinfo=SH).astimezone(dt.UTC)
THIS_HOUR = dt.datetime(2026, 11, 20, 10, 0, tzinfo=SH).astimezone(dt.UTC)


def profile(local_hour: int) -> int:
    """The hand-made station's arrivals in every hour: 100 + 10 x the local hour."""
    return 100 + 10 * local_hour


def _station(session, code: str, kind: str = "railway") -> None:
    session.add(Station(code=code, name=code, kind=kind))
    session.flush()


def _flows(session, code: str, hours: list[dt.datetime]) -> None:
    session.add_all(
        StationFlow(station_code=code, hour_start=h, arrivals=profile(h.astimezone(SH).hour))
        for h in hours
    )


def _hours(days: int) -> list[dt.datetime]:
    return [THIS_HOUR - k * H for k in range(days * 24, 0, -1)]


@pytest.fixture
def settings(db_url, tmp_path) -> Settings:
    return Settings(database_url=db_url, var_dir=tmp_path / "var", demo=False)


# --------------------------------------------------------------------------- load_history


def test_stn001_gaps_are_absent_not_zero_and_a_real_zero_stays(session):
    _station(session, "S")
    kept = [THIS_HOUR - k * H for k in (10, 9, 7, 6, 3)]  # 8, 5, 4, 2 and 1 hours ago missing
    _flows(session, "S", kept)
    session.add(StationFlow(station_code="S", hour_start=THIS_HOUR - 2 * H, arrivals=0))
    session.add(StationFlow(station_code="S", hour_start=THIS_HOUR, arrivals=999))  # not yet
    session.add(StationFlow(station_code="S", hour_start=THIS_HOUR - 30 * H, arrivals=5))  # too old
    session.commit()
    actuals, bookings = load_history(session, "S", until=THIS_HOUR, days=1)
    assert bookings is None
    assert list(actuals.index) == sorted([*kept, THIS_HOUR - 2 * H])
    assert str(actuals.index.tz) == "UTC"
    # 10 h before 10:00 in Shanghai is 00:00 local: profile 100; 2 h before is the stored 0.
    assert actuals[THIS_HOUR - 10 * H] == 100.0
    assert actuals[THIS_HOUR - 2 * H] == 0.0
    assert actuals.isna().sum() == 0


def test_stn002_bookings_are_the_snapshot_taken_at_least_a_day_ahead(session):
    _station(session, "S")
    past, ahead, far = THIS_HOUR - 5 * H, THIS_HOUR + 23 * H, THIS_HOUR + 24 * H
    snapshots = [
        # (as_of, hour_start, booked)
        (past - 30 * H, past, 10),
        (past - 24 * H, past, 20),  # the one: the latest at least 24 h before
        (past - 23 * H, past, 70),  # 23 h ahead: too late
        (past - 1 * H, past, 90),
        (ahead - 25 * H, ahead, 30),
        (ahead - 24 * H, ahead, 40),  # = THIS_HOUR - 1 h: known now
        (far - 24 * H, far, 50),  # 24 h after THIS_HOUR: outside the next 24 hours
    ]
    session.add_all(
        StationBooking(station_code="S", as_of=a, hour_start=h, booked=n) for a, h, n in snapshots
    )
    session.commit()
    _, bookings = load_history(session, "S", until=THIS_HOUR, days=1)
    assert bookings is not None
    assert bookings.to_dict() == {past: 20.0, ahead: 40.0}


def test_stn003_bookings_none_when_no_snapshot_is_old_enough(session):
    _station(session, "S")
    session.add(
        StationBooking(
            station_code="S", as_of=THIS_HOUR - 2 * H, hour_start=THIS_HOUR + H, booked=5
        )
    )
    session.commit()
    assert load_history(session, "S", until=THIS_HOUR, days=1)[1] is None


# --------------------------------------------------------------------------- the job


def _two_stations(settings: Settings) -> None:
    with session_scope(settings.database_url) as s:
        _station(s, "LONG")
        _station(s, "SHORT", "metro")
        _flows(s, "LONG", _hours(21))
        _flows(s, "SHORT", _hours(10))


def _forecasts(settings: Settings):
    with session_scope(settings.database_url) as s:
        return (
            s.execute(
                select(StationForecast).order_by(
                    StationForecast.station_code,
                    StationForecast.issued_at,
                    StationForecast.hour_start,
                )
            )
            .scalars()
            .all()
        )


def test_stn010_job_writes_24_hours_per_station_and_skips_a_short_one(settings):
    _two_stations(settings)
    run = jobs.forecast_stations_at(settings, NOW)
    assert run.written == {"LONG": 24}
    # 10 days = 240 observed hours; the forecast needs 14 days = 336.
    assert set(run.skipped) == {"SHORT"}
    assert "240 observed hours" in run.skipped["SHORT"]
    assert "336" in run.skipped["SHORT"]
    rows = _forecasts(settings)
    assert [r.hour_start for r in rows] == [THIS_HOUR + k * H for k in range(24)]
    assert {r.issued_at for r in rows} == {NOW}
    assert {r.station_code for r in rows} == {"LONG"}
    # Every day was the same profile, so the forecast is that profile: 10:00 -> 200, the
    # next day's 09:00 -> 190.
    by_hour = {r.hour_start.astimezone(SH).hour: r for r in rows}
    for hour, r in by_hour.items():
        assert r.mean == pytest.approx(profile(hour), rel=0.01)
        assert r.lo95 <= r.lo80 <= r.mean <= r.hi80 <= r.hi95
    assert by_hour[10].mean == pytest.approx(200, rel=0.01)
    assert by_hour[9].mean == pytest.approx(190, rel=0.01)
    with session_scope(settings.database_url) as s:
        assert versions.current(session=s)["forecasts"][0] == 1


def test_stn011_same_slot_twice_replaces_a_later_slot_adds_and_prune_drops_old(settings):
    _two_stations(settings)
    assert jobs.forecast_stations(settings, NOW) == 24
    assert jobs.forecast_stations(settings, NOW + dt.timedelta(seconds=20)) == 24  # same minute
    assert len(_forecasts(settings)) == 24
    later = NOW + H
    assert jobs.forecast_stations(settings, later) == 24
    rows = _forecasts(settings)
    assert len(rows) == 48
    assert {r.issued_at for r in rows} == {NOW, later}
    with session_scope(settings.database_url) as s:
        assert versions.current(session=s)["forecasts"][0] == 3
    # Eight days later the first issue is still kept (the wall compares a week back) ...
    jobs.prune_history(settings, NOW + dt.timedelta(days=8) - dt.timedelta(minutes=1))
    assert len(_forecasts(settings)) == 48
    # ... and a minute past eight days it goes, the later one stays.
    jobs.prune_history(settings, NOW + dt.timedelta(days=8, minutes=1))
    assert {r.issued_at for r in _forecasts(settings)} == {later}


def test_stn012_nothing_to_forecast_bumps_nothing_and_is_not_a_failure(settings):
    with session_scope(settings.database_url) as s:
        _station(s, "SHORT")
        _flows(s, "SHORT", _hours(3))
    result = jobs.run_job("forecast_stations", settings=settings, now=NOW)
    assert result is not None
    assert (result.status, result.rows) == ("ok", 0)
    with session_scope(settings.database_url) as s:
        assert "forecasts" not in versions.current(session=s)
        assert s.scalar(select(func.count()).select_from(StationForecast)) == 0


def test_stn013_runs_hourly_at_five_past_and_at_start_up_when_stale(settings):
    spec = jobs.JOBS["forecast_stations"]
    assert spec.expected_interval_s(settings) == 3600
    trigger = spec.trigger(settings)
    start = dt.datetime(2026, 11, 20, 10, 20, tzinfo=SH)
    # No forecast at all: a start-up run a minute after start.
    assert trigger.get_next_fire_time(None, start) == start + dt.timedelta(seconds=60)
    # Then hourly at :05 local.
    assert trigger.get_next_fire_time(start, start) == dt.datetime(2026, 11, 20, 11, 5, tzinfo=SH)
    _two_stations(settings)
    jobs.forecast_stations(settings, start - dt.timedelta(minutes=50))  # 50 minutes old
    assert trigger.get_next_fire_time(None, start) == dt.datetime(2026, 11, 20, 11, 5, tzinfo=SH)
    later = start + dt.timedelta(minutes=20)  # now 70 minutes old: stale
    assert trigger.get_next_fire_time(None, later) == later + dt.timedelta(seconds=60)
