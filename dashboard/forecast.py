"""Station passenger flow: the next 24 hourly arrivals with 80% and 95% intervals.

Where the rules live:

- the input (:func:`to_hourly`): any series of counts indexed by tz-aware times, summed to
  whole hours; an hour with a missing part, or no row at all, stays missing (NaN), never zero;
- the model (:func:`fit_forecast`): a regression in log space on features that are all at
  least 24 hours old (so one fit serves every horizon up to 24): the same hour one day and one
  week earlier, the mean of the same hour of the week over the last four weeks, the same hour on
  the last days of the same kind (workday / day off, from the official calendar, so a holiday
  looks like a Sunday and an adjusted working day like a workday), the day-type itself, and the
  bookings for that hour when present. Intervals are empirical quantiles of its leave-one-out
  residuals, pooled over neighbouring hours of the day, widened by calibrated factors;
- the yardsticks (:func:`seasonal_naive`, :func:`backtest`): the 24 h and 168 h seasonal naive
  forecasts and the rolling-origin MASE that the model is chosen by (docs/forecast.md);
- peak windows and staffing (:func:`peak_windows`, :func:`peak_sentence`, :func:`staffing`).

Pure pandas/numpy: no database, no Dash. Why this model and not another: docs/forecast.md.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from dashboard.holidays import Calendar, DayType, day_type

logger = logging.getLogger(__name__)

HOUR = pd.Timedelta(hours=1)
DAY_H = 24
WEEK_H = 168
MODEL_NAME = "ridge-calendar-v2"  # v2: calibrated interval widths
LEVELS = (80, 95)


class ForecastError(ValueError):
    """The series cannot be forecast as given; the message says why, for an operator."""


class SeriesTooShort(ForecastError):
    def __init__(self, have: int, need: int, what: str = "observed hours") -> None:
        self.have, self.need = have, need
        super().__init__(
            f"the series has {have:,} {what} of history; the forecast needs at least {need:,} "
            f"({need // DAY_H} days)"
        )


@dataclass(frozen=True)
class ModelParams:
    """The model's knobs (settings ``forecast_*``); the defaults were chosen by the backtest."""

    history_days: int = 56  # training window: the most recent days the regression is fit on
    min_history_days: int = 14  # fewer observed hours than this many days: SeriesTooShort
    ridge_alpha: float = 1.0  # shrinkage of the coefficients toward "the weekly profile"
    unusual_ratio: float = 1.5  # a day this many times off its kind's median total: no guide
    same_kind_days: int = 4  # days of the same kind averaged for the day-kind profile
    weeks_averaged: int = 4  # weeks averaged for the hour-of-week profile
    # Intervals: the leave-one-out residual quantiles widened by these factors (log space).
    # The residuals of a 56-day window understate the errors of the next day whenever the
    # regime moves (a holiday season, a blizzard); the factors were fit on three earlier
    # 28-origin windows of both real series, not on the window docs/forecast.md reports.
    interval_scale80: float = 1.3
    interval_scale95: float = 1.5

    def interval_scale(self, level: int) -> float:
        return {80: self.interval_scale80, 95: self.interval_scale95}[level]

    @classmethod
    def from_settings(cls, settings) -> ModelParams:
        return cls(
            history_days=settings.forecast_history_days,
            min_history_days=settings.forecast_min_history_days,
            ridge_alpha=settings.forecast_ridge_alpha,
            unusual_ratio=settings.forecast_unusual_ratio,
        )


LOOKBACK_DAYS = 35  # before the training window: the features' look-back (five weeks)


def lookback_days(params: ModelParams) -> int:
    """Days of history before the origin that :func:`fit_forecast` reads at most."""
    return params.history_days + LOOKBACK_DAYS


# --------------------------------------------------------------------------- input


