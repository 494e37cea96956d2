"""The one ingestion pipeline every kind of feed goes through.

read -> required columns -> coordinate system -> per-row parsing and checks -> duplicates within
the file -> write (upsert by natural key, or append) + quarantine -> bump data versions.

Everything is written inside the caller's transaction and flushed, never committed: the caller
commits, so a file is loaded entirely or not at all. A file unusable as a whole raises
:class:`FileRejected` before anything is written; the caller may then record the refusal with
:func:`record_rejection` in a transaction of its own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from dashboard.config import get_settings
from dashboard.coords import CRSError, SourceCRS, resolve_crs, to_wgs84
from dashboard.ingest import write
from dashboard.ingest.kinds import KINDS, existing_keys, write_upsert
from dashboard.ingest.readers import Table, file_format, read_table
from dashboard.ingest.rows import (
    FIELD_COUNT_ERROR,
    GEOMETRY_JSON,
    Rows,
    mask_name,
    mask_personal,
    noted,
    parse_column,
)
from dashboard.ingest.spec import Context, FileRejected, Kind
from dashboard.models import AreaLevel, DataVersion, ImportBatch, QuarantinedRow, utcnow
from dashboard.versions import bump

logger = logging.getLogger(__name__)

DUPLICATE = "duplicate_key"
WRONG_FIELD_COUNT = "wrong_field_count"

NO_CRS_ADVICE = (
    "pass --crs EPSG:4326 if it is WGS84, or --crs GCJ-02 --convert-gcj02 if it comes from "
    "Amap/Tencent/DataV"
)


@dataclass
class IngestReport:
    """What one call of :func:`load_file` did. ``rows_read = rows_loaded + rows_quarantined``;
    ``rows_duplicate`` counts the quarantined rows whose reason is ``duplicate_key``."""

    batch_id: int
    kind: str
    filename: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    rows_duplicate: int = 0
    already_loaded: bool = False
    rejected: bool = False  # set by load_inbox for a refused file (batch_id: the refusal)
    message: str = ""

    def summary(self) -> str:
        """One line for the CLI and the log (never contains personal data)."""
        head = f"{self.kind} {self.filename} (batch {self.batch_id})"
        if self.rejected:
            return f"{head}: refused, nothing written: {self.message}"
        return f"{head}: {self.message}"


def _message(rows_read: int, loaded: int, by_reason: dict[str, int], notes: list[str]) -> str:
    text = f"{loaded:,} of {rows_read:,} rows loaded"
    quarantined = sum(by_reason.values())
    if quarantined:
        reasons = ", ".join(
            f"{k} {v:,}" for k, v in sorted(by_reason.items(), key=lambda kv: -kv[1])
        )
        text += f"; {quarantined:,} quarantined ({reasons})"
    if notes:
        text += "; " + "; ".join(notes)
    return text


def storable_text(text: str) -> str:
    """``text`` with a NUL or a lone surrogate (from a header or a GeoJSON member quoted in a
    message) escaped: PostgreSQL text cannot hold the one, UTF-8 cannot encode the other."""
    return text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- entry points


def load_file(
    kind: str,
    path: Path,
    *,
    session: Session,
    crs: str | None = None,
    convert_gcj02: bool = False,
    level: str | None = None,
    now: dt.datetime | None = None,
) -> IngestReport:
    """Load one feed file into the session's transaction (flushed, not committed).

    Raises :class:`FileRejected` (nothing written) when the file as a whole is unusable.
    Loading the same bytes as the same kind again writes nothing and returns a report with
    ``already_loaded`` set and the earlier batch's id.
    """
    started = time.perf_counter()
    spec = KINDS.get(kind)
    if spec is None:
        raise FileRejected(f"unknown kind {kind!r}; known kinds: {', '.join(KINDS)}")
    path = Path(path)
    now = now or utcnow()
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not path.is_file():
        raise FileRejected(f"no such file: {path}")
    fmt = file_format(path)
    if fmt not in spec.formats:
        given = path.suffix or "a file without suffix"
        raise FileRejected(
            f"{path.name}: a {kind} file must be {spec.describe_formats()}, not {given}"
        )
    data = path.read_bytes()
    sha = file_sha256(data)

    earlier = session.scalars(
        select(ImportBatch)
        .where(ImportBatch.kind == kind, ImportBatch.sha256 == sha, ImportBatch.status == "loaded")
        .limit(1)
    ).first()
    if earlier is not None:
        when = earlier.finished_at or earlier.started_at
        message = (
            f"already loaded as batch {earlier.id} on {when:%Y-%m-%d %H:%M} UTC "
            f"({earlier.rows_loaded:,} rows); nothing written"
        )
        logger.info("%s %s: %s", kind, path.name, message)
        return IngestReport(
            batch_id=earlier.id, kind=kind, filename=path.name, already_loaded=True, message=message
        )

    ctx = Context(
        kind=spec,
        path=path,
        session=session,
        now=now,
        tz=ZoneInfo(get_settings().timezone),
        level=_parse_level(spec, level, path),
    )
    table = read_table(path, data)
    ctx.header = table.header
    _check_header(ctx, table)
    ctx.source_crs = _source_crs(ctx, table, crs, convert_gcj02)

    rows = Rows(table.frame, table.row_numbers)
    _field_counts(rows)
    _parse(ctx, rows)
    _coordinates(ctx, rows)
    # From the first read of stored rows (state machines, stale reports) to the commit, this
    # load holds its datasets' version rows: a concurrent load of the same dataset waits, so
    # its checks see this one's rows and its version is the later one.
    _hold_versions(session, spec.datasets)
    if spec.check_rows is not None:
        spec.check_rows(ctx, rows)
    _new_rows_need(ctx, rows)
    _duplicates(ctx, rows)

    # ---- write: nothing above has touched the database except to read.
    batch = ImportBatch(
        kind=kind,
        filename=path.name[:500],
        sha256=sha,
        status="loaded",
        started_at=utcnow(),
        rows_read=rows.n,
    )
    session.add(batch)
    session.flush()
    ctx.batch_id = batch.id

    loaded = int(rows.ok.sum())
    if loaded:
        # Bumped before the rows are written, in the same transaction: the rows carry the new
        # version (``sync_version``), and the version row stays locked until the commit.
        ctx.sync_version = bump(*spec.datasets, session=session, at=now)
        (spec.write or write_upsert)(ctx, rows)
    _quarantine(ctx, rows, table)

    by_reason = rows.counts()
    batch.rows_loaded = loaded
    batch.rows_quarantined = rows.n - loaded
    batch.rows_duplicate = by_reason.get(DUPLICATE, 0)
    batch.message = storable_text(_message(rows.n, loaded, by_reason, ctx.notes))
    batch.finished_at = utcnow()
    session.flush()

    report = IngestReport(
        batch_id=batch.id,
        kind=kind,
        filename=path.name,
        rows_read=rows.n,
        rows_loaded=loaded,
        rows_quarantined=rows.n - loaded,
        quarantined_by_reason=by_reason,
        rows_duplicate=batch.rows_duplicate,
        message=batch.message,
    )
    logger.info("%s (%.2f s)", report.summary(), time.perf_counter() - started)
    return report


def record_rejection(kind: str, path: Path, message: str, *, session: Session) -> int:
    """Record a refused file (its own transaction, after load_file's was rolled back); its id."""
    path = Path(path)
    message = storable_text(message)
    try:
        sha = file_sha256(path.read_bytes())
    except OSError:
        sha = ""
    at = utcnow()
    batch = ImportBatch(
        kind=kind[:40],
        filename=path.name[:500],
        sha256=sha,
        status="rejected",
        message=message,
        started_at=at,
        finished_at=at,
    )
    session.add(batch)
    session.flush()
    logger.warning("%s %s refused (batch %s): %s", kind, path.name, batch.id, message)
    return batch.id


# --------------------------------------------------------------------------- file-level checks


def _parse_level(spec: Kind, level: str | None, path: Path) -> AreaLevel | None:
    if level is None:
        return None
    if spec.name != "areas":
        raise FileRejected(f"--level applies to areas files only, not {spec.name}")
    try:
        return AreaLevel(level.strip().lower())
    except ValueError:
        raise FileRejected(
            f"{path.name}: unknown level {level!r}; use one of "
            + ", ".join(lv.value for lv in AreaLevel)
        ) from None


def _check_header(ctx: Context, table: Table) -> None:
    spec = ctx.kind
    missing = [c for c in spec.required_columns if c not in table.header]
    if missing:
        found = ", ".join(_shown(spec, table.header)) or "none"
        raise FileRejected(
            f"{ctx.path.name}: missing required column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} (found: {found}); see docs/formats.md, section {spec.name}"
        )
    known = {c.name for c in spec.columns}
    ignored = [c for c in table.header if c not in known]
    if ignored:
        ctx.notes.append("ignored columns: " + ", ".join(_shown(spec, ignored)))
    if spec.coordinates == "lonlat" and ("lon" in table.header) != ("lat" in table.header):
        raise FileRejected(f"{ctx.path.name}: lon and lat columns must come together")
    if spec.check_header is not None:
        spec.check_header(ctx)


_PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_ ]{0,39}")


