"""``write_demo``: the demo district into an empty, migrated database, in bulk.

One ``INSERT`` per table with a list of parameter sets: SQLAlchemy sends them as multi-row
``VALUES`` batches on both SQLite and PostgreSQL, which is what makes the first ``make run``
take seconds, not minutes. The caller owns the transaction: nothing here commits.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from shapely import MultiPolygon, Polygon
from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from dashboard import register_counts, versions
from dashboard.demo.build import YESTERDAY_COLUMNS, DemoDistrict
from dashboard.models import (
    Area,
    AreaLevel,
    Building,
    ConstructionSite,
    DisinfectionTask,
    Enterprise,
    EpidemicCount,
    HomeObservation,
    MaskSupply,
    OfficeReturnees,
    Shop,
    SiteWorker,
    Station,
    WorkOrder,
)

logger = logging.getLogger(__name__)

DATASETS = ("areas", "enterprises", "shops", "sites", "work_orders", "epidemic",
            "home_observation", "disinfection", "masks", "returnees")  # fmt: skip


def _native(value: Any) -> Any:
    """A plain Python value for the driver: psycopg adapts neither numpy nor pandas types."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _records(frame: pd.DataFrame, columns: Iterable[str], **renames: str) -> list[dict]:
    """Rows of ``frame`` as dicts of native values; ``renames`` maps frame -> table names."""
    cols = list(columns)
    data = {renames.get(c, c): frame[c].tolist() for c in cols}
    keys = list(data)
    return [
        {k: _native(v) for k, v in zip(keys, values, strict=True)}
        for values in zip(*data.values(), strict=True)
    ]


def _multi(geom: Polygon | MultiPolygon) -> MultiPolygon:
    return geom if isinstance(geom, MultiPolygon) else MultiPolygon([geom])


def _as_of_yesterday(district: DemoDistrict, register: str) -> pd.DataFrame:
    """A register's frame with yesterday's close in the columns that changed since, and
    ``updated_at`` at that close."""
    key, columns = YESTERDAY_COLUMNS[register]
    frame = getattr(district, register).copy()
    old = district.yesterday(register).set_index(key)
    for col in columns:
        frame[col] = old[col].reindex(frame[key]).to_numpy()
    close = dt.datetime.combine(
        district.today - dt.timedelta(days=1), dt.time(23, 59), tzinfo=district.now.tzinfo
    )
    frame["updated_at"] = close.astimezone(dt.UTC)
    return frame


