"""The registry of feed kinds (``KINDS``) and what each needs beyond the generic pipeline.

Each kind is declared as data (:class:`dashboard.ingest.spec.Kind`): columns, key, table,
readers, datasets. The hooks here are the checks only the database can answer (does that
compound, station, site exist?), the geometry rules of boundaries, and the writers whose table
is not one row per file row (indicators are stored long; pings are appended).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyproj
import shapely
from sqlalchemy import ColumnElement, and_, func, or_, select, tuple_, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from dashboard import crowd, states
from dashboard.config import get_settings
from dashboard.coords import to_wgs84
from dashboard.indicators import INDICATOR_KEYS, SHARE_KEYS
from dashboard.ingest import write
from dashboard.ingest.readers import CSV, GEOJSON, XLSX
from dashboard.ingest.rows import GEOMETRY, GEOMETRY_ERROR, Rows, noted, python_values
from dashboard.ingest.spec import Column, ColumnType, Context, FileRejected, Kind
from dashboard.models import (
    Area,
    AreaLevel,
    ConstructionSite,
    DisinfectionTask,
    Enterprise,
    EpidemicCount,
    HomeObservation,
    IndicatorValue,
    MaskSupply,
    OfficeReturnees,
    Ping,
    ProviderCount,
    Shop,
    SiteWorker,
    Station,
    StationBooking,
    StationFlow,
)

logger = logging.getLogger(__name__)

T = ColumnType
TABLE_FILES = frozenset({CSV, XLSX})
IN_CHUNK = 1_000  # values per IN (...) list: well under SQLite's bound-parameter limit

ENTERPRISE_STATES = states.REOPENING_STATES


# --------------------------------------------------------------------------- shared helpers


def existing(
    ctx: Context,
    column: InstrumentedAttribute[Any] | ColumnElement[Any],
    values: Iterable[Any],
    *where: ColumnElement[bool],
) -> set[Any]:
    """Which of ``values`` exist in ``column`` (bound parameters, in chunks)."""
    wanted = sorted({v for v in values if v is not None})
    found: set[Any] = set()
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        found.update(ctx.session.scalars(select(column).where(column.in_(chunk), *where)))
    return found


def existing_keys(
    ctx: Context, key: Iterable[str], values: Iterable[tuple[Any, ...]]
) -> set[tuple[Any, ...]]:
    """Which of the key tuples ``values`` are stored in the kind's table (a one-column key
    through :func:`existing`; a composite one with a row-value IN, bound, in chunks)."""
    names = tuple(key)
    table = ctx.kind.table
    if len(names) == 1:
        return {(v,) for v in existing(ctx, table.c[names[0]], (v[0] for v in values))}
    wanted = sorted({v for v in values if None not in v})
    columns = [table.c[k] for k in names]
    found: set[tuple[Any, ...]] = set()
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        query = select(*columns).where(tuple_(*columns).in_(chunk))
        found.update(tuple(r) for r in ctx.session.execute(query))
    return found


def stored_values(
    ctx: Context,
    key: InstrumentedAttribute[Any],
    values: Iterable[Any],
    *wanted: InstrumentedAttribute[Any],
) -> dict[Any, tuple[Any, ...]]:
    """key -> the ``wanted`` columns of the stored records among ``values`` (in chunks)."""
    keys = sorted({v for v in values if v is not None})
    out: dict[Any, tuple[Any, ...]] = {}
    for start in range(0, len(keys), IN_CHUNK):
        chunk = keys[start : start + IN_CHUNK]
        for k, *rest in ctx.session.execute(select(key, *wanted).where(key.in_(chunk))):
            out[k] = tuple(rest)
    return out


def reject_unknown(
    ctx: Context,
    rows: Rows,
    column: str,
    known: set[Any],
    reason: str,
    what: str,
) -> None:
    """Set aside rows whose ``column`` is filled but not in ``known``."""
    if column not in rows.values:
        return
    values = rows.values[column].to_numpy(dtype=object)
    unknown = np.array([v is not None and v not in known for v in values], dtype=bool)
    rows.reject(
        unknown, reason, lambda idx: [f"{column} {values[i]!r} is not a known {what}" for i in idx]
    )


def ok_values(rows: Rows, column: str) -> list[Any]:
    values = rows.values[column].to_numpy(dtype=object)
    return [v for v, good in zip(values, rows.ok, strict=True) if good and v is not None]


def table_records(
    ctx: Context, rows: Rows, *, extra: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """One dict per good row: the parsed columns that are table columns, blanks left out
    (so they do not overwrite), plus ``extra``, the batch id, ``updated_at`` and the load's
    ``sync_version`` where the table has them (a row written again unchanged is stamped
    too: it was reported again)."""
    table = ctx.kind.table
    idx = np.flatnonzero(rows.ok)
    columns = [c for c in rows.values if c in table.c]
    typed = {c.name: c.type for c in ctx.kind.columns}
    values = {c: python_values(rows.values[c].iloc[idx], typed.get(c)) for c in columns}
    fixed: dict[str, Any] = {"batch_id": ctx.batch_id} if "batch_id" in table.c else {}
    if "updated_at" in table.c:
        fixed["updated_at"] = ctx.now
    if "sync_version" in table.c:
        if ctx.sync_version is None:
            raise RuntimeError(f"{table.name} rows need the load's sync_version: bump first")
        fixed["sync_version"] = ctx.sync_version
    fixed.update(extra or {})
    key = set(ctx.kind.key)
    records = []
    for i in range(len(idx)):
        record = {c: values[c][i] for c in columns if values[c][i] is not None or c in key}
        record.update(fixed)
        records.append(record)
    return records


def write_upsert(ctx: Context, rows: Rows) -> None:
    write.upsert(
        ctx.session, ctx.kind.table, table_records(ctx, rows), key=ctx.kind.key, kind=ctx.kind.name
    )


# --------------------------------------------------------------------------- areas


def _areas_header(ctx: Context) -> None:
    if ctx.level is None:
        raise FileRejected(
            f"{ctx.path.name}: say which level these boundaries are: pass --level district, "
            "subdistrict, committee or compound"
        )
    needed = []
    if ctx.level is not AreaLevel.DISTRICT and "parent_code" not in ctx.header:
        needed.append("parent_code")
    if ctx.level is AreaLevel.COMPOUND and "population" not in ctx.header:
        needed.append("population")
    if needed:
        raise FileRejected(
            f"{ctx.path.name}: {ctx.level.value} boundaries need the propert"
            f"{'ies' if len(needed) > 1 else 'y'} {', '.join(needed)} on every feature"
        )


_GEOD = pyproj.Geod(ellps="WGS84")


def _areas_rows(ctx: Context, rows: Rows) -> None:
    assert ctx.level is not None and ctx.source_crs is not None
    level = ctx.level
    n = rows.n
    broken, errors = noted(rows.raw, GEOMETRY_ERROR)
    rows.reject(broken, "broken_geometry", lambda idx: [str(errors[i]) for i in idx])

    geoms = rows.raw[GEOMETRY].to_numpy(dtype=object)
    polygonal = np.array(
        [g is not None and g.geom_type in ("Polygon", "MultiPolygon") for g in geoms], dtype=bool
    )
    rows.reject(
        ~polygonal,
        "wrong_geometry_type",
        lambda idx: [f"a {geoms[i].geom_type}, expected Polygon or MultiPolygon" for i in idx],
    )

    # Reproject every coordinate of every good geometry in one vectorised call.
    good = rows.ok
    source = ctx.source_crs

    def reproject(coords: np.ndarray) -> np.ndarray:
        x, y = to_wgs84(coords[:, 0], coords[:, 1], source)
        return np.column_stack([x, y])

    out = np.full(n, None, dtype=object)
    if good.any():
        # transform() keeps x and y only: heights (GIS exports are often 3-D) are dropped,
        # which PostGIS needs (it refuses a Z coordinate in these 2-D columns).
        out[good] = shapely.transform(geoms[good], reproject)
    bounds = np.full((n, 4), np.nan)
    if good.any():
        bounds[good] = shapely.bounds(out[good])
    with np.errstate(invalid="ignore"):
        in_range = (
            np.isfinite(bounds).all(axis=1)
            & (bounds[:, 0] >= -180)
            & (bounds[:, 2] <= 180)
            & (bounds[:, 1] >= -90)
            & (bounds[:, 3] <= 90)
        )
    rows.reject(
        good & ~in_range,
        "bad_coordinates",
        f"coordinates outside -180..180 / -90..90 after conversion from {source.label}",
    )

    good = rows.ok
    valid = np.zeros(n, dtype=bool)
    if good.any():
        valid[good] = shapely.is_valid(out[good])
    rows.reject(
        good & ~valid,
        "broken_geometry",
        lambda idx: [f"invalid polygon: {shapely.is_valid_reason(out[i])}" for i in idx],
    )

    good = rows.ok
    multi = np.full(n, None, dtype=object)
    area_km2 = np.full(n, None, dtype=object)
    label_lon = np.full(n, None, dtype=object)
    label_lat = np.full(n, None, dtype=object)
    for i in np.flatnonzero(good):
        g = out[i]
        multi[i] = g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g])
        area_km2[i] = abs(_GEOD.geometry_area_perimeter(g)[0]) / 1e6
        label = g.point_on_surface()
        label_lon[i], label_lat[i] = float(label.x), float(label.y)
    rows.values["geom"] = pd.Series(multi, dtype=object)
    rows.values["area_km2"] = pd.Series(area_km2, dtype=object)
    rows.values["label_lon"] = pd.Series(label_lon, dtype=object)
    rows.values["label_lat"] = pd.Series(label_lat, dtype=object)
    rows.values["level"] = pd.Series([level] * n, dtype=object)

    # A code already used at another level would silently move a node in the hierarchy.
    codes = rows.values["code"].to_numpy(dtype=object)
    elsewhere = existing(ctx, Area.code, codes, Area.level != level)
    rows.reject(
        np.array([c in elsewhere for c in codes], dtype=bool),
        "wrong_level",
        lambda idx: [f"code {codes[i]!r} already exists at another level" for i in idx],
    )

    if level is AreaLevel.DISTRICT:
        rows.values.pop("parent_code", None)
    else:
        parent_level = level.parent
        assert parent_level is not None
        parents = rows.values["parent_code"].to_numpy(dtype=object)
        rows.reject(
            np.equal(parents, None),
            "unknown_parent",
            f"parent_code is blank; a {level.value} needs its {parent_level.value}",
        )
        known = existing(ctx, Area.code, parents, Area.level == parent_level)
        reject_unknown(ctx, rows, "parent_code", known, "unknown_parent", parent_level.value)

    if level is AreaLevel.COMPOUND:
        population = rows.values["population"].to_numpy(dtype="float64", na_value=np.nan)
        rows.reject(np.isnan(population), "missing_value", "population is blank; compounds need it")


# --------------------------------------------------------------------------- indicators


def _indicators_header(ctx: Context) -> None:
    if not any(k in ctx.header for k in INDICATOR_KEYS):
        raise FileRejected(
            f"{ctx.path.name}: no indicator column; expected at least one of "
            + ", ".join(INDICATOR_KEYS)
        )


def _indicators_rows(ctx: Context, rows: Rows) -> None:
    codes = rows.values["compound_code"].to_numpy(dtype=object)
    known = existing(ctx, Area.code, codes, Area.level == AreaLevel.COMPOUND)
    reject_unknown(ctx, rows, "compound_code", known, "unknown_compound", "compound")


def _indicators_write(ctx: Context, rows: Rows) -> None:
    """Wide file rows -> one stored value per (day, compound, indicator); blanks store nothing."""
    idx = np.flatnonzero(rows.ok)
    dates = rows.values["date"].to_numpy(dtype=object)[idx]
    codes = rows.values["compound_code"].to_numpy(dtype=object)[idx]
    records: list[dict[str, Any]] = []
    for key in INDICATOR_KEYS:
        if key not in rows.values:
            continue
        values = rows.values[key].to_numpy(dtype="float64", na_value=np.nan)[idx]
        for d, code, v in zip(dates, codes, values, strict=True):
            if not np.isnan(v):
                records.append(
                    {
                        "date": d,
                        "compound_code": code,
                        "indicator": key,
                        "value": float(v),
                        "batch_id": ctx.batch_id,
                    }
                )
    write.upsert(
        ctx.session,
        IndicatorValue.__table__,
        records,
        key=("date", "compound_code", "indicator"),
        kind=ctx.kind.name,
    )
    ctx.notes.append(f"{len(records)} indicator values stored")


# --------------------------------------------------------------------------- pings


def district_outline(ctx: Context) -> shapely.Geometry | None:
    geoms = [
        g
        for g in ctx.session.scalars(select(Area.geom).where(Area.level == AreaLevel.DISTRICT))
        if g is not None
    ]
    if not geoms:
        return None
    outline = shapely.union_all(geoms)
    shapely.prepare(outline)
    return outline


def _pings_rows(ctx: Context, rows: Rows) -> None:
    outline = district_outline(ctx)
    if outline is None:
        ctx.notes.append("no district outline in the database: pings not checked against it")
        return
    lon = rows.values["lon"].to_numpy(dtype="float64", na_value=np.nan)
    lat = rows.values["lat"].to_numpy(dtype="float64", na_value=np.nan)
    ok = rows.ok
    inside = np.zeros(rows.n, dtype=bool)
    inside[ok] = shapely.intersects_xy(outline, lon[ok], lat[ok])
    rows.reject(ok & ~inside, "outside_district", "the point is outside the district outline")


def _pings_write(ctx: Context, rows: Rows) -> None:
    idx = np.flatnonzero(rows.ok)
    stamps = rows.values["timestamp"].iloc[idx].dt.to_pydatetime()
    lon = rows.values["lon"].to_numpy(dtype="float64", na_value=np.nan)[idx].tolist()
    lat = rows.values["lat"].to_numpy(dtype="float64", na_value=np.nan)[idx].tolist()
    if "weight" in rows.values:
        weight = rows.values["weight"].to_numpy(dtype="float64", na_value=np.nan)[idx]
        weight = np.where(np.isnan(weight), 1.0, weight).tolist()
    else:
        weight = [1.0] * len(idx)
    batch = ctx.batch_id
    records = [
        {"ts": t, "lon": x, "lat": y, "weight": w, "batch_id": batch}
        for t, x, y, w in zip(stamps, lon, lat, weight, strict=True)
    ]
    write.append(ctx.session, Ping.__table__, records, kind=ctx.kind.name)


# --------------------------------------------------------------------------- provider counts


def _crowd_counts_header(ctx: Context) -> None:
    if "cell_id" not in ctx.header and "lon" not in ctx.header:
        raise FileRejected(
            f"{ctx.path.name}: say where each count is: a cell_id column (our grid's ix:iy) or "
            "lon and lat columns (the cell's centre); see docs/formats.md, section crowd_counts"
        )


def _crowd_counts_rows(ctx: Context, rows: Rows) -> None:
    """Each row's cell on our grid: its ``cell_id`` (normalised) or the cell holding the
    centre ``lon``/``lat``; the cell must touch the district when an outline is stored."""
    grid = crowd.grid_from_settings()
    n = rows.n
    given = (
        rows.values["cell_id"].to_numpy(dtype=object)
        if "cell_id" in rows.values
        else np.full(n, None, dtype=object)
    )
    cells = np.full(n, None, dtype=object)
    bad = np.zeros(n, dtype=bool)
    for i in np.flatnonzero(rows.ok & ~np.equal(given, None)):
        try:
            (ix,), (iy,) = crowd.Grid.parse([given[i]])
        except ValueError:
            bad[i] = True
        else:
            cells[i] = f"{ix}:{iy}"
    rows.reject(
        bad,
        "bad_value",
        lambda idx: [f"cell_id: {given[i]!r} is not a cell of our grid (ix:iy)" for i in idx],
    )
    if "lon" in rows.values:
        lon = rows.values["lon"].to_numpy(dtype="float64", na_value=np.nan)
        lat = rows.values["lat"].to_numpy(dtype="float64", na_value=np.nan)
        from_point = rows.ok & np.equal(cells, None) & np.isfinite(lon) & np.isfinite(lat)
        if from_point.any():
            ix, iy = grid.cell_of(lon[from_point], lat[from_point])
            cells[from_point] = grid.cell_ids(ix, iy)
    rows.reject(
        np.equal(cells, None),
        "missing_value",
        "neither cell_id nor lon/lat is given: say which cell the count is for",
    )
    rows.values["cell_id"] = pd.Series(cells, dtype=object)

    outline = district_outline(ctx)
    if outline is None:
        ctx.notes.append("no district outline in the database: cells not checked against it")
        return
    inside = set(grid.cells_covering(outline))
    rows.reject(
        rows.ok & np.array([c not in inside for c in cells], dtype=bool),
        "outside_district",
        lambda idx: [f"cell {cells[i]} does not touch the district outline" for i in idx],
    )


def _crowd_counts_write(ctx: Context, rows: Rows) -> None:
    idx = np.flatnonzero(rows.ok)
    stamps = rows.values["timestamp"].iloc[idx].dt.to_pydatetime()
    cells = rows.values["cell_id"].to_numpy(dtype=object)[idx]
    counts = python_values(rows.values["count"].iloc[idx], T.INT)
    records = [
        {"ts": t, "cell_id": c, "count": k, "batch_id": ctx.batch_id}
        for t, c, k in zip(stamps, cells, counts, strict=True)
    ]
    # Upsert: a corrected file for the same times and cells replaces the counts.
    write.upsert(
        ctx.session, ProviderCount.__table__, records, key=("ts", "cell_id"), kind=ctx.kind.name
    )


# --------------------------------------------------------------------------- registers


def _subdistrict_check(ctx: Context, rows: Rows) -> None:
    if "subdistrict_code" not in rows.values:
        return
    codes = rows.values["subdistrict_code"].to_numpy(dtype=object)
    known = existing(ctx, Area.code, codes, Area.level == AreaLevel.SUBDISTRICT)
    reject_unknown(ctx, rows, "subdistrict_code", known, "unknown_area", "subdistrict")


def _committee_check(ctx: Context, rows: Rows) -> None:
    codes = rows.values["committee_code"].to_numpy(dtype=object)
    known = existing(ctx, Area.code, codes, Area.level == AreaLevel.COMMITTEE)
    reject_unknown(ctx, rows, "committee_code", known, "unknown_area", "committee")


def _reopening_rows(ctx: Context, rows: Rows) -> None:
    """The reopening state machine (dashboard.states) against the stored state: a refused
    change is set aside; a change stamps ``state_changed_at`` (a repeated state does not, nor
    does a record seen for the first time: when it reached its state is not known)."""
    if "state" not in rows.values:
        return
    table = ctx.kind.table
    (key,) = ctx.kind.key
    keys = rows.values[key].to_numpy(dtype=object)
    new = rows.values["state"].to_numpy(dtype=object)
    given = rows.ok & ~np.equal(new, None)
    stored = stored_values(ctx, table.c[key], keys[given], table.c.state)  # type: ignore[arg-type]
    old = np.array([stored[k][0] if k in stored else None for k in keys], dtype=object)
    refused = np.array(
        [g and not states.reopening_allowed(o, n) for g, o, n in zip(given, old, new, strict=True)],
        dtype=bool,
    )
    rows.reject(
        refused,
        "impossible_transition",
        lambda idx: [f"{key} {keys[i]!r}: {states.refused_reason(old[i], new[i])}" for i in idx],
    )
    changed = rows.ok & given & ~np.equal(old, None) & (old != new)
    stamps = np.full(rows.n, None, dtype=object)
    stamps[changed] = ctx.now
    rows.values["state_changed_at"] = pd.Series(stamps, dtype=object)


_GAP_PAIR = re.compile(r"(?P<trade>[^:;]+):(?P<count>[+-]?\d{1,9})")
NO_GAP = frozenset({"无", "0"})
GAP_FORM = "trade:count pairs separated by ';' (电工:3;焊工:2), or 无 / 0 for no gap"


def parse_labour_gap(text: str) -> dict[str, int]:
    """``电工:3;焊工:2`` (full-width ：； too) -> {"电工": 3, "焊工": 2}; 无 or 0 -> {}.
    A trade with 0 is left out (no gap). Raises ValueError saying what is wrong."""
    text = unicodedata.normalize("NFKC", text).strip()
    if text in NO_GAP:
        return {}
    gap: dict[str, int] = {}
    pieces = [p.strip() for p in text.split(";") if p.strip()]
    if not pieces:
        raise ValueError("no trade:count pair")
    for piece in pieces:
        match = _GAP_PAIR.fullmatch(piece.replace(" ", ""))
        if match is None:
            raise ValueError(f"{piece!r} is not trade:count")
        trade, count = match["trade"], int(match["count"])
        if count < 0:
            raise ValueError(f"{trade}: {count} is below 0")
        if trade in gap:
            raise ValueError(f"{trade} is given twice")
        if count:
            gap[trade] = count
    return gap


def _labour_gap_rows(ctx: Context, rows: Rows) -> None:
    if "labour_gap" not in rows.values:
        return
    text = rows.values["labour_gap"].to_numpy(dtype=object)
    gaps = np.full(rows.n, None, dtype=object)
    problems = np.full(rows.n, None, dtype=object)
    for i in np.flatnonzero(rows.ok & ~np.equal(text, None)):
        try:
            gaps[i] = parse_labour_gap(text[i])
        except ValueError as exc:
            problems[i] = str(exc)
    rows.reject(
        ~np.equal(problems, None),
        "bad_value",
        lambda idx: [f"labour_gap: {text[i]!r}: {problems[i]}; expected {GAP_FORM}" for i in idx],
    )
    rows.values["labour_gap"] = pd.Series(gaps, dtype=object)


def _enterprises_rows(ctx: Context, rows: Rows) -> None:
    _subdistrict_check(ctx, rows)
    _labour_gap_rows(ctx, rows)
    _reopening_rows(ctx, rows)
    if "checkins_today" in rows.values:
        keys = rows.values["credit_code"].to_numpy(dtype=object)
        stored = stored_values(ctx, Enterprise.credit_code, keys[rows.ok], Enterprise.checkins_on)
        rows.values["checkins_on"] = pd.Series(
            _report_days(
                ctx,
                rows,
                report="checkins_today",
                day_column="checkins_date",
                stored={k: v[0] for k, v in stored.items()},
            ),
            dtype=object,
        )


def _sites_rows(ctx: Context, rows: Rows) -> None:
    _subdistrict_check(ctx, rows)
    _reopening_rows(ctx, rows)


def _column_or_none(rows: Rows, name: str) -> np.ndarray:
    if name in rows.values:
        return rows.values[name].to_numpy(dtype=object)
    return np.full(rows.n, None, dtype=object)


def _shops_rows(ctx: Context, rows: Rows) -> None:
    """Closing down is final (dashboard.states.shop_allowed); an is_open report is for a day
    (``date``, default today in the district) stored as ``open_on``, and a report for an
    earlier day than the stored one is stale: it must not overwrite the newer one."""
    _subdistrict_check(ctx, rows)
    keys = rows.values["licence_id"].to_numpy(dtype=object)
    is_open = _column_or_none(rows, "is_open")
    closed = _column_or_none(rows, "closed_down")
    rows.reject(
        np.equal(is_open, True) & np.equal(closed, True),
        "impossible_transition",
        "closed_down and is_open are both true: a shop closing down cannot report open",
    )
    stored = stored_values(
        ctx,
        Shop.licence_id,
        keys[rows.ok],
        Shop.closed_down,
        Shop.open_on,
    )
    was_closed = np.array([bool(stored.get(k, (False,))[0]) for k in keys], dtype=bool)
    refused = np.array(
        [
            not states.shop_allowed(w, is_open=o, closed_down=c)
            for w, o, c in zip(was_closed, is_open, closed, strict=True)
        ],
        dtype=bool,
    )
    rows.reject(
        refused,
        "impossible_transition",
        lambda idx: [
            f"licence_id {keys[i]!r} is closed down (final): it cannot "
            + ("report open" if is_open[i] is True else "be un-closed")
            for i in idx
        ],
    )

    day = _report_days(
        ctx, rows, report="is_open", day_column="date", stored={k: v[1] for k, v in stored.items()}
    )
    rows.values["open_on"] = pd.Series(day, dtype=object)
    # The day decides which of a shop's rows in one file is kept (Kind.newest_wins).
    rows.values["date"] = pd.Series(day, dtype=object)


def _report_days(
    ctx: Context, rows: Rows, *, report: str, day_column: str, stored: Mapping[Any, Any]
) -> np.ndarray:
    """The district-local day each row's ``report`` (a value for one day) is for: its
    ``day_column``, blank or absent: today at ``ctx.now``; None where ``report`` is blank.

    A day after today is ``out_of_range`` (stored, a future report would make every report of
    the real day stale); a day before the stored one (``stored``: key -> day) is
    ``stale_report``: a late file never overwrites a newer report."""
    today = ctx.now.astimezone(ctx.tz).date()
    (key,) = ctx.kind.key
    keys = rows.values[key].to_numpy(dtype=object)
    given = np.array(
        [None if pd.isna(d) else d for d in _column_or_none(rows, day_column)], dtype=object
    )
    rows.reject(
        np.array([d is not None and d > today for d in given], dtype=bool),
        "out_of_range",
        lambda idx: [
            f"{day_column}: {given[i]} is in the future (today is {today} in the district)"
            for i in idx
        ],
    )
    value = _column_or_none(rows, report)  # a blank count is <NA>, a blank flag None
    day = np.array(
        [None if pd.isna(v) else (d or today) for v, d in zip(value, given, strict=True)],
        dtype=object,
    )
    newer = np.array([stored.get(k) for k in keys], dtype=object)
    rows.reject(
        np.array(
            [d is not None and n is not None and d < n for d, n in zip(day, newer, strict=True)],
            dtype=bool,
        ),
        "stale_report",
        lambda idx: [
            f"{report} for {day[i]} is older than the stored report for {newer[i]}: not applied"
            for i in idx
        ],
    )
    return day


def _site_checkins_rows(ctx: Context, rows: Rows) -> None:
    """Known sites only; the key-region flag is the feed's OR the home province's (config
    ``key_regions``; a blank flag of a province not listed leaves the stored flag alone)."""
    sites = rows.values["site_id"].to_numpy(dtype=object)
    known = existing(ctx, ConstructionSite.site_id, sites)
    reject_unknown(ctx, rows, "site_id", known, "unknown_site", "construction site")
    regions = tuple(r for r in get_settings().key_regions if r)
    provinces = rows.values["home_province"].to_numpy(dtype=object)
    feed = _column_or_none(rows, "from_key_region")
    flag = np.full(rows.n, None, dtype=object)
    for i, (province, given) in enumerate(zip(provinces, feed, strict=True)):
        listed = bool(regions) and province is not None and province.startswith(regions)
        flag[i] = True if (listed or given is True) else given
    rows.values["from_key_region"] = pd.Series(flag, dtype=object)


def _site_checkins_write(ctx: Context, rows: Rows) -> None:
    """Upsert the workers, then recount every site they joined or left."""
    ids = ok_values(rows, "id_number")
    touched = set(ok_values(rows, "site_id"))
    for start in range(0, len(ids), IN_CHUNK):
        chunk = ids[start : start + IN_CHUNK]
        touched.update(
            ctx.session.scalars(select(SiteWorker.site_id).where(SiteWorker.id_number.in_(chunk)))
        )
    write_upsert(ctx, rows)
    recount_sites(
        ctx.session, sorted(touched), now=ctx.now, tz=ctx.tz, sync_version=ctx.sync_version
    )


def _site_counts(now: dt.datetime, tz: ZoneInfo) -> tuple[dict[Any, Any], ColumnElement[bool]]:
    """The recount's figures of a site as correlated subqueries, and "a stored one differs"."""
    today = now.astimezone(tz).date()
    since = today - dt.timedelta(days=get_settings().key_region_days - 1)
    workers = SiteWorker.__table__
    at_site = workers.c.site_id == ConstructionSite.site_id

    def counted(*where: ColumnElement[bool]) -> Any:
        return select(func.count()).select_from(workers).where(at_site, *where).scalar_subquery()

    recent_key = and_(
        workers.c.from_key_region.is_(True),
        workers.c.arrived_on >= since,
        workers.c.arrived_on <= today,
    )
    unchecked = or_(
        workers.c.certificate_checked.is_(None), workers.c.certificate_checked.is_(False)
    )
    counts = {
        ConstructionSite.headcount: counted(),
        ConstructionSite.new_arrivals_today: counted(workers.c.arrived_on == today),
        ConstructionSite.key_region_arrivals: counted(recent_key),
        ConstructionSite.unchecked_arrivals: counted(recent_key, unchecked),
    }
    return counts, or_(*(column != value for column, value in counts.items()))


