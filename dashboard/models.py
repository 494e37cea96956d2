"""The data model: SQLAlchemy 2.0 typed models, one class per table.

Codes and IDs are text everywhere (leading zeros and a trailing X must survive). Times are stored
as timezone-aware UTC; days ("the date a score is for") are calendar dates in the district's time
zone. Geometry is WGS84 (EPSG:4326), see :mod:`dashboard.geometry`.

Alembic migrations in ``migrations/`` create these tables; ``tests/test_migrations.py`` checks
that the migrated schema matches these models.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from dashboard.sqltypes import Geometry, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dt.datetime: UTCDateTime(), dict[str, Any]: JSON, list[str]: JSON}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --------------------------------------------------------------------------- areas


class AreaLevel(enum.StrEnum):
    DISTRICT = "district"
    SUBDISTRICT = "subdistrict"
    COMMITTEE = "committee"
    COMPOUND = "compound"

    @property
    def parent(self) -> AreaLevel | None:
        order = list(AreaLevel)
        i = order.index(self)
        return order[i - 1] if i else None


AREA_LEVEL = Enum(AreaLevel, name="area_level", values_callable=lambda e: [m.value for m in e])


class Area(Base):
    """One node of the hierarchy district → subdistrict → residential committee → compound."""

    __tablename__ = "areas"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    level: Mapped[AreaLevel] = mapped_column(AREA_LEVEL, index=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_code: Mapped[str | None] = mapped_column(
        ForeignKey("areas.code", ondelete="RESTRICT"), index=True
    )
    population: Mapped[int | None] = mapped_column(Integer)
    area_km2: Mapped[float | None] = mapped_column(Float)
    geom = mapped_column(Geometry("MULTIPOLYGON"), nullable=True)
    label_lon: Mapped[float | None] = mapped_column(Float)
    label_lat: Mapped[float | None] = mapped_column(Float)
    is_virtual: Mapped[bool] = mapped_column(Boolean, default=False)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))

    parent: Mapped[Area | None] = relationship(remote_side=[code])


class Building(Base):
    __tablename__ = "buildings"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    compound_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    floors: Mapped[int] = mapped_column(Integer)
    households: Mapped[int] = mapped_column(Integer)
    residents: Mapped[int] = mapped_column(Integer)
    geom = mapped_column(Geometry("POLYGON"), nullable=True)


# --------------------------------------------------------------------------- community risk


class IndicatorValue(Base):
    """One indicator's value for one compound on one day (long format)."""

    __tablename__ = "indicator_values"

    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    compound_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), primary_key=True)
    indicator: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))


class RiskModelVersion(Base):
    """Each version of the risk model that scored at least one day, as it was then.

    Stored scores name their model version; this keeps its weights, bases and caps, so an old
    score's contributions can be explained after the model in force has changed.
    """

    __tablename__ = "risk_models"

    version: Mapped[str] = mapped_column(String(40), primary_key=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    first_used_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class RiskScore(Base):
    """One compound's score for one day. ``score`` counts only the indicators known for that day
    (carried forward for a few days when a return is late); ``complete`` is false when some were
    still missing, and ``score_upper`` is what the score would be with those at their worst."""

    __tablename__ = "risk_scores"

    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    compound_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), primary_key=True)
    model_version: Mapped[str] = mapped_column(ForeignKey("risk_models.version"))
    score: Mapped[float] = mapped_column(Float)
    score_upper: Mapped[float] = mapped_column(Float)
    band: Mapped[str] = mapped_column(String(10))
    rank: Mapped[int] = mapped_column(Integer)
    complete: Mapped[bool] = mapped_column(Boolean, default=True)
    subscores: Mapped[dict[str, Any]] = mapped_column(JSON)  # key -> sub-score (0..100) or null
    missing: Mapped[list[str]] = mapped_column(JSON, default=list)  # keys with no value
    carried: Mapped[list[str]] = mapped_column(JSON, default=list)  # keys carried forward
    computed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("band IN ('red', 'yellow', 'blue')", name="band"),
        Index("ix_risk_scores_date_rank", "date", "rank"),
    )


# --------------------------------------------------------------------------- crowd


