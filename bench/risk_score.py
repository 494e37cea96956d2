# ruff: noqa: T201 - a benchmark prints its figures
"""How fast the community-risk model scores a large district, next to the row-by-row way.

    .venv/bin/python bench/risk_score.py [--compounds 13000] [--runs 30] [--job-runs 5]

13,000 compounds × 13 indicators (about Pudong's 2,790 compounds four times over), synthetic and
seeded. It measures:

a. the computation alone, ``risk.score(codes, values, population, model)``: median of N runs
   (target ≤ 20 ms);
b. the whole job on SQLite, ``risk.score_day`` in one transaction: read the compounds and two
   days of indicator values (the day before feeds the carry-forward), score, replace the day's
   13,000 rows, bump the data version, commit: median of M runs (target ≤ 5 s);
c. the same formula row by row with ``DataFrame.apply(axis=1)``, the usual pandas way, checked
   to give the same scores, and how many times slower it is than (a) (≥ 20× expected).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboard import migrate, risk  # noqa: E402 - after the path is set
from dashboard.db import get_engine, session_scope  # noqa: E402
from dashboard.models import Area, AreaLevel, IndicatorValue  # noqa: E402

DAY = dt.date(2026, 11, 20)
SEED = 20200301


def synthetic(n: int, model: risk.RiskModel, rng: np.random.Generator):
    """Values around each indicator's cap (so every band occurs), 1 % blanks, a few zero-resident
    compounds; population 200..6,000."""
    codes = np.array([f"310104{i:09d}" for i in range(n)], dtype=object)
    population = rng.integers(200, 6000, n).astype(float)
    population[rng.random(n) < 0.002] = 0.0
    heat = np.where(rng.random(n) < 0.05, 1.5, 0.45)
    scale = np.where(model.per_1000, 1.0, 0.0)[None, :] * (population[:, None] / 1000.0)
    scale = scale + np.where(model.per_1000, 0.0, 1.0)[None, :]
    values = model.caps[None, :] * scale * rng.uniform(0, 1, (n, len(model.keys))) * heat[:, None]
    values = np.round(values, 3)
    values[rng.random(values.shape) < 0.01] = np.nan
    return codes, values, population


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def row_by_row(frame: pd.DataFrame, model: risk.RiskModel) -> pd.Series:
    """The same rule, one compound at a time, as one would first write it in pandas."""
    indicators = model.indicators

    def one(row: pd.Series) -> float:
        total = 0.0
        for item in indicators:
            value = row[item.key]
            if item.basis == "per_1000_residents":
                pop = row["population"]
                value = value / pop * 1000 if pop > 0 else math.nan
            if math.isnan(value):
                continue
            total += item.weight * 100 * min(max(value, 0.0) / item.cap, 1.0)
        return total

    return frame.apply(one, axis=1)


def build_database(url: str, codes, values, population, model: risk.RiskModel) -> None:
    """13,000 compounds under 20 subdistricts and 650 committees, and two days of values."""
    migrate.upgrade(url)
    n = len(codes)
    areas = [{"code": "310104", "level": AreaLevel.DISTRICT, "name": "区", "is_virtual": False}]
    subs = [f"310104{s:03d}" for s in range(20)]
    committees = [f"{subs[c % 20]}{c:03d}" for c in range(650)]
    areas += [
        {"code": s, "level": AreaLevel.SUBDISTRICT, "name": s, "parent_code": "310104",
         "is_virtual": False}
        for s in subs
    ]
    areas += [
        {"code": c, "level": AreaLevel.COMMITTEE, "name": c, "parent_code": c[:9],
         "is_virtual": False}
        for c in committees
    ]
    areas += [
        {"code": code, "level": AreaLevel.COMPOUND, "name": code,
         "parent_code": committees[i % 650], "population": int(population[i]),
         "is_virtual": False}
        for i, code in enumerate(codes)
    ]
    rng = np.random.default_rng(SEED + 1)
    records = []
    for day, day_values in ((DAY - dt.timedelta(days=1), values), (DAY, values)):
        # The day before differs a little; the day itself has its 1 % of blanks.
        jitter = 1.0 if day == DAY else rng.uniform(0.8, 1.2, values.shape)
        day_values = np.round(day_values * jitter, 3)
        for i in range(n):
            for j, key in enumerate(model.keys):
                v = day_values[i, j]
                if not math.isnan(v):
                    records.append(
                        {"date": day, "compound_code": codes[i], "indicator": key, "value": v}
                    )
    with session_scope(url) as s:
        s.execute(Area.__table__.insert(), areas)
        for start in range(0, len(records), 50_000):
            s.execute(IndicatorValue.__table__.insert(), records[start : start + 50_000])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compounds", type=int, default=13_000)
    parser.add_argument("--runs", type=int, default=30, help="runs of the computation (a)")
    parser.add_argument("--job-runs", type=int, default=5, help="runs of the whole job (b)")
    parser.add_argument("--apply-runs", type=int, default=3, help="runs of DataFrame.apply (c)")
    args = parser.parse_args()

    model = risk.load_model()
    rng = np.random.default_rng(SEED)
    codes, values, population = synthetic(args.compounds, model, rng)
    n, k = values.shape
    print(f"risk model {model.version}: {n:,} compounds × {k} indicators (seed {SEED})")

    # (a) the computation
    scores = risk.score(codes, values, population, model)
    compute = timed(lambda: risk.score(codes, values, population, model), args.runs)
    a = statistics.median(compute)
    bands = {b: int((scores.band == b).sum()) for b in risk.BANDS}
    print(f"  bands: red {bands['red']:,}, yellow {bands['yellow']:,}, blue {bands['blue']:,}; "
          f"incomplete {int((~scores.complete).sum()):,}")
    print(f"(a) risk.score:            median {a * 1e3:7.2f} ms over {args.runs} runs "
          f"(min {min(compute) * 1e3:.2f}, max {max(compute) * 1e3:.2f})   target ≤ 20 ms")

    # (c) row by row, same formula, same run
    frame = pd.DataFrame(values, columns=list(model.keys))
    frame["population"] = population
    slow = row_by_row(frame, model)
    if not np.allclose(slow.to_numpy(), scores.score, rtol=0, atol=1e-9):
        raise SystemExit("row-by-row scores differ from risk.score: the comparison is void")
    applied = timed(lambda: row_by_row(frame, model), args.apply_runs)
    c = statistics.median(applied)
    print(f"(c) DataFrame.apply(axis=1): median {c * 1e3:7.1f} ms over {args.apply_runs} runs, "
          f"same scores; {c / a:,.0f}× slower than (a)   expected ≥ 20×")

    # (b) the whole job on SQLite
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        started = time.perf_counter()
        build_database(url, codes, values, population, model)
        print(f"  (set-up: {n:,} compounds and two days of values written in "
              f"{time.perf_counter() - started:.1f} s)")

        def job() -> None:
            with session_scope(url) as session:
                risk.score_day(DAY, session=session, model=model, carry_days=3)

        def read_only() -> None:
            with session_scope(url) as session:
                risk.day_inputs(DAY, session=session, model=model, carry_days=3)

        jobs = timed(job, args.job_runs)
        reads = timed(read_only, args.job_runs)
        b = statistics.median(jobs)
        print(f"(b) whole job on SQLite:   median {b:7.2f} s  over {args.job_runs} runs "
              f"(min {min(jobs):.2f}, max {max(jobs):.2f})   target ≤ 5 s")
        print(f"      of which reading the day: median {statistics.median(reads):.2f} s")
        get_engine(url).dispose()


if __name__ == "__main__":
    main()