def sites_to_recount(session: Session, *, now: dt.datetime, tz: ZoneInfo) -> list[str]:
    """The sites whose stored counts differ from a recount at ``now`` (at midnight: those with
    arrivals yesterday, or a key-region arrival leaving its window)."""
    _, differs = _site_counts(now, tz)
    query = select(ConstructionSite.site_id).where(differs).order_by(ConstructionSite.site_id)
    return list(session.scalars(query))


def recount_sites(
    session: Session,
    site_ids: Sequence[str] | None,
    *,
    now: dt.datetime,
    tz: ZoneInfo,
    sync_version: int | None,
) -> int:
    """Each site's counts from its workers: headcount, new_arrivals_today, and
    key_region_arrivals (from a key region, arrived within the last ``key_region_days`` days,
    today included) with unchecked_arrivals (of those, certificate not checked). "Today" is
    the district's calendar day at ``now``. ``site_ids`` None: every site (the day rolls over).

    Only sites whose counts change are written, with ``updated_at = now`` and
    ``sync_version``: the ``sites`` version the caller bumped in this transaction before
    calling, so the registers page's incremental sync sends just those; returns how many."""
    if sync_version is None:
        raise ValueError("bump the sites version first: recounted sites carry it")
    counts, differs = _site_counts(now, tz)
    chunks: list[Sequence[str] | None] = (
        [None]
        if site_ids is None
        else [site_ids[i : i + IN_CHUNK] for i in range(0, len(site_ids), IN_CHUNK)]
    )
    written = 0
    for chunk in chunks:
        stmt = update(ConstructionSite).where(differs)
        if chunk is not None:
            stmt = stmt.where(ConstructionSite.site_id.in_(chunk))
        result = session.execute(
            stmt.values(
                {
                    **{c.key: v for c, v in counts.items()},
                    "updated_at": now,
                    "sync_version": sync_version,
                }
            )
            .execution_options(synchronize_session=False)
        )
        written += result.rowcount or 0
    return written