class Ping(Base):
    """A raw location ping as delivered by a carrier or map vendor."""

    __tablename__ = "pings"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    ts: Mapped[dt.datetime] = mapped_column(index=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"), index=True)


class ProviderCount(Base):
    """People counted in one of our grid cells at one time by a provider (a carrier's
    pre-aggregated feed, ingestion kind ``crowd_counts``). Folded into the same windows as the
    pings: see :mod:`dashboard.crowd`."""

    __tablename__ = "provider_counts"

    ts: Mapped[dt.datetime] = mapped_column(primary_key=True)
    cell_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"), index=True)


class CrowdCount(Base):
    """People counted in one grid cell during one time window.

    ``count`` is people (Σ ping weights plus the providers' counts), ``observations`` what stands
    behind it (pings, plus the providers' counts of people): the small-count rule reads it.
    The level is not stored: it is cut from ``density_km2`` with the thresholds in force.
    """

    __tablename__ = "crowd_counts"

    # Window first: the screen reads all the cells of one window.
    window_start: Mapped[dt.datetime] = mapped_column(primary_key=True)
    cell_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[float] = mapped_column(Float)
    observations: Mapped[int] = mapped_column(Integer)
    density_km2: Mapped[float] = mapped_column(Float)


class CrowdWindow(Base):
    """One aggregated time window: that it was computed (even with no data), when, and its
    totals, so the time slider lists windows without scanning the cells."""

    __tablename__ = "crowd_windows"

    window_start: Mapped[dt.datetime] = mapped_column(primary_key=True)
    computed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    cells: Mapped[int] = mapped_column(Integer)
    people: Mapped[float] = mapped_column(Float)
    observations: Mapped[int] = mapped_column(Integer)


class CrowdBatch(Base):
    """An import batch of pings or provider counts already folded into the crowd windows.

    A set of ids rather than a high-water mark: on PostgreSQL two imports may commit out of
    their id order, and a mark would skip the one that committed last.
    """

    __tablename__ = "crowd_batches"

    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"), primary_key=True)
    aggregated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# --------------------------------------------------------------------------- registers


class Enterprise(Base):
    __tablename__ = "enterprises"

    credit_code: Mapped[str] = mapped_column(String(18), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    subdistrict_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"), index=True)
    industry: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20), default="not_registered")
    planned_reopen_date: Mapped[dt.date | None] = mapped_column(Date)
    planned_headcount: Mapped[int | None] = mapped_column(Integer)
    returned_headcount: Mapped[int | None] = mapped_column(Integer)
    capacity_pct: Mapped[float | None] = mapped_column(Float)
    pending_approvals: Mapped[int | None] = mapped_column(Integer)
    checkins_today: Mapped[int | None] = mapped_column(Integer)
    # The district-local day checkins_today counts: another day's count is not today's.
    checkins_on: Mapped[dt.date | None] = mapped_column(Date)
    labour_gap: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # trade -> people short
    geom = mapped_column(Geometry("POINT"), nullable=True)
    # When ``state`` last changed (not every update does): "reopened today", laggards' age.
    state_changed_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    # The dataset's data version of the write that last changed this row (versions.bump, in
    # the same transaction): writers of a dataset queue on its version row, so versions commit
    # in order and "rows with sync_version > N" misses nothing (the registers page's sync).
    sync_version: Mapped[int | None] = mapped_column(BigInteger, index=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))


class Shop(Base):
    __tablename__ = "shops"

    licence_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    street: Mapped[str | None] = mapped_column(String(200))
    subdistrict_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"), index=True)
    # Unknown until reported: a blank cell is never "closed" or "no staff".
    is_open: Mapped[bool | None] = mapped_column(Boolean)
    # The district-local day ``is_open`` was reported for: a report of yesterday is not today's.
    open_on: Mapped[dt.date | None] = mapped_column(Date)
    # Closed down for good (licence cancelled): terminal, a later "open" is refused.
    closed_down: Mapped[bool] = mapped_column(Boolean, default=False)
    staff_registered: Mapped[int | None] = mapped_column(Integer)
    geom = mapped_column(Geometry("POINT"), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    sync_version: Mapped[int | None] = mapped_column(BigInteger, index=True)  # see Enterprise
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))


