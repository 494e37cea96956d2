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

import datetime as dt
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from dashboard.models import (
    CrowdBatch,
    CrowdCount,
    CrowdWindow,
    ImportBatch,
    Ping,
    ProviderCount,
    utcnow,
)
from dashboard.versions import bump

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
IN_CHUNK = 1_000  # batch ids per IN (...) list


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


def aggregate_counts(
    ts: Any,
    cell_id: Sequence[str] | np.ndarray,
    count: np.ndarray,
    *,
    grid: Grid,
    window_minutes: int = 15,
) -> pd.DataFrame:
    """People per cell and window from a provider's counts (kind ``crowd_counts``).

    A provider's row is a snapshot: the people in a cell at one time. Several snapshots in one
    window are averaged, not added (a carrier counting every 5 minutes would otherwise triple a
    15-minute window): a cell's people are the sum of its counts over the window divided by
    the number of distinct snapshot times the provider sent in that window (a cell missing from
    a snapshot had nobody). With one snapshot per window it is the count as delivered, which is
    what makes raw pings and the same people pre-aggregated give the same map. The provider's
    count of people is also the cell's observations for the small-count rule (rounded down).
    """
    micros = _utc_micros(ts)
    if len(micros) == 0:
        return empty_frame()
    step = int(window_minutes) * 60_000_000
    frame = pd.DataFrame(
        {
            "win": micros // step,
            "ts": micros,
            "cell_id": np.asarray(cell_id, dtype=object),
            "count": np.asarray(count, dtype=np.float64),
        }
    )
    snapshots = frame.groupby("win")["ts"].nunique()
    sums = frame.groupby(["win", "cell_id"], sort=False)["count"].sum().reset_index()
    people = sums["count"].to_numpy() / snapshots.reindex(sums["win"]).to_numpy()
    ix, iy = grid.parse(sums["cell_id"].to_numpy())
    return _frame(
        grid, sums["win"].to_numpy() * step, ix, iy, people, np.floor(people).astype(np.int64)
    )


def combine(frames: Sequence[pd.DataFrame], *, grid: Grid) -> pd.DataFrame:
    """One row per (window, cell) from several aggregates (pings, providers): counts and
    observations added."""
    frames = [f for f in frames if not f.empty]
    if not frames:
        return empty_frame()
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    both = pd.concat(frames, ignore_index=True)
    sums = both.groupby(["window_start", "cell_id"], sort=False)[["count", "observations"]].sum()
    sums = sums.reset_index()
    ix, iy = grid.parse(sums["cell_id"].to_numpy())
    micros = _utc_micros(sums["window_start"])
    return _frame(grid, micros, ix, iy, sums["count"].to_numpy(), sums["observations"].to_numpy())


# --------------------------------------------------------------------------- in the database


def _pings_in_db_postgresql(
    session: Session, start: dt.datetime, end: dt.datetime, grid: Grid, window_minutes: int
) -> pd.DataFrame:
    """One GROUP BY over the pings, the grid's floor formula written in SQL.

    The arithmetic is :meth:`Grid.cell_of`'s, operation for operation, in double precision
    (bound as float8), so a point on an edge lands in the same cell as in numpy. Windows are
    ``floor(epoch / step)`` on PostgreSQL's exact numeric epoch.
    """
    step_s = int(window_minutes) * 60
    rows = session.execute(
        text(
            """
            SELECT floor(extract(epoch FROM ts) / :step_s)::bigint AS win,
                   floor((lon - :lon0) * :kx + :eps)::bigint AS ix,
                   floor((lat - :lat0) * :ky + :eps)::bigint AS iy,
                   sum(weight) AS people,
                   count(*) AS observations
            FROM pings
            WHERE ts >= :start AND ts < :end
            GROUP BY 1, 2, 3
            """
        ),
        {
            "step_s": step_s,
            "lon0": float(grid.origin_lon),
            "lat0": float(grid.origin_lat),
            "kx": float(grid.cells_per_deg_lon),
            "ky": float(grid.cells_per_deg_lat),
            "eps": EDGE_EPS,
            "start": start,
            "end": end,
        },
    ).all()
    if not rows:
        return empty_frame()
    win, ix, iy, people, observations = (np.array(c) for c in zip(*rows, strict=True))
    return _frame(
        grid,
        win.astype(np.int64) * step_s * 1_000_000,
        ix.astype(np.int64),
        iy.astype(np.int64),
        people.astype(np.float64),
        observations.astype(np.int64),
    )


