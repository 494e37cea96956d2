"""Readers: a file's bytes -> a table of text cells, whatever the format.

Every cell is read as text (``dtype=str``, no NA guessing) so IDs keep their leading zeros and
trailing X, and a blank stays blank instead of becoming NaN or 0. Row numbers are the ones a
person sees: in a spreadsheet the header is row 1 and the first data row is row 2; in GeoJSON
the first feature is number 1.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
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

from dashboard.ingest.rows import FIELD_COUNT_ERROR, GEOMETRY, GEOMETRY_ERROR, GEOMETRY_JSON
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


def _normalise_names(path: Path, raw_names: list[object], *, pandas_mangled: bool) -> list[str]:
    """Header names trimmed and lower-cased; a repeated or empty name refuses the file."""
    names = [str(c).strip().lower() for c in raw_names]
    if any("\x00" in n for n in names):
        raise FileRejected(f"{path.name}: the header contains a NUL character")
    seen: set[str] = set()
    for name in names:
        m = _MANGLED.match(name) if pandas_mangled else None
        if m and m.group(1) in names:  # pandas renames a repeated "code" to "code.1"
            raise FileRejected(
                f"{path.name}: column {m.group(1)!r} appears more than once in the header"
            )
        if name in seen:
            raise FileRejected(f"{path.name}: column {name!r} appears more than once in the header")
        seen.add(name)
    if any(n == "" or (pandas_mangled and n.startswith("unnamed:")) for n in names):
        raise FileRejected(
            f"{path.name}: the header has an empty column name; every column needs a name "
            "in the first row"
        )
    return names


def _finish(path: Path, frame: pd.DataFrame, first_row: int) -> Table:
    frame.columns = _normalise_names(path, list(frame.columns), pandas_mangled=True)
    frame = frame.fillna("").astype(str)
    numbers = np.arange(first_row, first_row + len(frame), dtype=np.int64)
    # Rows with nothing in them (blank lines, spreadsheet rows that only carry formatting).
    filled = np.zeros(len(frame), dtype=bool)
    for name in frame.columns:
        filled |= (frame[name].str.strip() != "").to_numpy()
    frame = frame[filled].reset_index(drop=True)
    return Table(frame=frame, row_numbers=numbers[filled], header=tuple(frame.columns))


def _read_csv(path: Path, data: bytes) -> Table:
    """CSV with the standard library's reader, which says how many fields each row has.

    pandas would take a row with one field more than the header as "first column is the
    index" and shift every value one column left, or pad a short row with blanks; here such a
    row keeps its cells for the quarantine and is marked (``FIELD_COUNT_ERROR``). A trailing
    comma on every line, the header included, is only an empty last column: it is dropped.
    """
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
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise FileRejected(f"{path.name} is not a readable CSV file: {exc}") from exc
    header = records[0]
    if not any(c.strip() for c in header):
        raise FileRejected(
            f"{path.name}: the first line is empty; the header row must be the first line"
        )
    padded = len(header)
    width = padded
    while header[width - 1].strip() == "":  # trailing commas after the last name
        width -= 1
    names = _normalise_names(path, header[:width], pandas_mangled=False)

    body = records[1:]
    n = len(body)
    lengths = np.fromiter(map(len, body), dtype=np.int64, count=n)
    # Rows of another length than the header's are rare: only they go through Python.
    odd = np.flatnonzero(lengths != padded)
    odd_blank = np.zeros(n, dtype=bool)
    for i in odd:
        record = body[i]
        odd_blank[i] = not any(c.strip() for c in record)
        body[i] = (record + [""] * padded)[:padded]
    columns = list(zip(*body, strict=True)) if n else [()] * padded
    cells = [pd.Series(col, dtype=str) for col in columns]
    blank = [np.fromiter((not v or v.isspace() for v in col), bool, n) for col in columns]
    filled = ~np.logical_and.reduce(blank) if n else np.zeros(0, dtype=bool)
    filled[odd] = ~odd_blank[odd]  # cells beyond the header's width count too

    errors = np.full(n, None, dtype=object)
    for j in range(width, padded):  # under the trailing empty header name
        errors[~blank[j]] = f"a value after the last named column (column {j + 1} has no name)"
    for i in odd:
        if lengths[i] < width:
            errors[i] = f"the row has {lengths[i]} fields, the header has {width}: a comma missing?"
        elif lengths[i] > padded:
            errors[i] = (
                f"the row has {lengths[i]} fields, the header has {width}: a comma too many "
                "(a trailing comma, or a value with a comma that is not in quotes)?"
            )
    frame = pd.DataFrame(dict(zip(names, cells[:width], strict=True)), index=range(n))
    frame[FIELD_COUNT_ERROR] = pd.Series(errors, dtype=object)
    frame = frame[filled].reset_index(drop=True)
    numbers = np.arange(2, n + 2, dtype=np.int64)[filled]
    return Table(frame=frame, row_numbers=numbers, header=tuple(names))


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


class NonFinite(str):
    """A NaN, Infinity or overflowing number in a JSON document, kept as its text.

    Python's json module accepts them, but they are not JSON: PostgreSQL refuses the
    quarantine's ``raw`` column holding one, and no coordinate can be NaN. As text, a property
    is then "not a number" and a geometry is broken, like any other bad value.
    """


def _strict_constant(name: str) -> NonFinite:
    return NonFinite(name)


def _strict_float(text: str) -> float | NonFinite:
    value = float(text)
    return value if math.isfinite(value) else NonFinite(text)


def _has_non_finite(value: Any) -> bool:
    if isinstance(value, NonFinite):
        return True
    if isinstance(value, dict):
        return any(_has_non_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_non_finite(v) for v in value)
    return False


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
        document = json.loads(
            data.decode("utf-8-sig"),
            parse_constant=_strict_constant,
            parse_float=_strict_float,
        )
    except UnicodeDecodeError as exc:
        raise FileRejected(f"{path.name} is not UTF-8 text (byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise FileRejected(
            f"{path.name} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    except RecursionError as exc:
        raise FileRejected(f"{path.name}: the JSON is nested too deeply to read") from exc
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
    for number, feature in enumerate(features, start=1):
        props = feature.get("properties") if isinstance(feature, dict) else None
        props = props if isinstance(props, dict) else {}
        record: dict[str, Any] = {}
        for name, value in props.items():
            key = str(name).strip().lower()
            if key in record:
                # Which of "Name" and "name" is meant cannot be told; as for a CSV header.
                raise FileRejected(
                    f"{path.name}: feature {number} has the property {key!r} more than once "
                    "(names are compared ignoring case and surrounding spaces)"
                )
            header.setdefault(key, None)
            record[key] = _property_text(value)
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        record[GEOMETRY_JSON] = geometry
        if _has_non_finite(geometry):
            record[GEOMETRY], record[GEOMETRY_ERROR] = (
                None,
                "the coordinates contain NaN or Infinity, which is not a number (nor JSON)",
            )
        else:
            record[GEOMETRY], record[GEOMETRY_ERROR] = _shape(geometry)
        records.append(record)
    names = list(header)
    if any("\x00" in n for n in names):
        raise FileRejected(f"{path.name}: a property name contains a NUL character")
    frame = pd.DataFrame.from_records(
        records, columns=[*names, GEOMETRY, GEOMETRY_JSON, GEOMETRY_ERROR]
    )
    for name in names:
        frame[name] = frame[name].fillna("").astype(str)
    for name in (GEOMETRY, GEOMETRY_JSON, GEOMETRY_ERROR):  # None stays None, not NaN
        frame[name] = pd.Series([r[name] for r in records], dtype=object)
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