def _shown(spec: Kind, names: Sequence[str]) -> list[str]:
    """Header names fit for a message. A check-in sheet whose header row was forgotten has a
    worker's ID and name as "column names": for kinds with personal columns, only plain
    identifiers are shown."""
    if not any(c.personal for c in spec.columns):
        return list(names)
    plain = [n for n in names if _PLAIN_NAME.fullmatch(n) and not any(ch.isdigit() for ch in n)]
    hidden = len(names) - len(plain)
    return plain + ([f"{hidden} other(s) not shown"] if hidden else [])


def _source_crs(
    ctx: Context, table: Table, explicit: str | None, convert_gcj02: bool
) -> SourceCRS | None:
    spec = ctx.kind
    if spec.coordinates is None:
        return None
    if spec.coordinates == "lonlat" and "lon" not in table.header:
        return None  # a register without coordinates: nothing to convert
    try:
        source = resolve_crs(explicit=explicit, declared_in_file=table.declared_crs, path=ctx.path)
    except CRSError as exc:
        raise FileRejected(f"{ctx.path.name}: {exc}") from exc
    if source is None:
        raise FileRejected(
            f"{ctx.path.name} has coordinates but no coordinate system: {NO_CRS_ADVICE}"
        )
    if source.is_gcj02 and not convert_gcj02:
        raise FileRejected(
            f"{ctx.path.name} is in GCJ-02 (says {source.origin}), the shifted system of Chinese "
            "web maps, about 500 m off: pass --convert-gcj02 to convert it to WGS84"
        )
    if not source.is_wgs84:
        ctx.notes.append(f"coordinates converted from {source.label} to WGS84")
    return source