def _pings_in_python(
    session: Session, start: dt.datetime, end: dt.datetime, grid: Grid, window_minutes: int
) -> pd.DataFrame:
    rows = session.execute(
        select(Ping.ts, Ping.lon, Ping.lat, Ping.weight).where(Ping.ts >= start, Ping.ts < end)
    ).all()
    if not rows:
        return empty_frame()
    ts, lon, lat, weight = zip(*rows, strict=True)
    return aggregate(
        pd.to_datetime(list(ts), utc=True),
        np.array(lon, dtype=np.float64),
        np.array(lat, dtype=np.float64),
        np.array(weight, dtype=np.float64),
        grid=grid,
        window_minutes=window_minutes,
    )


def aggregate_window_in_db(
    *,
    session: Session,
    start: dt.datetime,
    end: dt.datetime,
    grid: Grid,
    window_minutes: int = 15,
) -> pd.DataFrame:
    """People per cell for every window starting in [start, end): pings and provider counts.

    On PostgreSQL the pings are grouped inside the database (one GROUP BY), so a city-scale
    feed scales with the database; on SQLite they are read and grouped by :func:`aggregate`.
    Both give the same cell ids, observations and counts (to :data:`COUNT_DECIMALS`). The
    providers' counts are few (one per cell and snapshot) and folded in here, the same way on
    both. ``start`` and ``end`` should be window starts.
    """
    if session.get_bind().dialect.name == "postgresql":
        pings = _pings_in_db_postgresql(session, start, end, grid, window_minutes)
    else:
        pings = _pings_in_python(session, start, end, grid, window_minutes)
    rows = session.execute(
        select(ProviderCount.ts, ProviderCount.cell_id, ProviderCount.count).where(
            ProviderCount.ts >= start, ProviderCount.ts < end
        )
    ).all()
    provided = empty_frame()
    if rows:
        ts, cells, counts = zip(*rows, strict=True)
        provided = aggregate_counts(
            pd.to_datetime(list(ts), utc=True),
            np.array(cells, dtype=object),
            np.array(counts, dtype=np.float64),
            grid=grid,
            window_minutes=window_minutes,
        )
    return combine([pings, provided], grid=grid)


# --------------------------------------------------------------------------- the job


def window_start_of(at: dt.datetime, window_minutes: int) -> dt.datetime:
    """Start of the window holding ``at`` (aware, UTC)."""
    step = int(window_minutes) * 60
    seconds = math.floor(at.timestamp() / step) * step
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def _new_batches(session: Session) -> list[int]:
    """Loaded batches of pings or provider counts not folded in yet.

    Only batches from the oldest one still holding rows onwards: older ones have had all their
    rows pruned (their windows were computed while they had them).
    """
    oldest = [
        session.scalar(select(func.min(Ping.batch_id))),
        session.scalar(select(func.min(ProviderCount.batch_id))),
    ]
    live = [b for b in oldest if b is not None]
    if not live:
        return []
    folded = select(CrowdBatch.batch_id).where(CrowdBatch.batch_id == ImportBatch.id)
    return list(
        session.scalars(
            select(ImportBatch.id)
            .where(
                ImportBatch.kind.in_(("pings", "crowd_counts")),
                ImportBatch.status == "loaded",
                ImportBatch.rows_loaded > 0,
                ImportBatch.id >= min(live),
                ~folded.exists(),
            )
            .order_by(ImportBatch.id)
        )
    )


def _windows_between(
    first: dt.datetime, last: dt.datetime, window_minutes: int
) -> set[dt.datetime]:
    step = dt.timedelta(minutes=window_minutes)
    start = window_start_of(first, window_minutes)
    out = set()
    while start <= last:
        out.add(start)
        start += step
    return out


def _touched_windows(session: Session, batches: list[int], window_minutes: int) -> set[dt.datetime]:
    """Windows holding a row of one of ``batches`` (each batch's time span, window by window)."""
    out: set[dt.datetime] = set()
    for table in (Ping, ProviderCount):
        for start in range(0, len(batches), IN_CHUNK):
            chunk = batches[start : start + IN_CHUNK]
            spans = session.execute(
                select(func.min(table.ts), func.max(table.ts))
                .where(table.batch_id.in_(chunk))
                .group_by(table.batch_id)
            ).all()
            for first, last in spans:
                out |= _windows_between(first, last, window_minutes)
    return out


