"""The rows of one file on their way in: raw text, parsed values, and why a row was set aside.

Parsing is vectorised per column (a pings file has 10^5 rows); a row's first problem is the one
recorded, so the quarantine says what to fix first. Details never contain the value of a
personal column.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd

from dashboard.idcodes import is_valid_credit_code, is_valid_resident_id
from dashboard.ingest.spec import REASONS, Column, ColumnType

logger = logging.getLogger(__name__)

BoolArray = npt.NDArray[np.bool_]
Detail = str | Callable[[npt.NDArray[np.intp]], Iterable[str]]

# Columns added by the GeoJSON reader beside the properties.
GEOMETRY = "__geometry__"  # shapely geometry, or None
GEOMETRY_JSON = "__geometry_json__"  # the feature's geometry member as read
GEOMETRY_ERROR = "__geometry_error__"  # why the geometry could not be built, or None
# Added by the CSV reader: why the row's fields do not line up with the header, or None.
FIELD_COUNT_ERROR = "__field_count_error__"
INTERNAL_COLUMNS = (GEOMETRY, GEOMETRY_JSON, GEOMETRY_ERROR, FIELD_COUNT_ERROR)

#: The range of an INT column: the databases' 32-bit INTEGER (SQLite would store more, and
#: PostgreSQL would then fail the whole file).
INT_MIN, INT_MAX = -(2**31), 2**31 - 1

TRUE_WORDS = frozenset({"true", "t", "1", "yes", "y", "是", "对", "有"})
FALSE_WORDS = frozenset({"false", "f", "0", "no", "n", "否", "无"})

_DATE_RE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[T ]00:00(?::00(?:\.0+)?)?)?")
# An offset only counts after a time part: the "-21" of a bare date 2026-11-21 is the day.
_OFFSET_RE = r"[T ]\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d+)?)?)?\s*(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$"
# A plain number as text: what an INT cell may hold before the exact integer check.
_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_PLAIN_INT_RE = re.compile(r"[+-]?\d{1,18}", re.ASCII)
# NUL, which PostgreSQL text cannot hold, and lone UTF-16 surrogates (only a JSON "\ud800"
# escape makes one), which cannot be encoded as UTF-8 at all.
_UNSTORABLE_RE = r"[\x00\ud800-\udfff]"


class Rows:
    """Raw cells, parsed values (``values[column]``) and the first problem of each row."""

    def __init__(self, raw: pd.DataFrame, row_numbers: npt.NDArray[np.int64]) -> None:
        self.raw = raw.reset_index(drop=True)
        self.row_numbers = np.asarray(row_numbers, dtype=np.int64)
        self.n = len(self.raw)
        self.values: dict[str, pd.Series] = {}
        self.reason = np.full(self.n, None, dtype=object)
        self.detail = np.full(self.n, None, dtype=object)

    @property
    def ok(self) -> BoolArray:
        return np.equal(self.reason, None)

    def reject(self, mask: npt.ArrayLike, reason: str, detail: Detail) -> int:
        """Set aside the rows in ``mask`` not already set aside; how many were."""
        if reason not in REASONS:
            raise ValueError(f"undeclared reason code {reason!r}: add it to spec.REASONS")
        hit = np.asarray(mask, dtype=bool) & self.ok
        if not hit.any():
            return 0
        idx = np.flatnonzero(hit)
        self.reason[idx] = reason
        if isinstance(detail, str):
            self.detail[idx] = detail
        else:
            self.detail[idx] = np.asarray(list(detail(idx)), dtype=object)
        return len(idx)

    def counts(self) -> dict[str, int]:
        bad = self.reason[~self.ok]
        names, counts = np.unique(bad.astype(str), return_counts=True)
        return {str(k): int(v) for k, v in zip(names, counts, strict=True)}


def noted(raw: pd.DataFrame, column: str) -> tuple[BoolArray, npt.NDArray[np.object_]]:
    """Rows for which a reader noted a problem in ``column`` (GEOMETRY_ERROR,
    FIELD_COUNT_ERROR), and the notes. Missing is None or NaN: pandas 3 infers a string
    column and turns None into NaN, which ``!= None`` would count as a problem."""
    if column not in raw:
        return np.zeros(len(raw), dtype=bool), np.full(len(raw), None, dtype=object)
    values = raw[column].to_numpy(dtype=object)
    return ~pd.isna(values), values


# --------------------------------------------------------------------------- masking


def mask_id(value: str) -> str:
    """310***********1234: the first 3 and last 4 characters of an ID number."""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str) -> str:
    """张** : the first character of a name."""
    return value[:1] + "*" * max(len(value) - 1, 0)


def mask_personal(col: Column, value: str) -> str:
    if not value:
        return value
    return mask_id(value) if col.type is ColumnType.RESIDENT_ID else mask_name(value)


# --------------------------------------------------------------------------- parsing


def _nfkc(series: pd.Series) -> pd.Series:
    """Full-width digits and letters (common in Chinese office exports) to ASCII."""
    return series.map(lambda v: unicodedata.normalize("NFKC", v).strip())


def _as_object(values: pd.Series, blank: BoolArray) -> pd.Series:
    out = values.astype(object)
    out[blank] = None
    return out


def parse_column(rows: Rows, col: Column, *, key: bool, tz: ZoneInfo) -> None:
    """Parse one column into ``rows.values[col.name]``; set aside rows whose cell is bad."""
    text = rows.raw[col.name].astype(str).str.strip()
    blank = (text == "").to_numpy()
    if not col.blank_ok:
        rows.reject(blank, "blank_id" if key else "missing_value", f"{col.name} is blank")
    unstorable = text.str.contains(_UNSTORABLE_RE, regex=True).to_numpy(dtype=bool)
    if unstorable.any():
        nul = text.str.contains("\x00", regex=False).to_numpy(dtype=bool)
        rows.reject(unstorable & nul, "bad_value", f"{col.name}: contains a NUL character")
        rows.reject(
            unstorable,
            "bad_value",
            f"{col.name}: contains an invalid character (a lone UTF-16 surrogate)",
        )
    parser = _PARSERS[col.type]
    rows.values[col.name] = parser(rows, col, text, blank, tz)


def _fmt(
    col: Column, text: pd.Series, template: str
) -> Callable[[npt.NDArray[np.intp]], list[str]]:
    """Per-row detail like "confirmed: 'abc' is not a number" (value omitted if personal)."""
    values = text.to_numpy(dtype=object)

    def render(idx: npt.NDArray[np.intp]) -> list[str]:
        if col.personal:
            return [f"{col.name}: {template.format(value='(value withheld)')}"] * len(idx)
        return [f"{col.name}: {template.format(value=repr(_short(values[i])))}" for i in idx]

    return render


def _short(value: Any) -> str:
    s = str(value)
    return s if len(s) <= 60 else s[:57] + "..."


def _check_length(rows: Rows, col: Column, text: pd.Series) -> None:
    if col.max_length is not None:
        too_long = (text.str.len() > col.max_length).to_numpy()
        rows.reject(
            too_long, "too_long", _fmt(col, text, f"{{value}} is longer than {col.max_length}")
        )


def _parse_text(
    rows: Rows, col: Column, text: pd.Series, blank: BoolArray, tz: ZoneInfo
) -> pd.Series:
    _check_length(rows, col, text)
    return _as_object(text, blank)


def _parse_code(
    rows: Rows, col: Column, text: pd.Series, blank: BoolArray, tz: ZoneInfo
) -> pd.Series:
    text = _nfkc(text)
    _check_length(rows, col, text)
    return _as_object(text, blank)


def _parse_resident_id(
    rows: Rows, col: Column, text: pd.Series, blank: BoolArray, tz: ZoneInfo
) -> pd.Series:
    # A lower-case x is the same number; the canonical form has X.
    text = _nfkc(text).str.upper()
    shape_ok = text.str.fullmatch(r"\d{17}[\dX]").to_numpy(dtype=bool)
    rows.reject(
        ~blank & ~shape_ok,
        "bad_id_format",
        f"{col.name}: not 17 digits followed by a digit or X (value withheld)",
    )
    valid = np.fromiter((is_valid_resident_id(v) for v in text), dtype=bool, count=len(text))
    rows.reject(
        ~blank & ~valid,
        "bad_id_checksum",
        f"{col.name}: the check character does not match (value withheld); "
        "a digit was probably mistyped or lost",
    )
    return _as_object(text, blank)


def _parse_credit_code(
    rows: Rows, col: Column, text: pd.Series, blank: BoolArray, tz: ZoneInfo
) -> pd.Series:
    text = _nfkc(text).str.upper()
    right_length = (text.str.len() == 18).to_numpy()
    rows.reject(
        ~blank & ~right_length, "bad_id_format", _fmt(col, text, "{value} is not 18 characters")
    )
    valid = np.fromiter((is_valid_credit_code(v) for v in text), dtype=bool, count=len(text))
    rows.reject(
        ~blank & ~valid,
        "bad_id_checksum",
        _fmt(col, text, "{value} is not a valid unified social credit code (check character)"),
    )
    return _as_object(text, blank)


def _numbers(rows: Rows, col: Column, text: pd.Series, blank: BoolArray, reason: str) -> pd.Series:
    numbers = pd.to_numeric(text.where(~blank), errors="coerce").astype("float64")
    bad = ~blank & ~np.isfinite(numbers.to_numpy())
    rows.reject(bad, reason, _fmt(col, text, "{value} is not a number"))
    return numbers.where(~bad)


def _check_range(rows: Rows, col: Column, numbers: pd.Series, text: pd.Series) -> None:
    arr = numbers.to_numpy()
    with np.errstate(invalid="ignore"):
        if col.min_value is not None:
            low = arr < col.min_value
            reason = "negative_value" if col.min_value == 0 else "out_of_range"
            rows.reject(low, reason, _fmt(col, text, f"{{value}} is below {col.min_value:g}"))
        if col.max_value is not None:
            high = arr > col.max_value
            rows.reject(
                high, "out_of_range", _fmt(col, text, f"{{value}} is above {col.max_value:g}")
            )


def _parse_float(
    rows: Rows, col: Column, text: pd.Series, blank: BoolArray, tz: ZoneInfo
) -> pd.Series:
    numbers = _numbers(rows, col, text, blank, "non_numeric")
    _check_range(rows, col, numbers, text)
    return numbers


def _parse_int(
    rows: Rows, col: Column, text: pd.Series, blank: BoolArray, tz: ZoneInfo
) -> pd.Series:
    """Exact whole numbers (no float64 on the way, which rounds above 2^53), within the
    column's bounds and the databases' 32-bit INTEGER. ``12.0`` and ``1e3`` are whole."""
    values = text.to_numpy(dtype=object)
    n = len(values)
    out: list[int | None] = [None] * n
    non_numeric = np.zeros(n, dtype=bool)
    fractional = np.zeros(n, dtype=bool)
    absurd = np.zeros(n, dtype=bool)  # an exponent beyond what Decimal holds (1e99999...)
    exact: list[Decimal | None] = [None] * n
    for i, value in enumerate(values):
        if blank[i]:
            continue
        if _PLAIN_INT_RE.fullmatch(value):
            exact[i] = Decimal(int(value))
        elif _NUMBER_RE.fullmatch(value):
            try:
                number = Decimal(value)
                whole = number == number.to_integral_value()
            except InvalidOperation:
                absurd[i] = True
                continue
            if whole:
                exact[i] = number
            else:
                fractional[i] = True
        else:
            non_numeric[i] = True
    rows.reject(non_numeric, "non_numeric", _fmt(col, text, "{value} is not a number"))
    rows.reject(absurd, "out_of_range", _fmt(col, text, "{value} is far out of range"))
    rows.reject(fractional, "not_integer", _fmt(col, text, "{value} is not a whole number"))

    low_bound = INT_MIN if col.min_value is None else max(INT_MIN, int(col.min_value))
    high_bound = INT_MAX if col.max_value is None else min(INT_MAX, int(col.max_value))
    low = np.array([v is not None and v < low_bound for v in exact], dtype=bool)
    high = np.array([v is not None and v > high_bound for v in exact], dtype=bool)
    reason = "negative_value" if col.min_value == 0 else "out_of_range"
    rows.reject(low, reason, _fmt(col, text, f"{{value}} is below {low_bound}"))
    rows.reject(high, "out_of_range", _fmt(col, text, f"{{value}} is above {high_bound}"))
    for i, v in enumerate(exact):
        if v is not None and not (low[i] or high[i]):
            out[i] = int(v)
    return pd.Series(pd.array(out, dtype="Int64"))


def _parse_coordinate(
    rows: Rows, col: Column, text: pd.Series, blank: BoolArray, tz: ZoneInfo
) -> pd.Series:
    # Range checks happen after the conversion to WGS84 (see pipeline).
    return _numbers(rows, col, text, blank, "bad_coordinates")


def _parse_bool(
    rows: Rows, col: Column, text: pd.Series, blank: BoolArray, tz: ZoneInfo
) -> pd.Series:
    lower = text.str.lower()
    is_true = lower.isin(TRUE_WORDS).to_numpy()
    is_false = lower.isin(FALSE_WORDS).to_numpy()
    rows.reject(
        ~blank & ~is_true & ~is_false,
        "bad_value",
        _fmt(col, text, "{value} is not true/false (1/0, 是/否)"),
    )
    out = pd.Series(np.where(is_true, True, np.where(is_false, False, None)), dtype=object)
    return out


def _parse_choice(
    rows: Rows, col: Column, text: pd.Series, blank: BoolArray, tz: ZoneInfo
) -> pd.Series:
    lower = text.str.lower()
    known = lower.isin(col.choices).to_numpy()
    rows.reject(
        ~blank & ~known,
        "bad_value",
        _fmt(col, text, "{value} is not one of " + "/".join(col.choices)),
    )
    return _as_object(lower, blank | ~known)


def _parse_date(
    rows: Rows, col: Column, text: pd.Series, blank: BoolArray, tz: ZoneInfo
) -> pd.Series:
    out = np.full(len(text), None, dtype=object)
    bad = np.zeros(len(text), dtype=bool)
    for i, value in enumerate(text.to_numpy(dtype=object)):
        if blank[i]:
            continue
        match = _DATE_RE.fullmatch(value)
        try:
            out[i] = dt.date.fromisoformat(match.group(1)) if match else None
        except ValueError:
            out[i] = None
        bad[i] = out[i] is None
    rows.reject(bad, "bad_date", _fmt(col, text, "{value} is not a date YYYY-MM-DD"))
    return pd.Series(out, dtype=object)


def parse_timestamps(text: pd.Series, tz: ZoneInfo) -> pd.Series:
    """ISO 8601 text -> UTC timestamps (NaT where unreadable). An offset in the text is
    honoured; text without one is local time in ``tz`` (the district's clock)."""
    has_offset = text.str.contains(_OFFSET_RE, regex=True).to_numpy(dtype=bool)
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us, UTC]")
    if has_offset.any():
        aware = pd.to_datetime(text[has_offset], format="ISO8601", utc=True, errors="coerce")
        result[has_offset] = aware.astype("datetime64[us, UTC]")
    naive_mask = ~has_offset
    if naive_mask.any():
        local = _localize(text[naive_mask], tz)
        result[naive_mask] = local.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
    return result


