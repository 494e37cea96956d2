"""Station forecast (dashboard.forecast) and the official calendar (dashboard.holidays).

Expected numbers are worked out by hand in the comments, never taken from the code under test.
"""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pandas as pd
import pytest

from dashboard import forecast as F
from dashboard import holidays
from dashboard.holidays import DayType

SH = "Asia/Shanghai"


def _hourly(start: str, days: int, value_at, tz: str = SH) -> pd.Series:
    index = pd.date_range(pd.Timestamp(start, tz=tz), periods=days * 24, freq="h")
    return pd.Series([float(value_at(t)) for t in index], index=index)


def _station(t: pd.Timestamp) -> float:
    """A station: workdays 100 an hour from 06 to 22 and 10 at night; days off a third of it."""
    day = 100.0 if 6 <= t.hour < 22 else 10.0
    return day / 3 if holidays.day_type(t.date()).is_off else day


# --------------------------------------------------------------------------- holidays


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2026-02-17", DayType.HOLIDAY),  # Spring Festival 2026, a Tuesday
        ("2026-02-14", DayType.ADJUSTED_WORKDAY),  # the Saturday worked before it
        ("2026-02-28", DayType.ADJUSTED_WORKDAY),  # and the Saturday after it
        ("2025-10-01", DayType.HOLIDAY),  # National Day 2025
        ("2025-09-28", DayType.ADJUSTED_WORKDAY),  # a Sunday worked for it
        ("2026-03-07", DayType.WEEKEND),  # an ordinary Saturday
        ("2026-03-09", DayType.WORKDAY),  # an ordinary Monday
    ],
)
def test_fc001_official_day_types(day, expected):
    assert holidays.day_type(dt.date.fromisoformat(day)) is expected


def test_fc002_uncovered_year_falls_back_loudly(caplog):
    year = holidays.covered_years().stop  # the first year the package does not know
    holidays._warn_uncovered.cache_clear()
    holidays.day_type.cache_clear()
    with caplog.at_level(logging.WARNING, logger="dashboard.holidays"):
        assert holidays.day_type(dt.date(year, 1, 1)) is DayType.HOLIDAY  # fixed-date holiday
        assert holidays.day_type(dt.date(year, 10, 2)) is DayType.HOLIDAY
        first_saturday = next(
            dt.date(year, 3, d) for d in range(1, 8) if dt.date(year, 3, d).weekday() == 5
        )
        assert holidays.day_type(first_saturday) is DayType.WEEKEND
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # once per year, not once per day
    assert str(year) in warnings[0].getMessage() and "upgrade" in warnings[0].getMessage()


# --------------------------------------------------------------------------- input


def test_fc003_half_hourly_summed_and_gaps_stay_missing():
    index = pd.date_range(pd.Timestamp("2026-03-02 00:00", tz=SH), periods=8, freq="30min")
    s = pd.Series([1, 2, 3, 4, 5, 6, 7, 8], index=index, dtype=float)
    s = s.drop(index[5])  # 02:30 is missing: the 02:00 hour is unknown, not 5
    s = s.drop(index[[6, 7]])  # 03:00 and 03:30: no row at all; then 04:00 arrives
    s[pd.Timestamp("2026-03-02 04:00", tz=SH)] = 9.0
    s[pd.Timestamp("2026-03-02 04:30", tz=SH)] = 10.0
    hourly = F.to_hourly(s)
    assert list(hourly.index.tz_convert(SH).hour) == [0, 1, 2, 3, 4]
    # 00:00 = 1 + 2, 01:00 = 3 + 4, 02:00 and 03:00 missing, 04:00 = 9 + 10
    assert hourly.iloc[[0, 1, 4]].tolist() == [3.0, 7.0, 19.0]
    assert hourly.iloc[[2, 3]].isna().all()


def test_fc004_naive_times_refused():
    s = pd.Series([1.0, 2.0], index=pd.date_range("2026-03-02", periods=2, freq="h"))
    with pytest.raises(F.ForecastError, match="time-zone-aware"):
        F.to_hourly(s)


# --------------------------------------------------------------------------- the model


def test_fc005_too_short_says_how_many_hours():
    s = _hourly("2026-03-02", 10, _station)  # 240 hours; 14 days = 336 needed
    with pytest.raises(F.SeriesTooShort) as err:
        F.fit_forecast(s, tz=SH)
    assert str(err.value) == (
        "the series has 240 observed hours of history; the forecast needs at least 336 (14 days)"
    )


