"""Readers: a file's bytes -> a table of text cells, whatever the format.

Every cell is read as text (``dtype=str``, no NA guessing) so IDs keep their leading zeros and
trailing X, and a blank stays blank instead of becoming NaN or 0. Row numbers are the ones a
person sees: in a spreadsheet the header is row 1 and the first data row is row 2; in GeoJSON
the first feature is number 1.
"""

from __future__ import annotations

import io
import json
import logging
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
import shapely.geometry

from dashboard.ingest.rows import GEOMETRY, GEOMETRY_ERROR, GEOMETRY_JSON
from dashboard.ingest.spec import FileRejected

logger = logging.getLogger(__name__)

CSV = ".csv"
XLSX = ".xlsx"
GEOJSON = ".geojson"
JSON = ".json"
SUFFIXES = frozenset({CSV, XLSX, GEOJSON, JSON})

_MANGLED = re.compile(r"^(.*)\.(\d+)$")


@dataclass
class Table:
    frame: pd.DataFrame  # one str column per header name (+ geometry columns for GeoJSON)
    row_numbers: npt.NDArray[np.int64]
    header: tuple[str, ...]
    declared_crs: str | None = None  # GeoJSON crs member


def file_format(path: Path) -> str:
    suffix = path.suffix.lower()
    return GEOJSON if suffix == JSON else suffix


def read_table(path: Path, data: bytes) -> Table:
    """Read ``data`` (the bytes of ``path``) according to the file's suffix."""
    fmt = file_format(path)
    if fmt == CSV:
        table = _read_csv(path, data)
    elif fmt == XLSX:
        table = _read_xlsx(path, data)
    elif fmt == GEOJSON:
        table = _read_geojson(path, data)
    else:
        raise FileRejected(
            f"{path.name}: unknown file type {path.suffix!r}; use .csv, .xlsx or .geojson"
        )
    return table


def _normalise_header(path: Path, frame: pd.DataFrame) -> pd.DataFrame:
    names = [str(c).strip().lower() for c in frame.columns]
    seen = set(names)
    for name in names:
        m = _MANGLED.match(name)
        if m and m.group(1) in seen:  # pandas renames a repeated "code" to "code.1"
            raise FileRejected(
                f"{path.name}: column {m.group(1)!r} appears more than once in the header"
            )
    if any(n == "" or n.startswith("unnamed:") for n in names):
        raise FileRejected(
            f"{path.name}: the header has an empty column name; every column needs a name "
            "in the first row"
        )
    frame.columns = names
    return frame


def _finish(path: Path, frame: pd.DataFrame, first_row: int) -> Table:
    frame = _normalise_header(path, frame)
    frame = frame.fillna("").astype(str)
    numbers = np.arange(first_row, first_row + len(frame), dtype=np.int64)
    # Rows with nothing in them (blank lines, spreadsheet rows that only carry formatting).
    filled = np.zeros(len(frame), dtype=bool)
    for name in frame.columns:
        filled |= (frame[name].str.strip() != "").to_numpy()
    frame = frame[filled].reset_index(drop=True)
    return Table(frame=frame, row_numbers=numbers[filled], header=tuple(frame.columns))


def _read_csv(path: Path, data: bytes) -> Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRejected(
            f"{path.name} is not UTF-8 text (byte {exc.start}); it is probably GBK from Excel: "
            "save it as 'CSV UTF-8' or convert it with `iconv -f GB18030 -t UTF-8`"
        ) from exc
    if not text.strip():
        raise FileRejected(f"{path.name} is empty: expected a header row and data rows")
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise FileRejected(f"{path.name} is not a readable CSV file: {exc}") from exc
    return _finish(path, frame, first_row=2)


def _read_xlsx(path: Path, data: bytes) -> Table:
    try:
        frame = pd.read_excel(
            io.BytesIO(data), sheet_name=0, dtype=str, keep_default_na=False, engine="openpyxl"
        )
    except (zipfile.BadZipFile, ValueError, KeyError, OSError) as exc:
        raise FileRejected(f"{path.name} is not a readable .xlsx workbook: {exc}") from exc
    if len(frame.columns) == 0:
        raise FileRejected(f"{path.name}: the first sheet is empty")
    return _finish(path, frame, first_row=2)


def _property_text(value: Any) -> str:
    """A GeoJSON property as the text a CSV cell would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _read_geojson(path: Path, data: bytes) -> Table:
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise FileRejected(f"{path.name} is not UTF-8 text (byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise FileRejected(
            f"{path.name} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    if not isinstance(document, dict):
        raise FileRejected(f"{path.name}: expected a GeoJSON FeatureCollection object")
    if document.get("type") == "Feature":
        features = [document]
    elif document.get("type") == "FeatureCollection" and isinstance(document.get("features"), list):
        features = document["features"]
    else:
        raise FileRejected(
            f"{path.name}: expected a GeoJSON FeatureCollection with a 'features' list"
        )
    from dashboard.coords import CRSError, geojson_crs

    try:
        declared = geojson_crs(document)
    except CRSError as exc:
        raise FileRejected(f"{path.name}: {exc}") from exc

    records: list[dict[str, Any]] = []
    header: dict[str, None] = {}
    for feature in features:
        props = feature.get("properties") if isinstance(feature, dict) else None
        props = props if isinstance(props, dict) else {}
        record: dict[str, Any] = {}
        for name, value in props.items():
            key = str(name).strip().lower()
            header.setdefault(key, None)
            record[key] = _property_text(value)
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        record[GEOMETRY_JSON] = geometry
        record[GEOMETRY], record[GEOMETRY_ERROR] = _shape(geometry)
        records.append(record)
    names = list(header)
    frame = pd.DataFrame.from_records(
        records, columns=[*names, GEOMETRY, GEOMETRY_JSON, GEOMETRY_ERROR]
    )
    for name in names:
        frame[name] = frame[name].fillna("").astype(str)
    numbers = np.arange(1, len(frame) + 1, dtype=np.int64)
    return Table(frame=frame, row_numbers=numbers, header=tuple(names), declared_crs=declared)


def _shape(geometry: Any) -> tuple[shapely.Geometry | None, str | None]:
    if geometry is None:
        return None, "the feature has no geometry"
    try:
        shape = shapely.geometry.shape(geometry)
    except Exception as exc:  # noqa: BLE001 - any malformed geometry is a row problem
        return None, f"unreadable geometry: {exc}"
    if shape.is_empty:
        return None, "the geometry is empty"
    return shape, None