# --------------------------------------------------------------------------- row-level steps


def _field_counts(rows: Rows) -> None:
    """CSV rows whose fields do not line up with the header: their values would land in the
    wrong columns, so none of them is used."""
    ragged, errors = noted(rows.raw, FIELD_COUNT_ERROR)
    rows.reject(ragged, WRONG_FIELD_COUNT, lambda idx: [str(errors[i]) for i in idx])


def _parse(ctx: Context, rows: Rows) -> None:
    key = set(ctx.kind.key)
    for col in ctx.kind.columns:
        if col.name in ctx.header:
            parse_column(rows, col, key=col.name in key, tz=ctx.tz)


def _coordinates(ctx: Context, rows: Rows) -> None:
    """lon/lat columns -> WGS84, range-checked; a ``geom`` point where the table has one."""
    spec = ctx.kind
    if spec.coordinates != "lonlat" or "lon" not in rows.values or ctx.source_crs is None:
        return
    lon = rows.values["lon"].to_numpy(dtype="float64", na_value=np.nan)
    lat = rows.values["lat"].to_numpy(dtype="float64", na_value=np.nan)
    has_lon, has_lat = ~np.isnan(lon), ~np.isnan(lat)
    raw_lon = rows.raw["lon"].str.strip().to_numpy(dtype=object)
    raw_lat = rows.raw["lat"].str.strip().to_numpy(dtype=object)
    blank = (raw_lon == "") & (raw_lat == "")
    if spec.column("lon").required:
        rows.reject(blank, "bad_coordinates", "lon and lat are blank")
    rows.reject(
        ~blank & (has_lon != has_lat), "bad_coordinates", "lon and lat must be given together"
    )

    both = has_lon & has_lat
    out_lon = np.full(rows.n, np.nan)
    out_lat = np.full(rows.n, np.nan)
    if both.any():
        out_lon[both], out_lat[both] = to_wgs84(lon[both], lat[both], ctx.source_crs)
    with np.errstate(invalid="ignore"):
        in_range = (
            np.isfinite(out_lon)
            & np.isfinite(out_lat)
            & (np.abs(out_lon) <= 180)
            & (np.abs(out_lat) <= 90)
        )

    def detail(idx: np.ndarray) -> list[str]:
        out = []
        for i in idx:
            text = f"lon/lat ({raw_lon[i]}, {raw_lat[i]}) is outside -180..180 / -90..90"
            if abs(lat[i]) > 90 and abs(lon[i]) <= 90:
                text += " (are lon and lat swapped?)"
            out.append(text)
        return out

    rows.reject(both & ~in_range, "bad_coordinates", detail)
    good = both & in_range
    out_lon[~good] = np.nan
    out_lat[~good] = np.nan
    rows.values["lon"] = pd.Series(out_lon)
    rows.values["lat"] = pd.Series(out_lat)
    if "geom" in spec.table.c and "lon" not in spec.table.c:
        points = np.full(rows.n, None, dtype=object)
        if good.any():
            points[good] = shapely.points(out_lon[good], out_lat[good])
        rows.values["geom"] = pd.Series(points, dtype=object)