# --------------------------------------------------------------------------- stations


def _station_rows(ctx: Context, rows: Rows) -> None:
    codes = rows.values["station_code"].to_numpy(dtype=object)
    known = existing(ctx, Station.code, codes)
    reject_unknown(ctx, rows, "station_code", known, "unknown_station", "station")
    hours = rows.values["hour_start"].dt.tz_convert(ctx.tz)
    off_hour = (
        hours.notna()
        & ((hours.dt.minute != 0) | (hours.dt.second != 0) | (hours.dt.microsecond != 0))
    ).to_numpy(dtype=bool)
    text = rows.raw["hour_start"].to_numpy(dtype=object)
    rows.reject(
        off_hour,
        "bad_timestamp",
        lambda idx: [f"hour_start: {text[i]!r} is not the start of an hour" for i in idx],
    )


# --------------------------------------------------------------------------- the registry

_LON = Column("lon", T.LON, doc="longitude, in the file's coordinate system", example="121.4365")
_LAT = Column("lat", T.LAT, doc="latitude, in the file's coordinate system", example="31.1880")

AREAS = Kind(
    name="areas",
    title="Area boundaries",
    doc="Boundaries of one level of the hierarchy (--level). Upserted by code.",
    columns=(
        Column(
            "code",
            T.CODE,
            required=True,
            blank_ok=False,
            max_length=32,
            doc="area code",
            example="310104012",
        ),
        Column(
            "name",
            T.TEXT,
            required=True,
            blank_ok=False,
            max_length=200,
            doc="name",
            example="湖南路街道",
        ),
        Column(
            "parent_code",
            T.CODE,
            max_length=32,
            doc="code of the area one level up (required except for a district)",
            example="310104",
        ),
        Column(
            "population",
            T.INT,
            min_value=0,
            doc="residents (required for compounds)",
            example="12000",
        ),
    ),
    key=("code",),
    table=Area.__table__,
    formats=frozenset({GEOJSON}),
    datasets=("areas",),
    coordinates="geometry",
    check_header=_areas_header,
    check_rows=_areas_rows,
)

