"""Station passenger flow on the web: the pieces the wall's station panel and the ``/station``
page share (the chart and the three sentences), and the page's callbacks.

The page checks the data versions once per tick (one small query) and redraws only when the
forecasts, arrivals or bookings moved. The backtest (about a second) is cached per station and
data version in each web process.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from dash import Input, Output, State, callback, html, no_update
from dash.development.base_component import Component

from callbacks.common import late_badge, page_lang
from dashboard import figures, forecast, freshness, station_view, versions
from dashboard.config import get_settings
from dashboard.db import session_scope
from dashboard.i18n import format_local_time, t
from dashboard.models import utcnow
from layouts.ids import Station

logger = logging.getLogger(__name__)

# The datasets the panel and the page are drawn from.
STATION_DATASETS = ("forecasts", "station_flows")
BACKTEST_DATASETS = ("station_flows", "station_bookings")
WALL_HEIGHT_PX = 1080  # the chart's text is sized for 1080p and scaled with the screen


# --------------------------------------------------------------------------- shared rendering


@dataclass(frozen=True)
class Rendered:
    """What a station view turns into: the same on the wall and on /station."""

    title: str
    issued: str
    figure: Any
    peaks: str
    staff: str
    accuracy: str


def read_view(code: str | None, *, now: dt.datetime) -> station_view.StationView | None:
    """The view of ``code`` (or of the wall's station when None) at ``now``."""
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        if code is None:
            info = station_view.wall_station(session=session, code=settings.wall_station or None)
            if info is None:
                return None
            code = info.code
        return station_view.station_view(
            code,
            session=session,
            now=now,
            tz=settings.timezone,
            throughput=settings.forecast_checker_throughput,
            minimum=settings.forecast_min_checkers,
            roster=settings.forecast_roster_checkers,
        )


def _local_naive(index, tz: ZoneInfo) -> list[dt.datetime]:
    return [ts.tz_convert(tz).tz_localize(None).to_pydatetime() for ts in index]


def _nan_none(values) -> list[float | None]:
    return [None if v != v else float(v) for v in values]  # NaN is not equal to itself


def _when(when: dt.datetime, now: dt.datetime, tz: str) -> str:
    """14:05 today, 11-20 14:05 another day."""
    same_day = when.astimezone(ZoneInfo(tz)).date() == now.astimezone(ZoneInfo(tz)).date()
    return format_local_time(when, tz, "%H:%M" if same_day else "%m-%d %H:%M")


def station_figure(
    view: station_view.StationView,
    lang: str,
    *,
    now: dt.datetime,
    scale: float = 1.0,
    height: int | None = None,
) -> Any:
    tz = ZoneInfo(get_settings().timezone)
    labels = figures.StationLabels(
        forecast=t("station.legend.forecast", lang),
        band80=t("station.legend.band80", lang),
        band95=t("station.legend.band95", lang),
        actual=t("station.legend.actual", lang),
        past_forecast=t("station.legend.past_forecast", lang),
        unit=t("station.unit", lang),
        now=t("station.legend.now", lang),
    )
    spans = []
    if view.peaks is not None:
        for start, share in station_view.window_shares(view.forecast, view.peaks, tz):
            local = start.tz_convert(tz).tz_localize(None).to_pydatetime()
            spans.append(
                figures.PeakSpan(
                    local,
                    local + dt.timedelta(hours=view.peaks.width),
                    f"{share:.0%}",
                )
            )
    fc = view.forecast
    return figures.station_flow(
        _local_naive(fc.index, tz),
        {c: fc[c].to_numpy(float).tolist() for c in station_view.COLUMNS},
        _local_naive(view.past.index, tz),
        _nan_none(view.past["actual"]),
        _nan_none(view.past["forecast"]),
        spans,
        labels,
        now=now.astimezone(tz).replace(tzinfo=None),
        scale=scale,
        height=height,
    )


def render(
    view: station_view.StationView | None,
    lang: str,
    *,
    now: dt.datetime,
    scale: float = 1.0,
    height: int | None = None,
) -> Rendered:
    settings = get_settings()
    if view is None:
        empty = t("station.no_station", lang)
        return Rendered(t("panel.station.title", lang), "—", figures.blank(), empty, "", "")
    title = t("station.title", lang, name=view.station.display_name(lang))
    issued = (
        "—"
        if view.issued_at is None
        else t("station.issued", lang, time=_when(view.issued_at, now, settings.timezone))
    )
    if view.issued_at is None:
        peaks, staff = t("station.no_forecast", lang), ""
    elif view.peaks is None:
        peaks, staff = t("station.no_peaks", lang), ""
    else:
        peaks = forecast.peak_sentence(view.peaks, lang)
        staff = station_view.staffing_sentence(view.staffing, lang) if view.staffing else ""
    accuracy = (
        station_view.accuracy_sentence(view.accuracy, lang)
        if view.accuracy
        else t("station.no_accuracy", lang)
    )
    figure = station_figure(view, lang, now=now, scale=scale, height=height)
    return Rendered(title, issued, figure, peaks, staff, accuracy)


# --------------------------------------------------------------------------- the page


@callback(
    Output(Station.PICK, "options"),
    Output(Station.PICK, "value"),
    Input(Station.LANG, "data"),
    State(Station.REQUESTED, "data"),
)
def load_stations(
    lang: str | None, requested: str | None = None
) -> tuple[list[dict[str, str]], str | None]:
    """The stations with history (railway first), the one the URL asked for or the wall's."""
    lang = page_lang(lang)
    with session_scope(get_settings().database_url) as session:
        stations = station_view.stations_with_history(session=session)
    options = [
        {
            "label": f"{s.display_name(lang)} · {t(f'crowd.kind.{s.kind}', lang)}",
            "value": s.code,
        }
        for s in stations
    ]
    known = [s.code for s in stations]
    chosen = requested if requested in known else (known[0] if known else None)
    return options, chosen


@callback(
    Output(Station.VERSIONS, "data"),
    Input(Station.TICK, "n_intervals"),
    State(Station.VERSIONS, "data"),
)
def check_versions(_n: int | None, previous: dict[str, Any] | None) -> Any:
    """The station datasets' versions and lateness; rewritten only when one moved."""
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        current = versions.current(session=session)
    snap = freshness.snapshot(
        current, settings.dataset_expected_interval_s, now=utcnow(), timezone=settings.timezone
    )
    names = (*STATION_DATASETS, "station_bookings")
    new = {
        "versions": {n: snap["versions"].get(n) for n in names},
        "late": [n for n in snap["late"] if n in names],
        "day": snap.get("day"),
    }
    if previous == new:
        return no_update
    return new


def freshness_line(
    view: station_view.StationView | None, store: dict[str, Any] | None, lang: str, now
) -> list[Any]:
    """ "预测发布于 14:05 · 客流数据截至 14:00", and a late badge when a feed is late."""
    tz = get_settings().timezone
    if view is None:
        return [t("station.no_station", lang)]
    parts: list[Any] = [
        t("station.no_forecast", lang)
        if view.issued_at is None
        else t("station.issued", lang, time=_when(view.issued_at, now, tz))
    ]
    if view.flows_until is not None:
        parts += [" · ", t("station.flows_as_of", lang, time=_when(view.flows_until, now, tz))]
    if (store or {}).get("late"):
        parts.append(late_badge(lang))
    return parts


@callback(
    Output(Station.FRESH, "children"),
    Output(Station.GRAPH, "figure"),
    Output(Station.PEAKS, "children"),
    Output(Station.STAFF, "children"),
    Output(Station.ACCURACY, "children"),
    Input(Station.PICK, "value"),
    Input(Station.VERSIONS, "data"),
    State(Station.LANG, "data"),
)
def show_station(code: str | None, store: dict[str, Any] | None, lang: str | None) -> tuple:
    lang = page_lang(lang)
    if code is None:
        return t("station.no_station", lang), figures.blank(), "", "", ""
    now = utcnow()
    view = read_view(code, now=now)
    r = render(view, lang, now=now, height=420)
    return freshness_line(view, store, lang, now), r.figure, r.peaks, r.staff, r.accuracy


@lru_cache(maxsize=32)
def cached_backtest(
    url: str, code: str, data_versions: tuple[int | None, ...], day: dt.date
) -> dict[str, Any] | str:
    """The backtest's figures, or the reason it cannot run; once per (station, data versions,
    day) in each web process (it takes about a second)."""
    del data_versions  # part of the cache key only
    settings = get_settings()
    now = utcnow()
    until = now.replace(minute=0, second=0, microsecond=0)
    try:
        with session_scope(url) as session:
            return station_view.backtest_figures(
                code,
                session=session,
                until=until,
                tz=settings.timezone,
                params=forecast.ModelParams.from_settings(settings),
            )
    except forecast.ForecastError as exc:
        return str(exc)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def backtest_block(result: dict[str, Any] | str, lang: str) -> list[Component]:
    if isinstance(result, str):
        return [html.P(t("station.backtest.error", lang, error=result), className="risk-error")]
    rows = [
        (t("station.backtest.model", lang, model=result["model"]), result["mase"], "model"),
        (t("station.backtest.naive24", lang), result["mase_naive24"], "naive24"),
        (t("station.backtest.naive168", lang), result["mase_naive168"], "naive168"),
    ]
    ratio = result.get("ratio_to_best_naive")
    lines = [
        t("station.backtest.ratio", lang, ratio="—" if ratio is None else f"{ratio:.2f}"),
        t(
            "station.backtest.coverage",
            lang,
            c80=_pct(result["coverage80"]),
            c95=_pct(result["coverage95"]),
        ),
        t("station.backtest.seconds", lang, seconds=f"{result['seconds_per_fit']:.3f}"),
    ]
    if result.get("bookings_used"):
        lines.append(t("station.backtest.bookings", lang))
    return [
        html.H3(t("station.backtest.title", lang, origins=result["origins"])),
        html.Table(
            className="ops-table station-backtest-table",
            children=[
                html.Thead(html.Tr([html.Th(t("station.backtest.method", lang)), html.Th("MASE")])),
                html.Tbody(
                    [
                        html.Tr(
                            [html.Td(name), html.Td(f"{mase:.3f}", className="num")],
                            className=f"bt-{key}",
                        )
                        for name, mase, key in rows
                    ]
                ),
            ],
        ),
        html.Ul([html.Li(line) for line in lines], className="station-backtest-lines"),
        html.P(t("station.backtest.what", lang), className="risk-note station-mase-note"),
    ]


@callback(
    Output(Station.BACKTEST, "children"),
    Input(Station.PICK, "value"),
    Input(Station.VERSIONS, "data"),
    State(Station.LANG, "data"),
)
def show_backtest(code: str | None, store: dict[str, Any] | None, lang: str | None) -> Any:
    lang = page_lang(lang)
    if code is None:
        return []
    settings = get_settings()
    known = (store or {}).get("versions", {})
    day = utcnow().astimezone(ZoneInfo(settings.timezone)).date()
    key = tuple(known.get(n) for n in BACKTEST_DATASETS)
    return backtest_block(cached_backtest(settings.database_url, code, key, day), lang)