def _new_rows_need(ctx: Context, rows: Rows) -> None:
    """A row whose key is not stored yet must fill the columns a new record needs."""
    spec = ctx.kind
    if not spec.new_row_needs or not rows.ok.any():
        return
    columns = [rows.values[k].to_numpy(dtype=object) for k in spec.key]
    keys = list(zip(*columns, strict=True))
    good = rows.ok
    stored = existing_keys(ctx, spec.key, [k for k, ok in zip(keys, good, strict=True) if ok])
    lacking = np.zeros(rows.n, dtype=bool)
    for name in spec.new_row_needs:
        if name in rows.values:
            lacking |= np.equal(rows.values[name].to_numpy(dtype=object), None)
        else:
            lacking[:] = True
    new = np.array([k not in stored for k in keys], dtype=bool)
    needs = " and ".join(spec.new_row_needs)
    what = ", ".join(spec.key)

    def detail(idx: np.ndarray) -> list[str]:
        shown = [keys[i][0] if len(spec.key) == 1 else tuple(map(str, keys[i])) for i in idx]
        return [f"{what} {k!r} is not known yet and a new one needs {needs}" for k in shown]

    rows.reject(new & lacking, "unknown_id", detail)


def _hold_versions(session: Session, datasets: Sequence[str]) -> None:
    """Lock the datasets' version rows (in name order) until the transaction ends; a dataset
    never written has no row yet, and its first writers are not serialised (bump inserts it).
    SQLite ignores FOR UPDATE: there one writer at a time holds the whole database."""
    session.execute(
        select(DataVersion.dataset)
        .where(DataVersion.dataset.in_(sorted(datasets)))
        .order_by(DataVersion.dataset)
        .with_for_update()
    ).all()