INDICATORS = Kind(
    name="indicators",
    title="Community-risk indicators",
    doc="One row per compound and day, one column per indicator (at least one).",
    columns=(
        Column(
            "date",
            T.DATE,
            required=True,
            blank_ok=False,
            doc="the day the values are for",
            example="2026-11-20",
        ),
        Column(
            "compound_code",
            T.CODE,
            required=True,
            blank_ok=False,
            max_length=32,
            doc="compound code (must exist)",
            example="310104012003001",
        ),
        *(
            Column(
                k,
                T.FLOAT,
                min_value=0,
                max_value=1 if k in SHARE_KEYS else None,
                doc="share of residents, 0..1; blank = missing"
                if k in SHARE_KEYS
                else "indicator value, >= 0; blank = missing",
                example="0.12" if k in SHARE_KEYS else "0",
            )
            for k in INDICATOR_KEYS
        ),
    ),
    key=("date", "compound_code"),
    table=IndicatorValue.__table__,
    formats=TABLE_FILES,
    datasets=("indicators",),
    check_header=_indicators_header,
    check_rows=_indicators_rows,
    write=_indicators_write,
)

PINGS = Kind(
    name="pings",
    title="Location pings",
    doc="Raw location pings from carriers or map vendors; appended, no natural key.",
    columns=(
        Column(
            "timestamp",
            T.TIMESTAMP,
            required=True,
            blank_ok=False,
            doc="when the device was seen",
            example="2026-11-21T09:05:00+08:00",
        ),
        Column("lon", T.LON, required=True, doc="longitude", example="121.4365"),
        Column("lat", T.LAT, required=True, doc="latitude", example="31.1880"),
        Column(
            "weight",
            T.FLOAT,
            min_value=0,
            doc="people the ping stands for (default 1)",
            example="1",
        ),
    ),
    key=(),
    table=Ping.__table__,
    formats=frozenset({CSV}),
    datasets=("pings",),
    coordinates="lonlat",
    check_rows=_pings_rows,
    write=_pings_write,
)

