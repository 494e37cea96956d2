"""What the wall's station panel and the /station page show, read from the database.

The hourly job (``forecast_stations``) writes ``station_forecasts``, several issues kept; this
module only reads, takes ``*, session`` and never commits. For one station:

- the **forecast**: the 24 hours of the latest issue made at or before ``now``;
- the **past hours of today** (local): each hour's actual arrivals and what was forecast for it
  by the latest issue made at or before that hour started (so the comparison is one the
  operators could have acted on, not a forecast made once the hour was under way);
- the **peak windows** of the forecast's 24 hours, taken by local hour of the day
  (:func:`dashboard.forecast.peak_windows`), and their sentence;
- the **staffing advice** in one sentence: checkers needed in each peak window (from the upper
  80% bound, :func:`dashboard.forecast.staffing`) and what that adds over the roster
  (:func:`dashboard.forecast.extra_in_windows`);
- **yesterday's accuracy**: MAE and MAPE of yesterday's local hours against the midnight run,
  the latest issue made before 01:00 yesterday local (the job issues at :05 from the hour's
  start, so that run forecasts 00:00-23:00 having seen nothing of the day), over the hours that
  issue covers and that have an actual count (MAPE: those with more than zero arrivals);
- the **backtest** of the model on the station's own history (:func:`backtest_figures`), for
  the page; about a second, so the web layer caches it per data version.

Pure reads and pandas; no Dash.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard import forecast
from dashboard.i18n import format_count, t
from dashboard.models import Station, StationFlow, StationForecast

logger = logging.getLogger(__name__)

COLUMNS = ("mean", "lo80", "hi80", "lo95", "hi95")
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
BACKTEST_ORIGINS = 28


@dataclass(frozen=True)
class StationInfo:
    code: str
    name: str
    name_en: str | None
    kind: str

    def display_name(self, lang: str) -> str:
        return (self.name_en or self.name) if lang == "en" else self.name


@dataclass(frozen=True)
class Accuracy:
    """Yesterday's hours against its midnight run (the latest issue made before 01:00)."""

    day: dt.date
    issued_at: dt.datetime
    hours: int  # hours compared (covered by the issue and with an actual count)
    mae: float
    mape: float | None  # None when no compared hour had arrivals


@dataclass(frozen=True)
class Staffing:
    windows: list[tuple[str, int]]  # (window label, checkers needed: the most in its hours)
    extra: int  # checker-hours over the roster inside the peak windows
    roster: int


@dataclass(frozen=True)
class StationView:
    station: StationInfo
    issued_at: dt.datetime | None  # the latest issue (UTC); None: never forecast
    model: str | None
    forecast: pd.DataFrame  # index hour_start (UTC), columns COLUMNS; empty without an issue
    past: pd.DataFrame  # today's past hours: index hour_start (UTC); actual, forecast, issued_at
    peaks: forecast.PeakWindows | None
    staffing: Staffing | None
    accuracy: Accuracy | None
    flows_until: dt.datetime | None  # the end of the newest hour counted (UTC)


# --------------------------------------------------------------------------- stations


def _info(row: Station) -> StationInfo:
    return StationInfo(row.code, row.name, row.name_en, row.kind)


def stations_with_history(*, session: Session) -> list[StationInfo]:
    """Stations with at least one hour of arrivals: railway stations first, then by name."""
    has_flows = select(StationFlow.station_code).distinct()
    rows = session.scalars(select(Station).where(Station.code.in_(has_flows)))
    return sorted(
        (_info(r) for r in rows), key=lambda s: (s.kind != "railway", s.name_en or s.name, s.code)
    )


def wall_station(*, session: Session, code: str | None = None) -> StationInfo | None:
    """The station the wall shows: ``code`` (the ``wall_station`` setting) if it has history,
    else the first railway station with history (Shanghai South in Xuhui), else the first
    station with history; None when no station has any."""
    stations = stations_with_history(session=session)
    chosen = [s for s in stations if s.code == code]
    if code and not chosen:
        logger.warning("wall_station %r has no arrivals yet; showing the first station", code)
    return (chosen or stations or [None])[0]