def _duplicates(ctx: Context, rows: Rows) -> None:
    """Same natural key twice in one file: keep one good row, set the rest aside. The kept row
    is the first, or, for a kind with ``newest_wins``, the one with the greatest value there
    (a shop's report for today over yesterday's in the same file)."""
    key = list(ctx.kind.key)
    if not key:
        return
    idx = np.flatnonzero(rows.ok)
    if len(idx) < 2:
        return
    frame = pd.DataFrame({k: rows.values[k].iloc[idx].reset_index(drop=True) for k in key})
    if not frame.duplicated(keep="first").to_numpy().any():
        return
    group = frame.groupby(key, sort=False, dropna=False).ngroup().to_numpy()
    newest = ctx.kind.newest_wins
    order = rows.values[newest].to_numpy(dtype=object)[idx] if newest else None
    kept: dict[int, int] = {}  # group -> position in idx of the row kept
    for pos, g in enumerate(group.tolist()):
        if g not in kept:
            kept[g] = pos
        elif order is not None and _later(order[pos], order[kept[g]]):
            kept[g] = pos
    keep = np.zeros(len(idx), dtype=bool)
    keep[list(kept.values())] = True
    mask = np.zeros(rows.n, dtype=bool)
    mask[idx[~keep]] = True
    kept_row = {g: int(rows.row_numbers[idx[pos]]) for g, pos in kept.items()}
    group_of = dict(zip(idx.tolist(), group.tolist(), strict=True))
    rule = f" (the row with the latest {newest} is kept)" if newest else ""
    rows.reject(
        mask,
        DUPLICATE,
        lambda bad: [
            f"same {', '.join(key)} as row {kept_row[group_of[int(i)]]}{rule}" for i in bad
        ],
    )


def _later(value: Any, than: Any) -> bool:
    """``value`` sorts after ``than``; a blank is before anything."""
    return value is not None and (than is None or value > than)


def _quarantine(ctx: Context, rows: Rows, table: Table) -> None:
    """Every set-aside row, with its reason and its raw cells.

    Only the kind's declared columns are kept: a column an upstream system added (a phone
    number, an emergency contact) is not ours to store. Personal columns are masked; in a row
    whose fields do not line up with the header every cell is masked for a kind with personal
    columns, since which cell holds the ID cannot be told.
    """
    bad = np.flatnonzero(~rows.ok)
    if not len(bad):
        return
    personal = {c.name: c for c in ctx.kind.columns if c.personal}
    declared = {c.name for c in ctx.kind.columns}
    kept = [name for name in table.header if name in declared]
    raw = rows.raw
    cells = raw.iloc[bad][kept].to_dict("records")
    geometry = raw[GEOMETRY_JSON].to_numpy(dtype=object)[bad] if GEOMETRY_JSON in raw else None
    records: list[dict[str, Any]] = []
    for n, i in enumerate(bad):
        row = cells[n]
        if personal and rows.reason[i] == WRONG_FIELD_COUNT:
            row = {name: mask_name(str(value).strip()) for name, value in row.items()}
        else:
            for name, col in personal.items():
                if name in row:
                    row[name] = mask_personal(col, str(row[name]).strip())
        if geometry is not None:
            row["geometry"] = strict_json(geometry[n])
        records.append(
            {
                "batch_id": ctx.batch_id,
                "row_number": int(rows.row_numbers[i]),
                "reason": rows.reason[i],
                "detail": rows.detail[i],
                "raw": row,
            }
        )
    for start in range(0, len(records), write.CHUNK_ROWS):
        ctx.session.execute(
            insert(QuarantinedRow.__table__), records[start : start + write.CHUNK_ROWS]
        )


def strict_json(value: Any) -> Any:
    """``value`` with every NaN/Infinity float replaced by its text, so that it is JSON that
    PostgreSQL accepts (SQLite would store the invalid ``NaN`` token without a word)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {str(k): strict_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict_json(v) for v in value]
    return value


__all__ = ["IngestReport", "load_file", "record_rejection"]
