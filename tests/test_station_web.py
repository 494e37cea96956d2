"""Station passenger flow on the web: dashboard.station_view on hand-made tables (SQLite and
PostgreSQL), the wall's station panel and the /station page's callbacks called as functions.

The tables, in Shanghai local time (UTC+8); NOW is 2026-03-10 10:30 local:

- issues of the railway station "RW" (every issue holds 24 hours from its origin, the hour it
  was made in, as the hourly job writes them at :05):

  | issue | made (local)    | mean                         |
  | ----- | --------------- | ---------------------------- |
  | I0    | 03-08 23:05     | 999 everywhere               |
  | I1    | 03-09 00:05     | 100, but 200 at 09:00        |  <- yesterday's midnight run
  | I2    | 03-09 01:05     | 777 everywhere               |  (after 01:00: not the midnight run)
  | Ia    | 03-09 23:05     | 300                          |
  | Ib    | 03-10 03:05     | 400                          |
  | Ic    | 03-10 05:00     | 500                          |  (made exactly as 05:00 started)
  | Id    | 03-10 10:05     | 100, 1000 at 09:00, 800 at 12:00, 600 at 18:00 (the latest)
  | Ie    | 03-10 10:45     | 5000                         |  (after NOW: not yet made)

  hi80 = 1.2 x mean, lo80 = 0.8 x, hi95 = 1.4 x, lo95 = 0.6 x.
- arrivals: yesterday (03-09) 110 an hour, but 150 at 09:00, 0 at 03:00 and none at 05:00;
  today 10 x hour + 1 for 00:00-08:00, none yet at 09:00.

Hand-checked:

- the past hours' forecasts: 00-03 from Ia (300: Ib was made after 03:00 started), 04 from Ib
  (400), 05-09 from Ic (500: made at 05:00, "at or before the start");
- yesterday's accuracy against I1: 23 hours (05:00 has no count); errors 50 at 09:00, 100 at
  03:00, 10 in the other 21 hours: MAE = 360 / 23 = 15.65; MAPE over the 22 hours with
  arrivals = (50/150 + 21 x 10/110) / 22 = 10.19%;
- Id's peak windows: 09:00 (1000) and 12:00 (800) of 21 x 100 + 1000 + 800 + 600 = 4500: 40%;
  each 22% and 18%;
- staffing (throughput 200, at least 2, roster 4): 09:00 hi80 1200 -> 6 checkers, 12:00 hi80
  960 -> 5; 2 + 1 = 3 more than the roster.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from dash import no_update
from shapely import Point
from sqlalchemy.orm import Session
from test_web_support import use_as_app_database

from callbacks import station as station_callbacks
from callbacks import wall
from dashboard import forecast, station_view, versions
from dashboard.config import get_settings
from dashboard.db import session_scope
from dashboard.models import Station, StationFlow, StationForecast

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 3, 10, 10, 30, tzinfo=TZ).astimezone(dt.UTC)


def _local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=TZ).astimezone(dt.UTC)


def _issue(code: str, made: dt.datetime, mean_at) -> list[StationForecast]:
    origin = made.replace(minute=0)
    rows = []
    for k in range(24):
        hour = origin + dt.timedelta(hours=k)
        m = float(mean_at(hour.astimezone(TZ)))
        rows.append(
            StationForecast(
                station_code=code,
                issued_at=made,
                hour_start=hour,
                model="ridge-calendar-v1",
                mean=m,
                lo80=0.8 * m,
                hi80=1.2 * m,
                lo95=0.6 * m,
                hi95=1.4 * m,
            )
        )
    return rows


def _latest_mean(local: dt.datetime) -> float:
    return {9: 1000, 12: 800, 18: 600}.get(local.hour, 100)


def write_station_tables(session: Session) -> None:
    """The module docstring's tables. Does not commit."""
    session.add_all(
        [
            Station(
                code="RW",
                name="上海南站",
                name_en="Shanghai South Railway Station",
                kind="railway",
                geom=Point(121.4254, 31.1565),
            ),
            Station(code="MX", name="徐家汇", name_en="Xujiahui", kind="metro", geom=None),
            Station(code="MZ", name="无数据站", name_en="Empty", kind="metro", geom=None),
        ]
    )
    session.flush()
    const = lambda v: lambda _local: v  # noqa: E731
    issues = [
        (_local(8, 23, 5), const(999)),
        (_local(9, 0, 5), lambda loc: 200 if loc.hour == 9 else 100),
        (_local(9, 1, 5), const(777)),
        (_local(9, 23, 5), const(300)),
        (_local(10, 3, 5), const(400)),
        (_local(10, 5, 0), const(500)),
        (_local(10, 10, 5), _latest_mean),
        (_local(10, 10, 45), const(5000)),
    ]
    for made, mean_at in issues:
        session.add_all(_issue("RW", made, mean_at))
    for hour in range(24):
        if hour == 5:
            continue
        arrivals = 150 if hour == 9 else 0 if hour == 3 else 110
        session.add(StationFlow(station_code="RW", hour_start=_local(9, hour), arrivals=arrivals))
    for hour in range(9):
        session.add(
            StationFlow(station_code="RW", hour_start=_local(10, hour), arrivals=10 * hour + 1)
        )
    session.add(StationFlow(station_code="MX", hour_start=_local(10, 8), arrivals=5))
    session.flush()