class ConstructionSite(Base):
    __tablename__ = "construction_sites"

    site_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    contractor: Mapped[str | None] = mapped_column(String(200))
    subdistrict_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"), index=True)
    # Reopening (复工), the same state machine as enterprises: see dashboard.states.
    state: Mapped[str] = mapped_column(String(20), default="not_registered")
    state_changed_at: Mapped[dt.datetime | None]
    planned_reopen_date: Mapped[dt.date | None] = mapped_column(Date)
    # Recounted from site_workers on every check-in file (never read from a feed):
    headcount: Mapped[int] = mapped_column(Integer, default=0)
    new_arrivals_today: Mapped[int] = mapped_column(Integer, default=0)
    key_region_arrivals: Mapped[int] = mapped_column(Integer, default=0)  # last 14 days
    unchecked_arrivals: Mapped[int] = mapped_column(Integer, default=0)  # of those, unchecked
    geom = mapped_column(Geometry("POINT"), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    sync_version: Mapped[int | None] = mapped_column(BigInteger, index=True)  # see Enterprise
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))


class SiteWorker(Base):
    """A worker checked in at a construction site. ``id_number`` and ``name`` are personal data:
    they never leave the server except masked, to staff, with the access logged."""

    __tablename__ = "site_workers"

    id_number: Mapped[str] = mapped_column(String(18), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("construction_sites.site_id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    home_province: Mapped[str] = mapped_column(String(40))
    arrived_on: Mapped[dt.date] = mapped_column(Date)
    from_key_region: Mapped[bool] = mapped_column(Boolean, default=False)
    certificate_checked: Mapped[bool | None] = mapped_column(Boolean)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))


class RegisterCount(Base):
    """One figure of a register on one district-local day (``metric`` e.g. ``state:reopened``,
    ``open``, ``returned_headcount``), rewritten through the day by the ``snapshot_registers``
    job: the last write of a day is that day's close, which "change since yesterday" reads."""

    __tablename__ = "register_counts"

    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    register: Mapped[str] = mapped_column(String(20), primary_key=True)
    subdistrict_code: Mapped[str] = mapped_column(String(32), primary_key=True)  # "" = district
    metric: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# --------------------------------------------------------------------------- overview feeds


class EpidemicCount(Base):
    """The epidemic situation as published: new and current cases per day and level."""

    __tablename__ = "epidemic_counts"

    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    level: Mapped[str] = mapped_column(String(20), primary_key=True)  # country | city | district
    new_cases: Mapped[int] = mapped_column(Integer)
    current_cases: Mapped[int] = mapped_column(Integer)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))

    __table_args__ = (
        CheckConstraint("level IN ('country', 'city', 'district')", name="level"),
    )


class HomeObservation(Base):
    """People under home observation in one residential committee on one day (a count: the
    people themselves stay with the health department)."""

    __tablename__ = "home_observations"

    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    committee_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), primary_key=True)
    people: Mapped[int] = mapped_column(Integer)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))


class DisinfectionTask(Base):
    """A key place due for disinfection on a day, and when it was done (null: not yet)."""

    __tablename__ = "disinfection_tasks"

    place_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    due_on: Mapped[dt.date] = mapped_column(Date, primary_key=True, index=True)
    place_name: Mapped[str] = mapped_column(String(200))
    place_kind: Mapped[str | None] = mapped_column(String(40))
    subdistrict_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"), index=True)
    done_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sync_version: Mapped[int | None] = mapped_column(BigInteger, index=True)  # see Enterprise
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))


class MaskSupply(Base):
    """Masks reserved and delivered per subdistrict and day."""

    __tablename__ = "mask_supplies"

    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    subdistrict_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), primary_key=True)
    reserved: Mapped[int] = mapped_column(Integer)
    delivered: Mapped[int] = mapped_column(Integer)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))


class OfficeReturnees(Base):
    """Returning white-collar workers counted in one office building on one day."""

    __tablename__ = "office_returnees"

    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    building_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    building_name: Mapped[str] = mapped_column(String(200))
    subdistrict_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"), index=True)
    returnees: Mapped[int] = mapped_column(Integer)
    geom = mapped_column(Geometry("POINT"), nullable=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))


# --------------------------------------------------------------------------- stations