def test_fc006_holiday_and_adjusted_workday_from_the_calendar():
    # Eight weeks of a regular station up to National Day 2025: no holiday in the training
    # window, yet the forecast must treat Wed 1 October as a day off (a third of a workday)
    # and Sun 28 September, a working day, as a workday.
    s = _hourly("2025-08-01", 58, _station)
    sunday = F.fit_forecast(s[s.index < pd.Timestamp("2025-09-28", tz=SH)], tz=SH)
    assert sunday.frame.index[0] == pd.Timestamp("2025-09-28", tz=SH)
    at_ten = sunday.frame["mean"].iloc[10]
    assert at_ten == pytest.approx(100, rel=0.02)  # a workday, not a Sunday's 33
    s2 = _hourly("2025-08-01", 62, _station)
    holiday = F.fit_forecast(s2[s2.index < pd.Timestamp("2025-10-01", tz=SH)], tz=SH)
    assert holiday.frame["mean"].iloc[10] == pytest.approx(100 / 3, rel=0.05)


def test_fc007_series_with_gaps_forecasts_every_hour():
    s = _hourly("2026-03-02", 35, _station)
    s = s.drop(s.index[-6:])  # the last six hours before the origin did not arrive
    s = s.drop(s.index[24 * 20 : 24 * 21])  # nor a whole day three weeks ago
    fc = F.fit_forecast(s, origin=pd.Timestamp("2026-04-06", tz=SH), tz=SH)
    f = fc.frame
    assert len(f) == 24 and f.notna().all().all()
    assert (f["lo95"] <= f["lo80"]).all() and (f["lo80"] <= f["mean"]).all()
    assert (f["mean"] <= f["hi80"]).all() and (f["hi80"] <= f["hi95"]).all()
    # 6 April 2026 is Qingming, a holiday Monday: a day off's 33 at 10:00, not a workday's 100
    assert f["mean"].iloc[10] == pytest.approx(100 / 3, rel=0.05)


def _booked_station(seed: int = 7):
    """Arrivals = 1.1 x bookings, and bookings jump from day to day in a way history can't tell."""
    rng = np.random.default_rng(seed)
    index = pd.date_range(pd.Timestamp("2026-03-02", tz=SH), periods=35 * 24, freq="h")
    day_factor = np.repeat(rng.choice([0.5, 1.0, 2.0], size=35), 24)
    shape = np.array([20.0 if 6 <= t.hour < 22 else 2.0 for t in index])
    booked = pd.Series(np.round(shape * day_factor * 10), index=index)
    return (booked * 1.1), booked


def test_fc008_bookings_lead_the_forecast_when_present():
    arrivals, booked = _booked_station()
    origin = arrivals.index[-24]
    history = arrivals[arrivals.index < origin]
    actual = arrivals[arrivals.index >= origin].to_numpy()
    with_b = F.fit_forecast(history, origin=origin, bookings=booked, tz=SH)
    without = F.fit_forecast(history, origin=origin, tz=SH)
    assert with_b.used_bookings and not without.used_bookings
    err_with = np.abs(with_b.frame["mean"].to_numpy() - actual).mean()
    err_without = np.abs(without.frame["mean"].to_numpy() - actual).mean()
    # The 10:00 hour of the last day is 1.1 x its bookings; the bookings say which day it is.
    assert with_b.frame["mean"].iloc[10] == pytest.approx(actual[10], rel=0.05)
    assert err_with < 0.2 * err_without


def test_fc009_bookings_only_ahead_are_ignored_with_a_note():
    arrivals, booked = _booked_station()
    origin = arrivals.index[-24]
    ahead_only = booked[booked.index >= origin]
    fc = F.fit_forecast(
        arrivals[arrivals.index < origin], origin=origin, bookings=ahead_only, tz=SH
    )
    assert not fc.used_bookings
    assert fc.notes == [
        "bookings ignored: 0 past hours have bookings (need 168) and 24 of the 24 hours ahead "
        "(need all)"
    ]


# --------------------------------------------------------------------------- peaks, staffing


# 24 hours summing to 1,000: 09-10 holds 210 and 12-13 holds 200, so the two one-hour windows
# hold 410 / 1000 = 41%. Two-hour windows: 09-11 = 210 + 70 = 280, 12-14 = 200 + 61 = 261,
# 11-13 = 60 + 200 = 260, 08-10 = 50 + 210 = 260 (overlaps 09-11); the best pair is 09-11 and
# 12-14: 541 / 1000 = 54.1%.
DAY = [5, 5, 5, 5, 5, 10, 20, 40, 50, 210, 70, 60, 200, 61, 49, 45, 45, 30, 30, 20, 15, 10, 5, 5]