def _view(session: Session) -> station_view.StationView:
    view = station_view.station_view(
        "RW", session=session, now=NOW, tz=TZ, throughput=200, minimum=2, roster=4
    )
    assert view is not None
    return view


# --------------------------------------------------------------------------- station_view


def test_station001_stations_with_history_railway_first(session):
    write_station_tables(session)
    session.commit()
    stations = station_view.stations_with_history(session=session)
    assert [s.code for s in stations] == ["RW", "MX"]  # MZ has no arrivals
    assert station_view.wall_station(session=session).code == "RW"
    # The wall_station setting picks another station with history; one without falls back.
    assert station_view.wall_station(session=session, code="MX").code == "MX"
    assert station_view.wall_station(session=session, code="MZ").code == "RW"
    assert stations[0].display_name("en") == "Shanghai South Railway Station"
    assert stations[0].display_name("zh") == "上海南站"


def test_station002_latest_issue_is_the_forecast(session):
    write_station_tables(session)
    session.commit()
    view = _view(session)
    assert view.issued_at == _local(10, 10, 5)  # Ie (10:45) is after NOW
    assert len(view.forecast) == 24
    assert view.forecast.index[0] == pd.Timestamp(_local(10, 10))
    assert view.forecast.index[-1] == pd.Timestamp(_local(11, 9))
    assert view.forecast["mean"].sum() == 4500
    assert view.model == "ridge-calendar-v1"
    assert view.flows_until == _local(10, 9)  # the newest count is 08:00-09:00


def test_station003_past_hour_uses_the_latest_issue_made_by_its_start(session):
    write_station_tables(session)
    session.commit()
    past = _view(session).past
    assert list(past.index.tz_convert(TZ).hour) == list(range(10))  # 10:00 is under way
    assert list(past["forecast"]) == [300, 300, 300, 300, 400, 500, 500, 500, 500, 500]
    issued = [pd.Timestamp(v).tz_convert(TZ).strftime("%d %H:%M") for v in past["issued_at"]]
    assert issued[:4] == ["09 23:05"] * 4 and issued[4] == "10 03:05"
    assert issued[5:] == ["10 05:00"] * 5
    actual = list(past["actual"])
    assert actual[:9] == [10 * h + 1 for h in range(9)]
    assert actual[9] != actual[9]  # NaN: 09:00 not counted yet, not zero


def test_station004_yesterdays_accuracy_against_the_midnight_run(session):
    write_station_tables(session)
    session.commit()
    acc = _view(session).accuracy
    assert acc.day == dt.date(2026, 3, 9)
    assert acc.issued_at == _local(9, 0, 5)  # I1; not I2 (01:05), not I0 (older)
    assert acc.hours == 23
    assert acc.mae == pytest.approx(360 / 23)
    assert acc.mape == pytest.approx((50 / 150 + 21 * 10 / 110) / 22)
    assert station_view.accuracy_sentence(acc, "zh") == (
        "昨日准确度 MAPE 10% · MAE 16 人/时（23 小时）"
    )
    assert station_view.accuracy_sentence(acc, "en") == (
        "Yesterday: MAPE 10% · MAE 16 an hour (23 h)"
    )