def to_hourly(series: pd.Series) -> pd.Series:
    """Counts summed into whole hours on a complete hourly index (UTC); gaps stay NaN.

    ``series`` is indexed by tz-aware times (hour starts, or finer: half-hours, 15-minute
    counts). An hour whose rows are fewer than the series' step implies (a half-hourly series
    with only one half) is missing, not a partial sum; an hour with no row at all is missing.
    """
    if not isinstance(series.index, pd.DatetimeIndex) or series.index.tz is None:
        raise ForecastError("the series must be indexed by time-zone-aware timestamps")
    s = pd.to_numeric(series, errors="coerce").dropna()
    s = s[~s.index.duplicated(keep="last")].sort_index()
    if s.empty:
        return pd.Series(dtype=float, index=pd.DatetimeIndex([], tz="UTC"))
    s.index = s.index.tz_convert("UTC")
    steps = s.index.to_series().diff().dt.total_seconds().dropna()
    step_s = float(steps.median()) if len(steps) else 3600.0
    per_hour = max(1, round(3600 / step_s)) if step_s < 3600 else 1
    hours = s.index.floor("h")
    grouped = s.groupby(hours)
    hourly = grouped.sum()
    if per_hour > 1:
        hourly[grouped.size() < per_hour] = np.nan
    full = pd.date_range(hourly.index[0], hourly.index[-1], freq="h", tz="UTC")
    return hourly.reindex(full).astype(float)


def observed_hours(hourly: pd.Series) -> int:
    return int(hourly.notna().sum())


# --------------------------------------------------------------------------- features


def _day_kinds(index: pd.DatetimeIndex, tz: ZoneInfo, calendar: Calendar) -> pd.DataFrame:
    """Per hour: local date, hour and weekday, and whether the day is off, holiday, adjusted."""
    local = index.tz_convert(tz)
    dates = local.date
    types = {d: calendar(d) for d in set(dates)}
    kind = np.array([types[d] for d in dates], dtype=object)
    return pd.DataFrame(
        {
            "date": dates,
            "hour": local.hour,
            "weekday": local.day_of_week,
            "off": np.array([k.is_off for k in kind], dtype=bool),
            "holiday": kind == DayType.HOLIDAY,
            "adjusted": kind == DayType.ADJUSTED_WORKDAY,
        },
        index=index,
    )


def _unusual_hours(y: np.ndarray, kinds: pd.DataFrame, ratio: float) -> np.ndarray:
    """Hours of days whose total is ``ratio`` times above or below their kind's median.

    A blizzard, a marathon, a gate counter that half failed: such a day is a poor guide to the
    same hour next week. The kind is the weekday for ordinary days (a Saturday is compared with
    Saturdays) and "day off" / "workday" for holidays and adjusted working days. Days with
    fewer than 20 observed hours are not judged.
    """
    frame = pd.DataFrame(
        {
            "y": y,
            "day": kinds["date"].to_numpy(),
            "off": kinds["off"].to_numpy(),
            "weekday": kinds["weekday"].to_numpy(),
        }
    )
    days = frame.groupby("day").agg(
        total=("y", "sum"), seen=("y", "count"), off=("off", "first"), weekday=("weekday", "first")
    )
    days = days[days["seen"] >= 20]
    if days.empty:
        return np.zeros(len(y), dtype=bool)
    daily = days["total"] * DAY_H / days["seen"]
    ordinary = days["off"] == (days["weekday"] >= 5)
    group = np.where(ordinary, days["weekday"].astype(str), np.where(days["off"], "off", "on"))
    median = daily.groupby(group).transform("median")
    flagged = days.index[(daily > median * ratio) | (daily < median / ratio)]
    return frame["day"].isin(set(flagged)).to_numpy()


def _lagged(values: np.ndarray, lag: int) -> np.ndarray:
    out = np.full(len(values), np.nan)
    if lag < len(values):
        out[lag:] = values[: len(values) - lag]
    return out


def _nanmean(stack: np.ndarray) -> np.ndarray:
    valid = ~np.isnan(stack)
    count = valid.sum(axis=0)
    total = np.where(valid, stack, 0.0).sum(axis=0)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