def station(code: str, *, session: Session) -> StationInfo | None:
    row = session.get(Station, code)
    return None if row is None else _info(row)


# --------------------------------------------------------------------------- reads


def _utc(value: dt.datetime) -> pd.Timestamp:
    return pd.Timestamp(value).tz_convert("UTC")


def _issues(
    code: str, *, session: Session, start: dt.datetime, end: dt.datetime, issued_by: dt.datetime
) -> pd.DataFrame:
    """Every stored forecast row for hours in [start, end) issued at or before ``issued_by``."""
    rows = session.execute(
        select(
            StationForecast.issued_at,
            StationForecast.hour_start,
            StationForecast.model,
            *(getattr(StationForecast, c) for c in COLUMNS),
        ).where(
            StationForecast.station_code == code,
            StationForecast.hour_start >= start,
            StationForecast.hour_start < end,
            StationForecast.issued_at <= issued_by,
        )
    ).all()
    frame = pd.DataFrame(rows, columns=["issued_at", "hour_start", "model", *COLUMNS])
    for col in ("issued_at", "hour_start"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame


def _latest_issue(
    code: str, *, session: Session, made_before: dt.datetime
) -> tuple[dt.datetime, pd.DataFrame, str] | None:
    """The newest issue made strictly before ``made_before``: its time, rows and model."""
    issued = session.scalar(
        select(func.max(StationForecast.issued_at)).where(
            StationForecast.station_code == code, StationForecast.issued_at < made_before
        )
    )
    if issued is None:
        return None
    rows = session.execute(
        select(
            StationForecast.hour_start,
            StationForecast.model,
            *(getattr(StationForecast, c) for c in COLUMNS),
        )
        .where(StationForecast.station_code == code, StationForecast.issued_at == issued)
        .order_by(StationForecast.hour_start)
    ).all()
    frame = pd.DataFrame(rows, columns=["hour_start", "model", *COLUMNS])
    frame["hour_start"] = pd.to_datetime(frame["hour_start"], utc=True)
    model = str(frame["model"].iloc[0]) if len(frame) else ""
    return issued, frame.set_index("hour_start")[list(COLUMNS)].astype(float), model


def _actuals(code: str, *, session: Session, start: dt.datetime, end: dt.datetime) -> pd.Series:
    rows = session.execute(
        select(StationFlow.hour_start, StationFlow.arrivals).where(
            StationFlow.station_code == code,
            StationFlow.hour_start >= start,
            StationFlow.hour_start < end,
        )
    ).all()
    return pd.Series(
        [float(a) for _, a in rows],
        index=pd.DatetimeIndex(pd.to_datetime([h for h, _ in rows], utc=True)),
        dtype=float,
    )


def _latest_per_hour(issues: pd.DataFrame, *, made_by_start: bool) -> pd.DataFrame:
    """Per hour, the row of the latest issue (made at or before the hour started, if asked)."""
    if made_by_start:
        issues = issues[issues["issued_at"] <= issues["hour_start"]]
    if issues.empty:
        return pd.DataFrame(columns=["issued_at", *COLUMNS])
    latest = issues.sort_values("issued_at").groupby("hour_start").last()
    return latest[["issued_at", *COLUMNS]]


def past_hours(code: str, *, session: Session, now: dt.datetime, tz: ZoneInfo) -> pd.DataFrame:
    """Today's local hours that have started before the current one: the actual count (NaN if
    none arrived yet) and the mean forecast for it by the latest issue made at or before the
    hour's start (NaN if none was), with that issue's time."""
    midnight = dt.datetime.combine(now.astimezone(tz).date(), dt.time(), tz).astimezone(dt.UTC)
    current = _utc(now).floor("h")
    hours = pd.date_range(midnight, current, freq="h", inclusive="left", tz="UTC")
    actual = _actuals(code, session=session, start=midnight, end=current.to_pydatetime())
    issues = _issues(
        code, session=session, start=midnight, end=current.to_pydatetime(), issued_by=now
    )
    latest = _latest_per_hour(issues, made_by_start=True)
    return pd.DataFrame(
        {
            "actual": actual.reindex(hours).to_numpy(float),
            "forecast": latest["mean"].reindex(hours).to_numpy(float),
            "issued_at": latest["issued_at"].reindex(hours).to_numpy(),
        },
        index=hours,
    )


def yesterday_accuracy(
    code: str, *, session: Session, now: dt.datetime, tz: ZoneInfo
) -> Accuracy | None:
    """Yesterday's local hours against its midnight run: the latest issue made before 01:00
    yesterday (the hourly job issues at :05 from the hour's start, so the 00:05 run forecasts
    00:00-23:00; a missed run falls back to the one before, which covers fewer hours)."""
    today = now.astimezone(tz).date()
    day = today - DAY
    start = dt.datetime.combine(day, dt.time(), tz).astimezone(dt.UTC)
    end = dt.datetime.combine(today, dt.time(), tz).astimezone(dt.UTC)
    issue = _latest_issue(code, session=session, made_before=start + HOUR)
    if issue is None:
        return None
    issued_at, frame, _model = issue
    actual = _actuals(code, session=session, start=start, end=end)
    both = pd.DataFrame({"actual": actual, "mean": frame["mean"]}).dropna()
    both = both[(both.index >= pd.Timestamp(start)) & (both.index < pd.Timestamp(end))]
    if both.empty:
        return None
    err = (both["mean"] - both["actual"]).abs()
    positive = both["actual"] > 0
    mape = float((err[positive] / both["actual"][positive]).mean()) if positive.any() else None
    return Accuracy(day, issued_at, len(both), float(err.mean()), mape)


def window_shares(
    frame: pd.DataFrame, peaks: forecast.PeakWindows, tz: ZoneInfo
) -> list[tuple[pd.Timestamp, float]]:
    """Each peak window's first forecast hour (UTC) and its own share of the 24 hours."""
    hours = frame.index.tz_convert(tz).hour
    total = float(frame["mean"].sum())
    out = []
    for start in peaks.starts:
        inside = (hours >= start) & (hours < start + peaks.width)
        share = float(frame.loc[inside, "mean"].sum()) / total if total > 0 else 0.0
        out.append((frame.index[inside][0], share))
    return out


def _by_local_hour(frame: pd.DataFrame, tz: ZoneInfo) -> np.ndarray | None:
    """The 24 forecast means by local hour 0..23; None unless each hour appears exactly once."""
    hours = frame.index.tz_convert(tz).hour
    if len(frame) != forecast.DAY_H or len(set(hours)) != forecast.DAY_H:
        return None
    values = np.full(forecast.DAY_H, np.nan)
    values[hours] = frame["mean"].to_numpy(float)
    return values


def staffing_advice(
    frame: pd.DataFrame,
    peaks: forecast.PeakWindows,
    *,
    throughput: float,
    minimum: int,
    roster: int,
    tz: ZoneInfo,
) -> Staffing:
    plan = forecast.staffing(frame, throughput=throughput, minimum=minimum, roster=roster, tz=tz)
    windows = []
    for label, start in zip(peaks.labels(), peaks.starts, strict=True):
        inside = (plan["hour"] >= start) & (plan["hour"] < start + peaks.width)
        windows.append((label, int(plan.loc[inside, "needed"].max())))
    return Staffing(windows, forecast.extra_in_windows(plan, peaks), roster)


def station_view(
    code: str,
    *,
    session: Session,
    now: dt.datetime,
    tz: str | ZoneInfo,
    throughput: float,
    minimum: int,
    roster: int,
) -> StationView | None:
    """Everything the panel shows for ``code`` at ``now``; None for an unknown station."""
    info = station(code, session=session)
    if info is None:
        return None
    tz = ZoneInfo(tz) if isinstance(tz, str) else tz
    issue = _latest_issue(code, session=session, made_before=now + dt.timedelta(microseconds=1))
    past = past_hours(code, session=session, now=now, tz=tz)
    accuracy = yesterday_accuracy(code, session=session, now=now, tz=tz)
    newest = session.scalar(
        select(func.max(StationFlow.hour_start)).where(StationFlow.station_code == code)
    )
    until = None if newest is None else newest + HOUR
    if issue is None:
        empty = pd.DataFrame(columns=list(COLUMNS), index=pd.DatetimeIndex([], tz="UTC"))
        return StationView(info, None, None, empty, past, None, None, accuracy, until)
    issued_at, frame, model = issue
    day = _by_local_hour(frame, tz)
    peaks = advice = None
    if day is not None:
        peaks = forecast.peak_windows(day)
        advice = staffing_advice(
            frame, peaks, throughput=throughput, minimum=minimum, roster=roster, tz=tz
        )
    return StationView(info, issued_at, model, frame, past, peaks, advice, accuracy, until)


# --------------------------------------------------------------------------- sentences


def staffing_sentence(advice: Staffing, lang: str) -> str:
    """ "09:00–10:00 需验票员 6 人、12:00–13:00 需 5 人，比现排班多 3 人" in ``lang``."""
    parts = [
        t("station.staff_window" if i == 0 else "station.staff_window_more", lang, window=w, n=n)
        for i, (w, n) in enumerate(advice.windows)
    ]
    windows = t("list.separator", lang).join(parts)
    if advice.extra > 0:
        return t("station.staff_extra", lang, windows=windows, extra=format_count(advice.extra))
    return t("station.staff_enough", lang, windows=windows, roster=format_count(advice.roster))


def accuracy_sentence(acc: Accuracy, lang: str) -> str:
    mape = "—" if acc.mape is None else f"{acc.mape:.0%}"
    return t(
        "station.accuracy",
        lang,
        mape=mape,
        mae=format_count(round(acc.mae)),
        hours=acc.hours,
    )


# --------------------------------------------------------------------------- backtest


def backtest_figures(
    code: str,
    *,
    session: Session,
    until: dt.datetime,
    tz: str,
    params: forecast.ModelParams,
    origins: int = BACKTEST_ORIGINS,
) -> dict:
    """The rolling-origin backtest (:func:`dashboard.forecast.backtest`) on the station's own
    history before ``until``: up to ``origins`` daily origins, fewer when the history is too
    short for them all (the result's ``origins`` says how many). Raises
    :class:`dashboard.forecast.ForecastError` with an operator's message when it cannot run."""
    from dashboard.station_data import load_history

    days = params.history_days + 35 + origins + 2  # the fit's window, its look-back, the origins
    actuals, bookings = load_history(session, code, until=until, days=days)
    hourly = forecast.to_hourly(actuals) if len(actuals) else actuals
    observed_days = forecast.observed_hours(hourly) // forecast.DAY_H if len(hourly) else 0
    # The first origin's fit needs min_history_days of history, and each origin a day after it.
    fitting = max(1, min(origins, observed_days - params.min_history_days - 1))
    while True:
        try:
            return forecast.backtest(
                actuals,
                bookings=bookings,
                origins=fitting,
                horizon=forecast.DAY_H,
                tz=tz,
                params=params,
            )
        except forecast.SeriesTooShort:
            raise
        except forecast.ForecastError as exc:
            # The estimate above can be a day too many (a partial first or last day).
            if "fewer origins" not in str(exc) or fitting <= 1:
                raise
            fitting -= 1