CROWD_COUNTS = Kind(
    name="crowd_counts",
    title="Crowd counts per grid cell (pre-aggregated)",
    doc="People per cell of our crowd grid at a time, as carriers deliver them. Upserted by "
    "(timestamp, cell); folded into the heatmap's windows with the pings.",
    columns=(
        Column(
            "timestamp",
            T.TIMESTAMP,
            required=True,
            blank_ok=False,
            doc="when the people were counted (a snapshot)",
            example="2026-11-21T09:00:00+08:00",
        ),
        Column(
            "cell_id",
            T.CODE,
            max_length=32,
            doc="cell of our grid, ix:iy (docs/crowd.md)",
            example="22:37",
        ),
        Column("lon", T.LON, doc="longitude of the cell's centre", example="121.4365"),
        Column("lat", T.LAT, doc="latitude of the cell's centre", example="31.1950"),
        Column(
            "count",
            T.INT,
            required=True,
            blank_ok=False,
            min_value=0,
            doc="people counted in the cell",
            example="1830",
        ),
    ),
    key=("timestamp", "cell_id"),
    table=ProviderCount.__table__,
    formats=TABLE_FILES,
    datasets=("pings",),
    coordinates="lonlat",
    check_header=_crowd_counts_header,
    check_rows=_crowd_counts_rows,
    write=_crowd_counts_write,
)

