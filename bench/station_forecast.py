# ruff: noqa: T201 - a benchmark prints its figures
"""Which forecast for station arrivals: MASE and seconds per fit, on the same origins, in one run.

    python bench/station_forecast.py [CSV ...] [--time-col C --value-col C --tz Z --times-in Z]
                                     [--calendar cn|none] [--origins 28] [--stations 30]

With no CSV, the two real series in ../shared/data/series/ (read there, never copied):
Southern Cross station, Melbourne (hourly, UTC times, local days in Australia/Melbourne) and NYC
taxi passengers (half-hourly, local clock read as fixed). Both use ``--calendar none``: China's
holidays mean nothing there. For each series, on the last ORIGINS local midnights, horizon 24:

- the 24 h and the 168 h seasonal naive;
- MSTL (statsmodels; periods 24 and 168, on the last 8 weeks) with the deseasonalised part
  forecast by ETS (damped additive trend) and, separately, by ARIMA(2,0,1);
- Prophet (daily and weekly seasonality, last 8 weeks), if it imports;
- the chosen model, ``dashboard.forecast.fit_forecast``.

A model that does not import is reported "not installed" and the rest still runs. Then the
hourly job's work for 30 stations (fit, forecast, peak windows, staffing), simulated on 30
synthetic stations shaped like the simulator's. statsmodels and Prophet are not dependencies of
the product: run this with a separate venv that has them (docs/forecast.md).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboard import forecast as F  # noqa: E402 - after the path is set
from dashboard.cli import read_series_csv  # noqa: E402
from dashboard.holidays import day_type, weekdays_only  # noqa: E402

SERIES_DIR = ROOT.parent / "shared" / "data" / "series"
# The two reference series and how to read them: time column, value column, zone of the
# written times, zone of the local days.
KNOWN = {
    "melbourne_southern_cross_station_hourly.csv": (
        "date_time_utc",
        "Count",
        "UTC",
        "Australia/Melbourne",
    ),
    "nyc_taxi_passengers_halfhourly.csv": ("timestamp", "value", "UTC", "UTC"),
}
FIT_WEEKS = 8  # the statistical baselines' training window
Forecaster = Callable[[pd.Series, pd.Timestamp], np.ndarray]


def _window(train: pd.Series) -> pd.Series:
    """The last FIT_WEEKS weeks, gaps filled by interpolation (MSTL and ETS take no NaN)."""
    tail = train.iloc[-FIT_WEEKS * F.WEEK_H :]
    return tail.interpolate(limit_direction="both")


def mstl_forecaster(kind: str) -> Forecaster | str:
    try:
        from statsmodels.tsa.arima.model import ARIMA
        from statsmodels.tsa.holtwinters import ExponentialSmoothing
        from statsmodels.tsa.seasonal import MSTL
    except ImportError:
        return "not installed"

    def run(train: pd.Series, origin: pd.Timestamp) -> np.ndarray:
        y = np.log1p(_window(train).clip(lower=0).to_numpy())
        res = MSTL(y, periods=(F.DAY_H, F.WEEK_H)).fit()
        seasonal = np.asarray(res.seasonal)
        # Each seasonal component repeats its last cycle; the rest is forecast by ETS or ARIMA.
        season = seasonal[-F.DAY_H :, 0] + seasonal[-F.WEEK_H : -F.WEEK_H + F.DAY_H, 1]
        deseason = y - seasonal.sum(axis=1)
        if kind == "ets":
            rest = ExponentialSmoothing(deseason, trend="add", damped_trend=True).fit()
        else:
            rest = ARIMA(deseason, order=(2, 0, 1)).fit()
        return np.expm1(season + rest.forecast(F.DAY_H))

    return run


def prophet_forecaster() -> Forecaster | str:
    try:
        from prophet import Prophet
    except ImportError:
        return "not installed"
    logging.getLogger("cmdstanpy").setLevel(logging.ERROR)
    logging.getLogger("prophet").setLevel(logging.ERROR)

    def run(train: pd.Series, origin: pd.Timestamp) -> np.ndarray:
        tail = train.iloc[-FIT_WEEKS * F.WEEK_H :].dropna()
        frame = pd.DataFrame({"ds": tail.index.tz_localize(None), "y": np.log1p(tail.to_numpy())})
        model = Prophet(daily_seasonality=True, weekly_seasonality=True, yearly_seasonality=False)
        model.fit(frame)
        future = pd.DataFrame(
            {"ds": pd.date_range(origin, periods=F.DAY_H, freq="h").tz_localize(None)}
        )
        return np.expm1(model.predict(future)["yhat"].to_numpy())

    return run


def evaluate(hourly: pd.Series, tz: ZoneInfo, origins: int, models: dict) -> dict[str, tuple]:
    """Mean MASE and seconds per fit of each model on the same origins (or its failure)."""
    scores: dict[str, list[float]] = {name: [] for name in models}
    seconds: dict[str, list[float]] = {name: [] for name in models}
    failed: dict[str, str] = {}
    for origin in F.backtest_origins(hourly, origins, F.DAY_H, tz):
        train = hourly[hourly.index < origin]
        actual = hourly.reindex(pd.date_range(origin, periods=F.DAY_H, freq="h")).to_numpy()
        scale = F.naive24_scale(train)
        seen = ~np.isnan(actual)
        for name, model in models.items():
            if isinstance(model, str) or name in failed:
                continue
            started = time.perf_counter()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    pred = model(train, origin)
            except Exception as exc:  # noqa: BLE001 - a baseline that breaks is reported, not fatal
                failed[name] = f"failed: {type(exc).__name__}: {exc}"[:60]
                continue
            seconds[name].append(time.perf_counter() - started)
            scores[name].append(float(np.nanmean(np.abs(pred - actual)[seen])) / scale)
    out = {}
    for name, model in models.items():
        if isinstance(model, str):
            out[name] = (model,)
        elif name in failed:
            out[name] = (failed[name],)
        else:
            out[name] = (float(np.mean(scores[name])), float(np.mean(seconds[name])))
    return out


def hourly_job(stations: int, seed: int = 20200301) -> float:
    """Seconds for the hourly job's computing: fit, forecast, peaks, staffing for N stations."""
    from dashboard.feeds.simulator import METRO_PROFILE, SOUTH_STATION_PROFILE

    rng = np.random.default_rng(seed)
    tz = "Asia/Shanghai"
    index = pd.date_range(pd.Timestamp("2026-01-05", tz=tz), periods=13 * F.WEEK_H, freq="h")
    local = index.tz_convert(tz)
    series = []
    for k in range(stations):
        profile = SOUTH_STATION_PROFILE if k == 0 else METRO_PROFILE
        daily = 5000 if k == 0 else rng.integers(8000, 38000)
        off = np.array([day_type(d).is_off for d in local.date])
        mean = daily * profile[local.hour] * np.where(off, 0.55 if k else 1.0, 1.0)
        series.append(pd.Series(rng.poisson(mean).astype(float), index=index))
    started = time.perf_counter()
    for s in series:
        fc = F.fit_forecast(s, tz=tz)
        day = fc.frame["mean"].to_numpy()
        windows = F.peak_windows(np.roll(day, -int(fc.frame.index[0].tz_convert(tz).hour)))
        F.peak_sentence(windows, "zh")
        plan = F.staffing(fc.frame, throughput=200, minimum=2, roster=4, tz=tz)
        F.extra_in_windows(plan, windows)
    return time.perf_counter() - started


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("csv", nargs="*", type=Path, help="series to test (default: the two real ones)")
    p.add_argument("--time-col")
    p.add_argument("--value-col")
    p.add_argument("--tz", default="Asia/Shanghai", help="zone of the local days (own CSVs)")
    p.add_argument("--times-in", help="zone of times written without offset (default: --tz)")
    p.add_argument("--calendar", choices=["cn", "none"], default="cn", help="own CSVs only")
    p.add_argument("--origins", type=int, default=28)
    p.add_argument("--stations", type=int, default=30)
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)

    paths = args.csv or [SERIES_DIR / name for name in KNOWN if (SERIES_DIR / name).is_file()]
    for path in paths:
        if path.name in KNOWN and not args.time_col:
            time_col, value_col, times_in, tz_name = KNOWN[path.name]
            calendar = weekdays_only
        else:
            if not (args.time_col and args.value_col):
                print(f"{path}: give --time-col and --value-col")
                return 2
            time_col, value_col = args.time_col, args.value_col
            times_in, tz_name = args.times_in or args.tz, args.tz
            calendar = day_type if args.calendar == "cn" else weekdays_only
        values, _ = read_series_csv(
            path, time_col=time_col, value_col=value_col, bookings_col=None, times_in=times_in
        )
        hourly = F.to_hourly(values)
        tz = ZoneInfo(tz_name)
        models: dict[str, Forecaster | str] = {
            "seasonal naive 24 h": lambda tr, o: F.seasonal_naive(tr, o, F.DAY_H, F.DAY_H),
            "seasonal naive 168 h": lambda tr, o: F.seasonal_naive(tr, o, F.DAY_H, F.WEEK_H),
            "MSTL + ETS": mstl_forecaster("ets"),
            "MSTL + ARIMA(2,0,1)": mstl_forecaster("arima"),
            "Prophet": prophet_forecaster(),
            f"chosen: {F.MODEL_NAME}": lambda tr, o, tz=tz, calendar=calendar: (
                F.fit_forecast(tr, origin=o, tz=tz, calendar=calendar).frame["mean"].to_numpy()
            ),
        }
        result = evaluate(hourly, tz, args.origins, models)
        best = min(result["seasonal naive 24 h"][0], result["seasonal naive 168 h"][0])
        print(f"\n{path.name}: {args.origins} daily origins, horizon 24 h, local days {tz_name}")
        print(f"  {'model':<28} {'MASE':>7} {'x best naive':>13} {'s per fit':>10}")
        for name, row in result.items():
            if len(row) == 1:
                print(f"  {name:<28} {row[0]}")
            else:
                print(f"  {name:<28} {row[0]:>7.3f} {row[0] / best:>13.3f} {row[1]:>10.4f}")
    seconds = hourly_job(args.stations)
    print(
        f"\nhourly job, {args.stations} stations (13 weeks each): {seconds:.2f} s "
        f"({seconds / args.stations * 1000:.0f} ms a station; target <= 60 s, <= 1 s each)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
