"""The crowd heatmap's pure logic: the grid, the levels, the small-count rule, the aggregation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import shape

from dashboard.config import PROJECT_ROOT, Settings
from dashboard.crowd import (
    LEVELS,
    Grid,
    aggregate,
    aggregate_counts,
    combine,
    grid_from_settings,
    level_of,
    visible,
)

GRID = Grid(121.38, 31.10, 250.0)
T0 = np.datetime64("2026-11-21T01:00:00", "us")  # 09:00 in Shanghai
THRESHOLDS = (10_000.0, 30_000.0, 60_000.0)


def district_outline() -> shapely.Geometry:
    doc = json.loads((PROJECT_ROOT / "data/geo/xuhui_district_outline.geojson").read_text("utf-8"))
    return shapely.union_all([shape(f["geometry"]) for f in doc["features"]])


# --------------------------------------------------------------------------- grid


def test_crowd001_cells_are_250_m_squares_of_equal_area_over_the_district():
    # Measured on the ellipsoid, at the district's south and north edges.
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    for iy in (0, 50):  # 31.10°N and ~31.21°N
        square = GRID.polygon(f"20:{iy}")
        area = abs(geod.geometry_area_perimeter(square)[0])
        assert area == pytest.approx(62_500, rel=0.002)
    assert GRID.cell_area_km2 == 0.0625


@pytest.mark.parametrize("ix", [0, 1, 7, 33])
@pytest.mark.parametrize("iy", [0, 1, 12, 53])
def test_crowd002_a_point_on_a_cell_edge_goes_to_the_higher_cell(ix, iy):
    lon, lat = GRID.edges_lon(np.array([ix])), GRID.edges_lat(np.array([iy]))
    got = GRID.cell_of(lon, lat)
    assert (got[0][0], got[1][0]) == (ix, iy)
    # One centimetre west and south is the cell below on both axes.
    below = GRID.cell_of(lon - 0.01 / GRID.m_per_deg_lon, lat - 0.01 / GRID.m_per_deg_lat)
    assert (below[0][0], below[1][0]) == (ix - 1, iy - 1)
    # And the cell's own polygon has that corner.
    west, south, *_ = GRID.polygon(f"{ix}:{iy}").bounds
    assert (west, south) == pytest.approx((lon[0], lat[0]), abs=1e-12)


def test_crowd003_origin_is_the_corner_of_cell_0_0_and_points_west_are_negative():
    ix, iy = GRID.cell_of(np.array([121.38, 121.3799, 121.38]), np.array([31.10, 31.10, 31.0999]))
    assert ix.tolist() == [0, -1, 0] and iy.tolist() == [0, 0, -1]
    assert GRID.cell_ids(ix, iy).tolist() == ["0:0", "-1:0", "0:-1"]
    assert GRID.parse(["-1:0", "12:34"])[0].tolist() == [-1, 12]
    with pytest.raises(ValueError):
        GRID.parse(["12-34"])


def test_crowd004_cell_ids_round_trip_through_centres():
    ids = ["0:0", "5:9", "33:53"]
    lon, lat = GRID.centres(ids)
    assert GRID.cell_ids(*GRID.cell_of(lon, lat)).tolist() == ids


def test_crowd005_cells_covering_the_district_cover_its_area():
    outline = district_outline()
    cells = GRID.cells_covering(outline)
    squares = shapely.union_all([GRID.polygon(c) for c in cells])
    assert squares.covers(outline)
    # ~55 km² of district in 0.0625 km² cells, plus the cells cut by the outline.
    assert 880 < len(cells) < 1100
    assert all(GRID.polygon(c).intersects(outline) for c in cells)


def test_crowd006_grid_from_settings_uses_the_crowd_settings():
    s = Settings(crowd_cell_m=500, crowd_origin_lon=121.0, crowd_origin_lat=31.0)
    assert grid_from_settings(s) == Grid(121.0, 31.0, 500.0)


# --------------------------------------------------------------------------- levels


@pytest.mark.parametrize(
    ("density", "level"),
    [
        (0.0, "blue"),
        (9_999.99, "blue"),
        (10_000.0, "green"),  # each edge belongs to the level above it
        (29_999.99, "green"),
        (30_000.0, "yellow"),
        (59_999.99, "yellow"),
        (60_000.0, "red"),
        (2_000_000.0, "red"),
    ],
)
def test_crowd010_level_thresholds_at_each_edge(density, level):
    assert level_of(np.array([density]), THRESHOLDS).tolist() == [level]


def test_crowd011_levels_are_the_four_fixed_colours_in_order():
    assert LEVELS == ("blue", "green", "yellow", "red")
    assert level_of(np.array([1, 2, 3, 4.0]), [1.5, 2.5, 3.5]).tolist() == list(LEVELS)


@pytest.mark.parametrize("bad", [[1, 2], [3, 2, 1], [1, 1, 2], [0, 10, 20, 30]])
def test_crowd012_thresholds_must_be_three_ascending_numbers(bad):
    with pytest.raises(ValueError):
        level_of(np.array([1.0]), bad)
    with pytest.raises(ValueError):
        Settings(crowd_thresholds_km2=bad)


def test_crowd013_default_thresholds_are_valid():
    assert Settings().crowd_thresholds_km2 == [10_000.0, 30_000.0, 60_000.0]
    with pytest.raises(ValueError):
        Settings(crowd_window_minutes=7)  # does not divide a day


# --------------------------------------------------------------------------- aggregation


def _pings(n_per_cell: dict[tuple[int, int], int], *, t=T0, weight=1.0):
    lon, lat = [], []
    for (ix, iy), n in n_per_cell.items():
        clon, clat = GRID.edges_lon(np.array([ix + 0.5])), GRID.edges_lat(np.array([iy + 0.5]))
        lon += [clon[0]] * n
        lat += [clat[0]] * n
    n = len(lon)
    return np.full(n, t), np.array(lon), np.array(lat), np.full(n, weight)


def test_crowd020_aggregate_sums_weights_and_counts_observations_per_cell_and_window():
    ts, lon, lat, w = _pings({(3, 4): 12, (5, 6): 2}, weight=250.0)
    later = ts + np.timedelta64(15, "m")
    frame = aggregate(
        np.concatenate([ts, later]),
        np.concatenate([lon, lon]),
        np.concatenate([lat, lat]),
        np.concatenate([w, w / 2]),
        grid=GRID,
    )
    assert frame["cell_id"].tolist() == ["3:4", "5:6", "3:4", "5:6"]
    assert frame["observations"].tolist() == [12, 2, 12, 2]
    assert frame["count"].tolist() == [3000.0, 500.0, 1500.0, 250.0]
    assert frame["density_km2"].tolist() == [48_000.0, 8_000.0, 24_000.0, 4_000.0]
    starts = frame["window_start"].drop_duplicates().tolist()
    assert starts == [pd.Timestamp("2026-11-21T01:00Z"), pd.Timestamp("2026-11-21T01:15Z")]


def test_crowd021_window_edges_a_ping_at_the_start_belongs_to_that_window():
    ts = np.array([T0 - np.timedelta64(1, "us"), T0, T0 + np.timedelta64(899_999_999, "us")])
    lon = np.full(3, 121.40)
    lat = np.full(3, 31.15)
    frame = aggregate(ts, lon, lat, grid=GRID, window_minutes=15)
    assert frame["window_start"].tolist() == [
        pd.Timestamp("2026-11-21T00:45Z"),
        pd.Timestamp("2026-11-21T01:00Z"),
    ]
    assert frame["observations"].tolist() == [1, 2]


def test_crowd022_aggregate_accepts_aware_pandas_times_and_skips_nan_points():
    ts = pd.Series(pd.to_datetime(["2026-11-21T09:05:00+08:00"] * 3)).dt.tz_convert("Asia/Shanghai")
    frame = aggregate(ts, np.array([121.40, np.nan, 121.40]), np.full(3, 31.15), grid=GRID)
    assert frame["observations"].tolist() == [2]
    assert frame["window_start"].tolist() == [pd.Timestamp("2026-11-21T01:00Z")]


def test_crowd023_aggregate_of_nothing_is_an_empty_frame_with_the_columns():
    frame = aggregate(np.array([], "datetime64[us]"), np.array([]), np.array([]), grid=GRID)
    assert frame.empty
    assert list(frame.columns) == [
        "cell_id",
        "window_start",
        "count",
        "observations",
        "density_km2",
    ]


def test_crowd024_sparse_and_dense_paths_agree():
    rng = np.random.default_rng(7)
    n = 5_000
    lon = rng.uniform(121.39, 121.47, n)
    lat = rng.uniform(31.11, 31.22, n)
    ts = T0 + rng.integers(0, 3_600_000_000, n).astype("timedelta64[us]")
    w = rng.integers(1, 5, n).astype(float)
    dense = aggregate(ts, lon, lat, w, grid=GRID)
    # Two points a year apart make the packed key's range too sparse for a dense count.
    far = np.array([T0 + np.timedelta64(365, "D")])
    sparse = aggregate(
        np.concatenate([ts, far]),
        np.concatenate([lon, [121.40]]),
        np.concatenate([lat, [31.15]]),
        np.concatenate([w, [1.0]]),
        grid=GRID,
    )
    pd.testing.assert_frame_equal(sparse.iloc[:-1], dense)
    assert dense["observations"].sum() == n and dense["count"].sum() == w.sum()


# --------------------------------------------------------------------------- small counts


@pytest.mark.parametrize(
    ("observations", "shown"), [(0, False), (9, False), (10, True), (11, True)]
)
def test_crowd030_cells_with_fewer_than_k_observations_are_not_shown(observations, shown):
    frame = pd.DataFrame({"observations": [observations], "count": [observations * 500.0]})
    assert visible(frame, 10).tolist() == [shown]


def test_crowd031_a_heavy_ping_is_still_one_observation():
    # Nine pings standing for 4,500 people: dense, but nine devices could be singled out.
    ts, lon, lat, w = _pings({(3, 4): 9}, weight=500.0)
    frame = aggregate(ts, lon, lat, w, grid=GRID)
    assert frame["count"].tolist() == [4500.0]
    assert visible(frame, 10).tolist() == [False]


# --------------------------------------------------------------------------- provider counts


def test_crowd025_provider_counts_of_the_same_people_give_the_same_frame():
    rng = np.random.default_rng(4)
    n = 4_000
    lon = 121.43 + rng.normal(0, 0.003, n)
    lat = 31.19 + rng.normal(0, 0.003, n)
    ts = T0 + rng.integers(0, 900_000_000, n).astype("timedelta64[us]")
    from_pings = aggregate(ts, lon, lat, grid=GRID)
    cells = GRID.cell_ids(*GRID.cell_of(lon, lat))
    per_cell = pd.Series(1, index=cells).groupby(level=0).sum()
    from_counts = aggregate_counts(
        np.full(len(per_cell), T0 + np.timedelta64(7, "m")),
        per_cell.index.to_numpy(),
        per_cell.to_numpy(),
        grid=GRID,
    )
    pd.testing.assert_frame_equal(from_counts, from_pings)


def test_crowd026_snapshots_within_a_window_are_averaged_and_combined_with_pings():
    counts = aggregate_counts(
        np.array([T0, T0, T0 + np.timedelta64(5, "m"), T0 + np.timedelta64(15, "m")]),
        ["3:4", "5:6", "3:4", "3:4"],
        np.array([100, 31, 200, 7]),
        grid=GRID,
    )
    assert counts["cell_id"].tolist() == ["3:4", "5:6", "3:4"]
    assert counts["count"].tolist() == [150.0, 15.5, 7.0]
    assert counts["observations"].tolist() == [150, 15, 7]  # people, rounded down
    ts, lon, lat, w = _pings({(5, 6): 4}, weight=2.0)
    both = combine([aggregate(ts, lon, lat, w, grid=GRID), counts], grid=GRID)
    assert both["cell_id"].tolist() == ["3:4", "5:6", "3:4"]
    assert both["count"].tolist() == [150.0, 23.5, 7.0]
    assert both["observations"].tolist() == [150, 19, 7]