ENTERPRISES = Kind(
    name="enterprises",
    title="Enterprises (复工)",
    doc="Reopening register. Only credit_code is required; absent columns and blank cells "
    "leave stored values unchanged; a new enterprise needs a name.",
    columns=(
        Column(
            "credit_code",
            T.CREDIT_CODE,
            required=True,
            blank_ok=False,
            doc="unified social credit code (GB 32100, check character verified)",
            example="91310104MA1FL0AT82",
        ),
        Column(
            "name", T.TEXT, max_length=200, doc="registered name", example="上海某某科技有限公司"
        ),
        Column("address", T.TEXT, max_length=300, doc="address", example="徐汇区虹桥路1号"),
        _LON,
        _LAT,
        Column(
            "subdistrict_code",
            T.CODE,
            max_length=32,
            doc="subdistrict code (must exist)",
            example="310104012",
        ),
        Column("industry", T.TEXT, max_length=100, doc="industry", example="软件和信息技术服务业"),
        Column(
            "state", T.CHOICE, choices=ENTERPRISE_STATES, doc="reopening state", example="approved"
        ),
        Column("planned_reopen_date", T.DATE, doc="planned reopening day", example="2026-02-10"),
        Column("planned_headcount", T.INT, min_value=0, doc="staff planned back", example="120"),
        Column("returned_headcount", T.INT, min_value=0, doc="staff back", example="85"),
        Column(
            "capacity_pct",
            T.FLOAT,
            min_value=0,
            max_value=100,
            doc="capacity recovered, percent",
            example="70",
        ),
        Column(
            "pending_approvals",
            T.INT,
            min_value=0,
            doc="employee returns awaiting approval",
            example="3",
        ),
        Column(
            "checkins_today",
            T.INT,
            min_value=0,
            doc="employee health check-ins on `checkins_date`",
            example="80",
        ),
        Column(
            "checkins_date",
            T.DATE,
            doc="the day checkins_today counts (default: today in the district)",
            example="2026-11-21",
        ),
        Column(
            "labour_gap",
            T.TEXT,
            max_length=1000,
            doc="people short per trade: 电工:3;焊工:2 (：； too); 无 or 0 = no gap",
            example="电工:3;焊工:2",
        ),
    ),
    key=("credit_code",),
    table=Enterprise.__table__,
    formats=TABLE_FILES,
    datasets=("enterprises",),
    coordinates="lonlat",
    new_row_needs=("name",),
    check_rows=_enterprises_rows,
)