def _localize(text: pd.Series, tz: ZoneInfo) -> pd.Series:
    """Text without a (recognised) offset -> times in ``tz``. Whatever pandas still reads as
    carrying a zone (``2026-11-21Z``: a zone without a time) is not a time we accept: NaT."""
    try:
        naive = pd.to_datetime(text, format="ISO8601", errors="coerce")
    except (ValueError, TypeError):
        naive = None
    if naive is None or getattr(naive.dtype, "tz", None) is not None or naive.dtype == object:
        naive = pd.Series([_naive_one(v) for v in text], index=text.index, dtype="datetime64[us]")
    return naive.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")


def _naive_one(value: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(pd.to_datetime(value, format="ISO8601"))
    except (ValueError, TypeError, OverflowError):
        return pd.NaT
    return pd.NaT if stamp is pd.NaT or stamp.tzinfo is not None else stamp


def _parse_timestamp(
    rows: Rows, col: Column, text: pd.Series, blank: BoolArray, tz: ZoneInfo
) -> pd.Series:
    stamps = parse_timestamps(text.where(~blank, ""), tz)
    bad = ~blank & stamps.isna().to_numpy()
    rows.reject(bad, "bad_timestamp", _fmt(col, text, "{value} is not an ISO 8601 time"))
    return stamps


_PARSERS: dict[ColumnType, Callable[[Rows, Column, pd.Series, BoolArray, ZoneInfo], pd.Series]] = {
    ColumnType.CODE: _parse_code,
    ColumnType.RESIDENT_ID: _parse_resident_id,
    ColumnType.CREDIT_CODE: _parse_credit_code,
    ColumnType.TEXT: _parse_text,
    ColumnType.INT: _parse_int,
    ColumnType.FLOAT: _parse_float,
    ColumnType.BOOL: _parse_bool,
    ColumnType.DATE: _parse_date,
    ColumnType.TIMESTAMP: _parse_timestamp,
    ColumnType.CHOICE: _parse_choice,
    ColumnType.LON: _parse_coordinate,
    ColumnType.LAT: _parse_coordinate,
}


def python_values(series: pd.Series, col_type: ColumnType | None) -> list[Any]:
    """Parsed values as plain Python objects for the database driver (None for missing)."""
    if col_type is ColumnType.INT:
        return [None if pd.isna(v) else int(v) for v in series]
    if col_type in (ColumnType.FLOAT, ColumnType.LON, ColumnType.LAT):
        arr = series.to_numpy(dtype="float64", na_value=np.nan)
        return [None if np.isnan(v) else float(v) for v in arr]
    if col_type is ColumnType.TIMESTAMP:
        return [None if pd.isna(v) else v.to_pydatetime() for v in series]
    return [None if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in series]