def write_demo(district: DemoDistrict, *, session: Session) -> dict[str, int]:
    """Insert every table of the demo district and bump the datasets' versions.

    The registers are written first as they stood at yesterday's close and snapshotted as
    yesterday's ``register_counts`` (so "change since yesterday" has a base on the first day),
    then moved to ``district.now`` and snapshotted as today's.

    The database must be migrated and hold none of these rows. Returns rows written per
    table. Does not commit.
    """
    started = time.perf_counter()
    counts: dict[str, int] = {}

    def put(model, rows: list[dict]) -> None:
        if rows:
            session.execute(insert(model), rows)
        table = model.__tablename__
        counts[table] = counts.get(table, 0) + len(rows)

    area_cols = ["code", "name", "parent_code", "population", "area_km2", "label_lon",
                 "label_lat", "is_virtual", "geometry"]  # fmt: skip
    # Parents before children: the foreign key on parent_code is checked row by row on SQLite.
    for level, frame in (
        (AreaLevel.DISTRICT, district.district),
        (AreaLevel.SUBDISTRICT, district.subdistricts),
        (AreaLevel.COMMITTEE, district.committees),
        (AreaLevel.COMPOUND, district.compounds),
    ):
        rows = _records(frame, area_cols, geometry="geom")
        for row in rows:
            row["level"] = level
            row["geom"] = _multi(row["geom"])
        put(Area, rows)

    put(
        Building,
        _records(
            district.buildings,
            ["code", "compound_code", "name", "floors", "households", "residents", "geometry"],
            geometry="geom",
        ),
    )
    now_utc = district.now.astimezone(dt.UTC)
    yesterday = district.today - dt.timedelta(days=1)
    frames = {r: _as_of_yesterday(district, r) for r in YESTERDAY_COLUMNS}
    frames["enterprises"]["checkins_on"] = yesterday  # the close's counts are yesterday's
    put(
        Enterprise,
        _records(
            frames["enterprises"],
            [
                "credit_code",
                "name",
                "address",
                "subdistrict_code",
                "industry",
                "state",
                "planned_reopen_date",
                "planned_headcount",
                "returned_headcount",
                "capacity_pct",
                "pending_approvals",
                "checkins_today",
                "checkins_on",
                "labour_gap",
                "state_changed_at",
                "updated_at",
                "geometry",
            ],  # fmt: skip
            geometry="geom",
        ),
    )
    put(
        Shop,
        _records(
            frames["shops"],
            [
                "licence_id",
                "name",
                "street",
                "subdistrict_code",
                "is_open",
                "open_on",
                "closed_down",
                "staff_registered",
                "updated_at",
                "geometry",
            ],  # fmt: skip
            geometry="geom",
        ),
    )
    put(
        ConstructionSite,
        _records(
            frames["sites"],
            [
                "site_id",
                "name",
                "contractor",
                "subdistrict_code",
                "state",
                "state_changed_at",
                "planned_reopen_date",
                "headcount",
                "new_arrivals_today",
                "key_region_arrivals",
                "unchecked_arrivals",
                "updated_at",
                "geometry",
            ],  # fmt: skip
            geometry="geom",
        ),
    )
    put(
        SiteWorker,
        _records(
            district.site_workers,
            [
                "id_number",
                "site_id",
                "name",
                "home_province",
                "arrived_on",
                "from_key_region",
                "certificate_checked",
            ],  # fmt: skip
        ),
    )
    put(
        Station,
        _records(
            district.stations, ["code", "name", "name_en", "kind", "geometry"], geometry="geom"
        ),  # fmt: skip
    )
    put(
        WorkOrder,
        _records(
            district.work_orders,
            ["source", "title", "area_code", "status", "created_at", "due_at", "closed_at"],
        ),
    )
    # Yesterday's close, then the registers as they are now, and today's figures so far.
    close = dt.datetime.combine(yesterday, dt.time(23, 59), tzinfo=district.now.tzinfo)
    register_counts.snapshot_registers(session, yesterday, now=close.astimezone(dt.UTC))
    for register, model in (
        ("enterprises", Enterprise),
        ("shops", Shop),
        ("sites", ConstructionSite),
    ):
        key, columns = YESTERDAY_COLUMNS[register]
        now_rows = _records(getattr(district, register), [key, *columns])
        before = _records(frames[register], [key, *columns])
        changed = [
            {**row, "updated_at": now_utc}
            for row, old in zip(now_rows, before, strict=True)
            if row != old
        ]
        if changed:
            session.execute(update(model), changed)
    # Every enterprise's check-ins so far are today's count now (zero at dawn).
    session.execute(
        update(Enterprise)
        .where(Enterprise.checkins_today.is_not(None))
        .values(checkins_on=district.today)
    )
    counts["register_counts"] = register_counts.snapshot_registers(
        session, district.today, now=now_utc
    )

    put(EpidemicCount, _records(district.epidemic, list(district.epidemic.columns)))
    put(HomeObservation, _records(district.home_observation,
                                  list(district.home_observation.columns)))  # fmt: skip
    put(DisinfectionTask, _records(district.disinfection, list(district.disinfection.columns)))
    put(MaskSupply, _records(district.masks, list(district.masks.columns)))
    put(
        OfficeReturnees,
        _records(
            district.office_returnees,
            ["date", "building_id", "building_name", "subdistrict_code", "returnees", "geometry"],
            geometry="geom",
        ),
    )
    versions.bump(*DATASETS, session=session)
    logger.info(
        "wrote demo district: %s in %.1f s",
        ", ".join(f"{n} {t}" for t, n in counts.items()),
        time.perf_counter() - started,
    )
    return counts