SHOPS = Kind(
    name="shops",
    title="Street shops (复市)",
    doc="Shop register. Same update rules as enterprises; a new shop needs a name.",
    columns=(
        Column(
            "licence_id",
            T.CODE,
            required=True,
            blank_ok=False,
            max_length=40,
            doc="business licence number",
            example="310104000123456",
        ),
        Column("name", T.TEXT, max_length=200, doc="shop name", example="老王面馆"),
        Column("street", T.TEXT, max_length=200, doc="street", example="江苏路"),
        Column(
            "subdistrict_code",
            T.CODE,
            max_length=32,
            doc="subdistrict code (must exist)",
            example="310105001",
        ),
        _LON,
        _LAT,
        Column("is_open", T.BOOL, doc="open on `date`: true/false, 1/0, 是/否", example="是"),
        Column("staff_registered", T.INT, min_value=0, doc="staff registered", example="6"),
        Column(
            "closed_down",
            T.BOOL,
            doc="closed down for good (licence cancelled); final",
            example="否",
        ),
        Column(
            "date",
            T.DATE,
            doc="the day the is_open report is for (default: today in the district)",
            example="2026-11-21",
        ),
    ),
    key=("licence_id",),
    table=Shop.__table__,
    formats=TABLE_FILES,
    datasets=("shops",),
    coordinates="lonlat",
    new_row_needs=("name",),
    check_rows=_shops_rows,
    newest_wins="date",  # two reports of a shop in one file: the later day's
)

SITE_CHECKINS = Kind(
    name="site_checkins",
    title="Construction-site check-ins (复产)",
    doc="Workers checked in by the main contractor. Upserted by id_number; each touched "
    "site's headcount and new arrivals today are recounted. Personal data: never in messages.",
    columns=(
        Column(
            "site_id",
            T.CODE,
            required=True,
            blank_ok=False,
            max_length=40,
            doc="construction site (must exist)",
            example="XH-2026-017",
        ),
        Column(
            "id_number",
            T.RESIDENT_ID,
            required=True,
            blank_ok=False,
            personal=True,
            doc="18-character resident ID (check character verified; x -> X)",
            example="11010519491231002X",
        ),
        Column(
            "name",
            T.TEXT,
            required=True,
            blank_ok=False,
            max_length=100,
            personal=True,
            doc="worker's name",
            example="张三",
        ),
        Column(
            "home_province",
            T.TEXT,
            required=True,
            blank_ok=False,
            max_length=40,
            doc="home province",
            example="安徽",
        ),
        Column(
            "arrived_on",
            T.DATE,
            required=True,
            blank_ok=False,
            doc="day of arrival",
            example="2026-11-20",
        ),
        Column(
            "from_key_region",
            T.BOOL,
            doc="arrived from a key region (also set when home_province is a configured key "
            "region)",
            example="否",
        ),
        Column(
            "certificate_checked",
            T.BOOL,
            doc="14-day isolation certificate checked",
            example="true",
        ),
    ),
    key=("id_number",),
    table=SiteWorker.__table__,
    formats=TABLE_FILES,
    datasets=("sites",),
    check_rows=_site_checkins_rows,
    write=_site_checkins_write,
)

STATION_FLOWS = Kind(
    name="station_flows",
    title="Station arrivals per hour",
    doc="Actual arrivals per station and hour. Upserted by (station_code, hour_start).",
    columns=(
        Column(
            "station_code",
            T.CODE,
            required=True,
            blank_ok=False,
            max_length=40,
            doc="station (must exist)",
            example="SHANGHAI_SOUTH",
        ),
        Column(
            "hour_start",
            T.TIMESTAMP,
            required=True,
            blank_ok=False,
            doc="start of the hour",
            example="2026-11-21T09:00:00+08:00",
        ),
        Column(
            "arrivals",
            T.INT,
            required=True,
            blank_ok=False,
            min_value=0,
            doc="arrivals in that hour",
            example="812",
        ),
    ),
    key=("station_code", "hour_start"),
    table=StationFlow.__table__,
    formats=TABLE_FILES,
    datasets=("station_flows",),
    check_rows=_station_rows,
)

STATION_BOOKINGS = Kind(
    name="station_bookings",
    title="Station arrivals booked",
    doc="Arrivals booked per future hour as known at as_of. Upserted by "
    "(station_code, as_of, hour_start).",
    columns=(
        Column(
            "station_code",
            T.CODE,
            required=True,
            blank_ok=False,
            max_length=40,
            doc="station (must exist)",
            example="SHANGHAI_SOUTH",
        ),
        Column(
            "as_of",
            T.TIMESTAMP,
            required=True,
            blank_ok=False,
            doc="when the booking count was taken",
            example="2026-11-21T06:00:00+08:00",
        ),
        Column(
            "hour_start",
            T.TIMESTAMP,
            required=True,
            blank_ok=False,
            doc="start of the booked hour",
            example="2026-11-21T09:00:00+08:00",
        ),
        Column(
            "booked",
            T.INT,
            required=True,
            blank_ok=False,
            min_value=0,
            doc="arrivals booked for that hour",
            example="640",
        ),
    ),
    key=("station_code", "as_of", "hour_start"),
    table=StationBooking.__table__,
    formats=TABLE_FILES,
    datasets=("station_bookings",),
    check_rows=_station_rows,
)

SITES = Kind(
    name="sites",
    title="Construction sites (复产)",
    doc="The register of construction sites. Upserted by site_id; a new site needs a name. "
    "headcount and new arrivals today are never read from this file: they are recounted "
    "from the check-ins.",
    columns=(
        Column(
            "site_id",
            T.CODE,
            required=True,
            blank_ok=False,
            max_length=40,
            doc="construction site ID",
            example="CN-2026-003",
        ),
        Column("name", T.TEXT, max_length=200, doc="site name", example="长宁来福士二期工地"),
        Column(
            "contractor", T.TEXT, max_length=200, doc="main contractor", example="上海建工一建集团"
        ),
        Column(
            "subdistrict_code",
            T.CODE,
            max_length=32,
            doc="subdistrict code (must exist)",
            example="310105001",
        ),
        _LON,
        _LAT,
        Column(
            "state",
            T.CHOICE,
            choices=states.REOPENING_STATES,
            doc="reopening state",
            example="approved",
        ),
        Column("planned_reopen_date", T.DATE, doc="planned reopening day", example="2026-02-10"),
    ),
    key=("site_id",),
    table=ConstructionSite.__table__,
    formats=TABLE_FILES,
    datasets=("sites",),
    coordinates="lonlat",
    new_row_needs=("name",),
    check_rows=_sites_rows,
)

