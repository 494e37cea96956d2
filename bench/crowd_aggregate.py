# ruff: noqa: T201 - a benchmark prints its figures
"""How fast one crowd window of 1,000,000 pings is aggregated, next to the usual ways.

    .venv/bin/python bench/crowd_aggregate.py [--pings 1000000] [--runs 15] [--h3-points 1000000]

One million pings (seeded), spread over Xuhui the way people are: most around ~950 housing
compounds, a share around office clusters, crowds at Xujiahui and the South Station, and a
uniform background; all inside the district outline (data/geo), all in one 15-minute window,
with weights. It measures, all in one run, on one core:

a. ``crowd.aggregate`` (numpy: floor bin arithmetic, one packed key, ``bincount``): people
   (Σ weight) and observations per 250 m cell; median of N runs (target ≤ 200 ms);
b. ``numpy.histogram2d`` over the same grid (uniform bins aligned to it), twice (weights for
   people, none for observations, as (a) gives both); median of N runs; checked to agree;
c. a per-point h3-py loop, ``h3.latlng_to_cell`` at resolution 9 (0.105 km², the H3 cell
   nearest our 0.0625 km²) and a ``Counter`` of people and pings per cell; median of 3 runs
   over ``--h3-points`` points, scaled to the million if fewer;
d. for information, PostgreSQL's in-database GROUP BY (``crowd.aggregate_window_in_db``) over
   the same pings COPYed into a temporary database; median of 3, checked to agree with (a).

It prints the medians and the ratio of (a) to the slower of (b) and (c) (target ≥ 10×).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core, whatever numpy was built with
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402
from shapely.geometry import shape  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboard import crowd  # noqa: E402

SEED = 20200301
WINDOW = dt.datetime(2026, 11, 21, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai
PG_URL = os.environ.get(
    "DASHBOARD_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
THRESHOLDS = (10_000.0, 30_000.0, 60_000.0)


def district() -> shapely.Geometry:
    doc = json.loads((ROOT / "data/geo/xuhui_district_outline.geojson").read_text("utf-8"))
    outline = shapely.union_all([shape(f["geometry"]) for f in doc["features"]])
    shapely.prepare(outline)
    return outline


def inside_points(outline: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    west, south, east, north = outline.bounds
    out = np.empty((0, 2))
    while len(out) < n:
        pts = np.column_stack([rng.uniform(west, east, 2 * n), rng.uniform(south, north, 2 * n)])
        out = np.vstack([out, pts[shapely.contains_xy(outline, pts[:, 0], pts[:, 1])]])
    return out[:n]


def synthetic_pings(n: int, outline: shapely.Geometry, rng: np.random.Generator):
    """ts (datetime64[us], UTC), lon, lat, weight: a 09:00 weekday window's pings."""
    homes = inside_points(outline, 950, rng)
    offices = inside_points(outline, 60, rng)
    hotspots = np.array([[121.4365, 31.1950], [121.4299, 31.1545]])
    groups = [  # centres, share of pings, spread in degrees of latitude
        (homes, 0.55, 0.0010),
        (offices, 0.30, 0.0010),
        (hotspots, 0.10, 0.0025),
        (None, 0.05, 0.0),  # background, uniform over the district
    ]
    lons, lats = [], []
    for centres, share, spread in groups:
        k = int(round(n * share * 1.15))
        if centres is None:
            pts = inside_points(outline, k, rng)
            lons.append(pts[:, 0])
            lats.append(pts[:, 1])
            continue
        pick = rng.integers(0, len(centres), k)
        lons.append(centres[pick, 0] + rng.normal(0, spread * 1.17, k))
        lats.append(centres[pick, 1] + rng.normal(0, spread, k))
    lon, lat = np.concatenate(lons), np.concatenate(lats)
    keep = shapely.contains_xy(outline, lon, lat)
    lon, lat = lon[keep], lat[keep]
    keep = rng.permutation(len(lon))[:n]
    lon, lat = np.round(lon[keep], 6), np.round(lat[keep], 6)
    assert len(lon) == n, "not enough points drawn inside the district"
    start = np.datetime64(WINDOW.replace(tzinfo=None), "us")
    ts = start + rng.integers(0, 900_000_000, n).astype("timedelta64[us]")
    weight = np.round(rng.uniform(0.8, 1.6, n), 2)  # ~1.2 million people in a window
    return ts, lon, lat, weight


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def histogram2d_way(grid: crowd.Grid, lon: np.ndarray, lat: np.ndarray, weight: np.ndarray):
    """People and pings per cell with numpy.histogram2d: uniform bins on our grid's edges."""
    (ix0, ix1), (iy0, iy1) = grid.cell_of(
        np.array([lon.min(), lon.max()]), np.array([lat.min(), lat.max()])
    )
    nx, ny = int(ix1 - ix0 + 1), int(iy1 - iy0 + 1)
    edges = [
        [grid.edges_lon(ix0), grid.edges_lon(ix1 + 1)],
        [grid.edges_lat(iy0), grid.edges_lat(iy1 + 1)],
    ]
    people, _, _ = np.histogram2d(lon, lat, bins=(nx, ny), range=edges, weights=weight)
    pings, _, _ = np.histogram2d(lon, lat, bins=(nx, ny), range=edges)
    return people, pings, (int(ix0), int(iy0))