def _unaggregated_windows(
    session: Session, since: dt.datetime, until: dt.datetime, window_minutes: int
) -> set[dt.datetime]:
    """Windows in [since, until] within the span of the stored pings and provider counts that
    have never been aggregated (a first run, or rows that arrived by another path)."""
    wanted: set[dt.datetime] = set()
    for table in (Ping, ProviderCount):
        first, last = session.execute(
            select(func.min(table.ts), func.max(table.ts)).where(table.ts >= since)
        ).one()
        if first is not None:
            wanted |= _windows_between(first, min(last, until), window_minutes)
    if not wanted:
        return wanted
    done = set(
        session.scalars(select(CrowdWindow.window_start).where(CrowdWindow.window_start >= since))
    )
    return wanted - done


def _runs(
    windows: Sequence[dt.datetime], step: dt.timedelta
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Consecutive windows as [start, end) ranges, one aggregation query per range."""
    runs: list[tuple[dt.datetime, dt.datetime]] = []
    for w in sorted(windows):
        if runs and runs[-1][1] == w:
            runs[-1] = (runs[-1][0], w + step)
        else:
            runs.append((w, w + step))
    return runs


def refresh(*, session: Session, settings: Settings, now: dt.datetime) -> int:
    """The ``aggregate_crowd`` job's body: bring ``crowd_counts`` up to date. Rows written.

    Recomputes every window touched by a batch of pings or provider counts loaded since the
    last run, and every window within reach that was never aggregated; replaces those windows'
    cells (delete, insert) and records them in ``crowd_windows``; drops windows older than
    ``crowd_keep_days``; bumps the ``crowd`` data version. All inside the caller's
    transaction, so a reader sees a window's old cells or its new ones, never a mix.

    Windows older than the raw pings' keeping time (``pings_keep_hours``) are frozen: their
    pings are gone, and recomputing them from what is left would lose people.
    """
    grid = grid_from_settings(settings)
    minutes = settings.crowd_window_minutes
    step = dt.timedelta(minutes=minutes)
    keep_from = window_start_of(now - dt.timedelta(days=settings.crowd_keep_days), minutes)
    reach = max(keep_from, now - dt.timedelta(hours=settings.pings_keep_hours))
    reach = window_start_of(reach, minutes)
    if reach < now - dt.timedelta(hours=settings.pings_keep_hours):
        reach += step  # a window whose first minutes are already pruned is frozen too
    current = window_start_of(now, minutes)

    pruned = session.execute(delete(CrowdCount).where(CrowdCount.window_start < keep_from)).rowcount
    session.execute(delete(CrowdWindow).where(CrowdWindow.window_start < keep_from))
    session.execute(delete(ProviderCount).where(ProviderCount.ts < keep_from))

    batches = _new_batches(session)
    touched = _touched_windows(session, batches, minutes)
    touched |= _unaggregated_windows(session, reach, now, minutes)
    frozen = {w for w in touched if w < reach}
    if frozen:
        logger.warning(
            "crowd: %d window(s) before %s received data after their pings were pruned; "
            "left as they were",
            len(frozen),
            reach.isoformat(),
        )
    windows = sorted(w for w in touched if reach <= w <= current)

    written = 0
    computed_at = utcnow()
    for start, end in _runs(windows, step):
        cells = aggregate_window_in_db(
            session=session, start=start, end=end, grid=grid, window_minutes=minutes
        )
        session.execute(
            delete(CrowdCount).where(
                CrowdCount.window_start >= start, CrowdCount.window_start < end
            )
        )
        session.execute(
            delete(CrowdWindow).where(
                CrowdWindow.window_start >= start, CrowdWindow.window_start < end
            )
        )
        if not cells.empty:
            records = [
                {
                    "window_start": w.to_pydatetime(),
                    "cell_id": c,
                    "count": float(n),
                    "observations": int(o),
                    "density_km2": float(d),
                }
                for w, c, n, o, d in zip(
                    cells["window_start"],
                    cells["cell_id"],
                    cells["count"],
                    cells["observations"],
                    cells["density_km2"],
                    strict=True,
                )
            ]
            session.execute(insert(CrowdCount.__table__), records)
            written += len(records)
        totals = cells.groupby("window_start")[["count", "observations"]].sum()
        sizes = cells.groupby("window_start").size()
        summary = []
        w = start
        while w < end:
            key = pd.Timestamp(w)
            has = key in totals.index
            summary.append(
                {
                    "window_start": w,
                    "computed_at": computed_at,
                    "cells": int(sizes[key]) if has else 0,
                    "people": float(totals.at[key, "count"]) if has else 0.0,
                    "observations": int(totals.at[key, "observations"]) if has else 0,
                }
            )
            w += step
        session.execute(insert(CrowdWindow.__table__), summary)

    if batches:
        session.execute(
            insert(CrowdBatch.__table__),
            [{"batch_id": b, "aggregated_at": computed_at} for b in batches],
        )
    # Batches whose rows have all been pruned can never be seen again: forget them.
    live = [
        session.scalar(select(func.min(Ping.batch_id))),
        session.scalar(select(func.min(ProviderCount.batch_id))),
    ]
    live_ids = [b for b in live if b is not None]
    forget = delete(CrowdBatch)
    if live_ids:
        forget = forget.where(CrowdBatch.batch_id < min(live_ids))
    session.execute(forget)

    if windows or pruned:
        bump("crowd", session=session, at=now)
    session.flush()
    logger.info(
        "crowd: %d window(s) recomputed, %d cell rows written, %d pruned, %d new batch(es)",
        len(windows),
        written,
        pruned,
        len(batches),
    )
    return written


# --------------------------------------------------------------------------- reads for the web


def crowd_frame(
    window_start: dt.datetime, *, session: Session, settings: Settings | None = None
) -> pd.DataFrame:
    """One window's cells for the map: cell_id, count, observations, density_km2, level,
    visible. A cell that is not ``visible`` must not be shown on its own (no colour, no
    number, no hover); its people still count in totals over many cells."""
    if settings is None:
        from dashboard.config import get_settings

        settings = get_settings()
    rows = session.execute(
        select(
            CrowdCount.cell_id, CrowdCount.count, CrowdCount.observations, CrowdCount.density_km2
        )
        .where(CrowdCount.window_start == window_start)
        .order_by(CrowdCount.cell_id)
    ).all()
    frame = pd.DataFrame(rows, columns=["cell_id", "count", "observations", "density_km2"])
    frame = frame.astype(
        {
            "cell_id": object,
            "count": np.float64,
            "observations": np.int64,
            "density_km2": np.float64,
        }
    )
    frame["level"] = level_of(frame["density_km2"].to_numpy(), settings.crowd_thresholds_km2)
    frame["visible"] = visible(frame, settings.crowd_min_count).to_numpy(dtype=bool)
    return frame


def window_starts(
    *, session: Session, since: dt.datetime, until: dt.datetime | None = None
) -> list[dt.datetime]:
    """Starts of the aggregated windows with at least one cell, oldest first (the slider)."""
    query = select(CrowdWindow.window_start).where(
        CrowdWindow.window_start >= since, CrowdWindow.cells > 0
    )
    if until is not None:
        query = query.where(CrowdWindow.window_start <= until)
    return list(session.scalars(query.order_by(CrowdWindow.window_start)))


def latest_window(
    *, session: Session, now: dt.datetime, window_minutes: int = 15
) -> dt.datetime | None:
    """The newest window that has ended by ``now`` and has cells: the one the wall shows.

    The window still running is left out: its pings are still arriving, so it would read as a
    district emptier than it is.
    """
    return session.scalar(
        select(func.max(CrowdWindow.window_start)).where(
            CrowdWindow.window_start <= now - dt.timedelta(minutes=window_minutes),
            CrowdWindow.cells > 0,
        )
    )


def cell_history(
    cell_id: str, *, session: Session, since: dt.datetime, settings: Settings | None = None
) -> pd.DataFrame:
    """One cell's windows since ``since``: window_start, count, observations, density_km2,
    level, visible (the click on a cell)."""
    if settings is None:
        from dashboard.config import get_settings

        settings = get_settings()
    rows = session.execute(
        select(
            CrowdCount.window_start,
            CrowdCount.count,
            CrowdCount.observations,
            CrowdCount.density_km2,
        )
        .where(CrowdCount.cell_id == cell_id, CrowdCount.window_start >= since)
        .order_by(CrowdCount.window_start)
    ).all()
    frame = pd.DataFrame(rows, columns=["window_start", "count", "observations", "density_km2"])
    frame["level"] = level_of(
        frame["density_km2"].to_numpy(dtype=np.float64), settings.crowd_thresholds_km2
    )
    frame["visible"] = visible(frame, settings.crowd_min_count).to_numpy(dtype=bool)
    return frame