STATION_KINDS = ("railway", "metro")

STATIONS = Kind(
    name="stations",
    title="Stations",
    doc="Railway and metro stations whose arrivals are tracked. Upserted by code; a new "
    "station needs a name and a kind. Reference data shown with the areas.",
    columns=(
        Column(
            "code",
            T.CODE,
            required=True,
            blank_ok=False,
            max_length=40,
            doc="station code",
            example="SHANGHAI_HONGQIAO",
        ),
        Column("name", T.TEXT, max_length=200, doc="name", example="上海虹桥站"),
        Column("name_en", T.TEXT, max_length=200, doc="English name", example="Shanghai Hongqiao"),
        Column("kind", T.CHOICE, choices=STATION_KINDS, doc="railway or metro", example="railway"),
        _LON,
        _LAT,
    ),
    key=("code",),
    table=Station.__table__,
    formats=TABLE_FILES,
    datasets=("areas",),
    coordinates="lonlat",
    new_row_needs=("name", "kind"),
)

# --------------------------------------------------------------------------- overview feeds


def _date(doc: str) -> Column:
    return Column("date", T.DATE, required=True, blank_ok=False, doc=doc, example="2026-11-21")


def _count(name: str, doc: str, example: str) -> Column:
    return Column(name, T.INT, required=True, blank_ok=False, min_value=0, doc=doc, example=example)


def _subdistrict(*, required: bool) -> Column:
    return Column(
        "subdistrict_code",
        T.CODE,
        required=required,
        blank_ok=not required,
        max_length=32,
        doc="subdistrict code (must exist)",
        example="310104003",
    )


EPIDEMIC_LEVELS = ("country", "city", "district")

EPIDEMIC = Kind(
    name="epidemic",
    title="Epidemic situation",
    doc="New and current cases per day as published for the country, the city and the "
    "district. Upserted by (date, level).",
    columns=(
        _date("the day the figures are for"),
        Column(
            "level",
            T.CHOICE,
            required=True,
            blank_ok=False,
            choices=EPIDEMIC_LEVELS,
            doc="country, city or district",
            example="district",
        ),
        _count("new_cases", "new cases that day", "2"),
        _count("current_cases", "cases under treatment", "15"),
    ),
    key=("date", "level"),
    table=EpidemicCount.__table__,
    formats=TABLE_FILES,
    datasets=("epidemic",),
)

HOME_OBSERVATION = Kind(
    name="home_observation",
    title="People under home observation",
    doc="People under home observation per residential committee and day (a count). "
    "Upserted by (date, committee_code).",
    columns=(
        _date("the day the count is for"),
        Column(
            "committee_code",
            T.CODE,
            required=True,
            blank_ok=False,
            max_length=32,
            doc="residential committee code (must exist at level committee)",
            example="310104003001",
        ),
        _count("people", "people under home observation", "12"),
    ),
    key=("date", "committee_code"),
    table=HomeObservation.__table__,
    formats=TABLE_FILES,
    datasets=("home_observation",),
    check_rows=_committee_check,
)

DISINFECTION = Kind(
    name="disinfection",
    title="Key places due for disinfection",
    doc="Key places due for disinfection on a day, and when each was done. Upserted by "
    "(place_id, due_on); a new task needs a place_name; a blank done_at never clears a stored "
    "one.",
    columns=(
        Column(
            "place_id",
            T.CODE,
            required=True,
            blank_ok=False,
            max_length=40,
            doc="key place ID",
            example="XH-MKT-007",
        ),
        Column(
            "due_on",
            T.DATE,
            required=True,
            blank_ok=False,
            doc="the day the disinfection is due",
            example="2026-11-21",
        ),
        Column("place_name", T.TEXT, max_length=200, doc="place name", example="天钥桥路菜市场"),
        Column(
            "place_kind",
            T.TEXT,
            max_length=40,
            doc="kind of place: 农贸市场, 地铁站, 楼宇, …",
            example="农贸市场",
        ),
        _subdistrict(required=False),
        Column(
            "done_at",
            T.TIMESTAMP,
            doc="when it was done; blank = not done yet (never clears a stored time)",
            example="2026-11-21T09:30:00+08:00",
        ),
    ),
    key=("place_id", "due_on"),
    table=DisinfectionTask.__table__,
    formats=TABLE_FILES,
    datasets=("disinfection",),
    new_row_needs=("place_name",),
    check_rows=_subdistrict_check,
)

MASKS = Kind(
    name="masks",
    title="Mask reservations and deliveries",
    doc="Masks reserved and delivered per subdistrict and day. Upserted by "
    "(date, subdistrict_code).",
    columns=(
        _date("the day the figures are for"),
        _subdistrict(required=True),
        _count("reserved", "masks reserved", "12000"),
        _count("delivered", "masks delivered", "9500"),
    ),
    key=("date", "subdistrict_code"),
    table=MaskSupply.__table__,
    formats=TABLE_FILES,
    datasets=("masks",),
    check_rows=_subdistrict_check,
)

RETURNEES = Kind(
    name="returnees",
    title="Returnees per office building",
    doc="Returning white-collar workers counted per office building and day. Upserted by "
    "(date, building_id).",
    columns=(
        _date("the day the count is for"),
        Column(
            "building_id",
            T.CODE,
            required=True,
            blank_ok=False,
            max_length=40,
            doc="office building ID",
            example="JSL-B-012",
        ),
        Column(
            "building_name",
            T.TEXT,
            required=True,
            blank_ok=False,
            max_length=200,
            doc="building name",
            example="长宁来福士广场T1",
        ),
        _subdistrict(required=False),
        _LON,
        _LAT,
        _count("returnees", "returnees counted that day", "640"),
    ),
    key=("date", "building_id"),
    table=OfficeReturnees.__table__,
    formats=TABLE_FILES,
    datasets=("returnees",),
    coordinates="lonlat",
    check_rows=_subdistrict_check,
)

#: Every kind of feed, by name (the CLI's ``import KIND`` and the inbox's sub-folders).
KINDS: Mapping[str, Kind] = {
    k.name: k
    for k in (
        AREAS,
        INDICATORS,
        PINGS,
        CROWD_COUNTS,
        ENTERPRISES,
        SHOPS,
        SITES,  # before the check-ins: a file of each at once loads the sites first
        SITE_CHECKINS,
        STATIONS,
        STATION_FLOWS,
        STATION_BOOKINGS,
        # The overview feeds refer to areas only.
        EPIDEMIC,
        HOME_OBSERVATION,
        DISINFECTION,
        MASKS,
        RETURNEES,
    )
}