def test_station005_peaks_and_staffing_sentence(session):
    write_station_tables(session)
    session.commit()
    view = _view(session)
    assert view.peaks.starts == (9, 12)
    assert view.peaks.share == pytest.approx(0.4)
    assert forecast.peak_sentence(view.peaks, "zh") == "09:00–10:00和12:00–13:00占全天到站客流的40%"
    shares = station_view.window_shares(view.forecast, view.peaks, TZ)
    assert [s.tz_convert(TZ).strftime("%d %H") for s, _ in shares] == ["11 09", "10 12"]
    assert [round(v, 4) for _, v in shares] == [round(1000 / 4500, 4), round(800 / 4500, 4)]
    assert view.staffing.windows == [("09:00–10:00", 6), ("12:00–13:00", 5)]
    assert view.staffing.extra == 3
    assert station_view.staffing_sentence(view.staffing, "zh") == (
        "09:00–10:00 需验票员 6 人、12:00–13:00 需 5 人，比现排班多 3 人"
    )
    assert station_view.staffing_sentence(view.staffing, "en") == (
        "09:00–10:00 needs 6 checkers, 12:00–13:00 5: 3 more than the roster"
    )


def test_station006_roster_enough_and_no_forecast(session):
    write_station_tables(session)
    session.commit()
    view = station_view.station_view(
        "RW", session=session, now=NOW, tz=TZ, throughput=200, minimum=2, roster=6
    )
    assert view.staffing.extra == 0
    assert station_view.staffing_sentence(view.staffing, "zh") == (
        "09:00–10:00 需验票员 6 人、12:00–13:00 需 5 人，现排班（每小时 6 人）足够"
    )
    mx = station_view.station_view(
        "MX", session=session, now=NOW, tz=TZ, throughput=200, minimum=2, roster=4
    )
    assert mx.issued_at is None and mx.peaks is None and mx.accuracy is None
    assert mx.forecast.empty
    assert list(mx.past["actual"].dropna()) == [5.0]
    assert (
        station_view.station_view(
            "NOPE", session=session, now=NOW, tz=TZ, throughput=200, minimum=2, roster=4
        )
        is None
    )


# --------------------------------------------------------------------------- callbacks


@pytest.fixture
def app_db(db_url, monkeypatch) -> Iterator[str]:
    for name, value in {
        "DASHBOARD_FORECAST_CHECKER_THROUGHPUT": "200",
        "DASHBOARD_FORECAST_MIN_CHECKERS": "2",
        "DASHBOARD_FORECAST_ROSTER_CHECKERS": "4",
        "DASHBOARD_TIMEZONE": "Asia/Shanghai",
        "DASHBOARD_LANGUAGE": "zh",
    }.items():
        monkeypatch.setenv(name, value)
    for url in use_as_app_database(db_url, monkeypatch):
        with session_scope(url) as session:
            write_station_tables(session)
            versions.bump("forecasts", "station_flows", session=session, at=NOW)
        monkeypatch.setattr(station_callbacks, "utcnow", lambda: NOW)
        monkeypatch.setattr(wall, "utcnow", lambda: NOW)
        station_callbacks.cached_backtest.cache_clear()
        yield url


def _store(*changed: str) -> dict:
    return {"versions": {}, "updated_ms": {}, "late": [], "changed": list(changed)}


def test_station007_wall_panel_redraws_only_for_its_datasets(app_db):
    assert wall.refresh_station(_store("risk", "crowd"), "zh") == (no_update,) * 6
    title, issued, fig, peaks, staff, accuracy = wall.refresh_station(
        _store("forecasts"), "zh", {"w": 3840, "h": 2160}
    )
    assert title == "上海南站 客流预测"
    assert issued == ["预测发布于 10:05"]
    assert peaks == "09:00–10:00和12:00–13:00占全天到站客流的40%"
    assert staff == "09:00–10:00 需验票员 6 人、12:00–13:00 需 5 人，比现排班多 3 人"
    assert accuracy == "昨日准确度 MAPE 10% · MAE 16 人/时（23 小时）"
    traces = {t.name: t for t in fig.data}
    # 10:00 today to 09:00 tomorrow: 12:00 third, 18:00 ninth, 09:00 last
    bars = [100] * 24
    bars[2], bars[8], bars[23] = 800, 600, 1000
    assert list(traces["预测"].y) == bars
    assert list(traces["实际到站"].y)[:9] == [10 * h + 1 for h in range(9)]
    assert list(traces["当时预测"].y) == [300] * 4 + [400] + [500] * 5
    # the 80% band's upper edge, and the two peak windows shaded with their own shares
    hi80 = [t for t in fig.data if t.name == "80%区间" and t.fill == "tonexty"][0]
    assert max(hi80.y) == pytest.approx(1200)
    texts = [a.text for a in fig.layout.annotations]
    assert texts == ["22%", "18%"]
    assert fig.layout.font.size == 24  # 12 px at 1080p, scaled to the 4K screen
    # English, and "late" marked when the forecast job is late
    store = {**_store("station_flows"), "late": ["forecasts"]}
    title, issued, *_rest = wall.refresh_station(store, "en")
    assert title == "Shanghai South Railway Station: arrivals"
    assert issued[0] == "forecast issued 10:05"
    assert issued[1].children == "late" and issued[1].className == "late-badge"


