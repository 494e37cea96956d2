"""What a kind of feed is, declared as data: its columns, key, table, readers and datasets.

One generic pipeline (:mod:`dashboard.ingest.pipeline`) runs every kind; a kind adds only what
is truly its own (reference checks against the database, how its rows are written) as hooks.
``docs/formats.md`` documents each kind from these declarations, and a test keeps the two
in step.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Table
from sqlalchemy.orm import Session

from dashboard.coords import SourceCRS
from dashboard.models import AreaLevel

if TYPE_CHECKING:
    from dashboard.ingest.rows import Rows


class FileRejected(Exception):
    """The file as a whole cannot be used; nothing of it was written.

    The message says what is wrong and what to do about it, for the operator.
    """


#: Why a row is set aside: the reason codes stored in ``quarantined_rows.reason``.
REASONS: dict[str, str] = {
    "wrong_field_count": "a CSV row with more or fewer fields than the header (a stray or "
    "missing comma): its values cannot be matched to the columns",
    "blank_id": "a key column (the row's identity) is blank",
    "missing_value": "a column that must be filled is blank",
    "bad_id_format": "an ID has the wrong length or characters",
    "bad_id_checksum": "an ID's check character does not match (a mistyped or lost digit)",
    "non_numeric": "a number column holds something that is not a number",
    "not_integer": "a count has a fractional part",
    "negative_value": "a count or value below zero",
    "out_of_range": "a value outside its allowed range",
    "bad_value": "not one of the allowed values (state, true/false)",
    "too_long": "text longer than the column allows",
    "bad_date": "not a date YYYY-MM-DD",
    "bad_timestamp": "not an ISO 8601 time, or (hour_start) not the start of an hour",
    "bad_coordinates": "lon/lat missing, not numbers, or outside the globe after conversion",
    "outside_district": "a ping outside the district outline stored in areas",
    "broken_geometry": "a missing, unreadable or invalid (e.g. self-intersecting) polygon",
    "wrong_geometry_type": "a boundary that is not a Polygon or MultiPolygon",
    "wrong_level": "an area code already used at another level of the hierarchy",
    "unknown_parent": "parent_code is blank or not an area of the level above",
    "unknown_compound": "compound_code is not a compound in areas",
    "unknown_area": "subdistrict_code is not a subdistrict in areas (committee_code: not a "
    "committee)",
    "unknown_station": "station_code is not a station",
    "unknown_site": "site_id is not a construction site",
    "unknown_id": "the key is new and the row lacks what a new record needs (a name; a "
    "station also its kind)",
    "duplicate_key": "the same key again in the same file; the first row was kept (shops: the "
    "row reporting the latest day)",
    "impossible_transition": "a state change the register's state machine does not allow "
    "(e.g. not_registered straight to reopened, or a closed-down shop reported open); the "
    "stored state is kept",
    "stale_report": "a shop's open/closed report (an enterprise's check-ins) for an earlier day "
    "than the one stored: a newer report is not overwritten",
}


class ColumnType(enum.StrEnum):
    CODE = "code"  # an identifier kept as text: leading zeros and a trailing X survive
    RESIDENT_ID = "resident_id"  # 18-character Chinese identity number, personal data
    CREDIT_CODE = "credit_code"  # 18-character unified social credit code
    TEXT = "text"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"  # true/false, 1/0, yes/no, 是/否
    DATE = "date"  # YYYY-MM-DD
    TIMESTAMP = "timestamp"  # ISO 8601; naive = local time in settings.timezone
    CHOICE = "choice"  # one of Column.choices
    LON = "lon"  # longitude in the file's coordinate system
    LAT = "lat"


@dataclass(frozen=True)
class Column:
    """One column of a feed. ``required``: the header must have it; ``blank_ok``: a cell may be
    empty (empty means "missing": not stored, or unchanged on update; never zero)."""

    name: str
    type: ColumnType
    required: bool = False
    blank_ok: bool = True
    min_value: float | None = None
    max_value: float | None = None
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    personal: bool = False  # masked in the quarantine table, never in messages or logs
    doc: str = ""
    example: str = ""


@dataclass
class Context:
    """One call of ``load_file``: what every hook may need."""

    kind: Kind
    path: Path
    session: Session
    now: dt.datetime
    tz: ZoneInfo
    level: AreaLevel | None = None
    source_crs: SourceCRS | None = None
    header: tuple[str, ...] = ()
    batch_id: int | None = None
    # The datasets' version bumped for this load before its rows are written: every register
    # row the load changes is stamped with it (``sync_version``). None until rows are written.
    sync_version: int | None = None
    notes: list[str] = field(default_factory=list)  # go into the report's message


HeaderCheck = Callable[[Context], None]
RowsHook = Callable[[Context, "Rows"], None]
Writer = Callable[[Context, "Rows"], None]


@dataclass(frozen=True)
class Kind:
    """A kind of feed. ``key``: the natural key (upsert, duplicates); empty for append-only.
    ``coordinates``: "lonlat" columns or "geometry" (GeoJSON), which then need a CRS.
    ``new_row_needs``: columns a row must fill when its key is not in the database yet.
    ``newest_wins``: a parsed column (set by ``check_rows``) that decides which of a key's rows
    in one file is kept: the one with the greatest value (blank lowest; ties: the first row);
    None: the first row."""

    name: str
    title: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    table: Table
    formats: frozenset[str]
    datasets: tuple[str, ...]
    coordinates: Literal["lonlat", "geometry"] | None = None
    new_row_needs: tuple[str, ...] = ()
    check_header: HeaderCheck | None = None
    check_rows: RowsHook | None = None
    write: Writer | None = None  # None: upsert the parsed columns that are table columns
    newest_wins: str | None = None
    doc: str = ""

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def describe_formats(self) -> str:
        return ", ".join(sorted(self.formats))
