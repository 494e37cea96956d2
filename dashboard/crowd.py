"""The crowd heatmap (人群热力图): location counts onto one fixed grid, four fixed levels.

Where the rules live:

- the grid (:class:`Grid`): equal-area squares of ``crowd_cell_m`` metres on a local
  equirectangular projection anchored at a fixed origin; a cell id is ``"ix:iy"``;
- the levels (:data:`LEVELS`, :func:`level_of`): blue, green, yellow, red, cut at the three
  ``crowd_thresholds_km2`` edges; an edge belongs to the higher level;
- the small-count rule (:func:`visible`): fewer than ``crowd_min_count`` observations behind a
  cell, and it is not shown on its own;
- the aggregation (:func:`aggregate`, :func:`aggregate_window_in_db`, :func:`refresh`).

Why a square grid and not H3, and why these thresholds: ``docs/crowd.md``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

if TYPE_CHECKING:
    from dashboard.config import Settings

logger = logging.getLogger(__name__)

# WGS84 ellipsoid: metres per degree at the origin's latitude come from its radii of curvature.
_A = 6_378_137.0
_E2 = 6.694379990141317e-3

#: Added to the cell coordinate (in cells) before ``floor``: a point exactly on an edge belongs
#: to the higher cell even when float rounding puts it a few ulps below. It moves every edge by
#: 1e-9 of a cell (0.25 µm for 250 m cells), far below the 0.1 m of a 6-decimal coordinate.
#: numpy and SQL add the same constant in the same order, so they agree to the bit.
EDGE_EPS = 1e-9

CELL_COLUMNS = ["cell_id", "window_start", "count", "observations", "density_km2"]
#: Counts are rounded to a thousandth of a person: sums of float weights taken in a different
#: order (numpy here, the database's GROUP BY there) then store identical numbers.
COUNT_DECIMALS = 3


@dataclass(frozen=True)
class Grid:
    """Squares of ``cell_m`` metres, cell (0, 0) having its south-west corner at the origin.

    x = (lon - origin_lon) · m_per_deg_lon, y = (lat - origin_lat) · m_per_deg_lat, with metres
    per degree taken once, at the origin's latitude; ix = floor(x / cell_m), iy likewise. Over a
    district (~15 km north to south) the true area of a cell varies by under 0.2%.
    """

    origin_lon: float
    origin_lat: float
    cell_m: float

    @property
    def m_per_deg_lat(self) -> float:
        s = math.sin(math.radians(self.origin_lat))
        meridian = _A * (1 - _E2) / (1 - _E2 * s * s) ** 1.5
        return meridian * math.pi / 180

    @property
    def m_per_deg_lon(self) -> float:
        phi = math.radians(self.origin_lat)
        normal = _A / math.sqrt(1 - _E2 * math.sin(phi) ** 2)
        return normal * math.cos(phi) * math.pi / 180

    @property
    def cells_per_deg_lon(self) -> float:
        """Cells per degree of longitude: the one factor numpy and SQL multiply by."""
        return self.m_per_deg_lon / self.cell_m

    @property
    def cells_per_deg_lat(self) -> float:
        return self.m_per_deg_lat / self.cell_m

    @property
    def cell_area_km2(self) -> float:
        return (self.cell_m / 1000.0) ** 2

    def cell_of(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ix, iy) int64 arrays of the cells holding the points. No NaN allowed."""
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        # Same operations, same order, as :func:`_db_cell_sql`: (v - origin) * k + eps, floor.
        ix = np.floor((lon - self.origin_lon) * self.cells_per_deg_lon + EDGE_EPS)
        iy = np.floor((lat - self.origin_lat) * self.cells_per_deg_lat + EDGE_EPS)
        return ix.astype(np.int64), iy.astype(np.int64)

    @staticmethod
    def cell_ids(ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
        """``"ix:iy"`` text ids (object array), the form stored in ``crowd_counts.cell_id``."""
        ix = np.asarray(ix, dtype=np.int64)
        iy = np.asarray(iy, dtype=np.int64)
        return np.array(
            [f"{x}:{y}" for x, y in zip(ix.tolist(), iy.tolist(), strict=True)], dtype=object
        )

    @staticmethod
    def parse(cell_ids: Sequence[str] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Inverse of :meth:`cell_ids`; raises ValueError on anything but ``"<int>:<int>"``."""
        ix, iy = [], []
        for cell_id in cell_ids:
            x, sep, y = str(cell_id).partition(":")
            if not sep:
                raise ValueError(f"not a cell id (ix:iy): {cell_id!r}")
            ix.append(int(x))
            iy.append(int(y))
        return np.array(ix, dtype=np.int64), np.array(iy, dtype=np.int64)

    def edges_lon(self, ix: np.ndarray) -> np.ndarray:
        """Longitude of the west edge of column ``ix``."""
        return self.origin_lon + np.asarray(ix, dtype=np.float64) / self.cells_per_deg_lon

    def edges_lat(self, iy: np.ndarray) -> np.ndarray:
        return self.origin_lat + np.asarray(iy, dtype=np.float64) / self.cells_per_deg_lat

    def polygon(self, cell_id: str) -> shapely.Polygon:
        """The cell's square in WGS84 (lon/lat corners)."""
        (ix,), (iy,) = self.parse([cell_id])
        return self.polygons(np.array([ix]), np.array([iy]))[0]

    def polygons(self, ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
        """Many squares at once (an object array of shapely Polygons)."""
        ix = np.asarray(ix, dtype=np.int64)
        iy = np.asarray(iy, dtype=np.int64)
        return shapely.box(
            self.edges_lon(ix), self.edges_lat(iy), self.edges_lon(ix + 1), self.edges_lat(iy + 1)
        )

    def centres(self, cell_ids: Sequence[str] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """lon, lat of the cells' centres."""
        ix, iy = self.parse(cell_ids)
        return self.edges_lon(ix + 0.5), self.edges_lat(iy + 0.5)

    def cells_covering(self, geom: shapely.Geometry) -> list[str]:
        """Ids of every cell whose square intersects ``geom`` (the district's base layer)."""
        west, south, east, north = geom.bounds
        (ix0, ix1), (iy0, iy1) = self.cell_of(np.array([west, east]), np.array([south, north]))
        xs, ys = np.meshgrid(np.arange(ix0, ix1 + 1), np.arange(iy0, iy1 + 1))
        xs, ys = xs.ravel(), ys.ravel()
        shapely.prepare(geom)
        hit = shapely.intersects(geom, self.polygons(xs, ys))
        return self.cell_ids(xs[hit], ys[hit]).tolist()


def grid_from_settings(settings: Settings | None = None) -> Grid:
    if settings is None:
        from dashboard.config import get_settings

        settings = get_settings()
    return Grid(settings.crowd_origin_lon, settings.crowd_origin_lat, float(settings.crowd_cell_m))


# --------------------------------------------------------------------------- levels


#: The four levels, sparse to dense; the same meaning on every screen and at every zoom.
LEVELS = ("blue", "green", "yellow", "red")


def level_of(density_km2: np.ndarray, thresholds: Sequence[float]) -> np.ndarray:
    """Level name of each density: below the first edge blue, at or above the last red.

    A density exactly on an edge takes the higher level ("at least 30,000/km² is yellow").
    """
    edges = np.asarray(thresholds, dtype=np.float64)
    if edges.shape != (3,) or not np.all(np.diff(edges) > 0):
        raise ValueError(f"thresholds must be three ascending numbers, not {list(thresholds)!r}")
    density = np.asarray(density_km2, dtype=np.float64)
    return np.asarray(LEVELS, dtype=object)[np.searchsorted(edges, density, side="right")]


def visible(frame: pd.DataFrame, k: int) -> pd.Series:
    """Cells that may be shown on their own: at least ``k`` observations behind them.

    For raw pings an observation is a ping (not its weight: a ping standing for 500 people is
    still one device that could be singled out); for a provider's counts it is the count.
    """
    return frame["observations"] >= k


# --------------------------------------------------------------------------- aggregation


def _utc_micros(ts: Any) -> np.ndarray:
    """Microseconds since the epoch (int64) of UTC instants given as datetime64 (UTC) or as
    timezone-aware pandas values."""
    if isinstance(ts, pd.Series | pd.Index) and isinstance(ts.dtype, pd.DatetimeTZDtype):
        values = pd.DatetimeIndex(ts).tz_convert("UTC").tz_localize(None).to_numpy()
    else:
        values = np.asarray(ts)
        if values.dtype == object:
            values = pd.DatetimeIndex(pd.to_datetime(values, utc=True)).tz_localize(None)
            values = values.to_numpy()
    return values.astype("datetime64[us]").astype(np.int64)


def empty_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "cell_id": pd.Series([], dtype=object),
            "window_start": pd.Series([], dtype="datetime64[us, UTC]"),
            "count": pd.Series([], dtype=np.float64),
            "observations": pd.Series([], dtype=np.int64),
            "density_km2": pd.Series([], dtype=np.float64),
        }
    )


def _frame(
    grid: Grid,
    window_us: np.ndarray,
    ix: np.ndarray,
    iy: np.ndarray,
    count: np.ndarray,
    observations: np.ndarray,
) -> pd.DataFrame:
    """The result frame from one row per (window, cell), sorted by window then cell."""
    order = np.lexsort((iy, ix, window_us))
    count = np.round(np.asarray(count, dtype=np.float64)[order], COUNT_DECIMALS)
    return pd.DataFrame(
        {
            "cell_id": grid.cell_ids(ix[order], iy[order]),
            "window_start": pd.to_datetime(window_us[order], unit="us", utc=True).as_unit("us"),
            "count": count,
            "observations": np.asarray(observations, dtype=np.int64)[order],
            "density_km2": count / grid.cell_area_km2,
        }
    )


def aggregate(
    ts: Any,
    lon: np.ndarray,
    lat: np.ndarray,
    weight: np.ndarray | None = None,
    *,
    grid: Grid,
    window_minutes: int = 15,
) -> pd.DataFrame:
    """People per cell and window from raw pings: one row per (window, cell) with a ping.

    ``count`` is Σ weight (people), ``observations`` the number of pings, ``density_km2`` the
    count over the cell's area. Windows start at whole multiples of ``window_minutes`` since
    the epoch (UTC), so 15-minute windows start at :00, :15, :30, :45 in Shanghai too.
    Points with a NaN coordinate are left out (the ingestion path has already set them aside).

    Vectorised: integer bin arithmetic and one ``bincount`` over a packed (window, ix, iy)
    key; ``np.unique`` only when the key's range is too sparse for a dense count.
    """
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    micros = _utc_micros(ts)
    w = np.ones(len(lon)) if weight is None else np.asarray(weight, dtype=np.float64)
    good = np.isfinite(lon) & np.isfinite(lat) & np.isfinite(w)
    if not good.all():
        lon, lat, micros, w = lon[good], lat[good], micros[good], w[good]
    if len(lon) == 0:
        return empty_frame()
    step = int(window_minutes) * 60_000_000
    win = micros // step
    ix, iy = grid.cell_of(lon, lat)

    # Pack (window, ix, iy) into one non-negative int64 key.
    w0, x0, y0 = win.min(), ix.min(), iy.min()
    nw, nx, ny = int(win.max() - w0) + 1, int(ix.max() - x0) + 1, int(iy.max() - y0) + 1
    key = ((win - w0) * nx + (ix - x0)) * ny + (iy - y0)
    size = nw * nx * ny
    if size <= max(4 * len(key), 1 << 20):
        observations = np.bincount(key, minlength=size)
        counts = np.bincount(key, weights=w, minlength=size)
        cells = np.flatnonzero(observations)
        observations, counts = observations[cells], counts[cells]
    else:  # scattered points (a city-wide feed over days): sort instead of a dense table
        cells, inverse = np.unique(key, return_inverse=True)
        observations = np.bincount(inverse)
        counts = np.bincount(inverse, weights=w)
    cw, rest = np.divmod(cells, nx * ny)
    cx, cy = np.divmod(rest, ny)
    return _frame(grid, (cw + w0) * step, cx + x0, cy + y0, counts, observations)