def test_station008_page_choices_and_view(app_db):
    options, value = station_callbacks.load_stations("zh", None)
    assert [o["value"] for o in options] == ["RW", "MX"]
    assert options[0]["label"] == "上海南站 · 火车站"
    assert value == "RW"
    assert station_callbacks.load_stations("en", "MX")[1] == "MX"
    assert station_callbacks.load_stations("en", "MZ")[1] == "RW"  # no history: not offered
    fresh, fig, peaks, staff, accuracy = station_callbacks.show_station("RW", None, "en")
    assert fresh == ["forecast issued 10:05", " · ", "arrivals as of 09:00"]
    assert peaks == "09:00–10:00 and 12:00–13:00 hold 40% of the day's arrivals"
    assert staff == "09:00–10:00 needs 6 checkers, 12:00–13:00 5: 3 more than the roster"
    assert accuracy == "Yesterday: MAPE 10% · MAE 16 an hour (23 h)"
    assert fig.layout.height == 420
    fresh, _fig, peaks, staff, accuracy = station_callbacks.show_station("MX", None, "zh")
    assert fresh == ["尚无预测：历史客流不足或预测任务尚未运行", " · ", "客流数据截至 09:00"]
    assert peaks == "尚无预测：历史客流不足或预测任务尚未运行" and staff == ""
    assert accuracy == "昨日准确度：暂无（昨日零点时尚无预测）"


def test_station009_version_check_rewrites_only_on_change(app_db):
    first = station_callbacks.check_versions(0, None)
    assert first["versions"]["forecasts"] == 1 and first["versions"]["station_flows"] == 1
    assert station_callbacks.check_versions(1, first) is no_update
    with session_scope(app_db) as session:
        versions.bump("forecasts", session=session, at=NOW)
    assert station_callbacks.check_versions(2, first)["versions"]["forecasts"] == 2


def test_station010_backtest_too_short_says_why(app_db):
    block = station_callbacks.show_backtest("RW", None, "en")  # 23 hours yesterday, 9 today
    text = block[0].children
    assert text.startswith("No backtest: the series has 32 observed hours of history")


def test_station011_backtest_on_the_stations_history(app_db):
    """20 whole days of a known daily shape: the page's figures are the backtest's on that
    series (5 origins: the first needs 14 days before it, the last ends yesterday 23:00)."""
    shape = [1, 1, 1, 1, 2, 5, 20, 40, 60, 200, 80, 60, 150, 60, 50, 45, 45, 40, 35, 30, 25,
             15, 8, 3]  # fmt: skip
    start = dt.datetime(2026, 2, 18, tzinfo=TZ)
    hours = pd.date_range(start, periods=20 * 24, freq="h").tz_convert("UTC")
    values = [shape[h.tz_convert(TZ).hour] * (1 + 0.1 * (h.day % 3)) for h in hours]
    with session_scope(app_db) as session:
        session.add(Station(code="LONG", name="长史站", name_en="Long", kind="metro", geom=None))
        session.flush()
        session.add_all(
            StationFlow(station_code="LONG", hour_start=h.to_pydatetime(), arrivals=round(v))
            for h, v in zip(hours, values, strict=True)
        )
    block = station_callbacks.show_backtest("LONG", {"versions": {"station_flows": 7}}, "zh")
    series = pd.Series([float(round(v)) for v in values], index=hours)
    expected = forecast.backtest(series, origins=5, tz=TZ)
    assert expected["origins"] == 5
    assert block[0].children == "回测：5 个每日起点，提前 24 小时"
    rows = block[1].children[1].children
    assert [r.children[1].children for r in rows] == [
        f"{expected['mase']:.3f}",
        f"{expected['mase_naive24']:.3f}",
        f"{expected['mase_naive168']:.3f}",
    ]
    assert block[-1].children.startswith("MASE：预测的平均绝对误差")


def test_station012_wall_station_panel_in_the_layout():
    from test_web_support import import_app

    from layouts.ids import Wall

    app = import_app()
    page = str(app.wall_page(lang="en"))
    for ident in (Wall.STATION_GRAPH, Wall.STATION_STAFF, Wall.STATION_ACCURACY):
        assert ident in page
    assert "placeholder-station" not in page
    assert "/station?lang=en" in str(app.crowd_page(lang="en"))
    assert get_settings().forecast_roster_checkers >= 0