def test_fc010_peak_windows_arithmetic():
    assert sum(DAY) == 1000
    one = F.peak_windows(DAY)
    assert one.starts == (9, 12) and one.share == pytest.approx(0.41)
    two = F.peak_windows(DAY, width=2)
    assert two.starts == (9, 12) and two.share == pytest.approx(0.541)
    assert two.labels() == ["09:00–11:00", "12:00–14:00"]
    single = F.peak_windows(DAY, count=1)
    assert single.starts == (9,) and single.share == pytest.approx(0.21)
    flat = F.peak_windows([1] * 24)  # ties go to the earliest hours
    assert flat.starts == (0, 1)


def test_fc011_peak_sentence_in_both_languages():
    w = F.peak_windows(DAY)
    assert F.peak_sentence(w, "en") == "09:00–10:00 and 12:00–13:00 hold 41% of the day's arrivals"
    assert F.peak_sentence(w, "zh") == "09:00–10:00和12:00–13:00占全天到站客流的41%"
    one = F.peak_windows(DAY, count=1)
    assert F.peak_sentence(one, "en") == "09:00–10:00 holds 21% of the day's arrivals"


@pytest.mark.parametrize(
    ("upper", "throughput", "minimum", "expected"),
    [
        (400.0, 100, 1, 4),  # an exact multiple needs no fifth checker
        (400.5, 100, 1, 5),
        (0.1 + 0.2, 0.3, 0, 1),  # 1.0000000000000002: floating noise, still one
        (30.0, 100, 2, 2),  # quiet hour: the minimum
        (0.0, 100, 0, 0),
        (1050.0, 200, 2, 6),  # 5.25 -> 6
    ],
)
def test_fc012_checkers_rounding(upper, throughput, minimum, expected):
    assert F.checkers_needed(upper, throughput=throughput, minimum=minimum) == expected


def test_fc013_staffing_adds_over_the_roster_in_the_peaks():
    index = pd.date_range(pd.Timestamp("2026-03-10", tz=SH), periods=24, freq="h").tz_convert("UTC")
    hi80 = np.array(DAY, dtype=float) * 5  # 09:00 -> 1,050; 12:00 -> 1,000; 10:00 -> 350
    frame = pd.DataFrame({"hi80": hi80}, index=index)
    plan = F.staffing(frame, throughput=200, minimum=2, roster=4, tz=SH)
    # 09:00: ceil(1050/200) = 6 -> 2 extra; 12:00: 1000/200 = 5 -> 1 extra; 10:00: 2 -> none
    assert plan["needed"].tolist()[9:13] == [6, 2, 2, 5]
    assert plan["extra"].tolist()[9:13] == [2, 0, 0, 1]
    assert plan["needed"].iloc[0] == 2  # 25 / 200 -> 1, but the minimum is 2
    assert F.extra_in_windows(plan, F.peak_windows(DAY)) == 3


def test_fc014_intervals_are_the_residual_quantiles_widened_by_the_calibrated_factors():
    # A noisy station (Poisson around the workday/day-off pattern), six weeks of history.
    rng = np.random.default_rng(7)
    series = _hourly("2026-03-02", 42, _station).map(lambda v: float(rng.poisson(v)))
    origin = pd.Timestamp("2026-04-13", tz=SH)
    plain = F.fit_forecast(
        series,
        origin=origin,
        params=F.ModelParams(interval_scale80=1.0, interval_scale95=1.0),
    ).frame
    calibrated = F.fit_forecast(series, origin=origin).frame
    assert np.allclose(calibrated["mean"], plain["mean"])
    busy = plain["mean"] > 50  # daytime hours, where the log-space offsets are not clipped at 0
    for level, factor in ((80, 1.3), (95, 1.5)):
        for side in ("lo", "hi"):
            offset = np.log1p(plain[f"{side}{level}"]) - np.log1p(plain["mean"])
            widened = np.log1p(calibrated[f"{side}{level}"]) - np.log1p(calibrated["mean"])
            assert np.allclose(widened[busy], factor * offset[busy])
    f = calibrated
    assert (f["lo95"] <= f["lo80"]).all() and (f["lo80"] <= f["mean"]).all()
    assert (f["mean"] <= f["hi80"]).all() and (f["hi80"] <= f["hi95"]).all()