def h3_way(lat: np.ndarray, lon: np.ndarray, weight: np.ndarray, resolution: int):
    import h3

    people: Counter[str] = Counter()
    pings: Counter[str] = Counter()
    for y, x, w in zip(lat.tolist(), lon.tolist(), weight.tolist(), strict=True):
        cell = h3.latlng_to_cell(y, x, resolution)
        people[cell] += w
        pings[cell] += 1
    return people, pings


def postgresql_way(ts, lon, lat, weight, grid: crowd.Grid, runs: int):
    """COPY the pings into a temporary database, then time the in-database aggregation."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from dashboard import migrate
    from dashboard.db import get_engine, session_scope
    from dashboard.models import ImportBatch

    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text("select 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        print(f"d. PostgreSQL: not reachable at {PG_URL} ({type(exc).__name__}); skipped")
        return None
    name = f"bench_crowd_{uuid.uuid4().hex[:8]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url)
        with session_scope(url) as s:
            batch = ImportBatch(
                kind="pings",
                filename="bench.csv",
                sha256="0" * 64,
                status="loaded",
                rows_read=len(lon),
                rows_loaded=len(lon),
            )
            s.add(batch)
            s.flush()
            batch_id = batch.id
        started = time.perf_counter()
        stamps = pd.to_datetime(ts, utc=True)
        with get_engine(url).raw_connection() as raw:
            driver = raw.driver_connection
            with (
                driver.cursor() as cur,
                cur.copy("COPY pings (ts, lon, lat, weight, batch_id) FROM STDIN") as copy,
            ):
                for row in zip(stamps, lon.tolist(), lat.tolist(), weight.tolist(), strict=True):
                    copy.write_row((row[0].to_pydatetime(), row[1], row[2], row[3], batch_id))
            driver.commit()
            with driver.cursor() as cur:
                cur.execute("ANALYZE pings")
            driver.commit()
        print(
            f"   (PostgreSQL: {len(lon):,} pings loaded by COPY in "
            f"{time.perf_counter() - started:.1f} s)"
        )
        frames = []

        def run():
            with session_scope(url) as s:
                frames.append(
                    crowd.aggregate_window_in_db(
                        session=s, start=WINDOW, end=WINDOW + dt.timedelta(minutes=15), grid=grid
                    )
                )

        run()  # warm the cache: the table is read from memory, as on a busy server
        times = timed(run, runs)
        return times, frames[-1]
    finally:
        get_engine(url).dispose()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pings", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=15, help="runs of (a) and (b)")
    parser.add_argument("--h3-points", type=int, default=1_000_000, help="points for (c)")
    parser.add_argument("--h3-resolution", type=int, default=9)
    parser.add_argument("--pg-runs", type=int, default=3)
    parser.add_argument("--no-pg", action="store_true", help="skip (d)")
    args = parser.parse_args()

    rng = np.random.default_rng(SEED)
    outline = district()
    grid = crowd.Grid(121.38, 31.10, 250.0)
    ts, lon, lat, weight = synthetic_pings(args.pings, outline, rng)
    print(
        f"{len(lon):,} pings in one 15-minute window over Xuhui (seed {SEED}), "
        f"{weight.sum():,.0f} people; grid {grid.cell_m:.0f} m "
        f"({grid.cell_area_km2} km² cells)"
    )

    # a. ours
    result = crowd.aggregate(ts, lon, lat, weight, grid=grid)
    ours = timed(lambda: crowd.aggregate(ts, lon, lat, weight, grid=grid), args.runs)
    levels = crowd.level_of(result["density_km2"].to_numpy(), THRESHOLDS)
    shown = crowd.visible(result, 10).to_numpy()
    print(
        f"   {len(result):,} cells with pings; shown (≥ 10 pings): {shown.sum():,}; levels of "
        "those: " + ", ".join(f"{lv} {int((levels[shown] == lv).sum())}" for lv in crowd.LEVELS)
    )
    a = statistics.median(ours)
    print(
        f"a. crowd.aggregate (numpy, bincount): median {ms(a)} over {args.runs} runs "
        f"(min {ms(min(ours))}, max {ms(max(ours))}); target ≤ 200 ms"
    )

    # b. numpy.histogram2d
    people, pings, (ix0, iy0) = histogram2d_way(grid, lon, lat, weight)
    hx, hy = np.nonzero(pings)
    check = pd.DataFrame({"cell_id": grid.cell_ids(hx + ix0, hy + iy0), "n": pings[hx, hy]})
    merged = result.merge(check, on="cell_id", how="outer")
    moved = int((merged["observations"].fillna(0) != merged["n"].fillna(0)).sum())
    hist = timed(lambda: histogram2d_way(grid, lon, lat, weight), args.runs)
    b = statistics.median(hist)
    print(
        f"b. numpy.histogram2d (weights + counts): median {ms(b)} over {args.runs} runs; "
        f"cells agreeing with (a): {len(merged) - moved:,} of {len(merged):,}"
    )

    # c. h3-py, point by point
    import h3

    m = min(args.h3_points, len(lon))
    res = args.h3_resolution
    h3_people, _ = h3_way(lat[:m], lon[:m], weight[:m], res)
    h3_times = timed(lambda: h3_way(lat[:m], lon[:m], weight[:m], res), 3)
    scale = len(lon) / m
    c = statistics.median(h3_times) * scale
    how = "" if scale == 1 else f" ({m:,} points, ×{scale:g} to the million)"
    print(
        f"c. h3.latlng_to_cell loop, resolution {res} "
        f"({h3.average_hexagon_area(res, 'km^2'):.3f} km² cells, {len(h3_people):,} cells): "
        f"median {ms(c)} over 3 runs{how}"
    )

    slower = max(b, c)
    which = "histogram2d" if b >= c else "h3 loop"
    print(
        f"=> ours is {slower / a:,.0f}× faster than the slower of (b) and (c) ({which}); "
        f"{b / a:,.1f}× histogram2d, {c / a:,.0f}× the h3 loop; target ≥ 10×"
    )

    # d. PostgreSQL in-database
    if args.no_pg:
        return
    pg = postgresql_way(ts, lon, lat, weight, grid, args.pg_runs)
    if pg is not None:
        times, frame = pg
        same = frame.equals(result)
        print(
            f"d. PostgreSQL GROUP BY (aggregate_window_in_db, one window): median "
            f"{ms(statistics.median(times))} over {len(times)} runs; identical to (a): {same}"
        )


if __name__ == "__main__":
    main()