class Station(Base):
    __tablename__ = "stations"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # railway | metro
    geom = mapped_column(Geometry("POINT"), nullable=True)


class StationFlow(Base):
    """Actual arrivals at a station during one hour."""

    __tablename__ = "station_flows"

    station_code: Mapped[str] = mapped_column(ForeignKey("stations.code"), primary_key=True)
    hour_start: Mapped[dt.datetime] = mapped_column(primary_key=True)
    arrivals: Mapped[int] = mapped_column(Integer)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))


class StationBooking(Base):
    """Arrivals booked for one future hour, as known at ``as_of``."""

    __tablename__ = "station_bookings"

    station_code: Mapped[str] = mapped_column(ForeignKey("stations.code"), primary_key=True)
    as_of: Mapped[dt.datetime] = mapped_column(primary_key=True)
    hour_start: Mapped[dt.datetime] = mapped_column(primary_key=True)
    booked: Mapped[int] = mapped_column(Integer)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))


class StationForecast(Base):
    __tablename__ = "station_forecasts"

    station_code: Mapped[str] = mapped_column(ForeignKey("stations.code"), primary_key=True)
    issued_at: Mapped[dt.datetime] = mapped_column(primary_key=True)
    hour_start: Mapped[dt.datetime] = mapped_column(primary_key=True)
    model: Mapped[str] = mapped_column(String(40))
    mean: Mapped[float] = mapped_column(Float)
    lo80: Mapped[float] = mapped_column(Float)
    hi80: Mapped[float] = mapped_column(Float)
    lo95: Mapped[float] = mapped_column(Float)
    hi95: Mapped[float] = mapped_column(Float)


# --------------------------------------------------------------------------- dispatch


class WorkOrder(Base):
    __tablename__ = "work_orders"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(40))  # hotline_12345 | checkpoint | health_cloud
    title: Mapped[str] = mapped_column(String(300))
    area_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    due_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]


# --------------------------------------------------------------------------- ingestion


class ImportBatch(Base):
    """One file offered to the ingestion path, whatever became of it."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    filename: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))  # loaded | rejected
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_loaded: Mapped[int] = mapped_column(Integer, default=0)
    rows_quarantined: Mapped[int] = mapped_column(Integer, default=0)
    rows_duplicate: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]

    __table_args__ = (
        # A loaded file is loaded once; refused files may be offered again after a fix.
        Index(
            "uq_import_batches_loaded_file",
            "kind",
            "sha256",
            unique=True,
            sqlite_where=text("status = 'loaded'"),
            postgresql_where=text("status = 'loaded'"),
        ),
    )


class QuarantinedRow(Base):
    """A row set aside by the ingestion path, with the reason, so nothing is lost."""

    __tablename__ = "quarantined_rows"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"), index=True)
    row_number: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(60), index=True)
    detail: Mapped[str] = mapped_column(Text)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON)


class DataVersion(Base):
    """Bumped by every write to a dataset; the screen's one cheap check per tick reads it."""

    __tablename__ = "data_versions"

    dataset: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# --------------------------------------------------------------------------- scheduler


class JobRun(Base):
    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(String(60), index=True)
    scheduler_id: Mapped[str | None] = mapped_column(String(100))
    slot: Mapped[dt.datetime | None]
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[dt.datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="running")  # running|ok|failed
    rows: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("job_id", "slot", name="uq_job_runs_job_slot"),)


class SchedulerLock(Base):
    """A lease: the scheduler holding it runs jobs; any other waits."""

    __tablename__ = "scheduler_lock"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(100))
    acquired_at: Mapped[dt.datetime | None]
    expires_at: Mapped[dt.datetime | None]


# --------------------------------------------------------------------------- access


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Role(Base):
    __tablename__ = "roles"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)  # wall | leader | staff | admin
    description: Mapped[str] = mapped_column(String(300))


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(ForeignKey("roles.name"), primary_key=True)


class UserScope(Base):
    """An area a user may see (and everything under it)."""

    __tablename__ = "user_scopes"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), primary_key=True)


class AccessLog(Base):
    """Every access to a person's record."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(40))
    subject_kind: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(100))
    detail: Mapped[str | None] = mapped_column(Text)