FEATURES = (
    "kind_profile",  # the same hour on the last days of the same kind, minus the base
    "last_week",  # the same hour a week ago if that day was the same kind, else the base; minus it
    "yesterday",  # the same hour a day ago if yesterday was the same kind, else the base; minus it
    "same_kind_as_yesterday",  # 1 if so (a Monday after a Sunday is 0)
    "level",  # how far the last known day ran above or below its base, on average
    "holiday",
    "adjusted_workday",
)


def _features(
    log_y: np.ndarray,
    log_guide: np.ndarray,
    kinds: pd.DataFrame,
    log_b: np.ndarray | None,
    params: ModelParams,
) -> tuple[np.ndarray, np.ndarray]:
    """The base (the hour-of-week profile) and the features, per hour of the grid.

    Every value is at least 24 hours older than the hour it describes, so one fit serves every
    horizon up to 24. ``log_guide`` is ``log_y`` without unusual days: the profiles are built
    from it; the most recent day and week are taken as they were (a change of regime, like a
    holiday week, shows first there).
    """
    n = len(log_y)
    off = kinds["off"].to_numpy()
    # An ordinary day is off exactly when it is a weekend day. A holiday Wednesday is no guide
    # to next Wednesday, so the weekly profile is built from ordinary days only.
    ordinary = off == (kinds["weekday"].to_numpy() >= 5)
    weekly_guide = np.where(ordinary, log_guide, np.nan)
    weeks = [_lagged(weekly_guide, WEEK_H * k) for k in range(1, params.weeks_averaged + 1)]
    week_profile = _nanmean(np.vstack(weeks))
    total, count = np.zeros(n), np.zeros(n)
    for j in range(1, 36):
        lagged = _lagged(log_guide, DAY_H * j)
        lag_off = _lagged(off.astype(float), DAY_H * j) == 1.0
        use = (lag_off == off) & ~np.isnan(lagged) & (count < params.same_kind_days)
        total[use] += lagged[use]
        count[use] += 1
    kind_profile = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    # The base: the hour-of-week profile on an ordinary day; on a holiday or an adjusted working
    # day, the profile of the days of its kind (a holiday like the last days off). A gap takes
    # the other profile's value rather than dropping the hour.
    base = np.where(ordinary & ~np.isnan(week_profile), week_profile, kind_profile)
    base = np.where(np.isnan(base), week_profile, base)
    kind_profile = np.where(np.isnan(kind_profile), base, kind_profile)
    last_week = _lagged(log_y, WEEK_H)
    same_kind_168 = _lagged(off.astype(float), WEEK_H) == off.astype(float)
    last_week = np.where(same_kind_168 & ~np.isnan(last_week), last_week, base)
    same_kind = _lagged(off.astype(float), DAY_H) == off.astype(float)
    yesterday = _lagged(log_y, DAY_H)
    yesterday = np.where(same_kind & ~np.isnan(yesterday), yesterday, base)
    deviation = pd.Series(log_y - base).rolling(DAY_H, min_periods=DAY_H // 2).mean().to_numpy()
    level = np.nan_to_num(_lagged(deviation, DAY_H))
    cols = [
        kind_profile - base,
        last_week - base,
        yesterday - base,
        same_kind.astype(float),
        level,
        kinds["holiday"].to_numpy(float),
        kinds["adjusted"].to_numpy(float),
    ]
    if log_b is not None:
        cols.append(log_b - base)  # "bookings": how far this hour's bookings run from usual
    return base, np.column_stack(cols)


# --------------------------------------------------------------------------- the model


@dataclass
class Forecast:
    """``horizon`` hourly forecasts from ``origin`` on, with their intervals."""

    origin: pd.Timestamp
    frame: pd.DataFrame  # index hour_start (UTC); columns mean, lo80, hi80, lo95, hi95
    model: str = MODEL_NAME
    used_bookings: bool = False
    notes: list[str] = field(default_factory=list)


def fit_forecast(
    history: pd.Series,
    *,
    origin: pd.Timestamp | dt.datetime | None = None,
    horizon: int = DAY_H,
    bookings: pd.Series | None = None,
    tz: str | ZoneInfo = "Asia/Shanghai",
    calendar: Calendar = day_type,
    params: ModelParams | None = None,
) -> Forecast:
    """Fit on ``history`` (hourly or finer, tz-aware); forecast ``horizon`` hours from ``origin``.

    ``origin`` is the first hour forecast (default: the hour after the last observed one); only
    history before it is used. ``bookings``, if given, are the arrivals booked for each hour as
    the ticketing system knew them ahead of time: past hours (to learn how bookings turn into
    arrivals) and the hours to forecast. With too few booked past hours, or a forecast hour
    without bookings, they are ignored and :attr:`Forecast.notes` says so.
    """
    params = params or ModelParams()
    if not 1 <= horizon <= DAY_H:
        raise ForecastError(f"horizon must be 1 to {DAY_H} hours, not {horizon}")
    tz = ZoneInfo(tz) if isinstance(tz, str) else tz
    hourly = to_hourly(history)
    need = params.min_history_days * DAY_H
    if origin is None:
        if hourly.dropna().empty:
            raise SeriesTooShort(0, need)
        origin = hourly.dropna().index[-1] + HOUR
    origin = pd.Timestamp(origin).tz_convert("UTC").floor("h")
    # The training window, plus five weeks before it for the features' look-back.
    window_start = origin - pd.Timedelta(days=params.history_days)
    past = hourly[
        (hourly.index >= window_start - pd.Timedelta(days=LOOKBACK_DAYS)) & (hourly.index < origin)
    ]
    have = observed_hours(past[past.index >= window_start])
    if have < need:
        raise SeriesTooShort(have, need)
    grid = pd.date_range(past.index[0], origin + (horizon - 1) * HOUR, freq="h", tz="UTC")
    y = past.reindex(grid).to_numpy(float)
    log_y = np.log1p(np.clip(y, 0, None))
    kinds = _day_kinds(grid, tz, calendar)
    unusual = _unusual_hours(y, kinds, params.unusual_ratio)
    log_guide = np.where(unusual, np.nan, log_y)

    notes: list[str] = []
    log_b = None
    if bookings is not None:
        b = to_hourly(bookings).reindex(grid).to_numpy(float)
        ahead = int((~np.isnan(b[-horizon:])).sum())
        booked_past = int((~np.isnan(b[:-horizon]) & ~np.isnan(y[:-horizon])).sum())
        if booked_past >= need // 2 and ahead == horizon:
            log_b = np.log1p(np.clip(b, 0, None))
        else:
            notes.append(
                f"bookings ignored: {booked_past} past hours have bookings (need {need // 2}) "
                f"and {ahead} of the {horizon} hours ahead (need all)"
            )
    base, X = _features(log_y, log_guide, kinds, log_b, params)
    in_window = (grid >= window_start) & (np.arange(len(grid)) < len(grid) - horizon)
    ok = in_window & ~np.isnan(log_y) & ~np.isnan(base) & ~np.isnan(X).any(axis=1)
    if ok.sum() < 3 * DAY_H:
        raise SeriesTooShort(int(ok.sum()), 3 * DAY_H, "usable hours (with a week-old value)")

    # Workdays and days off get their own coefficients (when each has enough hours).
    off = kinds["off"].to_numpy()
    mu = np.full(horizon, np.nan)
    loo = np.full(len(grid), np.nan)
    for kind in (False, True):
        rows = ok & (off == kind)
        fit_rows = rows if rows.sum() >= 2 * DAY_H else ok
        beta, resid = _ridge(X[fit_rows], log_y[fit_rows] - base[fit_rows], params.ridge_alpha)
        loo[fit_rows & (off == kind)] = resid[off[fit_rows] == kind]
        ahead = off[-horizon:] == kind
        mu[ahead] = base[-horizon:][ahead] + beta[0] + X[-horizon:][ahead] @ beta[1:]
    missing = np.isnan(mu)
    if missing.any():  # a gap too long for the profiles: the mean of that hour of the day
        hours = kinds["hour"].to_numpy()
        by_hour = pd.Series(log_y[:-horizon]).groupby(hours[:-horizon]).mean()
        mu[missing] = by_hour.reindex(hours[-horizon:][missing]).to_numpy()
        notes.append(f"{int(missing.sum())} hours forecast from the hour-of-day mean (gap)")
    hours_train = kinds["hour"].to_numpy()[ok]
    hours_ahead = kinds["hour"].to_numpy()[-horizon:]
    out = {"mean": np.expm1(mu)}
    lo_prev, hi_prev = np.zeros(horizon), np.zeros(horizon)
    for level in LEVELS:  # ascending: a wider level never lies inside a narrower one
        lo_q, hi_q = _residual_quantiles(loo[ok], hours_train, hours_ahead, level)
        scale = params.interval_scale(level)
        lo_prev, hi_prev = np.minimum(lo_q * scale, lo_prev), np.maximum(hi_q * scale, hi_prev)
        out[f"lo{level}"] = np.expm1(mu + lo_prev)
        out[f"hi{level}"] = np.expm1(mu + hi_prev)
    frame = pd.DataFrame(out, index=grid[-horizon:]).clip(lower=0.0)
    frame.index.name = "hour_start"
    return Forecast(origin=origin, frame=frame, used_bookings=log_b is not None, notes=notes)


def _ridge(X: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients (intercept first) and the exact leave-one-out residuals."""
    A = np.column_stack([np.ones(len(X)), X])
    penalty = alpha * np.eye(A.shape[1])
    penalty[0, 0] = 0.0  # the intercept is not shrunk
    inv = np.linalg.inv(A.T @ A + penalty)
    beta = inv @ A.T @ y
    leverage = np.einsum("ij,jk,ik->i", A, inv, A)
    return beta, (y - A @ beta) / np.clip(1.0 - leverage, 1e-6, None)


def _residual_quantiles(
    resid: np.ndarray, hours: np.ndarray, target_hours: np.ndarray, level: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per target hour, the residual quantiles of that hour of the day and its two neighbours."""
    tail = (100 - level) / 200
    lo, hi = np.empty(len(target_hours)), np.empty(len(target_hours))
    for i, h in enumerate(target_hours):
        near = np.abs((hours - h + 12) % 24 - 12) <= 1
        r = resid[near] if near.sum() >= 20 else resid
        lo[i], hi[i] = np.quantile(r, [tail, 1 - tail])
    return lo, hi


# --------------------------------------------------------------------------- yardsticks


def seasonal_naive(
    hourly: pd.Series, origin: pd.Timestamp, horizon: int, period: int
) -> np.ndarray:
    """The value ``period`` hours before each forecast hour, repeated for horizons past it."""
    hours = pd.date_range(origin, periods=horizon, freq="h")
    steps = np.arange(horizon) // period + 1  # for horizon <= period: one period back
    src = hours - pd.to_timedelta(steps * period, unit="h")
    return hourly.reindex(src).to_numpy(float)


def naive24_scale(hourly: pd.Series) -> float:
    """In-sample mean absolute error of the 24 h seasonal naive (the MASE denominator)."""
    diff = (hourly - hourly.shift(DAY_H, freq="h").reindex(hourly.index)).abs()
    return float(diff.mean())


def backtest_origins(hourly: pd.Series, origins: int, horizon: int, tz: ZoneInfo) -> list:
    """The last ``origins`` local midnights whose ``horizon`` hours all lie within the series.

    The latest origin is the last local midnight ``m`` with ``m + horizon - 1 h`` at or before the
    series' last hour; the others are the ``origins - 1`` local midnights before it, one a day.
    """
    last = hourly.dropna().index[-1]
    latest = (last - (horizon - 1) * HOUR).tz_convert(tz)
    midnight = latest.normalize() if latest != latest.normalize() else latest
    if midnight > latest:
        midnight -= pd.Timedelta(days=1)
    days = [midnight.date() - dt.timedelta(days=k) for k in range(origins)][::-1]
    return [pd.Timestamp(d).tz_localize(tz).tz_convert("UTC") for d in days]


def backtest(
    series: pd.Series,
    *,
    bookings: pd.Series | None = None,
    horizon: int = DAY_H,
    origins: int = 28,
    tz: str | ZoneInfo = "Asia/Shanghai",
    calendar: Calendar = day_type,
    params: ModelParams | None = None,
) -> dict:
    """Rolling-origin comparison of the model with the 24 h and 168 h seasonal naive (MASE)."""
    tz = ZoneInfo(tz) if isinstance(tz, str) else tz
    hourly = to_hourly(series)
    params = params or ModelParams()
    # The history the first fit needs, and one horizon of actual values to compare with.
    need = params.min_history_days * DAY_H + horizon
    if observed_hours(hourly) < need:
        raise SeriesTooShort(observed_hours(hourly), need)
    rows, seconds, used_bookings = [], [], False
    hit = {level: [] for level in LEVELS}
    for origin in backtest_origins(hourly, origins, horizon, tz):
        train = hourly[hourly.index < origin]
        actual = hourly.reindex(pd.date_range(origin, periods=horizon, freq="h")).to_numpy(float)
        scale = naive24_scale(train)
        if not np.isfinite(scale) or scale == 0 or np.isnan(actual).all():
            continue
        started = time.perf_counter()
        try:
            fc = fit_forecast(
                train,
                origin=origin,
                horizon=horizon,
                bookings=bookings,
                tz=tz,
                calendar=calendar,
                params=params,
            )
        except SeriesTooShort as exc:
            local = origin.tz_convert(tz).date().isoformat()
            raise ForecastError(f"origin {local}: {exc}; ask for fewer origins") from None
        seconds.append(time.perf_counter() - started)
        used_bookings |= fc.used_bookings
        seen = ~np.isnan(actual)
        row = {"origin": origin.tz_convert(tz)}
        preds = {
            "model": fc.frame["mean"].to_numpy(),
            "naive24": seasonal_naive(train, origin, horizon, DAY_H),
            "naive168": seasonal_naive(train, origin, horizon, WEEK_H),
        }
        for name, pred in preds.items():
            err = np.abs(pred - actual)[seen]
            row[name] = float(np.nanmean(err)) / scale if (~np.isnan(err)).any() else np.nan
        rows.append(row)
        for level in LEVELS:
            lo = fc.frame[f"lo{level}"].to_numpy()[seen]
            hi = fc.frame[f"hi{level}"].to_numpy()[seen]
            a = actual[seen]
            hit[level].extend(((a >= lo) & (a <= hi)).tolist())
    if not rows:
        raise ForecastError(
            "no origin could be scored: the 24 h naive's in-sample error is 0 (a constant "
            "series?) or the hours after each origin have no actual values"
        )
    table = pd.DataFrame(rows)
    best_naive = min(table["naive24"].mean(), table["naive168"].mean())
    return {
        "model": MODEL_NAME,
        "origins": len(table),
        "horizon": horizon,
        "first_origin": table["origin"].iloc[0].isoformat(),
        "last_origin": table["origin"].iloc[-1].isoformat(),
        "mase": round(float(table["model"].mean()), 4),
        "mase_naive24": round(float(table["naive24"].mean()), 4),
        "mase_naive168": round(float(table["naive168"].mean()), 4),
        # None when a naive is perfect (a strictly periodic series): no ratio to speak of.
        "ratio_to_best_naive": (
            round(float(table["model"].mean() / best_naive), 4) if best_naive > 0 else None
        ),
        "coverage80": round(float(np.mean(hit[80])), 4),
        "coverage95": round(float(np.mean(hit[95])), 4),
        "seconds_per_fit": round(float(np.mean(seconds)), 4),
        "bookings_used": used_bookings,
    }


# --------------------------------------------------------------------------- peaks, staffing


@dataclass(frozen=True)
class PeakWindows:
    starts: tuple[int, ...]  # local start hours, ascending
    width: int  # hours per window
    share: float  # share of the day's total in these windows together, 0..1

    def labels(self) -> list[str]:
        return [f"{h:02d}:00–{h + self.width:02d}:00" for h in self.starts]


def peak_windows(day: Sequence[float], *, count: int = 2, width: int = 1) -> PeakWindows:
    """The ``count`` non-overlapping windows of ``width`` hours holding most of the day.

    ``day`` is 24 hourly values by local hour (0..23). Windows stay inside the day (no wrap
    past midnight). Ties go to the earlier hours. Exact: every combination is tried.
    """
    values = np.asarray(day, dtype=float)
    if values.shape != (DAY_H,) or np.isnan(values).any():
        raise ForecastError("peak windows need 24 hourly values with none missing")
    total = values.sum()
    sums = np.array([values[h : h + width].sum() for h in range(DAY_H - width + 1)])
    best, best_sum = None, -1.0
    for starts in combinations(range(len(sums)), count):
        if any(b - a < width for a, b in zip(starts, starts[1:], strict=False)):
            continue
        s = float(sums[list(starts)].sum())
        if s > best_sum + 1e-9:
            best, best_sum = starts, s
    if best is None:
        raise ForecastError(f"{count} windows of {width} h do not fit in a day")
    return PeakWindows(tuple(best), width, float(best_sum / total) if total > 0 else 0.0)


def peak_sentence(windows: PeakWindows, lang: str = "zh") -> str:
    """``"09:00–10:00 and 12:00–13:00 hold 41% of the day's arrivals"`` in ``lang``."""
    from dashboard.i18n import t  # the catalogue is plain data; no Dash behind it

    labels = windows.labels()
    if len(labels) == 1:
        return t(
            "forecast.peak_sentence_one", lang, windows=labels[0], share=f"{windows.share:.0%}"
        )
    *head, last = labels
    joined = t("list.separator", lang).join(head) + t("forecast.and", lang) + last
    return t("forecast.peak_sentence", lang, windows=joined, share=f"{windows.share:.0%}")


def checkers_needed(upper: float, *, throughput: float, minimum: int) -> int:
    """max(minimum, ceil(upper / throughput)); an exact multiple needs no extra checker."""
    if throughput <= 0:
        raise ForecastError("throughput per checker must be positive")
    ratio = upper / throughput
    # Floating noise (400.0000000001 / 100) must not add a checker.
    return max(minimum, math.ceil(round(ratio, 9)))


def staffing(
    forecast: pd.DataFrame,
    *,
    throughput: float,
    minimum: int,
    roster: int | Sequence[int],
    tz: str | ZoneInfo = "Asia/Shanghai",
) -> pd.DataFrame:
    """Per forecast hour: local hour, checkers needed (from hi80), rostered, and the extra."""
    tz = ZoneInfo(tz) if isinstance(tz, str) else tz
    needed = [checkers_needed(u, throughput=throughput, minimum=minimum) for u in forecast["hi80"]]
    local_hours = forecast.index.tz_convert(tz).hour
    if isinstance(roster, int):
        rostered = np.full(len(forecast), roster)
    else:
        rostered = np.asarray(roster, dtype=int)[local_hours]
    out = pd.DataFrame(
        {"hour": local_hours, "needed": needed, "rostered": rostered}, index=forecast.index
    )
    out["extra"] = (out["needed"] - out["rostered"]).clip(lower=0)
    return out


def extra_in_windows(plan: pd.DataFrame, windows: PeakWindows) -> int:
    """Checker-hours to add over the roster inside the peak windows."""
    inside = np.zeros(len(plan), dtype=bool)
    for start in windows.starts:
        inside |= (plan["hour"] >= start) & (plan["hour"] < start + windows.width)
    return int(plan.loc[inside, "extra"].sum())
